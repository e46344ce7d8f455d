"""English named entities from spaCy, with span hygiene Presidio does not do.

:class:`EnglishNerRecognizer` is Presidio's ``SpacyRecognizer`` plus one hook,
:func:`refine_span`, applied to every entity the English model reports:

* a possessive ``'s`` is not part of a name ("Ayla Demirtaş's" → "Ayla Demirtaş");
* a leading article is not part of a place or an organisation ("the United States");
* a DATE_TIME without a digit is dropped: "next week", "this month" and "a couple of
  months" identify no one, while "12 March 1985" or "2006-04-07" may.

>>> refine_span("PERSON", "I love Ayla Demirtaş's songs", 7, 22)
(7, 20)
>>> refine_span("LOCATION", "I moved to the United States", 11, 28)
(15, 28)
>>> refine_span("DATE_TIME", "see you next week", 8, 17) is None
True
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")
_DIGIT = re.compile(r"\d")
_NAME_TYPES = {"PERSON", "ORGANIZATION", "LOCATION", "NRP"}


def refine_span(entity_type: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """The cleaned ``(start, end)`` of an NER span, or ``None`` to drop it."""
    value = text[start:end]
    if entity_type == "DATE_TIME" and not _DIGIT.search(value):
        return None
    if entity_type in _NAME_TYPES:
        possessive = _POSSESSIVE.search(value)
        if possessive:
            end -= len(possessive.group())
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
