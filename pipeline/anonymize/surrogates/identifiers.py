"""Identifier surrogates that fail their checksums or land in unassigned or documentation ranges."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from pipeline import entities as E
from pipeline.anonymize.surrogates.base import PLATE_LETTERS, _ASCII_UPPER, _DIGITS, _Draws, _TRIES, _fill_alnum, _fill_digits, _fold, _key_form, _reshape
from pipeline.anonymize.surrogates.names import _locale_of_name, _name_word, turkish_names
from pipeline.fingerprint import normalize
from pipeline.keys import PseudonymKey
from pipeline.text import tr_lower

# --------------------------------------------------------------------------- identifiers


def _checksum_failing_digits(
    key: PseudonymKey, entity_type: str, value: str, is_valid, first_nonzero: bool
) -> str | None:
    """Keyed digits of the value's length that fail ``is_valid``, in the value's written layout.

    A random body passes the TCKN checksum 1 time in 100 and the VKN check digit 1 in 10,
    so redrawing until it fails ends fast; a surrogate can then never be a real number.
    """
    original = normalize(entity_type, value)
    if not original:
        return None
    draws = _Draws(key, entity_type, "", original)
    for _ in range(_TRIES):
        digits = draws.digits(len(original), first_nonzero=first_nonzero)
        if digits != original and not is_valid(digits):
            return _fill_digits(value, digits)
    return None


def _tckn(key: PseudonymKey, value: str) -> str | None:
    from stdnum.tr import tckimlik

    return _checksum_failing_digits(key, E.TR_NATIONAL_ID, value, tckimlik.is_valid, first_nonzero=True)


def _vkn(key: PseudonymKey, value: str) -> str | None:
    from stdnum.tr import vkn

    return _checksum_failing_digits(key, E.TR_TAX_ID, value, vkn.is_valid, first_nonzero=False)


def _iban(key: PseudonymKey, value: str) -> str | None:
    from stdnum import iban

    original = normalize(E.IBAN_CODE, value)
    if not re.fullmatch(r"[A-Z]{2}[0-9A-Z]{3,}", original):  # not IBAN-shaped: keep its shape only
        return _alnum_surrogate(key, E.IBAN_CODE, value)
    draws = _Draws(key, E.IBAN_CODE, "", original)
    country, bban_template = original[:2], original[4:]
    for _ in range(_TRIES):
        bban = "".join(
            draws.digit() if c in _DIGITS else draws.choice(_ASCII_UPPER) if c.isalpha() else c for c in bban_template
        )
        if country == "TR" and len(bban) > 5:
            bban = bban[:5] + "0" + bban[6:]  # the reserved digit after the bank code is always 0
        # 02..98 are the 97 residues mod 97 a check pair can take; any but the right one fails.
        valid = iban.calc_check_digits(country + "00" + bban)
        check = f"{2 + draws.below(97):02d}"
        while check == valid:
            check = f"{2 + draws.below(97):02d}"
        compact = country + check + bban
        if compact != original and not iban.is_valid(compact):
            return _fill_alnum(value, compact)
    return None


def _card(key: PseudonymKey, value: str) -> str | None:
    from stdnum import luhn

    original = normalize(E.CREDIT_CARD, value)
    if len(original) < 2:
        return None
    draws = _Draws(key, E.CREDIT_CARD, "", original)
    for _ in range(_TRIES):
        # The first digit names the network (4 Visa, 5 Mastercard, 9 Troy): kept so the
        # format stays plausible; the issuer (the rest of the BIN) is not.
        body = original[:1] + draws.digits(max(len(original) - 2, 0))
        valid = luhn.calc_check_digit(body)
        last = draws.digit()
        while last == valid:
            last = draws.digit()
        digits = (body + last)[: len(original)]
        if digits != original and not luhn.is_valid(digits):
            return _fill_digits(value, digits)
    return None


_PLATE = re.compile(r"(?P<province>\d{2})(?P<s1>\s*)(?P<letters>[^\W\d_]{1,3})(?P<s2>\s*)(?P<number>\d{2,5})")


def _plate(key: PseudonymKey, value: str) -> str | None:
    match = _PLATE.fullmatch(value)
    if not match:
        return _alnum_surrogate(key, E.TR_LICENSE_PLATE, value, PLATE_LETTERS)
    original = normalize(E.TR_LICENSE_PLATE, value)
    draws = _Draws(key, E.TR_LICENSE_PLATE, "", original)
    for _ in range(_TRIES):
        province = f"{1 + draws.below(81):02d}"  # a real province code, not the original's
        letters = _reshape(match["letters"], draws, PLATE_LETTERS)
        number = draws.digits(len(match["number"]), first_nonzero=True)
        new = f"{province}{match['s1']}{letters}{match['s2']}{number}"
        if normalize(E.TR_LICENSE_PLATE, new) != original:
            return new
    return None


def _alnum_surrogate(key: PseudonymKey, entity_type: str, value: str, letters: str = _ASCII_UPPER) -> str | None:
    """Same shape, every letter and digit keyed; None when there is nothing to replace."""
    original = normalize(entity_type, value)
    if not original:
        return None
    draws = _Draws(key, entity_type, "shape", original)
    for _ in range(_TRIES):
        new = _reshape(value, draws, letters)
        if normalize(entity_type, new) != original:
            return new
    return None


def _passport(key: PseudonymKey, value: str) -> str | None:
    return _alnum_surrogate(key, E.PASSPORT, value)


# --------------------------------------------------------------------------- phone

# Subscriber-part samples used to decide that a whole 3-digit prefix is unassigned.
_PHONE_PROBES = ("1234567", "5550000", "9876543", "0000001", "4444444", "2710958")


@lru_cache(maxsize=256)
def unassigned_phone_prefixes(country_code: int, first_digit: str, length: int) -> tuple[str, ...]:
    """3-digit national prefixes starting with ``first_digit`` that ``phonenumbers`` assigns to nobody.

    For Türkiye (``phonenumbers`` 9.0) that is, among mobile-looking numbers, 0511, 0513–0515,
    0517–0523 and 0525–0529, 056x except 0562/0564, 0570–0571, 0573, 0576–0581, 0583–0593,
    0595, 0597–0599 (the 05xx blocks BTK has not allocated; 0561 is only partly allocated,
    which the per-number check below catches); among landlines the 2xx/3xx/4xx
    codes that are no province's area code (0200, 0211, 0213, ...). Keeping the first digit
    keeps a mobile number mobile-looking and a landline a landline. The list is read from the
    installed metadata rather than written down, so a newly allocated block drops out by
    itself; each surrogate is checked again anyway.
    """
    import phonenumbers

    if length < 4:
        return ()
    found = []
    for rest in range(100):
        prefix = f"{first_digit}{rest:02d}"
        tails = [(probe * 3)[: length - 3] for probe in _PHONE_PROBES]
        numbers = (phonenumbers.PhoneNumber(country_code=country_code, national_number=int(prefix + t)) for t in tails)
        if not any(phonenumbers.is_valid_number(n) for n in numbers):
            found.append(prefix)
    return tuple(found)


def _phone_is_valid(text: str) -> bool:
    import phonenumbers

    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, "TR"))
    except phonenumbers.NumberParseException:
        return False


def _phone(key: PseudonymKey, value: str) -> str | None:
    import phonenumbers

    positions = [i for i, c in enumerate(value) if c.isdecimal()]
    try:
        number = phonenumbers.parse(value, "TR")
        national = phonenumbers.national_significant_number(number)
    except phonenumbers.NumberParseException:
        number, national = None, ""
    if number is None or not national or len(national) > len(positions):
        # Not a number phonenumbers understands: keep its shape, replace every digit.
        draws = _Draws(key, E.PHONE_NUMBER, "raw", normalize(E.PHONE_NUMBER, value))
        for _ in range(_TRIES):
            new = _fill_digits(value, draws.digits(len(positions)))
            if new != value or not positions:
                return new
        return None
    canonical = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    draws = _Draws(key, E.PHONE_NUMBER, "", canonical)
    keep = len(positions) - len(national)  # country code / trunk 0, kept as written
    prefixes = unassigned_phone_prefixes(number.country_code, national[0], len(national)) or tuple(
        p for d in "123456789" for p in unassigned_phone_prefixes(number.country_code, d, len(national))
    )
    chars = list(value)
    for _ in range(_TRIES):
        if prefixes:
            new_national = draws.choice(prefixes) + draws.digits(len(national) - 3, first_nonzero=True)
        else:
            new_national = national[0] + draws.digits(len(national) - 1)
        for position, digit in zip(positions[keep:], new_national, strict=True):
            chars[position] = digit
        candidate = "".join(chars)
        if new_national != national and not _phone_is_valid(candidate):
            return candidate
    return None  # no unassigned range found for this country: a placeholder is safer than a real number


# --------------------------------------------------------------------------- e-mail, URL, IP


def _email(key: PseudonymKey, value: str) -> str:
    canonical = normalize(E.EMAIL_ADDRESS, value)
    local, _, domain = canonical.rpartition("@")
    turkish_domain = domain.endswith(".tr")
    draws = _Draws(key, E.EMAIL_ADDRESS, "", canonical)
    pieces = re.findall(r"[^\W\d_]+|\d+|.", local)
    words = [i for i, p in enumerate(pieces) if p[0].isalpha()]
    out = []
    for i, piece in enumerate(pieces):
        if piece[0].isalpha():
            surname = len(words) > 1 and i == words[-1]
            names = _locale_of_name(piece)
            form = _key_form(piece)
            known = form in names.given_keys or form in names.surname_keys
            if not known and turkish_domain:
                names = turkish_names()
            if len(piece) == 1 or known:
                # A name in the address maps like the same name in the text ("ayse.yilmaz" ↔ "Ayşe Yılmaz").
                new = _name_word(key, piece, surname)
            else:
                new = draws.choice(names.surnames if surname else names.given)
            out.append(_fold(tr_lower(new)) if names.turkish else new.lower())
        elif piece[0].isdecimal():
            out.append(draws.digits(len(piece)))
        else:
            out.append(piece)
    new_local = "".join(out) if words else f"user-{draws.hex(8)}"
    new_domain = "example.com" if draws.below(2) == 0 else "example.org"
    if f"{new_local}@{new_domain}" == canonical:  # only if the input already was a surrogate
        new_local = f"user-{draws.hex(8)}"
    return f"{new_local}@{new_domain}"


def _url(key: PseudonymKey, value: str) -> str:
    return f"https://example.com/{_Draws(key, E.URL, '', normalize(E.URL, value)).hex(8)}"


_DOC_NETS_V4 = ("192.0.2", "198.51.100", "203.0.113")  # RFC 5737
_DOC_NET_V6 = 0x20010DB8 << 96  # 2001:db8::/32, RFC 3849


def _ip(key: PseudonymKey, value: str) -> str | None:
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(value.strip())
        canonical = str(address)
    except ValueError:
        address, canonical = None, normalize(E.IP_ADDRESS, value)
    draws = _Draws(key, E.IP_ADDRESS, "", canonical)
    v6 = address.version == 6 if address else ":" in value
    for _ in range(_TRIES):
        if v6:
            new = str(ipaddress.IPv6Address(_DOC_NET_V6 | draws.bits(96)))
        else:
            new = f"{draws.choice(_DOC_NETS_V4)}.{1 + draws.below(254)}"
        if new != canonical:
            return new
    return None
