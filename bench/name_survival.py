"""How many gold person names survive anonymization, without and with record-level name propagation.

Runs sample → scan → anonymize (the real stage functions, default policy, a fixed public
key) in a temporary directory, twice over the same scan: once with
``name_propagation=False`` (the stage as it was before issue #16 item 5) and once with it
on (:mod:`pipeline.anonymize.propagate`). For every gold PERSON value of the sample's labels
(``sample.labels.jsonl``) it checks whether the value is still in the anonymized record it
came from (matched by its keyed id), verbatim as a whole word, case-insensitively (Turkish
casing); as a stricter figure, also each word of the name on its own (a surname left
beside a replaced given name counts there, and so does a surrogate that happens to equal a
gold word of the same record). Records the stage dropped (special categories, duplicates) cannot leak and are
left out of the denominator, as in ``bench/anonymize_leak.py``; the structured values
(TCKN, IBAN, phone, ...) are checked too, on their canonical form, and must stay at 0.

    .venv/bin/python bench/name_survival.py            # the default sample (params.yaml), ~1 min on 2 cores
    .venv/bin/python bench/name_survival.py --show 20  # also print up to 20 surviving names per run

Target (issue #16 item 5): ≤ 2 % of person names survive, 0 structured values.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from anonymize_leak import STRUCTURED, canonical  # noqa: E402

# A fixed, public key: the figure describes the code, not a secret.
KEY = b"bench-name-survival-key-0123456789ab"


def _texts(data_dir: Path) -> dict[str, str]:
    """Keyed record id → every field of the anonymized record, joined."""
    from pipeline.fields import iter_fields

    out = {}
    for name in ("train.jsonl", "holdout.jsonl"):
        for line in (data_dir / name).open(encoding="utf-8"):
            row = json.loads(line)
            out[row["id"]] = " \n ".join(f.text for f in iter_fields(row))
    return out


def survival(labels: Path, data_dir: Path, key, show: int = 0) -> dict:
    """Gold values still present in their anonymized record, by type."""
    from pipeline.fingerprint import record_key
    from pipeline.text import tr_lower

    output = _texts(data_dir)
    total, leaked = Counter(), Counter()
    shown: list[str] = []
    for line in labels.open(encoding="utf-8"):
        gold = json.loads(line)
        rid = record_key(key, gold["id"])
        if rid not in output:
            continue  # dropped by policy or as a duplicate: nothing of it is in the output
        text = output[rid]
        lowered = tr_lower(text)
        digits, alnum = re.sub(r"\D", "", text), re.sub(r"[\W_]", "", text).upper()
        for span in gold["pii"]:
            entity, value = span["type"], span["value"]
            if entity == "PERSON":
                hit = bool(re.search(r"(?<!\w)" + re.escape(tr_lower(value)) + r"(?!\w)", lowered))
                if hit and len(shown) < show:
                    shown.append(f"{gold['id']}: {value!r}")
                # Stricter: each word of the name alone ("Kurtuluş" left of "Omaca Kurtuluş").
                for word in re.findall(r"[^\W\d_]{3,}", value):
                    total["PERSON_WORD"] += 1
                    kept = bool(re.search(r"(?<!\w)" + re.escape(tr_lower(word)) + r"(?!\w)", lowered))
                    leaked["PERSON_WORD"] += kept
                    if kept and not hit and len(shown) < show:
                        shown.append(f"{gold['id']}: word {word!r} of {value!r}")
            elif entity in STRUCTURED:
                needle = canonical(entity, value)
                if entity == "EMAIL_ADDRESS":
                    hit = needle in text.casefold()
                elif entity in ("TR_LICENSE_PLATE", "PASSPORT", "IBAN_CODE"):
                    hit = needle in alnum
                else:
                    hit = needle in digits
            else:
                continue
            total[entity] += 1
            leaked[entity] += hit
    return {"records": len(output), "total": total, "leaked": leaked, "shown": shown}


def main(argv: list[str] | None = None) -> int:
    import yaml

    from pipeline.anonymize.stage import AnonymizeInput, anonymize_dataset
    from pipeline.keys import PseudonymKey
    from pipeline.policy import load_policy
    from pipeline.sample import SampleConfig, write_sample
    from pipeline.scan.analyzer import get_analyzer
    from pipeline.scan.stage import InputFile, ScanConfig, scan_files

    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=params["sample"]["n_records"])
    parser.add_argument("--seed", type=int, default=params["sample"]["seed"])
    parser.add_argument("--show", type=int, default=0, help="print up to N surviving names per run")
    args = parser.parse_args(argv)

    key = PseudonymKey(KEY)
    policy = load_policy(REPO / params["policy"])
    with tempfile.TemporaryDirectory(prefix="mahrem-names-") as tmp_name:
        tmp = Path(tmp_name)
        raw, labels = tmp / "raw/sample.jsonl", tmp / "raw/sample.labels.jsonl"
        raw.parent.mkdir()
        write_sample(raw, labels, SampleConfig(seed=args.seed, n_records=args.n))
        scan_files([InputFile(raw, "sample")], tmp / "scan",
                   ScanConfig(workers=1, recognizer_dir=REPO / "policies/recognizers"), key)  # fmt: skip
        analyzer = get_analyzer(str(REPO / "policies/recognizers"), params["scan"]["min_score"])
        results = {}
        for label, on in (("before", False), ("after", True)):
            out = tmp / label
            summary = anonymize_dataset(
                [AnonymizeInput(raw, "sample", False)], tmp / "scan/findings.jsonl", out / "data", out / "report",
                policy, key, analyzer.analyze, canaries=False, name_propagation=on,
            ).summary  # fmt: skip
            results[label] = survival(labels, out / "data", key, args.show)
            results[label]["propagated"] = sum(
                n for by in summary["actions"].values() for action, n in by.items() if action.endswith("_propagated")
            )
    print(f"sample: {args.n} records (seed {args.seed}), policy {params['policy']}")
    for label, r in results.items():
        total, leaked = r["total"], r["leaked"]
        person = leaked["PERSON"] / max(1, total["PERSON"])
        structured = sum(leaked[e] for e in STRUCTURED)
        words = leaked["PERSON_WORD"] / max(1, total["PERSON_WORD"])
        print(f"{label:6}  {r['records']} records kept; PERSON {leaked['PERSON']} / {total['PERSON']} survive "
              f"({person:.1%}); name words {leaked['PERSON_WORD']} / {total['PERSON_WORD']} ({words:.1%}); "
              f"structured values surviving {structured} / {sum(total[e] for e in STRUCTURED)}; "
              f"propagated name replacements {r['propagated']}")  # fmt: skip
        for line in r["shown"]:
            print(f"        survives  {line}")
    after = results["after"]
    person = after["leaked"]["PERSON"] / max(1, after["total"]["PERSON"])
    structured = sum(after["leaked"][e] for e in STRUCTURED)
    met = person <= 0.02 and structured == 0
    print(f"target ≤ 2% person names and 0 structured values: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
