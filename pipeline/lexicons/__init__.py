"""The word lists the Turkish recognizers and surrogates are driven by, kept as data next to this file.

| file | what it holds | used by |
|---|---|---|
| ``tr_common_words.txt`` | common words that are also names ("deniz", "umut", "kaya") | names |
| ``tr_provinces.txt`` | the 81 provinces ("aydın", "denizli") | names |
| ``tr_places.txt`` | big districts, regions, rivers ("fatih", "ege") | names |
| ``not_name_words.txt`` | roles, greetings, function words after a name anchor | names |
| ``brands.txt`` | banks, shops, operators, brands ("garanti", "ülker", "aras") | names |
| ``name_stoplist.txt`` | gazetteer entries that are never names here ("cuma", "ekim") | names |
| ``given_extra.txt`` | frequent given names the ayikla list lacks ("Nur", "Eymen") | names |
| ``surnames_extra.txt`` | top Turkish surnames the ayikla list lacks ("Yılmaz") | names |
| ``name_ambiguous.txt`` | the ambiguity list, generated from the files above | names |
| ``foreign_names.txt`` | given names and surnames of other languages (Faker's static lists); support only | names |
| ``special_categories.yaml`` | KVKK Art. 6 / GDPR Art. 9 cue phrases per category | special |
| ``special_clinical.yaml`` | drugs, diagnoses, procedures, lab tests, gene symbols (sources in its header) | special |
| ``special_unions.yaml`` | union names and payroll wording (sources in its header) | special |
| ``special_vocab_extra.yaml`` | general vocabulary for every category (sources in its header) | special |

The gazetteer built from them and ayikla's lists is :mod:`pipeline.lexicons.gazetteer`.

Word files: UTF-8, words separated by whitespace, ``#`` starts a comment.

>>> fold("ŞEKER Hastasıyım")
'seker hastasiyim'
>>> len(fold("İSTANBUL'DA")) == len("İSTANBUL'DA")
True
"""

from __future__ import annotations

import importlib.metadata
from functools import lru_cache
from pathlib import Path

from pipeline.text import tr_lower

LEXICON_DIR = Path(__file__).resolve().parent

# Turkish letters → the ASCII letter people type when their keyboard lacks them.
_ASCII = str.maketrans("çğıöşüâîû", "cgiosuaiu")


def fold(text: str) -> str:
    """:func:`tr_lower`, then Turkish letters to ASCII; keeps ``len`` so offsets carry over.

    Sloppy chat drops the Turkish letters ("seker hastasiyim", "adim mehmet"), and English
    "I" must stay "i" (``tr_lower`` alone makes it "ı"), so lexicon matching happens on this
    fold of both the text and the lexicon.
    """
    lowered = tr_lower(text)
    if len(lowered) != len(text):  # a character outside Turkish lower-cased into two
        lowered = "".join(tr_lower(ch)[:1] or ch for ch in text)
    return lowered.translate(_ASCII)


def lexicon_path(name: str) -> Path:
    path = LEXICON_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"lexicon {name!r} is missing from {LEXICON_DIR}; reinstall the package "
            "(the lexicons ship as package data)"
        )
    return path


def read_words(name: str) -> list[str]:
    """The words of a whitespace-separated word file, comments removed, in file order."""
    words: list[str] = []
    for line in lexicon_path(name).read_text(encoding="utf-8").splitlines():
        words.extend(line.split("#", 1)[0].split())
    return words


@lru_cache(maxsize=4)
def ayikla_names(filename: str) -> tuple[str, ...]:
    """The names of one of ayikla's lists (``isimler.txt``, ``soyisimler.txt``), in file order.

    ayikla (MIT) ships 2,222 Turkish given names and 3,000 surnames as data files; they are
    read as data, the package is never imported. Only single words of letters are kept (the
    given-name list ends with a ``-.-`` separator line). The gazetteer and the surrogate name
    pools both read the lists through this one loader.
    """
    try:
        path = Path(str(importlib.metadata.distribution("ayikla").locate_file(f"ayikla/{filename}")))
    except importlib.metadata.PackageNotFoundError as exc:
        raise RuntimeError("the Turkish name lists need the 'ayikla' distribution: pip install ayikla==1.2.0") from exc
    if not path.is_file():
        raise RuntimeError(f"ayikla is installed but {path} is missing; reinstall ayikla==1.2.0")
    return tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip().isalpha())

