"""Date surrogates: one month table, the formats people write, the shift kept keyed and consistent."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pipeline import entities as E
from pipeline.anonymize.surrogates.base import _Draws, _apply_shape, _case_shape, _fold, _key_form
from pipeline.keys import PseudonymKey
from pipeline.text import (
    APOSTROPHES,
    EN_MONTHS,
    EN_MONTHS_SHORT,
    MONTH_ALIASES,
    TR_MONTHS,
    TR_MONTHS_SHORT,
    tr_lower,
    tr_title,
)

# --------------------------------------------------------------------------- dates

# The shared month table (pipeline.text), under the names this module has always used.
_TR_MONTHS = TR_MONTHS
_TR_MONTHS_SHORT = TR_MONTHS_SHORT
_EN_MONTHS = EN_MONTHS
_EN_MONTHS_SHORT = EN_MONTHS_SHORT


def _month_table() -> dict[str, tuple[tuple[str, ...], int]]:
    table: dict[str, tuple[tuple[str, ...], int]] = {}
    # Earlier lists win a clash: "mar" is English before Turkish, "may" is the full English month.
    for names in (_TR_MONTHS, _EN_MONTHS, _EN_MONTHS_SHORT, _TR_MONTHS_SHORT):
        for number, name in enumerate(names, 1):
            table.setdefault(_key_form(name), (names, number))
    for alias, number in MONTH_ALIASES.items():  # "sept": written as English, rendered as "sep"'s list
        table.setdefault(alias, (_EN_MONTHS_SHORT, number))
    return table


_MONTHS = _month_table()
_TURKISH_MONTH_LISTS = (_TR_MONTHS, _TR_MONTHS_SHORT)

# A time of day, a zone and a case suffix after the date are kept as written.
_TAIL = (
    r"(?P<tail>(?:(?:[ ,]+|T)\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?(?:\s?Z|\s?[+-]\d{2}:?\d{2})?)?"
    r"(?:[" + APOSTROPHES + r"][^\W\d_]+)?)"
)
_WORD = r"(?P<mon>[^\W\d_]+\.?)"
_DATE_FORMATS = (
    ("dmy", re.compile(rf"(?P<a>\d{{1,2}})(?P<sep>[./-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}|\d{{2}}){_TAIL}")),
    ("ymd", re.compile(rf"(?P<y>\d{{4}})(?P<sep>[./-])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_TAIL}")),
    ("d_mon_y", re.compile(rf"(?P<d>\d{{1,2}})\.?\s+{_WORD},?\s+(?P<y>\d{{4}}){_TAIL}")),
    ("mon_d_y", re.compile(rf"{_WORD}\s+(?P<d>\d{{1,2}})(?P<ord>st|nd|rd|th)?,?\s+(?P<y>\d{{4}}){_TAIL}")),
    ("mon_y", re.compile(rf"{_WORD},?\s+(?P<y>\d{{4}}){_TAIL}")),
    ("y", re.compile(rf"(?P<y>\d{{4}}){_TAIL}")),
)


@dataclass(frozen=True)
class _ParsedDate:
    kind: str
    match: re.Match[str]
    date: dt.date
    day_first: bool = True  # for "dmy": whether group a is the day


def _year(text: str) -> int:
    # A two-digit year is read in a fixed window (not "relative to today"), so runs agree.
    value = int(text)
    return value if len(text) == 4 else (2000 + value if value <= 30 else 1900 + value)


def _parse_date(value: str) -> _ParsedDate | None:
    for kind, pattern in _DATE_FORMATS:
        match = pattern.fullmatch(value)
        if not match:
            continue
        try:
            year = _year(match["y"])
            if kind == "dmy":
                a, b = int(match["a"]), int(match["b"])
                day_first = not (a <= 12 < b)  # Turkish day.month unless only month/day fits
                day, month = (a, b) if day_first else (b, a)
                return _ParsedDate(kind, match, dt.date(year, month, day), day_first)
            if kind == "ymd":
                return _ParsedDate(kind, match, dt.date(year, int(match["m"]), int(match["d"])))
            if kind == "y":
                if not 1000 <= year <= 2999:
                    return None
                return _ParsedDate(kind, match, dt.date(year, 7, 1))
            month_entry = _MONTHS.get(_key_form(match["mon"].rstrip(".")))
            if month_entry is None:
                continue
            day = int(match["d"]) if "d" in match.re.groupindex else 15
            return _ParsedDate(kind, match, dt.date(year, month_entry[1], day))
        except ValueError:  # 31.02.1985 and the like: not a date
            return None
    return None


def _ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _render_date(parsed: _ParsedDate, new: dt.date) -> str:
    match = parsed.match
    numeric = [match[g] for g in ("a", "b", "m", "d") if g in match.re.groupindex and match[g]]
    if parsed.kind in ("dmy", "ymd"):
        padded = all(len(f) == 2 for f in numeric)
    else:
        padded = bool(numeric) and numeric[0].startswith("0")

    def number(n: int) -> str:
        return f"{n:02d}" if padded else str(n)

    fields: dict[str, str] = {"y": f"{new.year:04d}" if len(match["y"]) == 4 else f"{new.year % 100:02d}"}
    if parsed.kind == "dmy":
        fields["a"], fields["b"] = (
            (number(new.day), number(new.month)) if parsed.day_first else (number(new.month), number(new.day))
        )
    elif parsed.kind in ("ymd", "d_mon_y", "mon_d_y"):
        if parsed.kind == "ymd":
            fields["m"] = number(new.month)
        fields["d"] = number(new.day)
    if "mon" in match.re.groupindex:
        word = match["mon"]
        bare = word.rstrip(".")
        names, _ = _MONTHS[_key_form(bare)]
        turkish = names in _TURKISH_MONTH_LISTS
        name = names[new.month - 1]
        name = _apply_shape(_case_shape(bare), tr_title(name) if turkish else name.capitalize(), turkish)
        if turkish and bare.isascii() and tr_lower(bare) not in names:  # "Subat" typed for "Şubat"
            name = _fold(name)
        fields["mon"] = name + word[len(bare) :]
    if "ord" in match.re.groupindex and match["ord"]:
        fields["ord"] = _ordinal(new.day)
    out, cursor = [], 0
    for group in sorted(fields, key=match.start):
        out.append(match.string[cursor : match.start(group)])
        out.append(fields[group])
        cursor = match.end(group)
    out.append(match.string[cursor:])
    return "".join(out)


def _date(key: PseudonymKey, value: str, entity_type: str) -> str | None:
    parsed = _parse_date(value)
    if parsed is None:
        return None
    granularity = {"y": "year", "mon_y": "month"}.get(parsed.kind, "day")
    canonical = f"{granularity}:{parsed.date.isoformat()}"
    draws = _Draws(key, entity_type, "", canonical)
    # A birth date only moves back, so it never lands in the future; other dates either way.
    backwards = entity_type == E.DATE_OF_BIRTH or draws.below(2) == 0
    try:
        if granularity == "year":
            years = 1 + draws.below(10)
            new = parsed.date.replace(year=parsed.date.year + (-years if backwards else years))
        else:
            days = 30 + draws.below(3650 - 30 + 1)
            new = parsed.date + dt.timedelta(days=-days if backwards else days)
    except (OverflowError, ValueError):
        return None
    return _render_date(parsed, new)


def date_year(value: str) -> str | None:
    """The four-digit year a written date names, or None."""
    parsed = _parse_date(value)
    if parsed is not None:
        return f"{parsed.date.year:04d}"
    found = re.search(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", value)
    return found.group(1) if found else None
