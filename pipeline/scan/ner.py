"""English named entities from spaCy, with span hygiene Presidio does not do.

:class:`EnglishNerRecognizer` is Presidio's ``SpacyRecognizer`` plus one hook,
:func:`refine_span`, applied to every entity the English model reports:

* a possessive ``'s`` is not part of a name ("Ayla Demirtaş's" → "Ayla Demirtaş");
* a person's name goes on over a hyphen the model stopped at ("Adeyemi" → "Adeyemi-Hart");
* a leading article is not part of a place or an organisation ("the United States");
* a DATE_TIME without a digit is dropped: "next week", "this month" and "a couple of
  months" identify no one, while "12 March 1985" or "2006-04-07" may;
* a DATE_TIME made of digits and separators only is dropped unless it has a date's or a
  time's shape (12.03.1985, 2024-01-05, 03/2025, 10:30, 1985): the small English model
  calls card numbers, phone numbers without a trunk "0" ("212 555 12 34") and passport
  numbers dates, and that label must not compete with the recognizers that know them;
* a name, place or organisation every word of which has a digit in it is dropped: the
  model calls document numbers ("C01X00T47") NRP or ORG.

>>> refine_span("PERSON", "I love Ayla Demirtaş's songs", 7, 22)
(7, 20)
>>> refine_span("PERSON", "Dear Mr Adeyemi-Hart,", 8, 15)
(8, 20)
>>> refine_span("LOCATION", "I moved to the United States", 11, 28)
(15, 28)
>>> refine_span("DATE_TIME", "see you next week", 8, 17) is None
True
>>> refine_span("DATE_TIME", "tel 212 555 12 34", 4, 17) is None
True
>>> refine_span("DATE_TIME", "born 12.03.1985", 5, 15)
(5, 15)
>>> refine_span("NRP", "passport C01X00T47", 9, 18) is None
True
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")
_DIGIT = re.compile(r"\d")
_HYPHEN_HALF = re.compile(r"-[A-Z][a-z]+(?![\w-])")
_NAME_TYPES = {"PERSON", "ORGANIZATION", "LOCATION", "NRP"}
# Digits and the separators people put between them, nothing else.
_DIGITS_AND_SEPARATORS = re.compile(r"[\d\s.,:/\-+()]+")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d\d"
# The shapes of a date or a time written in digits alone.
_NUMERIC_DATE = re.compile(
    "|".join(
        [
            rf"{_DAY}([./\-]){_MONTH}\1(?:{_YEAR}|\d\d)",  # 12.03.1985, 12/3/85, 05-01-2024
            rf"{_MONTH}([./\-]){_DAY}\2(?:{_YEAR}|\d\d)",  # 03/12/1985 (US order)
            rf"{_DAY} {_MONTH} {_YEAR}",  # 12 03 1985
            rf"{_YEAR}([./\-]){_MONTH}\3{_DAY}",  # 2024-01-05, 2024.01.05
            rf"{_MONTH}[./\-](?:{_YEAR}|\d\d)",  # 03/2025, 09/29 (card expiry)
            rf"{_YEAR}(?:\s*[\-/]\s*(?:{_YEAR}|\d\d))?",  # 1985, 1985-86, 2019/2020
            r"(?:[01]?\d|2[0-3])[:.][0-5]\d(?:[:.][0-5]\d)?",  # 10:30, 10.30, 10:30:15
            rf"(?:[01]?\d|2[0-3]):[0-5]\d\s*[\-/]\s*(?:[01]?\d|2[0-3]):[0-5]\d",  # 09:00-17:30
            rf"{_DAY}[./]{_MONTH}",  # 12.03, 12/3
            r"\d{1,2}",  # "30" (days), "5" — too short to be anyone's number anyway
        ]
    )
)


def is_bare_number(value: str) -> bool:
    """Whether a DATE_TIME span is a number rather than a date: digits and separators only,
    and no date or time shape.

    >>> is_bare_number("4539-7362-9184-0511"), is_bare_number("212 555 12 34"), is_bare_number("123456789")
    (True, True, True)
    >>> is_bare_number("12.03.1985"), is_bare_number("2024-01-05"), is_bare_number("10:30"), is_bare_number("1985")
    (False, False, False, False)
    >>> is_bare_number("12 March 1985")
    False
    """
    value = value.strip()
    return bool(_DIGITS_AND_SEPARATORS.fullmatch(value)) and not _NUMERIC_DATE.fullmatch(value)


def refine_span(entity_type: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """The cleaned ``(start, end)`` of an NER span, or ``None`` to drop it."""
    value = text[start:end]
    if entity_type == "DATE_TIME" and (not _DIGIT.search(value) or is_bare_number(value)):
        return None
    if entity_type in _NAME_TYPES:
        if all(_DIGIT.search(word) for word in value.split()):
            return None
        possessive = _POSSESSIVE.search(value)
        if possessive:
            end -= len(possessive.group())
        if entity_type == "PERSON":  # "Mr Adeyemi-Hart": the model may stop at the hyphen
            hyphen = _HYPHEN_HALF.match(text, end)
            if hyphen:
                end = hyphen.end()
        if entity_type in ("LOCATION", "ORGANIZATION"):
            article = _ARTICLE.match(text[start:end])
            if article:
                start += article.end()
    if end - start < 2:
        return None
    return start, end


class EnglishNerRecognizer(SpacyRecognizer):
    """spaCy NER entities (PERSON, LOCATION, ORGANIZATION, DATE_TIME, NRP), cleaned up."""

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        refined = []
        for result in super().analyze(text, entities, nlp_artifacts):
            span = refine_span(result.entity_type, text, result.start, result.end)
            if span is not None:
                result.start, result.end = span
                refined.append(result)
        return refined
