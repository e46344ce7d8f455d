"""Valid-by-construction identifiers, spelled the many ways people type them.

The sample corpus tests a detector, so every number here must pass the same checks a
real one would (python-stdnum checksums, ``phonenumbers`` validity) and must come in
the surface forms that break naive patterns: grouped, dotted, dashed, lower-cased.

Each identifier has two steps, so that a customer and the agent repeating it back can
spell the *same* value differently:

* ``new_<kind>(rng)`` draws a value (digits, or a small tuple);
* ``spell_<kind>(rng, value)`` picks one surface form for one mention.

>>> import random
>>> from stdnum.tr import tckimlik
>>> rng = random.Random(7)
>>> tckimlik.is_valid(new_tckn(rng))
True
>>> spell_tckn(random.Random(1), "12345678950") in {
...     "12345678950", "123 456 789 50", "123.456.789.50", "123-456-789-50", "1234 5678 950"}
True
"""

from __future__ import annotations

import random

from stdnum import iban as _iban
from stdnum import luhn
from stdnum.tr import tckimlik, vkn

# --- T.C. Kimlik No (11 digits, two check digits) --------------------------------------


def new_tckn(rng: random.Random) -> str:
    """An 11-digit TCKN whose two check digits are right (first digit never 0)."""
    body = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return body + tckimlik.calc_check_digits(body)


def spell_tckn(rng: random.Random, digits: str) -> str:
    style = rng.choices(("plain", "spaced", "dotted", "dashed", "fours"), weights=(6, 2, 1, 1, 1))[0]
    if style == "plain":
        return digits
    if style == "fours":
        return f"{digits[:4]} {digits[4:8]} {digits[8:]}"
    sep = {"spaced": " ", "dotted": ".", "dashed": "-"}[style]
    return sep.join((digits[:3], digits[3:6], digits[6:9], digits[9:]))


def mask_tckn(digits: str) -> str:
    """How an agent quotes a TCKN back: first 3 and last 2 digits. Not an identifier any more."""
    return digits[:3] + "*" * 6 + digits[9:]


# --- Vergi Kimlik No (10 digits, one check digit) --------------------------------------


def new_vkn(rng: random.Random) -> str:
    body = "".join(str(rng.randint(0, 9)) for _ in range(9))
    return body + vkn.calc_check_digit(body)


def spell_vkn(rng: random.Random, digits: str) -> str:
    # Tax numbers are almost always written plain; an occasional grouped one keeps detectors honest.
    if rng.random() < 0.8:
        return digits
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


# --- IBAN (TR: 26 characters) -----------------------------------------------------------

# Real EFT bank codes, so that a bank-code check in a detector passes too.
_BANK_CODES = (
    "00010", "00012", "00015", "00032", "00046", "00059", "00062", "00064", "00067", "00111", "00134", "00206",
)


def new_iban(rng: random.Random) -> str:
    """``TR`` + 2 check digits + 5-digit bank code + reserved ``0`` + 16-digit account."""
    bban = rng.choice(_BANK_CODES) + "0" + "".join(str(rng.randint(0, 9)) for _ in range(16))
    return "TR" + _iban.calc_check_digits("TR00" + bban) + bban


def spell_iban(rng: random.Random, compact: str) -> str:
    grouped = rng.random() < 0.6
    text = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4)) if grouped else compact
    return text.lower() if rng.random() < 0.12 else text


# --- Payment cards (16 digits, Luhn) ------------------------------------------------------

_CARD_PREFIXES = (("4",), ("51", "52", "53", "54", "55", "2221", "2720"), ("9792",))  # Visa, Mastercard, Troy


def new_card(rng: random.Random) -> str:
    prefix = rng.choice(rng.choice(_CARD_PREFIXES))
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(15 - len(prefix)))
    return body + luhn.calc_check_digit(body)


def spell_card(rng: random.Random, digits: str) -> str:
    sep = rng.choices(("", " ", "-"), weights=(3, 6, 1))[0]
    return sep.join(digits[i : i + 4] for i in range(0, 16, 4))


def last4(digits: str) -> str:
    return digits[-4:]


# --- Phone numbers ----------------------------------------------------------------------

# Mobile operator prefixes in use (Turkcell 53x, Vodafone 54x, Türk Telekom 50x/55x).
_MOBILE = ("501", "505", "506", "507", "530", "531", "532", "533", "534", "535", "536", "537", "538", "539",
           "541", "542", "543", "544", "545", "546", "547", "548", "549", "551", "552", "553", "554", "555", "559")
