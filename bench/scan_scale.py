"""Scan scaling: throughput with 1 vs N worker processes, and peak memory vs input size.

Builds a synthetic input of the requested size by repeating the sample corpus with fresh
ids, then runs `mahrem audit` on it as a child process (so its peak RSS, children
included, is measured by the OS) with --workers 1 and --workers N.

    .venv/bin/python bench/scan_scale.py [--mb 4] [--workers 2]

Targets (issue #3): N=2 workers ≥ 1.7× one worker; a 200 MB input with peak RSS < 2 GB
(pass --mb 200; about 30–40 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build_input(path: Path, megabytes: float) -> int:
    from pipeline.sample import SampleConfig, generate_sample

    rows = [record for record, _ in generate_sample(SampleConfig(n_records=600))]
    target, written, copy = megabytes * 1e6, 0, 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            for row in rows:
                line = json.dumps(dict(row, id=f"{row['id']}-{copy}"), ensure_ascii=False) + "\n"
                out.write(line)
                written += len(line.encode("utf-8"))
                if written >= target:
                    break
            copy += 1
    return written


_MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run_audit(path: Path, out: Path, workers: int) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB of the largest process of that one command)."""
    env = dict(os.environ, MAHREM_PSEUDONYM_KEY="d47252f3e10280a21fcf9b204a6c9f0554c88fae7fa04d2a3509ffef7f29e872", HF_HUB_OFFLINE="1")
    command = [str(Path(sys.executable).parent / "mahrem"), "audit", str(path), "--out", str(out), "--workers", str(workers)]
    started = time.perf_counter()
    # A fresh measuring parent per run, so one run's peak never shows up in the other's.
    result = subprocess.run([sys.executable, "-c", _MEASURE, *command], cwd=REPO, env=env, check=True,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
    return seconds, int(result.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    data = tmp / "input.jsonl"
    size = build_input(data, args.mb)
    print(f"input: {size / 1e6:.1f} MB of chat records")
    one_s, one_rss = run_audit(data, tmp / "w1", 1)
    print(f"1 worker : {one_s:7.1f} s  {size / 1e3 / one_s:7.1f} KB/s  peak RSS of one process {one_rss:6.0f} MB")
    n_s, n_rss = run_audit(data, tmp / f"w{args.workers}", args.workers)
    print(f"{args.workers} workers: {n_s:7.1f} s  {size / 1e3 / n_s:7.1f} KB/s  peak RSS of one process {n_rss:6.0f} MB")
    print(f"speed-up ×{one_s / n_s:.2f} (target ≥ 1.7× for 2 workers)")
    print("note: ru_maxrss is the largest single process; with N workers the total is about N × that.")


if __name__ == "__main__":
    main()
