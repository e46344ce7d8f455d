"""Generalisation: a coarser value (a year, a province, an operator prefix) instead of a surrogate."""

from __future__ import annotations

import re

from pipeline import entities as E
from pipeline.anonymize.surrogates.base import _split_suffix
from pipeline.anonymize.surrogates.dates import date_year
from pipeline.anonymize.surrogates.places import _places
from pipeline.text import tr_lower, tr_title

# --------------------------------------------------------------------------- generalize

_ADDRESS_KEYWORDS = re.compile(
    r"(?<![^\W\d_])(?:mahalle\w*|mah|mh|cadde\w*|cad|cd|sokak\w*|sok|sk|bulvar\w*|blv|no|apt|daire|kat|d|"
    r"street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|flat|apt|suite|floor)(?![^\W\d_])",
    re.IGNORECASE,
)


def _province_of(value: str) -> str | None:
    places = _places()
    provinces = set(places.PROVINCES) | {"isparta"}
    found = None
    for word in re.findall(r"[^\W\d_]+", value):
        form = tr_lower(_split_suffix(word)[0])
        if form in provinces:
            found = "Isparta" if form in ("ısparta", "isparta") else tr_title(form)
    return found


def _last_place_component(value: str) -> str | None:
    components = [c.strip() for c in re.split(r"[,/\n]", value) if c.strip()]
    if not components:
        return None
    last = re.sub(r"(?<![^\W\d_])\d+(?![^\W\d_])", " ", components[-1])  # postal codes
    last = " ".join(_split_suffix(w)[0] for w in last.split())
    words = last.split()
    if not 1 <= len(words) <= 3 or _ADDRESS_KEYWORDS.search(last) or not all(w.isalpha() for w in words):
        return None
    return last


def _phone_prefix(value: str) -> str | None:
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "TR")
    except phonenumbers.NumberParseException:
        return None
    national = phonenumbers.national_significant_number(number)
    positions = [i for i, c in enumerate(value) if c.isdecimal()]
    if not national or len(national) > len(positions):
        return None
    destination = phonenumbers.length_of_national_destination_code(number) or min(3, len(national))
    visible = set(positions[: len(positions) - len(national) + destination])
    return "".join(c if (i in visible or not c.isdecimal()) else "*" for i, c in enumerate(value))


def generalize(entity_type: str, value: str) -> str | None:
    """A coarser value that keeps some use, or None when no generalization is known.

    DATE_OF_BIRTH / DATE_TIME → the year; ADDRESS → the province it names (else its last
    place-like part); LOCATION → itself; PHONE_NUMBER → country code and operator or area
    code, the rest masked.

    >>> generalize("ADDRESS", "Atatürk Mah. Gazi Cad. No:12 D:5 Çankaya/Ankara")
    'Ankara'
    >>> generalize("PHONE_NUMBER", "+90 532 123 4567")
    '+90 532 *** ****'
    >>> generalize("TR_NATIONAL_ID", "17291716060") is None
    True
    """
    value = value.strip()
    if entity_type in (E.DATE_OF_BIRTH, E.DATE_TIME):
        return date_year(value)
    if entity_type == E.ADDRESS:
        return _province_of(value) or _last_place_component(value)
    if entity_type == E.LOCATION:
        return value or None
    if entity_type == E.PHONE_NUMBER:
        return _phone_prefix(value)
    return None
