"""IBAN (International Bank Account Number) → ``IBAN_CODE``, any country, any layout.

ISO 13616: a country code, two check digits (ISO 7064 mod 97-10) and the country's
BBAN. A Turkish IBAN is "TR", 2 check digits, a 5-digit bank code, a reserved digit
and a 16-digit account number — 26 characters, printed in groups of four
(https://www.tcmb.gov.tr/wps/wcm/connect/EN/TCMB+EN/Main+Menu/Core+Functions/Payment+Systems/IBAN).
The check and each country's BBAN structure are ``stdnum.iban``'s.

An IBAN is found in every layout people type and ``stdnum.iban`` accepts: compact, in
groups of four or irregular groups, with spaces, dots or dashes between the groups, a
space after the country code ("DE 89 3704 …"), in upper, lower or mixed case. The
candidate's length is the country's IBAN length (from ``stdnum``'s SWIFT registry), so
the span covers exactly the IBAN, separators inside it included, and stops before
trailing punctuation or a Turkish suffix ("TR… IBAN'ıma"). A lower-case country code
set apart from its check digits ("at 12 …", "be 43 …" are English words followed by a
number) is only reported next to a cue ("IBAN", "hesap", "account", …).

>>> recognizer = IbanCodeRecognizer()
>>> text = "IBAN: TR33 0006 1005 1978 6457 8413 26'ya gönder"
>>> [(text[r.start:r.end], r.score) for r in recognizer.analyze(text, [])]
[('TR33 0006 1005 1978 6457 8413 26', 1.0)]
>>> text = "Send it to de89.3704.0044.0532.0130.00."
>>> [(text[r.start:r.end], r.score) for r in recognizer.analyze(text, [])]
[('de89.3704.0044.0532.0130.00', 0.95)]
>>> recognizer.analyze("TR34 0006 1005 1978 6457 8413 26", [])  # wrong check digits
[]
"""

from __future__ import annotations

import re
from collections import defaultdict
from importlib import resources

from stdnum import iban

from pipeline.entities import IBAN_CODE
from pipeline.scan.recognizers.base import ChecksumRecognizer, Detection

# "TR" + 24 digits, any single space or dash between them, any case.
TR_IBAN_PATTERN = re.compile(r"(?<![^\W\d_])(?<!\d)TR(?:[ \-]?\d){24}(?![ \-]?\d)(?![^\W\d_])", re.IGNORECASE)

# What may stand between the groups of an IBAN: one space, no-break space, dot or dash.
_IBAN_SEP = r"[ \u00a0.\-]"


def iban_lengths() -> dict[int, list[str]]:
    """Country codes by IBAN length (country code and check digits included), from the
    SWIFT registry that ``stdnum.iban`` validates against.

    >>> "TR" in iban_lengths()[26] and "DE" in iban_lengths()[22]
    True
    """
    registry = resources.files("stdnum").joinpath("iban.dat").read_text(encoding="utf-8")
    by_length: dict[int, list[str]] = defaultdict(list)
    for country, bban in re.findall(r'^([A-Z]{2})\s.*?\bbban="([^"]+)"', registry, re.MULTILINE):
        by_length[4 + sum(int(n) for n in re.findall(r"(\d+)!", bban))].append(country)
    return dict(by_length)


def _iban_pattern() -> re.Pattern[str]:
    """Any registry country's IBAN, exactly as long as that country's IBANs are.

    Compact, it may be followed by anything but a letter or digit. Grouped (separators
    inside), it also may not be followed by a separator and a digit: "… 0130 00 12" is a
    longer run of groups, not an IBAN.
    """
    alternatives = []
    for length, countries in sorted(iban_lengths().items(), reverse=True):
        bban = length - 4
        alternatives.append(
            rf"(?:{'|'.join(sorted(countries))}){_IBAN_SEP}?\d\d"
            rf"(?:[A-Z0-9]{{{bban}}}(?![^\W_])|(?:{_IBAN_SEP}?[A-Z0-9]){{{bban}}}(?![^\W_])(?!{_IBAN_SEP}\d))"
        )
    return re.compile(rf"(?<![^\W_])(?:{'|'.join(alternatives)})", re.IGNORECASE)


IBAN_PATTERN = _iban_pattern()


class IbanCodeRecognizer(ChecksumRecognizer):
    """Finds IBANs whose mod-97 check and country structure are valid.

    Turkish IBANs first; another country's IBAN overlapping a Turkish one is not reported twice.
    """

    ENTITY = IBAN_CODE
    PATTERNS = (("iban_tr", TR_IBAN_PATTERN), ("iban", IBAN_PATTERN))
    validate = staticmethod(iban.is_valid)
    SCORE = 0.95
    SCORE_WITH_CONTEXT = 1.0
    CUES = ("iban", "hesap", "account", "havale", "eft", "banka", "bank", "konto", "compte", "cuenta", "conto")

    @staticmethod
    def compact(matched: str) -> str:
        # stdnum.iban removes spaces, dots and dashes and upper-cases; a no-break space it keeps.
        return matched.replace("\u00a0", "")

    def _detect(self, text: str, match: re.Match[str], pattern_name: str) -> Detection | None:
        detection = super()._detect(text, match, pattern_name)
        matched = match.group()
        if detection is not None and not detection.context_found and not matched[:2].isupper() and not matched[2].isalnum():
            return None  # "at 12 3456 …": a lower-case word, then digits; needs a cue
        return detection
