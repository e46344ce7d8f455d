"""Probe cost: today's probes at the default sizes against the code they replaced, same run.

Issue #13 powered the leak probes (10 canaries a class against 1,000 references, 64 + 1
extraction prompts, every seen training record and 200 holdout records for membership),
and made them cheaper to afford it:

* canaries: the references' shared prefix runs once, then tails in batches of 128
  (``TAIL_BATCH``) instead of ``evaluate.batch_size`` (8);
* membership: base and adapter on the same tokenized batch in one pass
  (:func:`~pipeline.evaluate.scoring.paired_scores`, Min-K%++ on the adapter only)
  instead of two separate passes;
* extraction: prompts generated 32 at a time (``extraction.batch_size``) instead of 8.

The anchor ("before") re-runs the replaced code paths — the same scorers with the old
batching, two passes for membership — on exactly the same inputs, threads and model, so
the ratio is measured in one run on one machine. Both sides are cold (no cache).

    .venv/bin/python bench/probe_cost.py [--adapter models/adapter] [--threads 0]

Needs the pipeline's outputs up to train (models/base, models/adapter, data/anonymized,
reports/anonymize/canaries.json, reports/train/seen.json, data/raw, findings). Writes
bench/results/probe_cost.json. Target (issue #13): ≥ 3× wall-clock.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
for _var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_var, "1")

LEGACY_BATCH = 8  # evaluate.batch_size: what the replaced code batched everything by


def inputs(args, scoring, config):
    """The default-size inputs of the three probes, built once and shared by both sides."""
    from pipeline.evaluate.leakage import _record_tokens, _records, canary_target, canary_text, load_canaries
    from pipeline.evaluate.targets import collect_targets
    from pipeline.io import discover_inputs
    from pipeline.train.seen import load_seen

    tok = scoring.tokenizer
    canaries = load_canaries(REPO / "reports/anonymize/canaries.json")
    secrets = [c["secret"] for c in canaries.canaries] + canaries.references[: config.canary.references]
    canary_seqs = [tok(canary_text(tok, canaries.template, s), add_special_tokens=False).input_ids for s in secrets]
    seen = load_seen(REPO / "reports/train/seen.json")
    members = set(seen.members())
    inside = _records(REPO / "data/anonymized/train.jsonl", lambda rid: rid in members)
    outside = _records(REPO / "data/anonymized/holdout.jsonl", lambda _rid: True)
    window = config.membership.max_tokens or seen.max_seq_len
    inside, outside = ([e for e in (_record_tokens(tok, r, window) for r in side) if any(e[1][1:])]
                       for side in (inside, outside))  # fmt: skip
    if config.membership.nonmembers and len(outside) > config.membership.nonmembers:
        outside = random.Random(config.seed).sample(outside, config.membership.nonmembers)
    member_seqs, member_masks = [e[0] for e in inside + outside], [e[1] for e in inside + outside]
    types = list(config.extraction.entity_types)
    found = collect_targets(discover_inputs([REPO / "data/raw"]), REPO / "reports/scan/findings.jsonl", members,
                            types, tok, seed=config.seed, max_tokens=seen.max_seq_len)  # fmt: skip
    targets = found.targets[: config.extraction.prompts]
    targets.append(canary_target(tok, canaries))
    return canary_seqs, (member_seqs, member_masks), targets, frozenset(c["secret"] for c in canaries.canaries)


def run_side(name, scoring, config, canary_seqs, members, targets, secrets):
    from pipeline.evaluate.leakage import TAIL_BATCH, extraction_probe
    from pipeline.evaluate.model import VARIANTS
    from pipeline.evaluate.scoring import paired_scores, sequence_nll, shared_prefix_nll

    tok = scoring.tokenizer
    pad = tok.pad_token_id or 0
    times = {}
    started = time.perf_counter()
    for variant in VARIANTS:
        with scoring.variant(variant) as model:
            shared_prefix_nll(model, canary_seqs, batch_size=LEGACY_BATCH if name == "before" else TAIL_BATCH, pad_id=pad)
    times["canary"] = time.perf_counter() - started
    started = time.perf_counter()
    member_seqs, member_masks = members
    if name == "before":
        for variant in VARIANTS:
            with scoring.variant(variant) as model:
                sequence_nll(model, member_seqs, batch_size=LEGACY_BATCH, pad_id=pad)
    else:
        paired_scores(scoring, member_seqs, batch_size=config.batch_size, pad_id=pad, min_k=config.membership.min_k,
                      masks=member_masks)
    times["membership"] = time.perf_counter() - started
    started = time.perf_counter()
    batch = LEGACY_BATCH if name == "before" else config.extraction.batch_size
    side = config.model_copy(update={"extraction": config.extraction.model_copy(update={"batch_size": batch})})
    extraction_probe(scoring, targets, side, None, secrets)
    times["extraction"] = time.perf_counter() - started
    times["total"] = sum(times.values())
    return {k: round(v, 1) for k, v in times.items()}


def main() -> None:
    import torch

    from pipeline.evaluate.config import EvalParams
    from pipeline.config import load_params
    from pipeline.evaluate.model import read_quantization, scoring_session
    from pipeline.io import write_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=REPO / "models/base")
    parser.add_argument("--adapter", type=Path, default=REPO / "models/adapter")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = evaluate's auto choice)")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/probe_cost.json")
    args = parser.parse_args()
    config = load_params("evaluate", EvalParams, REPO / "params.yaml")
    if args.threads:
        config = config.model_copy(update={"threads": args.threads})
    load_at_start = os.getloadavg()[0]
    quantization = read_quantization(REPO / "reports/train/summary.json")
    with scoring_session(args.base, args.adapter, quantization, config) as (scoring, settings):
        canary_seqs, members, targets, secrets = inputs(args, scoring, config)
        sizes = {"canary_sequences": len(canary_seqs), "membership_records": len(members[0]),
                 "extraction_prompts": len(targets)}  # fmt: skip
        print(f"{sizes}; {settings.describe()}")
        sides = {}
        for name in ("before", "after"):
            sides[name] = run_side(name, scoring, config, canary_seqs, members, targets, secrets)
            print(f"{name:7s} " + ", ".join(f"{k} {v:.1f} s" for k, v in sides[name].items()))
    ratios = {k: round(sides["before"][k] / max(sides["after"][k], 1e-9), 2) for k in sides["after"]}
    print("ratio  " + ", ".join(f"{k} ×{v}" for k, v in ratios.items()) + "  (target ≥ ×3 total)")
    write_json(args.out, {
        "what": "probe wall-clock at the default sizes: the replaced code paths (before) vs today's (after)",
        "sizes": sizes, "quantization": quantization, "compute_dtype": settings.dtype.dtype,
        "threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(),
        "load_average_1min_at_start": round(load_at_start, 2), "seconds": sides, "ratio": ratios,
    })  # fmt: skip
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()
