"""The long fuzzing profile: tests/test_fuzz.py with many more (random, not derandomised) examples.

``make test`` runs 20 derandomised examples per property so CI is repeatable; this runs
``--examples`` (default 500) fresh random ones and prints how many ran and how long they
took. A failure prints Hypothesis's smallest falsifying record — planted test values only,
never real data.

    .venv/bin/python bench/fuzz.py --examples 500
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="Examples of the per-record property (others run a fifth).")
    args = parser.parse_args()
    env = dict(os.environ, MAHREM_FUZZ_EXAMPLES=str(args.examples))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fuzz.py"],
                          cwd=REPO, env=env)  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"fuzz: {args.examples} examples per record property, {seconds:.0f} s, exit {done.returncode}")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
