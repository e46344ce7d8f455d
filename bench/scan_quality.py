"""Recall and precision of the scan on the independent evaluation set (evals/pii/), and what `redact` leaves.

The set was written by hand, independently of the sample generator (evals/pii/evalset.py);
report figures on ``test`` and tune only on ``dev``. Printed, per split:

* **PII, per entity type** — recall: a gold span overlapped by a finding of its type;
  covered: ≥ 90 % of its characters inside some finding (any type: the anonymizer touches
  it); precision: findings of the type that overlap a gold span of that type.
* **Special categories, per category** — record recall: records about a person in that
  category with a finding of it; and the general-talk false-positive rate: look-alike
  negatives with any special-category finding. Each with its n and a 95 % Wilson interval.
* **Passports with a cue** — recall.
* **After `redact`** (the default KVKK policy, the same engine as the pipeline): gold
  structured values (identifiers, phones, e-mails, cards, IBANs, passports) that survive
  verbatim, and the share of gold person-name words that survive.

    .venv/bin/python bench/scan_quality.py                # test split
    .venv/bin/python bench/scan_quality.py --split dev
    .venv/bin/python bench/scan_quality.py --json bench/results/scan_quality.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STRUCTURED = ("TR_NATIONAL_ID", "TR_TAX_ID", "IBAN_CODE", "CREDIT_CARD", "PHONE_NUMBER", "EMAIL_ADDRESS", "PASSPORT",
              "IP_ADDRESS", "TR_LICENSE_PLATE")  # fmt: skip


def _evalset():
    spec = importlib.util.spec_from_file_location("evalset", REPO / "evals/pii/evalset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of k successes in n."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _rate(k: int, n: int) -> dict:
    lo, hi = wilson(k, n)
    return {"k": k, "n": n, "rate": (k / n) if n else float("nan"), "ci95": [lo, hi]}


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def measure(records: list[dict]) -> dict:
    from pipeline.entities import SPECIAL_PREFIX
    from pipeline.scan.analyzer import MahremAnalyzer

    analyzer = MahremAnalyzer(recognizer_dir=REPO / "policies/recognizers")
    found = analyzer.analyze([r["text"] for r in records])
    recall, covered, totals = Counter(), Counter(), Counter()
    true_pos, predicted = Counter(), Counter()
    special_hit, special_total = Counter(), Counter()
    negatives = flagged_negatives = 0
    passport_cue = passport_hit = 0
    for record, spans in zip(records, found):
        pii_spans = [s for s in spans if not s.entity_type.startswith(SPECIAL_PREFIX)]
        for gold in record["pii"]:
            g = (gold["start"], gold["end"])
            totals[gold["type"]] += 1
            typed = any(s.entity_type == gold["type"] and _overlaps(g, (s.start, s.end)) for s in pii_spans)
            recall[gold["type"]] += typed
            inside = sum(1 for i in range(*g) if any(s.start <= i < s.end for s in pii_spans))
            covered[gold["type"]] += inside >= 0.9 * (g[1] - g[0])
            if gold["type"] == "PASSPORT" and re.search(r"pasaport|passport|reisepass", record["text"], re.I):
                passport_cue += 1
                passport_hit += typed
        for s in pii_spans:
            predicted[s.entity_type] += 1
            true_pos[s.entity_type] += any(
                g["type"] == s.entity_type and _overlaps((g["start"], g["end"]), (s.start, s.end)) for g in record["pii"]
            )
        categories = {s.entity_type.removeprefix(SPECIAL_PREFIX) for s in spans if s.entity_type.startswith(SPECIAL_PREFIX)}
        for category in {label["category"] for label in record["special"]}:
            special_total[category] += 1
            special_hit[category] += category in categories
        if record["negative"]:
            negatives += 1
            flagged_negatives += bool(categories)
    return {
        "records": len(records),
        "pii": {
            t: {"recall": _rate(recall[t], totals[t]), "covered": _rate(covered[t], totals[t]),
                "precision": _rate(true_pos[t], predicted[t])}
            for t in sorted(totals)
        },  # fmt: skip
        "pii_overall": {"recall": _rate(sum(recall.values()), sum(totals.values())),
                        "covered": _rate(sum(covered.values()), sum(totals.values()))},  # fmt: skip
        "special": {c: _rate(special_hit[c], special_total[c]) for c in sorted(special_total)},
        "special_overall": _rate(sum(special_hit.values()), sum(special_total.values())),
        "general_talk_false_positives": _rate(flagged_negatives, negatives),
        "passport_with_cue": _rate(passport_hit, passport_cue),
    }


def after_redact(records: list[dict]) -> dict:
    """Gold values that `mahrem redact` (default KVKK policy) leaves in the text."""
    from pipeline.anonymize.redact import Redactor
    from pipeline.config import ScanParams
    from pipeline.policies_default import KVKK_POLICY

    redactor = Redactor(ScanParams(recognizers=str(REPO / "policies/recognizers")), KVKK_POLICY, quiet_key=True)
    out = redactor.lines([r["text"].replace("\n", " ").encode("utf-8") for r in records]).rows
    structured = structured_left = names = names_left = 0
    for record, text in zip(records, out):
        folded = text.casefold()
        for gold in record["pii"]:
            value = record["text"][gold["start"] : gold["end"]]
            if gold["type"] in STRUCTURED:
                structured += 1
                structured_left += value.casefold() in folded
            elif gold["type"] == "PERSON":
                for word in re.findall(r"\w{3,}", value):
                    names += 1
                    names_left += re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", folded) is not None
    return {"structured_values_left": _rate(structured_left, structured), "name_words_left": _rate(names_left, names)}


def _fmt(rate: dict) -> str:
    lo, hi = rate["ci95"]
    return f"{rate['rate']:.3f} ({rate['k']}/{rate['n']}, 95% CI {lo:.2f}–{hi:.2f})" if rate["n"] else "– (n=0)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-redact", action="store_true", help="skip the redact measurement")
    args = parser.parse_args(argv)
    records = _evalset().load(args.split)
    figures = {"split": args.split, **measure(records)}
    if not args.no_redact:
        figures["after_redact"] = after_redact(records)
    print(f"evals/pii {args.split}: {figures['records']} records")
    print("PII recall / covered / precision by type:")
    for t, row in figures["pii"].items():
        print(f"  {t:18} recall {_fmt(row['recall'])}  covered {_fmt(row['covered'])}  precision {_fmt(row['precision'])}")
    print(f"  overall            recall {_fmt(figures['pii_overall']['recall'])}")
    print("special categories, record recall:")
    for c, rate in figures["special"].items():
        print(f"  {c:20} {_fmt(rate)}")
    print(f"  overall              {_fmt(figures['special_overall'])}   (target ≥ 0.90)")
    print(f"general-talk false positives: {_fmt(figures['general_talk_false_positives'])}   (target ≤ 0.10)")
    print(f"passports with a cue: {_fmt(figures['passport_with_cue'])}   (target ≥ 0.90)")
    if "after_redact" in figures:
        red = figures["after_redact"]
        print(f"after redact: structured values left {_fmt(red['structured_values_left'])} (target 0); "
              f"name words left {_fmt(red['name_words_left'])} (target ≤ 0.02)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
