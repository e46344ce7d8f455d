"""Dates of birth → ``DATE_OF_BIRTH``: a calendar date next to a birth cue.

A date of birth is personal data (KVKK Art. 3, GDPR Art. 4(1)) and, with a postcode
and gender, one of the classic quasi-identifiers that re-identify people. A date by
itself is not one: only a date that stands right after (or just before) a cue —
"doğum tarihi", "D.T.", "doğdum", "doğumlu", "born", "date of birth", "DOB", "birthday"
— is reported. The cue must be nearer to the date than any other date, so
"Doğum tarihi 12.03.1985, randevu 15.04.2024" marks only the first.

Formats: 12.03.1985, 12/03/1985, 12-03-1985, 12.03.85, 1985-03-12, "12 Mart 1985",
"12 mart 85", "12 Şub. 1985", "March 12, 1985", "12 March 1985", "12th of March 1985",
and a bare year right before "doğumlu" ("1985 doğumluyum"). The date must exist
(no 31.02.).

>>> recognizer = DateOfBirthRecognizer()
>>> text = "Doğum tarihim 12.03.1985, randevum 15.04.2024"
>>> [(text[r.start:r.end], r.score) for r in recognizer.analyze(text, [])]
[('12.03.1985', 0.85)]
>>> recognizer.analyze("Toplantı 12 Mart 1985 tarihinde yapıldı", [])  # no birth cue
[]
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from pipeline.entities import DATE_OF_BIRTH
from pipeline.scan.recognizers.base import CueRecognizer, Detection
from pipeline.text import EN_MONTHS, EN_MONTHS_SHORT, MONTH_ALIASES, TR_MONTHS, TR_MONTHS_SHORT, tr_lower


def month_key(name: str) -> str:
    """Month names compared without case and without the dotted/dotless i distinction
    (the regex matches "EKİM", "Ekım", "EKIM" alike)."""
    return tr_lower(name).replace("ı", "i").rstrip(".")


# Turkish letters typed without their marks ("subat", "agustos", "eylul").
_ASCII_LETTERS = str.maketrans("çğıöşü", "cgiosu")

# Month names and abbreviations → month number; Turkish with and without its letters.
MONTHS: dict[str, int] = {}
for _number, (_tr, _tr_short, _en, _en_short) in enumerate(
    zip(TR_MONTHS, TR_MONTHS_SHORT, EN_MONTHS, EN_MONTHS_SHORT, strict=True), start=1
):
    _aliases = [alias for alias, number in MONTH_ALIASES.items() if number == _number]
    for _name in (_tr, _tr_short, _tr.translate(_ASCII_LETTERS), _tr_short.translate(_ASCII_LETTERS), _en, *_aliases,
                  _en_short):  # fmt: skip
        MONTHS[month_key(_name)] = _number
# re's IGNORECASE folds i/ı/İ/I together, so the ASCII-i keys also match "Ekım", "KASIM".
_MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")(?![^\W\d_])\.?"
_DAY = r"(?P<day>0?[1-9]|[12]\d|3[01])"
_YEAR = r"(?P<year>(?:19|20)\d{2}|'?\d{2})"
_END = r"(?!\d)"

DATE_PATTERNS: dict[str, re.Pattern[str]] = {
    "dd.mm.yyyy": re.compile(
        rf"(?<![\d.]){_DAY}(?P<sep>[./-])(?P<mnum>0?[1-9]|1[0-2])(?P=sep){_YEAR}{_END}(?!(?P=sep)\d)"
    ),
    "yyyy-mm-dd": re.compile(r"(?<![\d.])(?P<year>(?:19|20)\d{2})(?P<sep>[./-])(?P<mnum>0?[1-9]|1[0-2])(?P=sep)"
                             rf"{_DAY}{_END}(?!(?P=sep)\d)"),
    "dd month yyyy": re.compile(
        rf"(?<!\d){_DAY}(?:st|nd|rd|th)?\.?\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}{_END}", re.IGNORECASE
    ),
    "month dd, yyyy": re.compile(rf"(?<![^\W\d_]){_MONTH}\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}{_END}", re.IGNORECASE),
    "yyyy doğumlu": re.compile(
        r"(?<!\d)(?P<year>(?:19|20)\d{2})(?=['’]?\s*(?:do[ğg]umlu|yılında\s+do[ğg]))", re.IGNORECASE
    ),
}


def parse_date(match: re.Match[str]) -> datetime.date | None:
    """The calendar date a match of :data:`DATE_PATTERNS` spells, or ``None`` if it does not exist."""
    groups = match.groupdict()
    year_text = groups["year"].lstrip("'")
    year = int(year_text)
    if len(year_text) == 2:  # "85" → 1985, "07" → 2007
        year += 2000 if year <= datetime.date.today().year % 100 else 1900
    if groups.get("mnum"):
        month = int(groups["mnum"])
    elif groups.get("month"):
        month = MONTHS.get(month_key(groups["month"]), 0)
    else:  # a bare year
        return datetime.date(year, 1, 1)
    try:
        return datetime.date(year, month, int(groups["day"]))
    except ValueError:
        return None


class DateOfBirthRecognizer(CueRecognizer):
    """Finds dates that a birth cue marks as someone's date of birth."""

    ENTITY = DATE_OF_BIRTH
    REQUIRES_CUE = True
    SCORE_WITH_CONTEXT = 0.85
    CUE_WINDOW_BEFORE = 50
    CUE_WINDOW_AFTER = 25
    CUES = (
        "doğum",
        "dogum",
        "doğdu",
        "dogdu",
        "d.t",
        "d. tarihi",
        "dt",
        "born",
        "birth",
        "date of birth",
        "dob",
        "d.o.b",
    )

    def find(self, text: str) -> Iterator[Detection]:
        if not any(ch.isdigit() for ch in text):
            return
        dates = sorted(self._dates(text))
        for index, (start, end, pattern_name) in enumerate(dates):
            # The cue has to be nearer to this date than to its neighbours.
            previous_end = dates[index - 1][1] if index else 0
            next_start = dates[index + 1][0] if index + 1 < len(dates) else len(text)
            before = min(self.CUE_WINDOW_BEFORE, start - previous_end)
            after = min(self.CUE_WINDOW_AFTER, next_start - end)
            if self.has_cue(text, start, end, before=before, after=after):
                yield Detection(start, end, self.SCORE_WITH_CONTEXT, pattern_name, True)

    @staticmethod
    def _dates(text: str) -> list[tuple[int, int, str]]:
        """Spans of existing dates, longest first where two formats overlap."""
        found: list[tuple[int, int, str]] = []
        for pattern_name, pattern in DATE_PATTERNS.items():
            for match in pattern.finditer(text):
                if parse_date(match) is None:
                    continue
                start, end = match.span()
                overlapping = [f for f in found if f[0] < end and start < f[1]]
                if any(f[1] - f[0] >= end - start for f in overlapping):
                    continue
                found = [f for f in found if f not in overlapping]
                found.append((start, end, pattern_name))
        return found
