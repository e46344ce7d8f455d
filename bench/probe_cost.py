"""Probe scoring cost: batched scorers vs one forward per sequence, on the canary probe's inputs.

Scores the canary chats (each canary and N reference secrets, chat-templated) with the
stage's model (4-bit base + adapter, as the evaluate stage builds it) three ways, on the
same sequences:

* loop: one forward pass per sequence (the naive baseline);
* batched: ``sequence_nll``, padded batches of whole sequences;
* shared prefix: ``shared_prefix_nll``, the common prefix once, padded batches of tails.

and reports sequences scored per second, the speed-ups over the loop, and the largest
difference between the scorers' rankings-relevant scores. ``--stage`` also runs the whole
evaluate stage with the default parameters and records its wall time by step.

    .venv/bin/python bench/probe_cost.py [--adapter /tmp/eval/adapter] [--references 200] [--threads 0] [--stage]

Without --adapter, a randomly initialised LoRA adapter (r=8, all linear layers) is made in
a temporary directory: the cost does not depend on what the adapter learnt.
Writes bench/results/probe_cost.json. Target (issue #6): batched ≥ 4× the loop on CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
for _var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_var, "1")


def random_adapter(base: Path, out: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from pipeline.evaluate.model import base_config

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base, config=base_config(base))
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", init_lora_weights=False))
    peft_model.save_pretrained(out)
    return out


def main() -> None:
    import torch

    from pipeline.evaluate.config import EvalParams

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=REPO / "models/base")
    parser.add_argument("--adapter", type=Path, default=None)
    parser.add_argument("--canaries", type=Path, default=REPO / "reports/anonymize/canaries.json")
    parser.add_argument("--train-summary", type=Path, default=REPO / "reports/train/summary.json")
    parser.add_argument("--references", type=int, default=200, help="reference secrets scored with the canaries")
    parser.add_argument("--loop-sequences", type=int, default=48, help="sequences timed in the one-by-one loop")
    parser.add_argument("--batch-size", type=int, default=EvalParams().batch_size)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--stage", action="store_true", help="also time the whole evaluate stage (default params)")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/probe_cost.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(prefix="probe-cost-") as tmp:
        run(args, Path(tmp))


def run(args: argparse.Namespace, tmp: Path) -> None:
    import numpy as np
    import torch

    from pipeline.evaluate.leakage import canary_chat, load_canaries
    from pipeline.evaluate.model import load_scoring_model, read_quantization
    from pipeline.evaluate.scoring import sequence_nll, sequence_nll_one_by_one, shared_prefix_nll
    from pipeline.io import write_json

    load_at_start = os.getloadavg()[0]
    adapter = args.adapter or random_adapter(args.base, tmp / "adapter")
    quantization = read_quantization(args.train_summary)
    started = time.perf_counter()
    scoring = load_scoring_model(args.base, adapter, quantization, "cpu")
    load_s = time.perf_counter() - started
    tok = scoring.tokenizer
    canaries = load_canaries(args.canaries)
    secrets = [c["secret"] for c in canaries.canaries] + canaries.references[: args.references]
    sequences = [
        tok(tok.apply_chat_template(canary_chat(canaries.template, s), tokenize=False), add_special_tokens=False).input_ids
        for s in secrets
    ]
    loop_n = min(args.loop_sequences, len(sequences))

    results = {}
    with torch.inference_mode():
        warm = sequences[: min(4, len(sequences))]
        sequence_nll(scoring.model, warm, batch_size=len(warm), pad_id=tok.pad_token_id)
        t = time.perf_counter()
        loop = sequence_nll_one_by_one(scoring.model, sequences[:loop_n])
        results["loop"] = loop_n / (time.perf_counter() - t)
        t = time.perf_counter()
        batched, _ = sequence_nll(scoring.model, sequences, batch_size=args.batch_size, pad_id=tok.pad_token_id)
        results["batched"] = len(sequences) / (time.perf_counter() - t)
        t = time.perf_counter()
        tails, prefix = shared_prefix_nll(scoring.model, sequences, batch_size=args.batch_size, pad_id=tok.pad_token_id)
        results["shared_prefix"] = len(sequences) / (time.perf_counter() - t)
    # The shared-prefix score omits the prefix's NLL, the same constant for every sequence;
    # what is left differs by bf16 rounding (4-bit layers compute in bf16, and a different
    # batch shape rounds differently), so the rankings are compared, not the numbers.
    from scipy.stats import spearmanr

    offset = batched - tails
    agreement = {
        "batched_vs_loop_max_abs_nats": float(np.abs(batched[:loop_n] - loop).max()),
        "shared_prefix_offset_spread_nats": float(offset.max() - offset.min()),
        "nll_spread_nats": float(batched.max() - batched.min()),
        "spearman_batched_vs_shared_prefix": float(spearmanr(batched, tails).statistic),
    }
    report = {
        "model": str(args.base),
        "quantization": quantization,
        "threads": torch.get_num_threads(),
        # Timings on a shared machine: the 1-minute load average says how busy it was.
        "load_average_1min_at_start": round(load_at_start, 2),
        "cpu": platform.processor() or platform.machine(),
        "sequences": len(sequences),
        "loop_sequences": loop_n,
        "tokens_per_sequence": float(np.mean([len(s) for s in sequences])),
        "shared_prefix_tokens": prefix,
        "batch_size": args.batch_size,
        "load_s": round(load_s, 2),
        "sequences_per_s": {k: round(v, 2) for k, v in results.items()},
        "speedup_batched": round(results["batched"] / results["loop"], 2),
        "speedup_shared_prefix": round(results["shared_prefix"] / results["loop"], 2),
        "agreement": agreement,
    }
    print(f"{len(sequences)} sequences of {report['tokens_per_sequence']:.0f} tokens ({prefix} shared), "
          f"{quantization}, {report['threads']} threads")
    for name, rate in report["sequences_per_s"].items():
        print(f"  {name:14s} {rate:8.2f} sequences/s")
    print(f"batched ×{report['speedup_batched']:.1f}, shared prefix ×{report['speedup_shared_prefix']:.1f} "
          "over the one-by-one loop (target ≥ 4×)")

    if args.stage:
        del scoring
        report["stage"] = time_stage(args, adapter, tmp)
        print(f"whole stage: {report['stage']['wall_s']:.0f} s")
    write_json(args.out, report)
    print(f"→ {args.out}")


def time_stage(args, adapter: Path, tmp: Path) -> dict:
    from pipeline.evaluate import EvalParams, evaluate_adapter

    steps: list[tuple[float, str]] = []
    started = time.perf_counter()
    result = evaluate_adapter(
        args.base,
        adapter,
        REPO / "data/anonymized",
        [REPO / "data/raw"],
        REPO / "reports/scan/findings.jsonl",
        args.canaries,
        tmp / "eval",
        EvalParams(),
        mmlu=REPO / "evals/data/mmlu.jsonl",
        tasks_dir=REPO / "evals/tasks",
        train_summary=args.train_summary,
        device="cpu",
        progress=lambda message: steps.append((round(time.perf_counter() - started, 1), message)),
    )
    return {
        "wall_s": round(time.perf_counter() - started, 1),
        "benchmarks_s": result.benchmarks["wall_s"],
        "benchmarks_by_task_s": result.benchmarks["wall_s_by_task"],
        "probes_s": result.leakage["wall_s"],
        "probes_by_name_s": result.leakage["wall_s_by_probe"],
        "progress": [f"{t:7.1f}s {m}" for t, m in steps],
    }


if __name__ == "__main__":
    main()
