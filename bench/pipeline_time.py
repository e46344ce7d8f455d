"""Whole-run time of the default pipeline, stage by stage, against the 25-minute budget.

The budget (issue #11): on a 2-core machine of either kind, AVX2-only or AVX-512, the
default ``make run`` finishes in at most 25 minutes cold (venv installed, no outputs, no
DVC cache), and a no-change ``dvc repro`` in at most 10 seconds. This script measures both
in a fresh copy of the checkout (the tracked and not-ignored files, the MMLU file that
``make install`` places, and a link to this checkout's ``.venv``), so the repository's own
outputs are left alone:

1. each stage in ``dvc.yaml`` order, ``dvc repro --single-item <stage>``, timed;
2. then a plain ``dvc repro``, which must run no stage, timed.

Stage commands go through ``bin/mahrem`` and the copy's PATH does not hold the venv, so
this also checks that ``dvc repro`` works from a plain shell. Printed and written to
``bench/results/pipeline_time.json``: seconds per stage, the total and the no-op time as
fractions of their budgets, the compute dtype and thread count each stage chose (from
the train and evaluate reports), the CPU model and capability flags, torch's ATen CPU
capability, and the load average before and after (a figure taken beside other jobs is
an upper bound, and says so).

    .venv/bin/python bench/pipeline_time.py                 # ~15-25 min on 2 cores
    .venv/bin/python bench/pipeline_time.py --keep /tmp/run # keep the copy to inspect it
    .venv/bin/python bench/pipeline_time.py --in-place      # run in this checkout (rewrites dvc.lock)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "bench" / "results" / "pipeline_time.json"
BUDGET_S = 25 * 60
NOOP_BUDGET_S = 10.0


def fresh_copy(target: Path) -> Path:
    """The checkout's tracked and not-ignored files, the MMLU file and a .venv link, as a new git repo.

    The end-to-end test (tests/test_pipeline_e2e.py) runs in the same copy.
    """
    target.mkdir(parents=True, exist_ok=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / rel)
    mmlu = REPO / "evals/data/mmlu.jsonl"
    if mmlu.is_file():
        (target / "evals/data").mkdir(parents=True, exist_ok=True)
        shutil.copy2(mmlu, target / "evals/data/mmlu.jsonl")
    (target / ".venv").symlink_to(Path(sys.prefix))
    for args in (["git", "init", "-q"], ["git", "add", "-A"],
                 ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "bench"]):
        subprocess.run(args, cwd=target, check=True, capture_output=True)
    return target


def plain_shell_env() -> dict[str, str]:
    """The environment of a shell with no venv activated: the venv's bin/ is not on PATH."""
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    env.update(DVC_NO_ANALYTICS="1", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    return env


def machine() -> dict:
    import torch

    from pipeline.hardware import choose_compute_dtype, choose_threads, cpu_features

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    features = cpu_features()
    return {
        "cpu_model": model,
        "arch": features.arch,
        "cpus": os.cpu_count(),
        "cpu_flags": features.reported(),
        "aten_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "auto_compute_dtype": choose_compute_dtype("auto", "cpu").as_record(),
        "auto_threads": choose_threads("auto").as_record(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def run_stages(repo: Path) -> dict:
    dvc = [sys.executable, "-m", "dvc"]
    env = plain_shell_env()
    stages = list(yaml.safe_load((repo / "dvc.yaml").read_text())["stages"])
    times: dict[str, float] = {}
    for stage in stages:
        start = time.perf_counter()
        done = subprocess.run([*dvc, "repro", "--single-item", stage], cwd=repo, env=env, capture_output=True, text=True)
        times[stage] = round(time.perf_counter() - start, 1)
        print(f"{stage:>10}: {times[stage]:7.1f} s", flush=True)
        if done.returncode != 0:
            sys.exit(f"stage {stage} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    start = time.perf_counter()
    noop = subprocess.run([*dvc, "repro"], cwd=repo, env=env, capture_output=True, text=True)
    noop_s = round(time.perf_counter() - start, 2)
    if noop.returncode != 0 or "Running stage" in noop.stdout:
        sys.exit(f"the no-change `dvc repro` ran a stage or failed:\n{noop.stdout[-2000:]}\n{noop.stderr[-2000:]}")
    return {"stages": times, "noop_s": noop_s}


def chosen_settings(repo: Path) -> dict:
    """What train and evaluate chose on this machine, from their own reports."""
    out = {}
    for stage, path in (("train", "reports/train/summary.json"), ("evaluate", "reports/eval/benchmarks.json")):
        report = json.loads((repo / path).read_text())
        out[stage] = {"compute_dtype": report.get("compute_dtype"), "threads": report.get("threads"),
                      "machine": report.get("machine")}
    train = json.loads((repo / "reports/train/summary.json").read_text())
    out["train"].update({k: train.get(k) for k in ("steps", "tokens_per_s", "holdout_loss_base", "holdout_loss_adapter")})
    leakage = json.loads((repo / "reports/eval/leakage.json").read_text())
    bench = json.loads((repo / "reports/eval/benchmarks.json").read_text())
    out["evaluate"].update({"benchmarks_s": bench.get("wall_s"), "probes_s": leakage.get("wall_s")})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Writes --out (JSON).")
    parser.add_argument("--in-place", action="store_true", help="run in this checkout (rewrites outputs and dvc.lock)")
    parser.add_argument("--keep", type=Path, help="build the fresh copy here and keep it (default: a temporary dir)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mahrem-bench-") as tmp:
        if args.in_place:
            repo = REPO
        else:
            repo = fresh_copy(args.keep or Path(tmp) / "repo")
        timing = run_stages(repo)
        settings = chosen_settings(repo)
    total = round(sum(timing["stages"].values()), 1)
    report = {
        "stages_s": timing["stages"],
        "total_s": total,
        "noop_repro_s": timing["noop_s"],
        "budget_s": BUDGET_S,
        "noop_budget_s": NOOP_BUDGET_S,
        "ratios": {"total_vs_budget": round(total / BUDGET_S, 3), "noop_vs_budget": round(timing["noop_s"] / NOOP_BUDGET_S, 3)},
        "chosen": settings,
        "machine": {**machine(), "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "in_place": args.in_place,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    m = report["machine"]
    print(
        f"total {total:.0f} s = {report['ratios']['total_vs_budget']:.2f} of the {BUDGET_S} s budget; "
        f"no-change repro {timing['noop_s']:.1f} s = {report['ratios']['noop_vs_budget']:.2f} of {NOOP_BUDGET_S:.0f} s\n"
        f"train {settings['train']['compute_dtype']} x {settings['train']['threads']} threads, "
        f"evaluate {settings['evaluate']['compute_dtype']} x {settings['evaluate']['threads']} threads; "
        f"CPU {m['cpu_model']} ({m['arch']}, ATen {m['aten_cpu_capability']}, flags {' '.join(m['cpu_flags'])})\n"
        f"load average before/after: {m['load_average_before']} / {m['load_average_after']} on {m['cpus']} CPUs "
        f"(contended, so an upper bound, if above the CPU count)\n-> {args.out}"
    )


if __name__ == "__main__":
    main()
