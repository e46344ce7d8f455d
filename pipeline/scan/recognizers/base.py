"""The shape every Mahrem recognizer shares: candidates, validation, our own context check.

Presidio boosts scores with spaCy lemmas of the words around a match. On Turkish text
run through an English pipeline those lemmas are useless ("numarası", "kimliğim"), so
our recognizers decide the final score themselves with :func:`pipeline.text.has_context`
(Turkish-suffix tolerant) and hand Presidio an empty ``context`` list: the engine's
lemma enhancer then leaves our scores alone. The cue words live in ``self.cues``.

Checksummed numbers (TCKN, VKN, IBAN, payment cards) are configurations of
:class:`ChecksumRecognizer`: pattern(s), a python-stdnum validator, cues and two scores.

Every result carries the recognizer's name in ``recognition_metadata`` and in its
``analysis_explanation``, which is what the finding's ``recognizer`` field is read from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult

from pipeline.text import has_context

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

# Separators people put inside a number they dictate: space, no-break space, dot, dash.
DIGIT_SEPARATORS = " \u00a0.\\-"
_SEP = f"[{DIGIT_SEPARATORS}]"


def digit_run(length: int, first: str = r"\d") -> re.Pattern[str]:
    """``length`` digits, compact or grouped by single separators, the first matching ``first``.

    The grouped form may not touch another digit group ("… 1111 2222 …"); the compact form
    only may not touch a digit, so "TC 12345678950 2020'de" still counts.

    >>> [m.group() for m in digit_run(4).finditer("1234, 12 34 and 12 34 56")]
    ['1234', '12 34']
    """
    rest = length - 1
    return re.compile(
        rf"(?<!\d){first}\d{{{rest}}}(?!\d)"
        rf"|(?<!\d)(?<!\d{_SEP}){first}(?:{_SEP}?\d){{{rest}}}(?!{_SEP}?\d)"
    )

T = TypeVar("T")


class Detection(NamedTuple):
    """One value a recognizer found: its span, final score, and why."""

    start: int
    end: int
    score: float
    pattern_name: str
    context_found: bool = False


def accepted_matches(
    pattern: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], T | None]
) -> Iterator[T]:
    """Yield ``accept(match)`` for every match that ``accept`` does not reject (``None``).

    ``finditer`` never revisits text that a rejected candidate consumed, so a valid value
    overlapping an invalid candidate (a bad checksum, a missing cue) would be lost. Here a
    rejection restarts the search one character after the candidate's start, and an
    acceptance continues after its end.
    """
    position = 0
    while True:
        match = pattern.search(text, position)
        if match is None:
            return
        value = accept(match)
        if value is None:
            position = match.start() + 1
        else:
            yield value
            position = max(match.end(), match.start() + 1)


def with_dotless_i(cues: Iterable[str]) -> tuple[str, ...]:
    """The cues plus their dotless-ı spelling, so that "IBAN" or "TC KIMLIK" typed in ASCII
    capitals (which :func:`tr_lower` turns into "ıban", "tc kımlık") still count.

    >>> with_dotless_i(["iban", "tc"])
    ('iban', 'ıban', 'tc')
    """
    expanded: list[str] = []
    for cue in cues:
        expanded.append(cue)
        dotless = cue.replace("i", "ı")
        if dotless != cue:
            expanded.append(dotless)
    return tuple(expanded)


class CueRecognizer(LocalRecognizer):
    """A Presidio recognizer that scores its own matches, context included.

    Subclasses set ``ENTITY``, ``CUES`` and implement :meth:`find`, yielding one
    :class:`Detection` per value with its final score; :meth:`analyze` wraps them into
    :class:`RecognizerResult` objects that name the recognizer.
    """

    ENTITY: str = ""
    CUES: Sequence[str] = ()
    # True when no value is reported without a cue: text without any cue word is skipped.
    REQUIRES_CUE = False
    # How far (characters) before / after a span a cue may stand.
    CUE_WINDOW_BEFORE = 60
    CUE_WINDOW_AFTER = 20

    def __init__(self, supported_language: str = "en", cues: Iterable[str] | None = None, name: str | None = None):
        self.cues: tuple[str, ...] = with_dotless_i(cues if cues is not None else self.CUES)
        # A cheap superset of has_context: any cue's first word anywhere, any case (re's
        # IGNORECASE folds i/ı/İ/I together). Lets cue-only recognizers skip most text.
        first_words = sorted({cue.split()[0] for cue in self.cues if cue.split()}, key=len, reverse=True)
        self._cue_anywhere = re.compile("|".join(map(re.escape, first_words)), re.IGNORECASE) if first_words else None
        # context=None on purpose: see the module docstring.
        super().__init__(supported_entities=[self.ENTITY], supported_language=supported_language, name=name)

    def load(self) -> None:  # nothing to load: patterns are compiled at import
        pass

    def has_cue(self, text: str, start: int, end: int, before: int | None = None, after: int | None = None) -> bool:
        """Whether one of ``self.cues`` stands near ``text[start:end]``."""
        return has_context(
            text,
            start,
            end,
            self.cues,
            window_chars=self.CUE_WINDOW_BEFORE if before is None else before,
            after_chars=self.CUE_WINDOW_AFTER if after is None else after,
        )

    def find(self, text: str) -> Iterator[Detection]:
        """Yield one :class:`Detection` per value in ``text``."""
        raise NotImplementedError

    def analyze(
        self, text: str, entities: list[str] | None = None, nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        if self.REQUIRES_CUE and not (self._cue_anywhere and self._cue_anywhere.search(text)):
            return []
        return [self.result(detection) for detection in self.find(text)]

    def result(self, detection: Detection) -> RecognizerResult:
        explanation = AnalysisExplanation(
            recognizer=self.name,
            original_score=detection.score,
            pattern_name=detection.pattern_name,
            validation_result=True,
            textual_explanation=f"Detected by `{self.name}` using `{detection.pattern_name}`"
            + (" with a context cue" if detection.context_found else ""),
        )
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=detection.start,
            end=detection.end,
            score=detection.score,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: detection.context_found,
            },
        )


def digits_only(matched: str) -> str:
    """The digits of a matched number, separators dropped ("123 456-78" → "12345678")."""
    return re.sub(r"\D", "", matched)


class ChecksumRecognizer(CueRecognizer):
    """A number found by pattern(s) and kept only when its checksum validates.

    Subclasses are configurations: ``ENTITY``, ``CUES``, ``PATTERNS`` (name and compiled
    pattern, tried in order), ``validate`` (a python-stdnum ``is_valid`` or the like, given
    ``compact(matched text)``), ``SCORE`` without a cue and ``SCORE_WITH_CONTEXT`` with one.
    ``SCORE = None`` means the value is never reported without a cue.

    Every candidate goes through :func:`accepted_matches`, so a rejected candidate does not
    hide a valid value overlapping it. A value found by a later pattern is dropped when it
    overlaps one found by an earlier pattern.
    """

    PATTERNS: Sequence[tuple[str, re.Pattern[str]]] = ()
    SCORE: float | None = None
    SCORE_WITH_CONTEXT: float = 1.0

    @staticmethod
    def compact(matched: str) -> str:
        """What ``validate`` is given for the matched text (by default its digits only)."""
        return digits_only(matched)

    @staticmethod
    def validate(candidate: str) -> bool:
        """Whether ``candidate`` (the compacted match) passes the checksum."""
        raise NotImplementedError

    def find(self, text: str) -> Iterator[Detection]:
        taken: list[tuple[int, int]] = []
        for pattern_name, pattern in self.PATTERNS:
            found = list(accepted_matches(pattern, text, lambda m, name=pattern_name: self._detect(text, m, name)))
            earlier = list(taken)
            for detection in found:
                if not any(detection.start < end and start < detection.end for start, end in earlier):
                    taken.append((detection.start, detection.end))
                    yield detection

    def _detect(self, text: str, match: re.Match[str], pattern_name: str) -> Detection | None:
        if not self.validate(self.compact(match.group())):
            return None
        start, end = match.span()
        context = self.has_cue(text, start, end)
        if context:
            return Detection(start, end, self.SCORE_WITH_CONTEXT, pattern_name, True)
        if self.SCORE is None:
            return None
        return Detection(start, end, self.SCORE, pattern_name, False)
