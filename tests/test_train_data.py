"""Training data: assistant-only labels (hand-checked), plain text, truncation, batching, cache."""

from __future__ import annotations

import json

import pytest

from conftest import build_tiny_tokenizer
from pipeline.io import InputError
from pipeline.train.errors import ChatTemplateError
from pipeline.train.data import (
    IGNORE_INDEX,
    assistant_spans,
    epoch_batches,
    load_tokenized,
    tokenize_record,
)

# SmolLM2-135M-Instruct's template: it injects a default system turn when none is given.
SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

TWO_TURNS = [
    {"role": "system", "content": "Sen bir asistansın."},
    {"role": "user", "content": "Siparişim nerede?"},
    {"role": "assistant", "content": "Kargo takip numarası nedir?"},
    {"role": "user", "content": "0123456789"},
    {"role": "assistant", "content": "Merhaba, kargo yarın gelir."},
]


@pytest.fixture(scope="module")
def tokenizer():
    return build_tiny_tokenizer()


def test_only_assistant_content_and_its_end_of_turn_are_learned(tokenizer):
    record = tokenize_record(tokenizer, {"id": "x", "messages": TWO_TURNS}, max_seq_len=1000)
    # Hand-checked: ChatML renders this conversation as exactly these lines.
    text = (
        "<|im_start|>system\nSen bir asistansın.<|im_end|>\n"
        "<|im_start|>user\nSiparişim nerede?<|im_end|>\n"
        "<|im_start|>assistant\nKargo takip numarası nedir?<|im_end|>\n"
        "<|im_start|>user\n0123456789<|im_end|>\n"
        "<|im_start|>assistant\nMerhaba, kargo yarın gelir.<|im_end|>\n"
    )
    assert record.input_ids == tokenizer(text, add_special_tokens=False)["input_ids"]
    learned = [i for i, label in enumerate(record.labels) if label != IGNORE_INDEX]
    assert all(record.labels[i] == record.input_ids[i] for i in learned)
    # Two contiguous learned runs, each exactly "content<|im_end|>"; everything else masked.
    runs, cur = [], []
    for i in range(len(record.input_ids)):
        if record.labels[i] != IGNORE_INDEX:
            cur.append(record.input_ids[i])
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    decoded = [tokenizer.decode(run) for run in runs]
    assert decoded == ["Kargo takip numarası nedir?<|im_end|>", "Merhaba, kargo yarın gelir.<|im_end|>"]
    masked_text = tokenizer.decode([t for t, lab in zip(record.input_ids, record.labels) if lab == IGNORE_INDEX])
    assert masked_text == (
        "<|im_start|>system\nSen bir asistansın.<|im_end|>\n<|im_start|>user\nSiparişim nerede?<|im_end|>\n"
        "<|im_start|>assistant\n\n<|im_start|>user\n0123456789<|im_end|>\n<|im_start|>assistant\n\n"
    )
    assert record.label_count == len(learned)
    assert not record.truncated


def test_template_that_injects_a_system_turn_is_masked_too(tokenizer):
    tokenizer = build_tiny_tokenizer()
    tokenizer.chat_template = SMOLLM2_TEMPLATE
    messages = [{"role": "assistant", "content": "Merhaba!"}, {"role": "user", "content": "Siparişim?"}]
    text, spans = assistant_spans(tokenizer, messages)
    assert text.startswith("<|im_start|>system\nYou are a helpful AI assistant")
    assert [text[a:b] for a, b in spans] == ["Merhaba!<|im_end|>"]


def test_template_that_rewrites_content_is_refused(tokenizer):
    tokenizer = build_tiny_tokenizer()
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] | trim }}<|im_end|>\n{% endfor %}"
    )
    with pytest.raises(ChatTemplateError, match="verbatim"):
        assistant_spans(tokenizer, [{"role": "user", "content": "a"}, {"role": "assistant", "content": " b "}])


def test_text_record_learns_every_token_and_eos(tokenizer):
    record = tokenize_record(tokenizer, {"id": "t", "text": "Merhaba, kartım çalındı."}, max_seq_len=1000)
    assert record.labels == record.input_ids
    assert record.input_ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(record.input_ids) == "Merhaba, kartım çalındı.<|im_end|>"


def test_truncation_keeps_the_first_tokens_and_is_flagged(tokenizer):
    full = tokenize_record(tokenizer, {"id": "x", "messages": TWO_TURNS}, max_seq_len=1000)
    cut = tokenize_record(tokenizer, {"id": "x", "messages": TWO_TURNS}, max_seq_len=20)
    assert cut.truncated and len(cut.input_ids) == 20
    assert cut.input_ids == full.input_ids[:20] and cut.labels == full.labels[:20]


def test_length_grouped_batches_cover_every_record_once_and_follow_the_seed():
    lengths = [5, 300, 7, 290, 6, 310, 8, 280, 9, 305, 4, 295]
    batches = epoch_batches(lengths, batch_size=2, seed=1, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    # Short records are batched with short ones: every batch is homogeneous.
    for batch in batches:
        assert max(lengths[i] for i in batch) - min(lengths[i] for i in batch) < 50
    assert batches == epoch_batches(lengths, batch_size=2, seed=1, epoch=0)
    others = [epoch_batches(lengths, batch_size=2, seed=s, epoch=0) for s in range(2, 8)]
    assert any(o != batches for o in others)  # the batch order follows the seed
    plain = epoch_batches(lengths, batch_size=2, seed=1, epoch=0, group_by_length=False)
    assert sorted(i for b in plain for i in b) == list(range(len(lengths)))


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_tokenization_is_cached_by_data_and_tokenizer(tokenizer, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _write(data / "train.jsonl", [{"id": "a", "messages": TWO_TURNS}, {"id": "b", "text": "Merhaba"}])
    _write(data / "holdout.jsonl", [{"id": "c", "messages": TWO_TURNS}])
    first = load_tokenized(tokenizer, data, tmp_path / "work", 64)
    assert not first.cache_hit and len(first.train) == 2 and first.stats["train"].records == 2
    again = load_tokenized(tokenizer, data, tmp_path / "work", 64)
    assert again.cache_hit and again.cache_dir == first.cache_dir
    assert again.train["input_ids"][:] == first.train["input_ids"][:]
    _write(data / "train.jsonl", [{"id": "a", "messages": TWO_TURNS}])
    changed = load_tokenized(tokenizer, data, tmp_path / "work", 64)
    assert not changed.cache_hit and changed.cache_dir != first.cache_dir and len(changed.train) == 1


def test_bad_line_in_the_anonymized_data_names_the_file_and_line(tokenizer, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text('{"id": "a", "text": "ok"}\nnot json\n', encoding="utf-8")
    _write(data / "holdout.jsonl", [{"id": "c", "text": "ok"}])
    with pytest.raises(InputError, match=r"train\.jsonl:2: invalid JSON"):
        load_tokenized(tokenizer, data, tmp_path / "work", 64)
