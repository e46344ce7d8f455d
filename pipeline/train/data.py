"""Training data: chat records → token ids with assistant-only labels, cached as Arrow.

**What is learned.** A ``messages`` record is rendered with the base's own chat template
(the exact text the model will see at inference). Only the assistant turns are learned:
each assistant message's content and the end-of-turn marker the template writes after it
(``<|im_end|>`` for ChatML/SmolLM2). The system and user turns, the role headers
(``<|im_start|>assistant\\n``) and the separator after the end-of-turn (``\\n``) get label
``-100``: the model must not be trained to write the user's words — which is also where
most personal data sits. A ``text`` record is plain text: every token, plus a final EOS,
is learned.

**How the spans are found.** Templates have no common API for "where is turn i". We ask
the template itself: render the conversation up to turn *i* with a sentinel string as the
assistant content, and what precedes the sentinel is the header, what follows it the
end-of-turn. The real turn must then render as header + content + end-of-turn, verbatim,
and be a prefix of the whole conversation — both are checked, so a template that trims
or rewrites content fails loudly instead of mis-masking. (transformers'
``return_assistant_tokens_mask`` needs ``{% generation %}`` markers that SmolLM2's
template lacks.) Character spans become token labels through the tokenizer's offset
mapping: a token is learned when its characters overlap an assistant span.

**Cache.** Tokenization runs once: the result is an Arrow dataset (memory-mapped by
``datasets``) under ``work_dir/tokenized/<key>/``, where the key covers the two data
files' SHA-256, the tokenizer (vocabulary, merges, special tokens, chat template) and
``max_seq_len``. ``work_dir`` is outside every DVC output, so the cache survives a
``dvc repro`` that deletes the stage's outputs. Each row also keeps its record's ``id``
(``record_id``; the anonymized id, never content) so the stage can say which records it
trained on (``seen.json``, :mod:`pipeline.train.seen`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import file_digest
from pipeline.io import InputError, QuarantineEntry, atomic_dir, read_records, write_json
from pipeline.train.errors import ChatTemplateError

IGNORE_INDEX = -100
SPLITS = ("train", "holdout")
# Bump when the tokenization or masking rules change: old caches are then never reused.
# 2: rows carry their record's id (``record_id``).
TOKENIZATION_VERSION = 2
# Records of a shuffled "megabatch" of this many batches are sorted by length before being
# cut into batches (the scheme of transformers' LengthGroupedSampler): batches hold records
# of similar length, yet which records meet in a batch still changes with the seed/epoch.
MEGABATCH_BATCHES = 50
_SENTINEL = "\u2063MAHREM_ASSISTANT_TURN\u2063"


@dataclass(frozen=True)
class TokenizedRecord:
    input_ids: list[int]
    labels: list[int]
    truncated: bool

    @property
    def label_count(self) -> int:
        # The first token is never predicted (nothing precedes it), so it is not counted.
        return sum(1 for label in self.labels[1:] if label != IGNORE_INDEX)


def _render(tokenizer: Any, messages: Sequence[dict[str, str]]) -> str:
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=False)


def assistant_spans(tokenizer: Any, messages: Sequence[dict[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the ``[start, end)`` character spans to learn.

    Each span is one assistant turn's content plus the template's end-of-turn marker
    (the text the template writes after the content, without its trailing whitespace).
    """
    messages = [{"role": m["role"], "content": m["content"]} for m in messages]
    full = _render(tokenizer, messages)
    spans: list[tuple[int, int]] = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        upto = _render(tokenizer, messages[: i + 1])
        probe = _render(tokenizer, [*messages[:i], {"role": "assistant", "content": _SENTINEL}])
        at = probe.rfind(_SENTINEL)
        if at < 0:
            raise ChatTemplateError(
                f"the chat template drops assistant turn {i}'s content; cannot mark the tokens to learn"
            )
        head, tail = probe[:at], probe[at + len(_SENTINEL) :]
        if upto != head + message["content"] + tail or not full.startswith(upto):
            raise ChatTemplateError(
                f"the chat template does not render assistant turn {i} verbatim and in order (it trims, "
                "rewrites or reorders turns), so assistant-only labels cannot be placed exactly. Use a base "
                "whose template writes message content as is (e.g. ChatML)."
            )
        spans.append((len(head), len(head) + len(message["content"]) + len(tail.rstrip())))
    return full, spans


