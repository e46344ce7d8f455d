"""IBAN (International Bank Account Number) → ``IBAN_CODE``, Turkish ones first.

ISO 13616: a country code, two check digits (ISO 7064 mod 97-10) and the country's
BBAN. A Turkish IBAN is "TR", 2 check digits, a 5-digit bank code, a reserved digit
and a 16-digit account number — 26 characters, printed in groups of four
(https://www.tcmb.gov.tr/wps/wcm/connect/EN/TCMB+EN/Main+Menu/Core+Functions/Payment+Systems/IBAN).
The check and each country's BBAN structure are ``stdnum.iban``'s.

Turkish IBANs are found in upper or lower case, grouped or not; other countries' IBANs
in upper case. The span covers the whole IBAN including the spaces inside it and stops
before a Turkish suffix ("TR… IBAN'ıma").

>>> recognizer = IbanCodeRecognizer()
>>> text = "IBAN: TR33 0006 1005 1978 6457 8413 26'ya gönder"
>>> [(text[r.start:r.end], r.score) for r in recognizer.analyze(text, [])]
[('TR33 0006 1005 1978 6457 8413 26', 1.0)]
>>> recognizer.analyze("TR34 0006 1005 1978 6457 8413 26", [])  # wrong check digits
[]
"""

from __future__ import annotations

import re

from stdnum import iban

from pipeline.entities import IBAN_CODE
from pipeline.scan.recognizers.base import ChecksumRecognizer

# "TR" + 24 digits, any single space or dash between them, any case.
TR_IBAN_PATTERN = re.compile(r"(?<![^\W\d_])(?<!\d)TR(?:[ \-]?\d){24}(?![ \-]?\d)(?![^\W\d_])", re.IGNORECASE)
# Any other country: compact, or in space-separated groups of four with a shorter last group.
IBAN_PATTERN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}"
    r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)"
    r"(?![A-Za-z0-9])"
)


class IbanCodeRecognizer(ChecksumRecognizer):
    """Finds IBANs whose mod-97 check and country structure are valid.

    Turkish IBANs first; another country's IBAN overlapping a Turkish one is not reported twice.
    """

    ENTITY = IBAN_CODE
    PATTERNS = (("iban_tr", TR_IBAN_PATTERN), ("iban", IBAN_PATTERN))
    validate = staticmethod(iban.is_valid)
    SCORE = 0.95
    SCORE_WITH_CONTEXT = 1.0
    CUES = ("iban", "hesap", "account", "havale", "eft", "banka", "bank")

    @staticmethod
    def compact(matched: str) -> str:
        return matched  # stdnum.iban compacts (spaces, dashes) and upper-cases itself
