"""Recall per type of the scan on our own sample corpus, against its gold labels.

It is our own corpus, so treat the figures as a floor, not a claim. For each gold span:
* *covered*  — at least 90 % of its characters lie inside some finding (any type): the
  value would be touched by the anonymizer;
* *typed*    — a finding of the same entity type overlaps it.
Also printed: the share of PII-free records with any (non-special) finding, and special
category recall (a gold cue overlapped by a finding of its category).

    .venv/bin/python bench/scan_sample_recall.py [--corpus data/raw/sample.jsonl] [--n 600]

Without an existing corpus it generates the default one in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load(corpus: Path, labels: Path):
    records = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    gold = {g["id"]: g for g in (json.loads(line) for line in labels.open(encoding="utf-8"))}
    return records, gold


def main() -> None:
    from pipeline.io import RawRecord
    from pipeline.scan.analyzer import MahremAnalyzer
    from pipeline.sample import SampleConfig, write_sample

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--n", type=int, default=600)
    args = parser.parse_args()
    if args.corpus is None:
        tmp = Path(tempfile.mkdtemp())
        corpus, labels = tmp / "sample.jsonl", tmp / "sample.labels.jsonl"
        write_sample(corpus, labels, SampleConfig(n_records=args.n))
    else:
        corpus, labels = args.corpus, args.corpus.with_name(args.corpus.name.replace(".jsonl", ".labels.jsonl"))
    records, gold = load(corpus, labels)

    analyzer = MahremAnalyzer(recognizer_dir=Path("policies/recognizers"))
    started = time.perf_counter()
    flat = [(r["id"], f, text) for r in records for f, text, _ in RawRecord(r, "", 0).fields()]
    detected = analyzer.analyze([t for _, _, t in flat])
    seconds = time.perf_counter() - started
    found: dict[tuple[str, str], list] = defaultdict(list)
    for (rid, field, _), spans in zip(flat, detected):
        found[(rid, field)].extend(spans)

    covered, typed, total = Counter(), Counter(), Counter()
    special_hit, special_total = Counter(), Counter()
    missed_examples: dict[str, int] = Counter()
    for rid, g in gold.items():
        for span in g["pii"]:
            spans = found[(rid, span["field"])]
            chars = set(range(span["start"], span["end"]))
            inside = set()
            for d in spans:
                if not d.entity_type.startswith("SPECIAL:"):
                    inside |= chars & set(range(d.start, d.end))
            total[span["type"]] += 1
            if len(inside) >= 0.9 * len(chars):
                covered[span["type"]] += 1
            else:
                missed_examples[span["type"]] += 1
            if any(d.entity_type == span["type"] and d.start < span["end"] and span["start"] < d.end for d in spans):
                typed[span["type"]] += 1
        for span in g["special"]:
            special_total[span["category"]] += 1
            if any(d.entity_type == "SPECIAL:" + span["category"] and d.start < span["end"] and span["start"] < d.end
                   for d in found[(rid, span["field"])]):
                special_hit[span["category"]] += 1

    pii_free = [rid for rid, g in gold.items() if not g["pii"]]
    flagged = [rid for rid in pii_free
               if any(not d.entity_type.startswith("SPECIAL:") for (r, _), spans in found.items() if r == rid for d in spans)]
    size_kb = sum(len(t.encode()) for _, _, t in flat) / 1024
    print(f"{len(records)} records, {sum(total.values())} gold PII spans; scanned {size_kb:.0f} KB in {seconds:.1f} s "
          f"({size_kb / seconds:.0f} KB/s, one process)")
    print(f"{'type':18} {'spans':>6} {'covered':>8} {'typed':>7}")
    for entity in sorted(total):
        print(f"{entity:18} {total[entity]:6d} {covered[entity] / total[entity]:8.3f} {typed[entity] / total[entity]:7.3f}")
    all_total = sum(total.values())
    print(f"{'ALL':18} {all_total:6d} {sum(covered.values()) / all_total:8.3f} {sum(typed.values()) / all_total:7.3f}")
    if special_total:
        print("special categories (cue overlapped by a finding of its category): "
              + ", ".join(f"{k} {special_hit[k]}/{v}" for k, v in sorted(special_total.items()))
              + f" — total {sum(special_hit.values())}/{sum(special_total.values())}")
    print(f"PII-free records with a finding: {len(flagged)}/{len(pii_free)} "
          f"({len(flagged) / max(1, len(pii_free)):.1%})")


if __name__ == "__main__":
    main()
