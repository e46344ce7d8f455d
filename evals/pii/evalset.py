"""The independent PII evaluation set: hand-written records, split into dev and test.

Sources (``evals/pii/src/{tr,en}.jsonl``) hold each record's text and its gold labels as
exact substrings (a value and its type; a special category and the words that state it).
:func:`build` resolves them to character offsets and splits the records by a hash of their
id into ``dev.jsonl`` (tune on it) and ``test.jsonl`` (report on it; never tune). The split
is fixed by the id alone, so adding records never moves an old one across.

    .venv/bin/python evals/pii/evalset.py      # rebuild dev.jsonl and test.jsonl from src/

A built record::

    {"id": "tr-0001", "lang": "tr", "register": "clinical_note", "text": "...",
     "pii": [{"start": 6, "end": 17, "type": "PERSON"}],
     "special": [{"category": "HEALTH", "start": 30, "end": 52}], "negative": false}

The records were written for this set, independently of the sample generator
(``pipeline/sample``) and of any public benchmark.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
SPLITS = ("dev", "test")
NGRAM = 8


def split_of(record_id: str) -> str:
    """``test`` for about half of the ids, ``dev`` for the rest; fixed by the id alone.

    >>> split_of("tr-0001") in SPLITS
    True
    """
    return "test" if hashlib.sha256(record_id.encode()).digest()[0] % 2 == 0 else "dev"


def _occurrences(text: str, value: str) -> Iterator[tuple[int, int]]:
    """Every whole-token occurrence of ``value`` in ``text`` (not inside a longer word or number)."""
    for match in re.finditer(re.escape(value), text):
        start, end = match.span()
        before, after = text[start - 1 : start], text[end : end + 1]
        if (before.isalnum() and value[:1].isalnum()) or (after.isalnum() and value[-1:].isalnum()):
            continue
        yield start, end


def resolve(source: dict) -> dict:
    """A source record with its labels turned into offsets (every occurrence of each value)."""
    text = source["text"]
    pii, special = [], []
    for label in source.get("pii", []):
        spans = list(_occurrences(text, label["value"]))
        if not spans:
            raise ValueError(f"{source['id']}: pii value {label['value']!r} is not in the text")
        pii += [{"start": s, "end": e, "type": label["type"]} for s, e in spans]
    for label in source.get("special", []):
        start = text.find(label["evidence"])
        if start < 0:
            raise ValueError(f"{source['id']}: special evidence {label['evidence']!r} is not in the text")
        special.append({"category": label["category"], "start": start, "end": start + len(label["evidence"])})
    unique = {(p["start"], p["end"], p["type"]): p for p in pii}
    return {
        "id": source["id"],
        "lang": source["lang"],
        "register": source["register"],
        "text": text,
        "pii": sorted(unique.values(), key=lambda p: (p["start"], p["end"])),
        "special": special,
        "negative": bool(source.get("negative")),
    }


def sources() -> list[dict]:
    records = []
    for path in sorted(SOURCES.glob("*.jsonl")):
        records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return records


def build() -> dict[str, int]:
    """Write ``dev.jsonl`` and ``test.jsonl``; returns the record count of each."""
    rows: dict[str, list[str]] = {name: [] for name in SPLITS}
    for source in sources():
        rows[split_of(source["id"])].append(json.dumps(resolve(source), ensure_ascii=False))
    for name, lines in rows.items():
        (HERE / f"{name}.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return {name: len(lines) for name, lines in rows.items()}


def load(split: str) -> list[dict]:
    """The built records of ``split`` (``dev`` or ``test``)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = HERE / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def masked_ngrams(record: dict, n: int = NGRAM) -> set[tuple[str, ...]]:
    """The record's word ``n``-grams after each gold PII span is replaced by its type."""
    text = record["text"]
    for span in sorted(record["pii"], key=lambda p: -p["start"]):
        text = text[: span["start"]] + f" {span['type']} " + text[span["end"] :]
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


if __name__ == "__main__":
    print(build())