# Geographic area codes (Istanbul both sides, Ankara, İzmir, Bursa, Antalya, Adana, Konya, ...).
_LANDLINE = ("212", "216", "312", "232", "224", "242", "322", "332", "262", "222", "352", "462", "412", "258")


def new_phone(rng: random.Random) -> tuple[str, str]:
    """``(area, subscriber)``; mobile four times in five. The subscriber never starts with 0 or 1."""
    area = rng.choice(_MOBILE) if rng.random() < 0.8 else rng.choice(_LANDLINE)
    subscriber = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(6))
    return area, subscriber


def spell_phone(rng: random.Random, phone: tuple[str, str], international: bool = False) -> str:
    area, sub = phone
    a, b, c = sub[:3], sub[3:5], sub[5:]
    if area.startswith("5"):
        styles = (
            f"0{area} {a} {b} {c}",
            f"0{area}{sub}",
            f"+90 {area} {a} {sub[3:]}",
            f"+90 {area} {a} {b} {c}",
            f"+90{area}{sub}",
            f"{area}-{a}-{b}-{c}",
            f"0{area}-{a}-{b}-{c}",
            f"0 {area} {a} {b} {c}",
            f"(0{area}) {a} {b} {c}",
            f"{area} {a} {sub[3:]}",
        )
        weights = (8, 4, 2, 2, 1, 1, 1, 1, 1, 1)
    else:
        styles = (
            f"(0{area}) {a} {b} {c}",
            f"0 ({area}) {a} {b} {c}",
            f"0{area} {a} {b} {c}",
            f"+90 {area} {a} {sub[3:]}",
            f"0{area}-{a}-{b}-{c}",
        )
        weights = (3, 2, 3, 1, 1)
    if international:  # people writing in English reach for the +90 form
        choices = [s for s in styles if s.startswith("+90")]
        return rng.choice(choices)
    return rng.choices(styles, weights=weights)[0]


def mask_phone(phone: tuple[str, str]) -> str:
    area, sub = phone
    return f"0{area} *** ** {sub[5:]}"


# Non-personal numbers a detector must leave alone: corporate 444 lines, emergency, MHRS.
PUBLIC_NUMBERS = {
    "bank": "444 0 724",
    "shop": "444 5 378",
    "clinic": "444 3 232",
    "emergency": "112",
    "mhrs": "182",
}

# --- Vehicle plates ---------------------------------------------------------------------

# Plates use the Latin letters without Q, W and X (and none of Ç, Ğ, İ, Ö, Ş, Ü).
PLATE_LETTERS = "ABCDEFGHIJKLMNOPRSTUVYZ"


def new_plate(rng: random.Random) -> tuple[str, str, str]:
    """``(province, letters, digits)`` with a legal letter/digit split: 1+4-5, 2+3-4 or 3+2-3."""
    province = f"{rng.randint(1, 81):02d}"
    n_letters = rng.choice((1, 2, 2, 3, 3))
    n_digits = {1: rng.choice((4, 5)), 2: rng.choice((3, 4)), 3: rng.choice((2, 3))}[n_letters]
    letters = "".join(rng.choice(PLATE_LETTERS) for _ in range(n_letters))
    digits = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(n_digits - 1))
    return province, letters, digits


def spell_plate(rng: random.Random, plate: tuple[str, str, str]) -> str:
    province, letters, digits = plate
    style = rng.choices(("spaced", "compact", "lower"), weights=(7, 2, 1))[0]
    if style == "compact":
        return province + letters + digits
    text = f"{province} {letters} {digits}"
    # ASCII lower-casing on purpose: "I" stays "i" so the plate still reads as a plate.
    return text.lower() if style == "lower" else text


# --- Passports, IP addresses ------------------------------------------------------------


def new_passport(rng: random.Random) -> str:
    """A Turkish passport number: a series letter (U ordinary, S service, Z special) + 8 digits."""
    letter = rng.choices("USZ", weights=(8, 1, 1))[0]
    return letter + "".join(str(rng.randint(0, 9)) for _ in range(8))


# First octets of ranges Turkish ISPs and mobile operators announce.
_IPV4_FIRST = (31, 46, 78, 81, 85, 88, 94, 95, 176, 178, 185, 188, 212, 213)


def new_ip(rng: random.Random) -> str:
    if rng.random() < 0.15:
        groups = ["2a02", f"{rng.randint(0x100, 0xfff):x}"] + [f"{rng.randint(1, 0xffff):x}" for _ in range(2)]
        return ":".join(groups) + f"::{rng.randint(1, 0xffff):x}"
    return ".".join((str(rng.choice(_IPV4_FIRST)), str(rng.randint(0, 255)), str(rng.randint(0, 255)),
                     str(rng.randint(1, 254))))