def tokenize_record(tokenizer: Any, record: dict[str, Any], max_seq_len: int) -> TokenizedRecord:
    """Token ids and labels (``-100`` = not learned) for one raw record, truncated to ``max_seq_len``."""
    if "text" in record:
        ids = tokenizer(record["text"], add_special_tokens=False)["input_ids"]
        if tokenizer.eos_token_id is not None:
            ids = [*ids, tokenizer.eos_token_id]
        labels = list(ids)
    else:
        text, spans = assistant_spans(tokenizer, record["messages"])
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = list(encoded["input_ids"])
        labels = [
            token if any(start < span_end and end > span_start for span_start, span_end in spans) else IGNORE_INDEX
            for token, (start, end) in zip(ids, encoded["offset_mapping"], strict=True)
        ]
    truncated = len(ids) > max_seq_len
    return TokenizedRecord(ids[:max_seq_len], labels[:max_seq_len], truncated)


def tokenizer_digest(tokenizer: Any) -> str:
    """SHA-256 of what decides tokenization: the serialized tokenizer, special tokens, chat template."""
    digest = hashlib.sha256()
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ChatTemplateError(
            "the base's tokenizer is not a fast (tokenizers-backed) tokenizer; its offsets are needed to "
            "place assistant-only labels. Save the base with a tokenizer.json."
        )
    digest.update(backend.to_str().encode())
    extra = {
        "chat_template": tokenizer.chat_template,
        "special": {k: str(v) for k, v in sorted(tokenizer.special_tokens_map.items())},
        "eos": tokenizer.eos_token_id,
        "pad": tokenizer.pad_token_id,
    }
    digest.update(json.dumps(extra, sort_keys=True).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class SplitStats:
    records: int
    truncated: int
    without_labels: int
    tokens: int
    label_tokens: int

    def to_json(self) -> dict[str, int]:
        return self.__dict__.copy()


@dataclass
class TokenizedData:
    """The tokenized splits (memory-mapped Arrow) and their counts."""

    train: Any  # datasets.Dataset with input_ids, labels, length, record_id (in file order)
    holdout: Any
    stats: dict[str, SplitStats]
    cache_dir: Path
    cache_hit: bool
    data_digests: dict[str, str]


def _split_path(data_dir: Path, split: str) -> Path:
    return data_dir / f"{split}.jsonl"


def _check_inputs(data_dir: Path) -> None:
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: no such directory. Run the anonymize stage first (`dvc repro anonymize`).")
    for split in SPLITS:
        path = _split_path(data_dir, split)
        if not path.is_file():
            raise InputError(
                f"{path}: missing. The train stage needs {data_dir}/train.jsonl and holdout.jsonl "
                "(written by `mahrem anonymize`)."
            )


def _rows(path: str, tokenizer: Any, max_seq_len: int, counts: dict[str, int]) -> Iterator[dict[str, Any]]:
    bad: list[QuarantineEntry] = []
    for record in read_records(path, bad.append):
        tokenized = tokenize_record(tokenizer, record.data, max_seq_len)
        counts["records"] += 1
        counts["truncated"] += tokenized.truncated
        if tokenized.label_count == 0:
            # Nothing to learn (e.g. truncation cut every assistant token): skipping saves compute.
            counts["without_labels"] += 1
            continue
        counts["tokens"] += len(tokenized.input_ids)
        counts["label_tokens"] += tokenized.label_count
        yield {
            "input_ids": tokenized.input_ids,
            "labels": tokenized.labels,
            "length": len(tokenized.input_ids),
            "record_id": record.id,
        }
    if bad:
        first = bad[0]
        raise InputError(
            f"{first.file}:{first.line}: {first.reason} ({len(bad)} bad line(s) in all). The anonymized data "
            "is written by `mahrem anonymize` and must be clean; re-run that stage."
        )


def load_tokenized(tokenizer: Any, data_dir: Path, work_dir: Path, max_seq_len: int) -> TokenizedData:
    """Tokenize ``train.jsonl`` and ``holdout.jsonl`` once; later calls reuse the Arrow cache."""
    from datasets import Dataset, Features, Sequence, Value, load_from_disk
    from datasets.exceptions import DatasetGenerationError
    from datasets.utils.logging import disable_progress_bar, enable_progress_bar, is_progress_bar_enabled

    _check_inputs(data_dir)
    digests = {split: file_digest(_split_path(data_dir, split)) for split in SPLITS}
    key_material = {
        "version": TOKENIZATION_VERSION,
        "data": digests,
        "tokenizer": tokenizer_digest(tokenizer),
        "max_seq_len": max_seq_len,
    }
    key = hashlib.sha256(json.dumps(key_material, sort_keys=True).encode()).hexdigest()[:24]
    cache = work_dir / "tokenized" / key
    features = Features(
        {
            "input_ids": Sequence(Value("int32")),
            "labels": Sequence(Value("int32")),
            "length": Value("int32"),
            "record_id": Value("string"),
        }
    )
    hit = (cache / "stats.json").is_file()
    bars = is_progress_bar_enabled()
    disable_progress_bar()  # the CLI shows its own progress; datasets' bars would interleave with it
    try:
        if not hit:
            with atomic_dir(cache) as tmp:
                stats = {}
                for split in SPLITS:
                    counts = dict.fromkeys(("records", "truncated", "without_labels", "tokens", "label_tokens"), 0)
                    try:
                        dataset = Dataset.from_generator(
                            _rows,
                            features=features,
                            cache_dir=str(tmp / ".build"),
                            gen_kwargs={
                                "path": str(_split_path(data_dir, split)),
                                "tokenizer": tokenizer,
                                "max_seq_len": max_seq_len,
                                "counts": counts,
                            },
                            fingerprint=f"{key}-{split}",
                        )
                    except DatasetGenerationError as exc:
                        # datasets wraps whatever the generator raised; ours are meant for people.
                        if isinstance(exc.__cause__, (InputError, ChatTemplateError)):
                            raise exc.__cause__ from None
                        raise
                    dataset.save_to_disk(str(tmp / split))
                    del dataset
                    stats[split] = counts
                shutil.rmtree(tmp / ".build", ignore_errors=True)
                write_json(tmp / "stats.json", {"key": key_material, "splits": stats})
        stats_json = json.loads((cache / "stats.json").read_text(encoding="utf-8"))["splits"]
        splits = {split: load_from_disk(str(cache / split)) for split in SPLITS}
    finally:
        if bars:
            enable_progress_bar()
    stats = {split: SplitStats(**stats_json[split]) for split in SPLITS}
    if len(splits["train"]) == 0:
        raise InputError(
            f"{_split_path(data_dir, 'train')}: no trainable record ({stats['train'].records} read, "
            f"{stats['train'].without_labels} without any assistant token after truncation to "
            f"{max_seq_len} tokens). Add data or raise train.max_seq_len."
        )
    if len(splits["holdout"]) == 0:
        raise InputError(
            f"{_split_path(data_dir, 'holdout')}: no usable holdout record; the holdout loss cannot be "
            "measured. Check the anonymize stage's split settings."
        )
    return TokenizedData(splits["train"], splits["holdout"], stats, cache, hit, digests)


# --- batching -----------------------------------------------------------------------------


def epoch_batches(
    lengths: Sequence[int], batch_size: int, seed: int, epoch: int, *, group_by_length: bool = True
) -> list[list[int]]:
    """Record indices of every micro-batch of one epoch, in training order.

    A pure function of (lengths, batch_size, seed, epoch), so a resumed run rebuilds
    exactly the order it was interrupted in from the epoch number alone.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    if not group_by_length:
        return [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    batches: list[list[int]] = []
    mega = batch_size * MEGABATCH_BATCHES
    for start in range(0, len(order), mega):
        chunk = sorted(order[start : start + mega].tolist(), key=lambda i: -lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(rows: dict[str, list[list[int]]], pad_id: int) -> dict[str, Any]:
    """Right-pad a batch to its longest record; padding is masked out of attention and loss."""
    import torch

    width = max(len(ids) for ids in rows["input_ids"])
    n = len(rows["input_ids"])
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((n, width), dtype=torch.long)
    for i, (ids, labs) in enumerate(zip(rows["input_ids"], rows["labels"], strict=True)):
        input_ids[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        labels[i, : len(labs)] = torch.tensor(labs, dtype=torch.long)
        attention[i, : len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


def eval_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Holdout batches: sorted by length (least padding), fixed order."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
