"""Utility in bits per byte: general ability (general English) and domain gain (the holdout).

A 135M model answers MMLU at chance, so an accuracy drop there cannot be resolved at any
affordable n. Bits per byte can: it is how well the model predicts text, a continuous
figure per document, and base and adapter read the same documents, so the paired
difference has a small spread (:func:`pipeline.evaluate.stats.paired_bpb`).

* **General**: MMLU questions with their correct answer — general English prose on 57
  subjects from the installed test set — a seeded subject-stratified draw, each scored
  from its first byte (after an end-of-text token) on at most ``general.max_tokens``.
* **Domain**: the anonymized holdout, scored by the membership probe (the non-members);
  :func:`bpb_report` turns those scores into the domain gain.

Bytes are UTF-8 bytes of exactly the scored tokens, so bits per byte does not depend on
the tokenizer (a Turkish word split into many tokens costs what its bytes cost).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipeline.evaluate.benchmarks import read_mmlu, stratified_subset
from pipeline.evaluate.config import EvalParams
from pipeline.evaluate.model import ScoringModel
from pipeline.evaluate.scoring import paired_scores
from pipeline.evaluate.stats import measure_bootstrap, paired_bpb

LN2 = math.log(2)


def general_documents(mmlu: Path, count: int, seed: int) -> list[str]:
    """``count`` MMLU questions, subject-stratified and seeded, each followed by its answer."""
    subset = stratified_subset(read_mmlu(mmlu), count, seed)
    docs = []
    for q in subset:
        answer = q.get(f"answer_{str(q['correct_answer']).lower()}", "")
        docs.append(f"{q['question']} {answer}".strip())
    return docs


def document_tokens(tokenizer: Any, text: str, max_tokens: int) -> tuple[list[int], int]:
    """Token ids to score (a start token, then at most ``max_tokens`` of the text) and their bytes."""
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    ids = tokenizer(text, add_special_tokens=False).input_ids[:max_tokens]
    return [start, *ids], len(tokenizer.decode(ids).encode("utf-8"))


def scored_bytes(tokenizer: Any, sequence: Sequence[int], mask: Sequence[bool] | None = None, score_from: int = 1) -> int:
    """UTF-8 bytes of the tokens a scorer scores (``sequence[score_from:]``, only the flagged ones
    when a ``mask`` flags any, as :func:`~pipeline.evaluate.scoring.paired_scores` does)."""
    ids = list(sequence[score_from:])
    if mask is not None and any(list(mask)[score_from:]):
        ids = [t for t, keep in zip(ids, list(mask)[score_from:]) if keep]
    return len(tokenizer.decode(ids).encode("utf-8"))


def bpb_report(
    base_nll: Sequence[float], adapter_nll: Sequence[float], nbytes: Sequence[int], *, config: EvalParams,
    what: str, gain: bool,
) -> dict[str, Any]:
    """Paired bits-per-byte figures and the measured row: the difference (adapter − base,
    for general ability) or the relative gain ((base − adapter) / base, for the domain)."""
    base_bits = [x / LN2 for x in base_nll]
    adapter_bits = [x / LN2 for x in adapter_nll]
    p = paired_bpb(base_bits, adapter_bits, nbytes, resamples=config.bootstrap, seed=config.seed)
    if gain:
        measured = measure_bootstrap(p["gain"], p["gain_draws"], null=0.0, n=p["n"],
                                     method=f"paired bootstrap over {what} documents: (base - adapter) / base bpb")
    else:
        measured = measure_bootstrap(p["diff"], p["diff_draws"], null=0.0, n=p["n"],
                                     method=f"paired bootstrap over {what} documents: adapter - base bpb")
    return {
        "documents": p["n"],
        "bytes": p.get("bytes", 0),
        "base_bpb": p["base"],
        "adapter_bpb": p["adapter"],
        "difference": p["diff"],
        "relative_gain": p["gain"],
        ("gain" if gain else "increase"): measured.to_json(),
    }


def general_utility(
    scoring: ScoringModel, mmlu: Path, config: EvalParams, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Bits per byte of base and adapter on general English, paired."""
    docs = general_documents(mmlu, config.general.documents, config.general.seed)
    tok = scoring.tokenizer
    encoded = [document_tokens(tok, d, config.general.max_tokens) for d in docs]
    if progress:
        progress(f"general ability: {len(docs)} general-English documents, bits per byte (base and adapter)")
    scores = paired_scores(scoring, [e[0] for e in encoded], batch_size=config.batch_size,
                           pad_id=tok.pad_token_id or 0, min_k_variants=())
    return {
        "source": f"{Path(mmlu).name}: questions with their correct answer (seed {config.general.seed})",
        "max_tokens": config.general.max_tokens,
        **bpb_report(scores["base_nll"], scores["adapter_nll"], [e[1] for e in encoded], config=config,
                     what="general", gain=False),
    }
