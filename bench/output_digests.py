"""SHA-256 of the deterministic outputs of base, sample, scan and anonymize, with a fixed key.

A refactor changes no figure (issue #12). This script pins that: it runs the four stages
in a fresh copy of the checkout (``bench/pipeline_time.py``'s ``fresh_copy``) with a fixed
pseudonym key, and records one digest per output file:

- JSON files: the SHA-256 of the canonical JSON (sorted keys) with every ``schema_version``
  key removed and wall-clock fields (``*seconds*``, ``*_at``, ``elapsed``) dropped, so a report
  that gains a version field, or ran faster, still matches;
- JSONL files and model files: the SHA-256 of the bytes;
- HTML pages: the SHA-256 of their visible text (tags, scripts and styles removed,
  whitespace collapsed, wall-clock times replaced by ``<time>``).

    .venv/bin/python bench/output_digests.py --write bench/results/output_digests.json
    .venv/bin/python bench/output_digests.py --check bench/results/output_digests.json

``--check`` exits 1 and names every file whose digest moved.
"""

from __future__ import annotations

import argparse
import hashlib
import html.parser
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_time import REPO, fresh_copy  # noqa: E402

# A fixed, public test key: the digests describe the code, not a secret.
FIXED_KEY = "6d616872656d2d6f75747075742d64696765737473"
STAGES = ("base", "sample", "scan", "anonymize")
OUTPUT_DIRS = ("models/base", "data/raw", "reports/scan", "data/anonymized", "reports/anonymize")
VOLATILE = ("seconds", "elapsed", "duration", "_at", "timestamp", "created", "started", "finished")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")


class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def _stable(value):
    """Drop version and wall-clock fields, and the digests of reports that carry a wall-clock time."""
    if isinstance(value, dict):
        return {
            k: "<digest of a timestamped report>" if k.endswith("summary.json") else _stable(v)
            for k, v in value.items()
            if k != "schema_version" and not any(marker in k for marker in VOLATILE)
        }
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def digest(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".json":
        data = json.dumps(_stable(json.loads(data)), sort_keys=True, ensure_ascii=False).encode()
    elif path.suffix == ".html":
        data = ISO_TIME.sub("<time>", visible_text(data.decode("utf-8"))).encode()
    return hashlib.sha256(data).hexdigest()


def run_stages(copy: Path) -> None:
    # PYTHONPATH: the copy's own pipeline/, not the one an editable install maps to.
    env = dict(os.environ, MAHREM_PSEUDONYM_KEY=FIXED_KEY, PYTHONHASHSEED="0", PYTHONPATH=str(copy))
    for stage in STAGES:
        print(f"[output_digests] {stage} ...", flush=True)
        subprocess.run(["bin/mahrem", stage], cwd=copy, env=env, check=True)


def digests(copy: Path) -> dict[str, str]:
    out = {}
    for rel in OUTPUT_DIRS:
        for path in sorted((copy / rel).rglob("*")):
            if path.is_file() and ".mahrem" not in path.parts:
                out[str(path.relative_to(copy))] = digest(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, help="write the digests here")
    mode.add_argument("--check", type=Path, help="compare against the digests recorded here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mahrem-digests-") as tmp:
        copy = fresh_copy(Path(tmp) / "repo")
        run_stages(copy)
        found = digests(copy)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(json.dumps({"key": FIXED_KEY, "files": found}, indent=2, sort_keys=True) + "\n")
        print(f"[output_digests] {len(found)} files -> {args.write}")
        return 0
    recorded = json.loads(args.check.read_text())["files"]
    moved = sorted(k for k in recorded.keys() | found.keys() if recorded.get(k) != found.get(k))
    for name in moved:
        print(f"MOVED  {name}: {recorded.get(name, '(absent)')[:12]} -> {found.get(name, '(absent)')[:12]}")
    print(f"[output_digests] {len(found)} files, {len(moved)} moved")
    return 1 if moved else 0


if __name__ == "__main__":
    raise SystemExit(main())
