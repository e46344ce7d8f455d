"""The independent PII evaluation set (evals/pii/) is what it claims to be (issue #16).

Hand-written, not templated: after each gold span is masked by its type, no two records
share a word 8-gram. Big enough to measure: ≥ 150 records with personal data, ≥ 10 per
special category and language, ≥ 100 look-alike negatives. Its identifiers are valid
(a checksum that fails would make a recall figure meaningless). The built dev/test files
are exactly what the sources give, and the split is fixed by the record id.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from stdnum import iban, luhn
from stdnum.tr import tckimlik, vkn

from pipeline.entities import ENTITY_TYPES, SPECIAL_CATEGORIES

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("evalset", REPO / "evals/pii/evalset.py")
evalset = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(evalset)

LANGUAGES = ("tr", "en")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return evalset.load("dev") + evalset.load("test")


def test_the_built_splits_are_the_sources_resolved(records):
    built = {r["id"]: r for r in records}
    sources = evalset.sources()
    assert len(built) == len(records) == len(sources), "duplicate ids, or dev/test are stale: run evals/pii/evalset.py"
    for source in sources:
        assert built[source["id"]] == evalset.resolve(source), f"{source['id']}: stale, run evals/pii/evalset.py"
    for split in evalset.SPLITS:
        assert all(evalset.split_of(r["id"]) == split for r in evalset.load(split))


def test_labels_are_well_formed(records):
    for r in records:
        assert r["lang"] in LANGUAGES, r["id"]
        for span in r["pii"]:
            assert span["type"] in ENTITY_TYPES, (r["id"], span["type"])
            assert 0 <= span["start"] < span["end"] <= len(r["text"]), r["id"]
        for label in r["special"]:
            assert label["category"] in SPECIAL_CATEGORIES, (r["id"], label["category"])
        if r["negative"]:
            assert not r["pii"] and not r["special"], f"{r['id']}: a negative carries labels"


def test_the_set_is_big_enough_to_measure(records):
    with_pii = [r for r in records if r["pii"]]
    negatives = [r for r in records if r["negative"]]
    per_cell = Counter((r["lang"], label["category"]) for r in records for label in {l["category"]: l for l in r["special"]}.values())
    assert len(with_pii) >= 150, len(with_pii)
    assert len(negatives) >= 100, len(negatives)
    short = {f"{lang}/{cat}": per_cell[(lang, cat)] for lang in LANGUAGES for cat in SPECIAL_CATEGORIES
             if per_cell[(lang, cat)] < 10}  # fmt: skip
    assert not short, f"fewer than 10 records for: {short}"
    for split in evalset.SPLITS:  # both splits hold every language
        assert {r["lang"] for r in evalset.load(split)} == set(LANGUAGES)


def test_no_two_records_share_an_8_gram_once_values_are_masked(records):
    owner: dict[tuple[str, ...], str] = {}
    shared = defaultdict(set)
    for r in records:
        for gram in evalset.masked_ngrams(r):
            if gram in owner and owner[gram] != r["id"]:
                shared[(owner[gram], r["id"])].add(" ".join(gram))
            owner.setdefault(gram, r["id"])
    assert not shared, f"records written from a template? {dict(list(shared.items())[:5])}"


CHECKSUMS = {
    "TR_NATIONAL_ID": lambda v: tckimlik.is_valid(re.sub(r"\D", "", v)),
    "TR_TAX_ID": lambda v: vkn.is_valid(re.sub(r"\D", "", v)),
    "IBAN_CODE": lambda v: iban.is_valid(v),
    "CREDIT_CARD": lambda v: luhn.is_valid(re.sub(r"\D", "", v)),
}


def test_identifiers_pass_their_checksums(records):
    bad = [
        (r["id"], span["type"])
        for r in records
        for span in r["pii"]
        if span["type"] in CHECKSUMS and not CHECKSUMS[span["type"]](r["text"][span["start"] : span["end"]])
    ]
    assert not bad, bad


def test_an_8_gram_shared_by_two_records_is_caught():
    a = {"id": "a", "text": "Sayın Ali Kaya, randevunuz yarın saat onda kardiyoloji polikliniğinde olacaktır.",
         "pii": [{"start": 6, "end": 14, "type": "PERSON"}]}  # fmt: skip
    b = {"id": "b", "text": "Sayın Ece Tan, randevunuz yarın saat onda kardiyoloji polikliniğinde olacaktır.",
         "pii": [{"start": 6, "end": 13, "type": "PERSON"}]}  # fmt: skip
    assert evalset.masked_ngrams(a) & evalset.masked_ngrams(b)
