"""Payment card numbers (PAN) → ``CREDIT_CARD``, Turkish Troy cards included.

A card number is 12–19 digits (ISO/IEC 7812): an issuer prefix (IIN/BIN) and a Luhn
check digit (``stdnum.luhn``). Presidio's own ``CreditCardRecognizer`` (2.2.366) does
not know Troy, Turkey's domestic scheme run by the Interbank Card Center (BKM,
https://www.troyodeme.com, prefix 9792), nor Mastercard's 2221–2720 range; this one
accepts Visa (4), Mastercard (51–55, 2221–2720), Maestro (50, 56–69), American Express
(34, 37), Diners (300–305, 36, 38, 39), JCB (35), Discover (6011, 644–649, 65),
UnionPay (62) and Troy (9792), in one block or in groups separated by spaces or dashes.
The number must not continue a longer run of digit groups (an IBAN).

>>> recognizer = PaymentCardRecognizer()
>>> text = "Kartım 9792 0300 0000 0000, son kullanma 12/27"
>>> [(text[r.start:r.end], r.score) for r in recognizer.analyze(text, [])]
[('9792 0300 0000 0000', 1.0)]
>>> recognizer.analyze("4111 1111 1111 1112", [])  # Luhn check fails
[]
"""

from __future__ import annotations

import re

from stdnum import luhn

from pipeline.entities import CREDIT_CARD
from pipeline.scan.recognizers.base import ChecksumRecognizer

CARD_PATTERN = re.compile(r"(?<!\d)(?<!\d[ \-])\d(?:[ \-]?\d){11,18}(?![ \-]?\d)")
_ISSUER_PREFIX = re.compile(
    r"4|5[0-9]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[4-9]|30[0-5]|6|9792"
)


def is_card_number(digits: str) -> bool:
    """Whether ``digits`` has a card's length, a known issuer prefix and a valid Luhn digit.

    >>> is_card_number("4111111111111111"), is_card_number("1234567812345670")
    (True, False)
    """
    return 12 <= len(digits) <= 19 and _ISSUER_PREFIX.match(digits) is not None and luhn.is_valid(digits)


class PaymentCardRecognizer(ChecksumRecognizer):
    """Finds Luhn-valid card numbers with a known issuer prefix."""

    ENTITY = CREDIT_CARD
    PATTERNS = (("card_luhn", CARD_PATTERN),)
    validate = staticmethod(is_card_number)
    SCORE = 0.85
    SCORE_WITH_CONTEXT = 1.0
    CUES = (
        "kart",
        "kredi",
        "banka kartı",
        "card",
        "credit",
        "debit",
        "visa",
        "mastercard",
        "maestro",
        "troy",
        "amex",
        "american express",
        "cvv",
        "cvc",
        "son kullanma",
        "expiry",
    )
