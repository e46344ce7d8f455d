"""Fingerprints: match a personal value across files without ever storing it.

``fingerprint = HMAC-SHA256(pseudonym key, normalize(entity_type, value))``, hex, first 32
characters (DESIGN.md §3). Normalisation makes the fingerprint follow the *value*, not its
spelling: "123 456 789 50" and "12345678950" are the same TCKN, "0532 123 45 67" and
"+90 532 123 4567" the same phone, "AYŞE YILMAZ" and "ayşe yılmaz" the same name. Erasure
requests (`mahrem forget`) and leak probes compare fingerprints, never values.

>>> from pipeline.keys import PseudonymKey
>>> k = PseudonymKey(b"k" * 32)
>>> fingerprint(k, "TR_NATIONAL_ID", "123 456 789 50") == fingerprint(k, "TR_NATIONAL_ID", "12345678950")
True
>>> fingerprint(k, "PERSON", "AYŞE Yılmaz") == fingerprint(k, "PERSON", "ayşe  yılmaz")
True
"""

from __future__ import annotations

import hashlib
import hmac
import re

from pipeline import entities as E
from pipeline.keys import PseudonymKey
from pipeline.normalize import normalize as normalize_text
from pipeline.text import tr_lower

FINGERPRINT_CHARS = 32
_DIGIT_TYPES = {E.TR_NATIONAL_ID, E.TR_TAX_ID, E.CREDIT_CARD}
_COMPACT_UPPER_TYPES = {E.IBAN_CODE, E.TR_LICENSE_PLATE, E.PASSPORT}
_NON_DIGIT = re.compile(r"\D+")
_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def _phone(value: str) -> str:
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "TR")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return _NON_DIGIT.sub("", value)


def normalize(entity_type: str, value: str) -> str:
    """The canonical form of ``value`` for its type (what the fingerprint is taken of).

    Unicode forms are folded first (full-width or Arabic-Indic digits, zero-width
    characters: :mod:`pipeline.normalize`), so every written form of one value has one
    fingerprint.
    """
    value = normalize_text(value).text
    if entity_type in _DIGIT_TYPES:
        return _NON_DIGIT.sub("", value)
    if entity_type in _COMPACT_UPPER_TYPES:
        return _NON_ALNUM.sub("", value).upper()
    if entity_type == E.PHONE_NUMBER:
        return _phone(value)
    if entity_type == E.EMAIL_ADDRESS:
        return value.strip().casefold()
    return _SPACES.sub(" ", tr_lower(value).strip())


def fingerprint(key: PseudonymKey, entity_type: str, value: str) -> str:
    digest = hmac.new(key.secret, normalize(entity_type, value).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:FINGERPRINT_CHARS]


RECORD_KEY_PREFIX = "r-"
RECORD_KEY_CHARS = 20  # 80 bits: no collision in practice below billions of records
# The hex digits spelled as 16 consonant-ish letters: a keyed id holds no digit run that a
# scanner could read as a TCKN, a phone or a card number.
_LETTERS_ONLY = str.maketrans("0123456789abcdef", "bcdfghjkmnpqrstv")


def record_key(key: PseudonymKey, record_id: str) -> str:
    """The id a record is known by in every output: ``r-`` + a keyed HMAC of its raw id (in letters).

    A raw id can be personal data (an e-mail, a phone number, a ticket that names a
    customer). Findings, logs, the split, erasure and ``seen.json`` all use this keyed id, so
    they still join, and without the key it cannot be turned back into the raw id.

    >>> from pipeline.keys import PseudonymKey
    >>> k = PseudonymKey(b"k" * 32)
    >>> rid = record_key(k, "ali@example.com")
    >>> rid.startswith("r-") and len(rid) == 22 and rid == record_key(k, "ali@example.com")
    True
    >>> any(c.isdigit() for c in rid)
    False
    """
    digest = hmac.new(key.secret, b"record-id\0" + record_id.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return RECORD_KEY_PREFIX + digest.hexdigest()[:RECORD_KEY_CHARS].translate(_LETTERS_ONLY)
