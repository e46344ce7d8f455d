"""How much gold personal data survives anonymization of the sample corpus.

Runs scan + anonymize (the real stage functions, default policy) on the sample corpus in
a temporary directory and looks for every gold label value in the anonymized output:
structured values (TCKN, VKN, IBAN, phone, e-mail, card, plate, passport) compared on
their canonical form (digits only for numbers, case-folded for e-mail), person names as
whole words in the Turkish-lower-cased text. Records dropped by policy (special
categories, duplicates) cannot leak and are excluded from the denominator.

    .venv/bin/python bench/anonymize_leak.py [--n 600]

Target (issue #4): 0 structured values survive; ≤ 2 % of person names do.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STRUCTURED = {"TR_NATIONAL_ID", "TR_TAX_ID", "IBAN_CODE", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD",
              "TR_LICENSE_PLATE", "PASSPORT"}


def canonical(entity: str, value: str) -> str:
    if entity == "EMAIL_ADDRESS":
        return value.casefold()
    if entity in ("TR_LICENSE_PLATE", "PASSPORT", "IBAN_CODE"):
        return re.sub(r"[\W_]", "", value).upper()
    digits = re.sub(r"\D", "", value)
    if entity == "PHONE_NUMBER":
        return digits[-10:]  # the national number, whatever prefix (+90, 0) was written
    return digits


def main() -> None:
    from pipeline.keys import PseudonymKey
    from pipeline.scan.analyzer import get_analyzer
    from pipeline.anonymize.stage import AnonymizeInput, anonymize_dataset
    from pipeline.policy import load_policy
    from pipeline.scan.stage import InputFile, ScanConfig, scan_files
    from pipeline.text import tr_lower
    from pipeline.sample import SampleConfig, write_sample

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    raw, labels = tmp / "sample.jsonl", tmp / "sample.labels.jsonl"
    write_sample(raw, labels, SampleConfig(n_records=args.n))
    key = PseudonymKey(b"bench-anonymize-leak-key-0123456789")
    scan_files([InputFile(raw, "sample")], tmp / "scan", ScanConfig(workers=1), key)
    policy = load_policy("policies/kvkk.yaml")
    analyzer = get_analyzer("policies/recognizers", 0.5)
    anonymize_dataset([AnonymizeInput(raw, "sample", False)], tmp / "scan/findings.jsonl", tmp / "data",
                      tmp / "report", policy, key, analyzer.analyze, canaries=False)
    output = {}
    for name in ("train.jsonl", "holdout.jsonl"):
        for line in (tmp / "data" / name).open(encoding="utf-8"):
            row = json.loads(line)
            output[row["id"]] = " \n ".join(m["content"] for m in row["messages"])
    flat_digits = {rid: re.sub(r"\D", "", text) for rid, text in output.items()}
    flat_alnum = {rid: re.sub(r"[\W_]", "", text).upper() for rid, text in output.items()}

    from pipeline.fingerprint import record_key

    total, leaked = Counter(), Counter()
    for line in labels.open(encoding="utf-8"):
        gold = json.loads(line)
        rid = record_key(key, gold["id"])  # anonymize names records by their keyed id
        if rid not in output:
            continue
        text = output[rid]
        for span in gold["pii"]:
            entity, value = span["type"], span["value"]
            if entity in STRUCTURED:
                total[entity] += 1
                needle = canonical(entity, value)
                if entity == "EMAIL_ADDRESS":
                    hit = needle in text.casefold()
                elif entity in ("TR_LICENSE_PLATE", "PASSPORT", "IBAN_CODE"):
                    hit = needle in flat_alnum[rid]
                else:
                    hit = needle in flat_digits[rid]
                leaked[entity] += hit
            elif entity == "PERSON":
                total[entity] += 1
                pattern = r"(?<!\w)" + re.escape(tr_lower(value)) + r"(?!\w)"
                leaked[entity] += bool(re.search(pattern, tr_lower(text)))
    print(f"{len(output)} anonymized records (of {args.n}); gold values looked for in the output:")
    for entity in sorted(total):
        share = leaked[entity] / total[entity]
        print(f"  {entity:18} {leaked[entity]:4d} / {total[entity]:4d} survive ({share:.1%})")
    structured = sum(leaked[e] for e in STRUCTURED)
    person = leaked["PERSON"] / max(1, total["PERSON"])
    print(f"structured values surviving: {structured} (target 0) — {'met' if structured == 0 else 'NOT met'}")
    print(f"person names surviving: {person:.1%} (target ≤ 2%) — {'met' if person <= 0.02 else 'NOT met'}")


if __name__ == "__main__":
    main()
