"""Presidio recognizers for the structured identifiers in Turkish (and English) text.

One module per identifier, each in python-stdnum's shape (what the number is, who
issues it, examples that are doctests):

* :mod:`.tckn` → TR_NATIONAL_ID: NVİ checksum, any grouping ("123 456 789 50");
* :mod:`.vkn` → TR_TAX_ID: check digit, and a tax cue is required;
* :mod:`.iban` → IBAN_CODE: mod-97 and country structure, Turkish ones in any case;
* :mod:`.phone` → PHONE_NUMBER: ``phonenumbers`` VALID, call-centre/0850/short codes skipped;
* :mod:`.license_plate` → TR_LICENSE_PLATE: province 01–81 and letter/digit groups;
* :mod:`.date_of_birth` → DATE_OF_BIRTH: an existing date next to a birth cue;
* :mod:`.address` → ADDRESS: chained Mah./Cad./Sok./No:/Daire/ilçe-il parts;
* :mod:`.credit_card` → CREDIT_CARD: Luhn and issuer prefix, Troy (9792) included;
* :mod:`.url` → URL: scheme, ``www.`` or a bare host on a public suffix;
* :mod:`.street_address` → ADDRESS: international street lines ("58 Harrow Avenue",
  "Via Garibaldi 87", "Lindenstrasse 19", "PSC 4471, Box 2206 / APO AE 09012") with the
  unit, city, region, country and postcode that follow them.

PASSPORT is data, not code: ``defaults/tr_patterns.yaml`` next to this module (package
data, :data:`DEFAULT_PATTERNS_DIR`), loaded by :func:`pattern_recognizers` together with the
recognizers a user adds in ``policies/recognizers/`` (params.yaml ``scan.recognizers``).

None of these touches the network or spaCy; each scores its matches itself, context
included (see :mod:`.base`), and names itself in ``recognition_metadata["recognizer_name"]``
and ``analysis_explanation.recognizer``.

>>> from presidio_analyzer import RecognizerRegistry
>>> registry = RecognizerRegistry(recognizers=[*turkish_recognizers(), card_recognizer(), url_recognizer()])
>>> sorted({entity for r in registry.recognizers for entity in r.supported_entities})  # doctest: +NORMALIZE_WHITESPACE
['ADDRESS', 'CREDIT_CARD', 'DATE_OF_BIRTH', 'IBAN_CODE', 'PHONE_NUMBER', 'TR_LICENSE_PLATE',
 'TR_NATIONAL_ID', 'TR_TAX_ID', 'URL']
"""

from __future__ import annotations

from pathlib import Path

from presidio_analyzer import EntityRecognizer

from pipeline.scan.recognizers.address import TrAddressRecognizer
from pipeline.scan.recognizers.base import CueRecognizer, Detection
from pipeline.scan.recognizers.credit_card import PaymentCardRecognizer
from pipeline.scan.recognizers.date_of_birth import DateOfBirthRecognizer
from pipeline.scan.recognizers.iban import IbanCodeRecognizer
from pipeline.scan.recognizers.license_plate import TrLicensePlateRecognizer
from pipeline.scan.recognizers.phone import TrPhoneRecognizer
from pipeline.scan.recognizers.street_address import StreetAddressRecognizer
from pipeline.scan.recognizers.tckn import TcKimlikRecognizer
from pipeline.scan.recognizers.url import TrUrlRecognizer
from pipeline.scan.recognizers.vkn import VergiKimlikRecognizer
from pipeline.scan.recognizers.yaml_patterns import ContextPatternRecognizer, RecognizerSpecError, yaml_recognizers

# The YAML recognizers Mahrem ships (package data, so a wheel install has them too). The user's
# own come from the scan's config (params.yaml scan.recognizers); see pattern_recognizers().
DEFAULT_PATTERNS_DIR = Path(__file__).resolve().parent / "defaults"

