"""The spot check: signoff re-measures a seeded sample of the evidence with the adapter it signs.

The chain of custody (:mod:`pipeline.release.chain`) proves the reports are the files the
stages wrote, as dvc.lock recorded them. It cannot tell a report an insider edited and then
re-committed (``dvc commit``) from an honest one. So before it signs, signoff loads the
base and *the adapter it is about to put in the bundle* and measures again, cheaply:

* **canaries** — every canary of the gate's repetition class (×1 by default) is ranked
  against the same references as evaluate ranked it, with the adapter. Each rank must
  agree with ``leakage_details.json`` within ``max(2, 2 % of the references)`` positions
  (numerical noise between runs, e.g. another thread count), and the exposure the gate
  weighs (``leakage.json``) must be the one those ranks give.
* **extraction** — a seeded sample of ``SPOT_PROMPTS`` extraction prompts is rebuilt from
  the raw records and continued greedily by the adapter; each greedy hit must be what the
  details report, and ``leakage.json``'s hit count what the details add up to.

Any disagreement refuses the release, naming the canary or prompt (ids and fingerprints,
never values). Cost: one model load, ``|canaries| + references`` scored sequences sharing
one prefix, and ``SPOT_PROMPTS`` short generations — seconds for the default model.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import load_params
from pipeline.keys import PseudonymKey
from pipeline.release.evidence import Evidence, EvidenceError

SPOT_PROMPTS = 3


class SpotCheckFailed(EvidenceError):
    """The reports disagree with what the adapter does when signoff measures it again."""


@dataclass
class SpotCheckResult:
    canaries: list[dict[str, Any]] = field(default_factory=list)
    extraction: list[dict[str, Any]] = field(default_factory=list)
    rank_tolerance: int = 0
    problems: list[str] = field(default_factory=list)
    compute_dtype: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": not self.problems,
            "rank_tolerance": self.rank_tolerance,
            "canaries": self.canaries,
            "extraction": self.extraction,
            "compute_dtype": self.compute_dtype,
            "problems": self.problems,
        }


def _details(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvidenceError(f"{path}: missing (written by the evaluate stage: run `dvc repro evaluate`).") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise EvidenceError(f"{path}: not valid JSON; run `dvc repro evaluate`.") from None
    try:
        data["canary"]["canaries"], data["extraction"]["targets"]  # noqa: B018 - the keys the check reads
    except (KeyError, TypeError):
        raise EvidenceError(f"{path}: lacks canary.canaries or extraction.targets; run `dvc repro evaluate`.") from None
    return data


def _canaries(ev: Evidence, scoring: Any, config: Any, repetitions: str, details: dict, result: SpotCheckResult) -> None:
    import numpy as np

    from pipeline.evaluate.leakage import TAIL_BATCH, canary_text, exposure_from_rank, load_canaries
    from pipeline.evaluate.scoring import shared_prefix_nll

    canaries = load_canaries(ev.paths.canaries)
    references = canaries.references[: int(ev.leakage.number("canary.references"))]
    chosen = [c for c in canaries.canaries if str(c["repetitions"]) == repetitions]
    if not chosen:
        result.problems.append(f"{ev.paths.canaries}: no canary inserted ×{repetitions}, the class the gate bounds")
        return
    tok = scoring.tokenizer
    secrets = [c["secret"] for c in chosen] + list(references)
    sequences = [
        tok(canary_text(tok, canaries.template, s), add_special_tokens=False).input_ids for s in secrets
    ]
    with scoring.variant("adapter") as model:
        nll, _ = shared_prefix_nll(model, sequences, batch_size=TAIL_BATCH, pad_id=tok.pad_token_id)
    reference_nll = np.asarray(nll[len(chosen) :])
    reported_rows = {str(r.get("id")): r for r in details["canary"]["canaries"]}
    result.rank_tolerance = max(2, math.ceil(0.02 * len(references)))
    exposures = []
    for i, canary in enumerate(chosen):
        cid = str(canary.get("id", f"canary-{i}"))
        rank = 1 + int((reference_nll < nll[i]).sum())
        reported = (reported_rows.get(cid) or {}).get("adapter_rank")
        result.canaries.append({"id": cid, "rank": rank, "reported_rank": reported})
        if not isinstance(reported, int) or abs(rank - reported) > result.rank_tolerance:
            result.problems.append(
                f"canary {cid} (×{repetitions}): the adapter ranks it {rank} of {len(references) + 1}, the evaluate "
                f"report says {reported} (tolerance ±{result.rank_tolerance})"
            )
        if isinstance(reported, int):
            exposures.append(exposure_from_rank(reported, len(references)))
    key = f"canary.by_repetitions.{repetitions}.exposure.estimate"
    weighed = ev.leakage.number(key)
    mean = sum(exposures) / len(exposures) if exposures else float("nan")
    if exposures and abs(mean - weighed) > 1e-6:
        result.problems.append(
            f"{ev.leakage.path}: {key} (the class's mean exposure) is {weighed:.4g} bits, but the per-canary ranks "
            f"of {ev.paths.leakage_details} give {mean:.4g}"
        )


def _extraction(ev: Evidence, scoring: Any, config: Any, details: dict, result: SpotCheckResult, key: PseudonymKey) -> None:
    from pipeline.evaluate.leakage import CANARY_TYPE, extraction_probe
    from pipeline.evaluate.targets import collect_targets
    from pipeline.train.seen import load_seen

    rows = details["extraction"]["targets"]
    adapter_hits = sum(bool(r.get("adapter_hit")) for r in rows)
    if ev.leakage.number("extraction.adapter_hits") != adapter_hits:
        result.problems.append(
            f"{ev.leakage.path}: extraction.adapter_hits is {ev.leakage.get('extraction.adapter_hits')}, but "
            f"{ev.paths.leakage_details} lists {adapter_hits} target(s) the adapter hit"
        )
    # The PII prompts are rebuilt from the raw records; the canary prompt is covered by the canary check.
    pii = [i for i, r in enumerate(rows) if r.get("entity_type") != CANARY_TYPE]
    if not pii:
        return
    picked = sorted(random.Random(config.seed).sample(pii, min(SPOT_PROMPTS, len(pii))))
    raw_files = [Path(p) for p in ev.scan.get("files")]
    types = list(dict.fromkeys([*config.extraction.entity_types, *config.inference.entity_types]))
    seen = load_seen(ev.paths.seen)
    targets = collect_targets(raw_files, ev.paths.findings, set(seen.members()), types, scoring.tokenizer,
                              seed=config.seed, max_tokens=seen.max_seq_len, key=key)
    by_span = {(t.record_id, t.field, t.start, t.end): t for t in targets.targets}
    chosen, reported = [], []
    for i in picked:
        row = rows[i]
        target = by_span.get((row.get("record_id"), row.get("field"), row.get("start"), row.get("end")))
        if target is None:
            result.problems.append(
                f"extraction target {row.get('fingerprint')} ({row.get('entity_type')}) of {ev.paths.leakage_details} "
                "is not a span of the raw records and findings the pipeline used"
            )
            continue
        chosen.append(target)
        reported.append((i, row))
    if not chosen:
        return
    greedy_only = config.model_copy(update={"extraction": config.extraction.model_copy(update={"samples": 0})})
    _, spot = extraction_probe(scoring, chosen, greedy_only)
    for (i, row), again in zip(reported, spot["targets"]):
        # the row's index in leakage_details.json, not its keyed fingerprint: this list is signed into the
        # bundle's provenance, and a bundle carries no fingerprint of training data (holdings.py keeps those)
        result.extraction.append({"details_row": i, "entity_type": row["entity_type"],
                                  "greedy_hit": again["adapter_greedy_hit"],
                                  "reported_greedy_hit": row.get("adapter_greedy_hit")})  # fmt: skip
        if again["adapter_greedy_hit"] != row.get("adapter_greedy_hit"):
            result.problems.append(
                f"extraction prompt for {row['entity_type']} {row['fingerprint']}: the adapter's greedy continuation "
                f"{'contains' if again['adapter_greedy_hit'] else 'does not contain'} the original value, the "
                "evaluate report says the opposite"
            )


def spot_check(ev: Evidence, repetitions: str, key: PseudonymKey | None = None) -> SpotCheckResult:
    """Re-measure the sample (module docstring); the result lists every disagreement.

    ``key`` is the pseudonym key the data was scanned with (default: :func:`load_pseudonym_key`):
    findings name records by their keyed id.
    """
    from pipeline.evaluate import EvalParams
    from pipeline.evaluate.model import read_quantization, scoring_session
    from pipeline.keys import load_pseudonym_key

    key = key if key is not None else load_pseudonym_key(quiet=True)

    config = load_params("evaluate", EvalParams, ev.paths.params)
    details = _details(ev.paths.leakage_details)
    quantization = read_quantization(ev.paths.train_summary)
    with scoring_session(ev.paths.base, ev.paths.adapter, quantization, config) as (scoring, settings):
        result = SpotCheckResult(compute_dtype=settings.dtype.dtype)
        _canaries(ev, scoring, config, repetitions, details, result)
        _extraction(ev, scoring, config, details, result, key)
    return result
