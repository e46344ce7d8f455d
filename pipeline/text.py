"""Turkish-aware text helpers shared by the recognizers.

Python's ``str.lower`` is wrong for Turkish: ``"İ".lower()`` is ``"i̇"`` (i + combining dot)
and ``"I".lower()`` is ``"i"`` where Turkish wants dotless ``"ı"``. Every comparison with a
lexicon goes through :func:`tr_lower` so that "İSTANBUL", "İstanbul" and "istanbul" match
and "IRMAK" becomes "ırmak".

>>> tr_lower("İSTANBUL'DA IŞIK")
"istanbul'da ışık"
>>> tr_upper("istanbul ılık")
'İSTANBUL ILIK'
>>> tr_title("ayşe ışık")
'Ayşe Işık'

The one month table (lower case, January first) that the date recognizer, the date
surrogates and the sample generator all read:

>>> TR_MONTHS[1], TR_MONTHS_SHORT[7], EN_MONTHS[8], EN_MONTHS_SHORT[11], MONTH_ALIASES
('şubat', 'ağu', 'september', 'dec', {'sept': 9})
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Month names, lower case, January first. Python's %B/%b follow the C locale, not Turkish.
TR_MONTHS = (
    "ocak", "şubat", "mart", "nisan", "mayıs", "haziran", "temmuz", "ağustos", "eylül", "ekim", "kasım", "aralık",
)  # fmt: skip
TR_MONTHS_SHORT = ("oca", "şub", "mar", "nis", "may", "haz", "tem", "ağu", "eyl", "eki", "kas", "ara")
EN_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
)  # fmt: skip
EN_MONTHS_SHORT = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Abbreviations written besides the short forms above → month number ("Sept." for "Sep.").
MONTH_ALIASES = {"sept": 9}

_LOWER = str.maketrans({"İ": "i", "I": "ı"})
_UPPER = str.maketrans({"i": "İ", "ı": "I"})


def tr_lower(text: str) -> str:
    """Lower-case with Turkish dotted/dotless i rules; length-preserving for Turkish text."""
    return text.translate(_LOWER).lower()


def tr_upper(text: str) -> str:
    """Upper-case with Turkish dotted/dotless i rules."""
    return text.translate(_UPPER).upper()


def tr_title(text: str) -> str:
    """Capitalise each word the Turkish way ("ilker ışık" → "İlker Işık")."""
    return " ".join(tr_upper(w[:1]) + tr_lower(w[1:]) for w in text.split(" "))


# Apostrophes people type before a Turkish case suffix: ASCII, typographic, backtick, acute.
APOSTROPHES = "'’‘`´"
_WORD = re.compile(r"[\wçğıöşüÇĞİÖŞÜâîûÂÎÛ]+", re.UNICODE)


def words_before(text: str, start: int, window_chars: int = 60) -> list[str]:
    """Tr-lower-cased words in the ``window_chars`` characters before ``start``, nearest last."""
    return [tr_lower(m.group()) for m in _WORD.finditer(text[max(0, start - window_chars) : start])]


def fold_i(lowered: str) -> str:
    """Merge dotless ı into i in already-lower-cased text, for tolerant cue matching only."""
    return lowered.replace("ı", "i")


def has_context(
    text: str,
    start: int,
    end: int,
    cues: Iterable[str],
    window_chars: int = 60,
    after_chars: int = 20,
) -> bool:
    """True when a cue occurs shortly before (or just after) the span ``text[start:end]``.

    Cues are matched on :func:`tr_lower`-ed text as word *prefixes*, so the cue ``"vergi"``
    matches "Vergi", "vergisi", "VERGİ'nin" — Turkish agglutinates suffixes onto the cue.
    Dotted and dotless i are not told apart here (:func:`fold_i`), so "IBAN" typed in ASCII
    capitals still matches the cue "iban". A multi-word cue ("vergi no") matches as a phrase
    with any whitespace/punctuation between.

    >>> has_context("TC KIMLIK: 12345678950", 12, 23, ["kimlik"])
    True
    """
    before = fold_i(tr_lower(text[max(0, start - window_chars) : start]))
    after = fold_i(tr_lower(text[end : end + after_chars]))
    for cue in cues:
        parts = [re.escape(fold_i(tr_lower(p))) for p in cue.split()]
        pattern = r"(?<![\w])" + r"[\W_]+".join(parts)
        if re.search(pattern, before) or re.search(pattern, after):
            return True
    return False