__all__ = [
    "DEFAULT_PATTERNS_DIR",
    "ContextPatternRecognizer",
    "CueRecognizer",
    "DateOfBirthRecognizer",
    "Detection",
    "IbanCodeRecognizer",
    "PaymentCardRecognizer",
    "RecognizerSpecError",
    "StreetAddressRecognizer",
    "TcKimlikRecognizer",
    "TrAddressRecognizer",
    "TrLicensePlateRecognizer",
    "TrPhoneRecognizer",
    "TrUrlRecognizer",
    "VergiKimlikRecognizer",
    "card_recognizer",
    "pattern_recognizers",
    "street_address_recognizer",
    "turkish_recognizers",
    "url_recognizer",
    "yaml_recognizers",
]


def turkish_recognizers(
    supported_language: str = "en", phone_regions: tuple[str, ...] = ("TR",)
) -> list[EntityRecognizer]:
    """The Turkish-identifier recognizers of this package, ready to add to a Presidio RecognizerRegistry.

    ``phone_regions``: countries whose national phone formats are searched besides numbers
    written with "+" or "00" (English text: add "US", "GB", …).

    TCKN, VKN, IBAN (Turkish and foreign), phone, plate, date of birth, address. The
    package's other recognizers have their own constructors because each replaces a
    Presidio recognizer of the same entity — :func:`card_recognizer`,
    :func:`url_recognizer` — and the YAML-defined ones (PASSPORT, users' own) come from
    :func:`yaml_recognizers`.
    """
    return [
        TcKimlikRecognizer(supported_language=supported_language),
        VergiKimlikRecognizer(supported_language=supported_language),
        IbanCodeRecognizer(supported_language=supported_language),
        TrPhoneRecognizer(supported_language=supported_language, regions=phone_regions),
        TrLicensePlateRecognizer(supported_language=supported_language),
        DateOfBirthRecognizer(supported_language=supported_language),
        TrAddressRecognizer(supported_language=supported_language),
    ]


def card_recognizer(supported_language: str = "en") -> PaymentCardRecognizer:
    """The card recognizer to use instead of Presidio's ``CreditCardRecognizer`` (which misses Troy)."""
    return PaymentCardRecognizer(supported_language=supported_language)


def url_recognizer(supported_language: str = "en") -> TrUrlRecognizer:
    """The URL recognizer to use instead of Presidio's ``UrlRecognizer`` (which fires inside addresses)."""
    return TrUrlRecognizer(supported_language=supported_language)


def street_address_recognizer(supported_language: str = "en") -> StreetAddressRecognizer:
    """The recognizer for international (non-Turkish) street addresses, entity ADDRESS.

    Its own constructor because it is meant for text in the languages those addresses are
    written in (English by default), next to :class:`TrAddressRecognizer` rather than in
    :func:`turkish_recognizers`.
    """
    return StreetAddressRecognizer(supported_language=supported_language)


def pattern_recognizers(
    user_path: str | Path | None = None, supported_language: str = "en"
) -> list[ContextPatternRecognizer]:
    """The YAML-defined recognizers of a scan: the packaged defaults, then the user's own.

    ``user_path``: params.yaml ``scan.recognizers`` (``policies/recognizers``), a directory
    of ``*.yaml``/``*.yml`` files or one file; ``None``: the defaults alone. A user file with
    the name (stem) of a packaged one replaces it, so nothing is loaded twice: copy
    ``tr_patterns.yaml`` there to change the passport recognizer, or write
    ``recognizers: []`` in it to turn it off.

    >>> sorted({e for r in pattern_recognizers() for e in r.supported_entities})
    ['PASSPORT']
    >>> import pathlib, tempfile
    >>> user = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (user / "tr_patterns.yml").write_text("recognizers: []", encoding="utf-8")
    >>> pattern_recognizers(user)
    []
    """
    user = None if user_path is None else Path(user_path)
    if user is None:
        replaced: set[str] = set()
    elif user.is_dir():
        replaced = {p.stem for p in [*user.glob("*.yaml"), *user.glob("*.yml")]}
    else:
        replaced = {user.stem}
    found = [
        recognizer
        for default in sorted(DEFAULT_PATTERNS_DIR.glob("*.yaml"))
        if default.stem not in replaced
        for recognizer in yaml_recognizers(default, supported_language)
    ]
    if user is not None:
        found.extend(yaml_recognizers(user, supported_language))  # a missing path is an error, as before
    return found
