"""Pattern recognizers written as data, in Presidio's recognizer-registry YAML.

A user adds a recognizer without code by adding an entry to a file under
``policies/recognizers/`` (DESIGN.md §4). Entries use the keys of Presidio's
``RecognizerRegistry.add_recognizers_from_yaml`` (see
``presidio_analyzer/conf/example_recognizers.yaml``): ``name``, ``supported_entity``,
``patterns`` (each ``name``, ``regex``, ``score``), ``context``, ``deny_list``,
``deny_list_score``, ``supported_language``, ``version``, ``country_code``.
Regexes are compiled as Presidio compiles them (the ``regex`` module,
IGNORECASE | MULTILINE | DOTALL unless ``global_regex_flags`` says otherwise).

Two keys are Mahrem's own, because Presidio's lemma-based context boost does not work on
Turkish text (see :mod:`pipeline.scan.recognizers.base`):

``context_required`` (default ``false``)
    report a match only when one of the ``context`` words stands near it;
``context_score`` (default: the pattern's score + 0.35, at most 1.0)
    the score of a match next to a context word.

Presidio's own loader rejects these two keys; load the files with :func:`yaml_recognizers`.
Every recognizer runs under the engine's one language code, whatever ``supported_language``
the file says.

>>> import textwrap, tempfile, pathlib
>>> spec = textwrap.dedent('''
...     recognizers:
...       - name: TrPassportRecognizer
...         supported_entity: PASSPORT
...         patterns: [{name: tr_passport, regex: "(?<![A-Z0-9])[A-Z][0-9]{8}(?![0-9])", score: 0.5}]
...         context: [pasaport, passport]
...         context_required: true
...         context_score: 0.85
... ''')
>>> path = pathlib.Path(tempfile.mkdtemp()) / "passport.yaml"
>>> _ = path.write_text(spec, encoding="utf-8")
>>> [recognizer] = yaml_recognizers(path)
>>> [(r.start, r.end, r.score) for r in recognizer.analyze("Pasaport numaram U12345678'dir", [])]
[(17, 26, 0.85)]
>>> recognizer.analyze("Kargo kodu U12345678", [])  # no cue
[]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import regex

from pipeline.config import read_yaml
from pipeline.scan.recognizers.base import CueRecognizer, Detection

PRESIDIO_DEFAULT_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
CONTEXT_BOOST = 0.35  # Presidio's LemmaContextAwareEnhancer default similarity factor

_KNOWN_KEYS = frozenset(
    {
        "name",
        "supported_entity",
        "supported_entities",
        "supported_language",
        "patterns",
        "context",
        "deny_list",
        "deny_list_score",
        "global_regex_flags",
        "version",
        "country_code",
        "score_thresholds",
        "context_required",
        "context_score",
    }
)


class RecognizerSpecError(ValueError):
    """A recognizer entry in a YAML file is malformed; the message names file, entry and key."""


class ContextPatternRecognizer(CueRecognizer):
    """A regex recognizer described by data: patterns, cue words, whether a cue is required."""

    def __init__(
        self,
        supported_entity: str,
        patterns: Sequence[tuple[str, str, float]],
        context: Sequence[str] = (),
        supported_language: str = "en",
        name: str | None = None,
        context_required: bool = False,
        context_score: float | None = None,
        regex_flags: int = PRESIDIO_DEFAULT_FLAGS,
    ):
        self.ENTITY = supported_entity
        self.patterns = [(pattern_name, regex.compile(rx, regex_flags), score) for pattern_name, rx, score in patterns]
        self.context_required = context_required
        self.REQUIRES_CUE = context_required
        self.context_score = context_score
        super().__init__(supported_language=supported_language, cues=context, name=name)

    def find(self, text: str) -> Iterator[Detection]:
        taken: list[tuple[int, int]] = []
        for pattern_name, compiled, score in self.patterns:
            for match in compiled.finditer(text):
                start, end = match.span()
                if start == end or any(start < e and s < end for s, e in taken):
                    continue
                context = bool(self.cues) and self.has_cue(text, start, end)
                if self.context_required and not context:
                    continue
                if context:
                    score = self.context_score if self.context_score is not None else min(1.0, score + CONTEXT_BOOST)
                taken.append((start, end))
                yield Detection(start, end, score, pattern_name, context)


def yaml_recognizers(path_or_dir: str | Path, supported_language: str = "en") -> list[ContextPatternRecognizer]:
    """The recognizers of one YAML file, or of every ``*.yaml``/``*.yml`` file in a directory (sorted)."""
    path = Path(path_or_dir)
    if path.is_dir():
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    elif path.is_file():
        files = [path]
    else:
        raise FileNotFoundError(f"recognizer YAML not found: {path} (give a .yaml file or a directory of them)")
    recognizers: list[ContextPatternRecognizer] = []
    for file in files:
        document = read_yaml(file, error=RecognizerSpecError)
        if not isinstance(document, dict) or not isinstance(document.get("recognizers"), list):
            raise RecognizerSpecError(f"{file}: expected a top-level 'recognizers:' list")
        for index, entry in enumerate(document["recognizers"]):
            recognizers.append(_recognizer_from_entry(entry, f"{file}: recognizers[{index}]", supported_language))
    return recognizers


def _recognizer_from_entry(entry: Any, where: str, supported_language: str) -> ContextPatternRecognizer:
    if not isinstance(entry, dict):
        raise RecognizerSpecError(f"{where}: expected a mapping of keys, got {type(entry).__name__}")
    unknown = sorted(set(entry) - _KNOWN_KEYS)
    if unknown:
        known = ", ".join(sorted(_KNOWN_KEYS))
        raise RecognizerSpecError(f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {known}")
    entity = entry.get("supported_entity") or (entry.get("supported_entities") or [None])[0]
    if not isinstance(entity, str) or not entity:
        raise RecognizerSpecError(f"{where}: 'supported_entity' is required (e.g. PASSPORT)")
    where = f"{where} ({entry.get('name', entity)})"

    patterns: list[tuple[str, str, float]] = []
    for number, pattern in enumerate(entry.get("patterns") or []):
        key = f"{where}: patterns[{number}]"
        if not isinstance(pattern, dict) or not {"regex", "score"} <= set(pattern):
            raise RecognizerSpecError(f"{key}: needs 'regex' and 'score' (and a 'name')")
        _check_score(pattern["score"], f"{key}.score")
        try:
            regex.compile(pattern["regex"])
        except regex.error as error:
            raise RecognizerSpecError(f"{key}.regex: {error}") from error
        patterns.append((str(pattern.get("name", f"pattern_{number}")), pattern["regex"], float(pattern["score"])))
    if entry.get("deny_list"):
        score = float(entry.get("deny_list_score", 1.0))
        _check_score(score, f"{where}: deny_list_score")
        words = "|".join(regex.escape(str(word)) for word in entry["deny_list"])
        patterns.append(("deny_list", rf"(?:^|(?<=\W))(?:{words})(?:(?=\W)|$)", score))
    if not patterns:
        raise RecognizerSpecError(f"{where}: give 'patterns' or a 'deny_list'")

    context = entry.get("context") or []
    if not isinstance(context, list) or not all(isinstance(word, str) for word in context):
        raise RecognizerSpecError(f"{where}: 'context' must be a list of words")
    context_required = entry.get("context_required", False)
    if not isinstance(context_required, bool):
        raise RecognizerSpecError(f"{where}: 'context_required' must be true or false")
    if context_required and not context:
        raise RecognizerSpecError(f"{where}: 'context_required: true' needs a non-empty 'context' list")
    context_score = entry.get("context_score")
    if context_score is not None:
        _check_score(context_score, f"{where}: context_score")
    return ContextPatternRecognizer(
        supported_entity=entity,
        patterns=patterns,
        context=context,
        supported_language=supported_language,
        name=entry.get("name"),
        context_required=context_required,
        context_score=None if context_score is None else float(context_score),
        regex_flags=int(entry.get("global_regex_flags", PRESIDIO_DEFAULT_FLAGS)),
    )


def _check_score(score: Any, where: str) -> None:
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1:
        raise RecognizerSpecError(f"{where}: must be a number between 0 and 1, got {score!r}")
