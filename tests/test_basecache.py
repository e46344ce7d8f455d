"""The optional base-score cache: a hit skips the base's forward passes and changes no number."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from pipeline.evaluate.basecache import BaseScoreCache
from pipeline.evaluate.scoring import paired_scores, variant_prefix_nll
from test_evaluate_helpers import load_scoring, one_thread, train_adapter  # noqa: F401 - one_thread is autouse

TEXTS = [
    "Merhaba, kargom hâlâ gelmedi, ne zaman gelir?",
    "Hello, I would like to change the delivery address on my order.",
    "Faturamı e-posta ile alabilir miyim?",
    "Kartım çalındı, hemen kapatır mısınız?",
    "Şifremi unuttum.",
]


class CountingScoring:
    """A ScoringModel stand-in that counts how often each variant is entered."""

    def __init__(self, scoring, cache):
        self.scoring = scoring
        self.base_cache = cache
        self.entered = {"base": 0, "adapter": 0}

    @contextlib.contextmanager
    def variant(self, name):
        self.entered[name] += 1
        with self.scoring.variant(name) as model:
            yield model


@pytest.fixture(scope="module")
def scoring(tiny_model_dir, tmp_path_factory):
    adapter = train_adapter(tiny_model_dir, tmp_path_factory.mktemp("cache-adapter"), [], steps=0)
    return load_scoring(tiny_model_dir, adapter)


@pytest.fixture
def sequences(scoring):
    return [scoring.tokenizer(t).input_ids for t in TEXTS]


def new_cache(tmp_path, scoring, tiny_model_dir):
    return BaseScoreCache.for_model(tmp_path / "cache", tiny_model_dir, scoring, threads=1)


def test_paired_scores_hit_skips_the_base_and_returns_the_same_numbers(scoring, sequences, tmp_path, tiny_model_dir):
    masks = [[i % 3 != 0 for i in range(len(s))] for s in sequences]
    kwargs = dict(batch_size=2, pad_id=scoring.tokenizer.pad_token_id, min_k_variants=("base", "adapter"), masks=masks)
    cold = paired_scores(scoring, sequences, **kwargs)

    cache = new_cache(tmp_path, scoring, tiny_model_dir)
    first = CountingScoring(scoring, cache)
    stored = paired_scores(first, sequences, **kwargs)
    assert (cache.hits, cache.misses) == (0, 1) and first.entered["base"] == 3  # 5 sequences, batches of 2
    second = CountingScoring(scoring, cache)
    again = paired_scores(second, sequences, **kwargs)
    assert cache.hits == 1 and second.entered == {"base": 0, "adapter": 3}
    for name in cold:
        assert np.array_equal(cold[name], stored[name]) and np.array_equal(cold[name], again[name]), name
    # Another mask, batch size or set of sequences is another entry, never a stale answer.
    paired_scores(second, sequences, **{**kwargs, "masks": None})
    paired_scores(second, sequences, **{**kwargs, "batch_size": 3})
    paired_scores(second, sequences[:4], **kwargs)
    assert cache.hits == 1 and cache.misses == 4


def test_prefix_scores_cache_the_base_only(scoring, tmp_path, tiny_model_dir):
    tok = scoring.tokenizer
    sequences = [tok(f"Müşteri referans numaranız {code}.").input_ids for code in ("AB12", "ZX99", "QQ07", "LM45")]
    cache = new_cache(tmp_path, scoring, tiny_model_dir)
    counting = CountingScoring(scoring, cache)
    for _ in range(2):
        for variant in ("base", "adapter"):
            with scoring.variant(variant) as model:
                from pipeline.evaluate.scoring import shared_prefix_nll

                expected, _ = shared_prefix_nll(model, sequences, batch_size=2, pad_id=tok.pad_token_id)
            got = variant_prefix_nll(counting, variant, sequences, batch_size=2, pad_id=tok.pad_token_id)
            assert np.array_equal(got, expected)
    assert counting.entered == {"base": 1, "adapter": 2} and (cache.hits, cache.misses) == (1, 1)


def test_the_key_names_the_base_and_how_it_ran(scoring, sequences, tmp_path, tiny_model_dir):
    cache = new_cache(tmp_path, scoring, tiny_model_dir)
    key = cache.key("paired_scores", sequences, batch_size=8)
    assert key == new_cache(tmp_path, scoring, tiny_model_dir).key("paired_scores", sequences, batch_size=8)
    for change in ({"threads": 2}, {"compute_dtype": "bfloat16"}, {"base": "another-base"}):
        other = BaseScoreCache(tmp_path / "cache", {**cache.identity, **change})
        assert other.key("paired_scores", sequences, batch_size=8) != key, change


def test_a_damaged_entry_is_recomputed_not_trusted(scoring, sequences, tmp_path, tiny_model_dir, caplog):
    cache = new_cache(tmp_path, scoring, tiny_model_dir)
    kwargs = dict(batch_size=4, pad_id=scoring.tokenizer.pad_token_id)
    cold = paired_scores(CountingScoring(scoring, cache), sequences, **kwargs)
    (entry,) = (tmp_path / "cache").rglob("*.npz")
    entry.write_bytes(b"not an npz")
    counting = CountingScoring(scoring, cache)
    again = paired_scores(counting, sequences, **kwargs)
    assert counting.entered["base"] == 2 and "unreadable" in caplog.text
    assert np.array_equal(cold["base_nll"], again["base_nll"])
    # ... and rewritten, so the next run hits.
    assert cache.load(cache.key("paired_scores", sequences, None, batch_size=4, pad_id=kwargs["pad_id"], score_from=1,
                                min_k=0.2, base_minkpp=False)) is not None  # fmt: skip


def test_entries_hold_scores_only(scoring, sequences, tmp_path, tiny_model_dir):
    cache = new_cache(tmp_path, scoring, tiny_model_dir)
    paired_scores(CountingScoring(scoring, cache), sequences, batch_size=8, pad_id=scoring.tokenizer.pad_token_id)
    (entry,) = (tmp_path / "cache").rglob("*.npz")
    with np.load(entry) as stored:
        assert stored.files == ["base_nll"] and stored["base_nll"].dtype == np.float64


def test_module_examples():
    import doctest

    from pipeline.evaluate import basecache

    failures, tried = doctest.testmod(basecache)
    assert tried >= 5 and failures == 0
