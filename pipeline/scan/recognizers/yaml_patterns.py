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
from typing import Annotated, Any

import regex
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.config import describe_errors, read_yaml
from pipeline.scan.recognizers.base import CueRecognizer, Detection

PRESIDIO_DEFAULT_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
CONTEXT_BOOST = 0.35  # Presidio's LemmaContextAwareEnhancer default similarity factor

Score = Annotated[StrictInt | StrictFloat, Field(ge=0, le=1)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatternSpec(_Spec):
    """One ``patterns:`` entry: a regular expression (the ``regex`` module's syntax) and its score."""

    name: str | None = None
    regex: str
    score: Score

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            regex.compile(value)
        except regex.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
        return value


class RecognizerSpec(_Spec):
    """One entry of a recognizer file; the keys of Presidio's recognizer-registry YAML, plus
    ``context_required`` and ``context_score``."""

    name: str | None = None
    supported_entity: str | None = None
    supported_entities: list[str] | None = None
    supported_language: str | None = None  # the analyzer's language decides; accepted for Presidio files
    patterns: list[PatternSpec] = []
    context: list[str] = []
    deny_list: list[StrictStr | StrictInt] = []
    deny_list_score: Score = 1.0
    global_regex_flags: StrictInt = PRESIDIO_DEFAULT_FLAGS
    version: Any = None  # Presidio metadata, not used
    country_code: Any = None
    score_thresholds: Any = None
    context_required: StrictBool = False
    context_score: Score | None = None

    @model_validator(mode="after")
    def _complete(self) -> RecognizerSpec:
        if not self.entity:
            raise ValueError("'supported_entity' is required (e.g. PASSPORT)")
        if not self.patterns and not self.deny_list:
            raise ValueError("give 'patterns' or a 'deny_list'")
        if self.context_required and not self.context:
            raise ValueError("'context_required: true' needs a non-empty 'context' list")
        return self

    @property
    def entity(self) -> str | None:
        return self.supported_entity or (self.supported_entities or [None])[0]


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
    try:
        spec = RecognizerSpec.model_validate(entry)
    except ValidationError as exc:
        name = f" ({entry.get('name') or entry.get('supported_entity')})" if isinstance(entry, dict) else ""
        raise RecognizerSpecError(
            f"{where}{name}: not a recognizer entry:\n{describe_errors(exc)}\n"
            f"Known keys: {', '.join(RecognizerSpec.model_fields)}."
        ) from None
    patterns = [(p.name or f"pattern_{i}", p.regex, float(p.score)) for i, p in enumerate(spec.patterns)]
    if spec.deny_list:
        words = "|".join(regex.escape(str(word)) for word in spec.deny_list)
        patterns.append(("deny_list", rf"(?:^|(?<=\W))(?:{words})(?:(?=\W)|$)", float(spec.deny_list_score)))
    return ContextPatternRecognizer(
        supported_entity=spec.entity,
        patterns=patterns,
        context=spec.context,
        supported_language=supported_language,
        name=spec.name,
        context_required=spec.context_required,
        context_score=None if spec.context_score is None else float(spec.context_score),
        regex_flags=spec.global_regex_flags,
    )
