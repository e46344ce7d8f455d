"""Shared pieces of the surrogates: placeholders, masking, the keyed draws and the shape helpers."""

from __future__ import annotations

from typing import TypeVar

import hashlib
import hmac
from collections.abc import Sequence

from pipeline import entities as E
from pipeline.keys import PseudonymKey
from pipeline.text import APOSTROPHES, tr_lower, tr_upper

_T = TypeVar("_T")

# --------------------------------------------------------------------------- placeholders

_TAGS: dict[str, str] = {
    E.TR_NATIONAL_ID: "TCKN",
    E.TR_TAX_ID: "VKN",
    E.IBAN_CODE: "IBAN",
    E.PHONE_NUMBER: "PHONE",
    E.EMAIL_ADDRESS: "EMAIL",
    E.CREDIT_CARD: "CARD",
    E.TR_LICENSE_PLATE: "PLATE",
    E.PASSPORT: "PASSPORT",
    E.ADDRESS: "ADDRESS",
    E.DATE_OF_BIRTH: "DOB",
    E.PERSON: "PERSON",
    E.LOCATION: "LOCATION",
    E.ORGANIZATION: "ORG",
    E.DATE_TIME: "DATE",
    E.URL: "URL",
    E.IP_ADDRESS: "IP",
}


def placeholder(entity_type: str) -> str:
    """The tag that replaces a value outright: ``<TCKN>``, ``<SPECIAL>`` for special categories, else ``<PII>``."""
    if E.is_special(entity_type):
        return "<SPECIAL>"
    return f"<{_TAGS.get(entity_type, 'PII')}>"


# --------------------------------------------------------------------------- mask


def mask(value: str, keep_last: int = 4, char: str = "*") -> str:
    """Replace letters and digits with ``char``, keeping separators and the last ``keep_last``.

    Never more than half of the letters and digits stay visible, so a short value is never
    shown whole: ``mask("1234")`` is ``"**34"``, not ``"1234"``.

    >>> mask("TR33 0006 1005 1978 6457 8413 26")
    '**** **** **** **** **** **13 26'
    >>> mask("Ali", keep_last=4)
    '**i'
    """
    if keep_last < 0:
        raise ValueError(f"keep_last must be 0 or more, got {keep_last}")
    total = sum(c.isalnum() for c in value)
    visible = min(keep_last, total // 2)
    to_mask = total - visible
    out = []
    for c in value:
        if c.isalnum() and to_mask > 0:
            out.append(char)
            to_mask -= 1
        else:
            out.append(c)
    return "".join(out)


# --------------------------------------------------------------------------- keyed draws

_DOMAIN = b"mahrem-surrogate\0"
# Redraws before giving up on a value and answering with its placeholder. A redraw happens
# only when a draw equals the input or lands in a valid range; 100 is never reached in practice.
_TRIES = 100


class _Draws:
    """Deterministic choices drawn from HMAC-SHA256(key, entity type, purpose, canonical).

    Block ``i`` of the stream is the HMAC of the label followed by ``i``; the canonical value
    is length-prefixed so no two labels (or label + counter) share a message.
    """

    __slots__ = ("_base", "_buffer", "_position", "_block")

    def __init__(self, key: PseudonymKey, entity_type: str, purpose: str, canonical: str) -> None:
        if not key.secret:
            raise ValueError("the pseudonym key is empty; load one with pipeline.keys.load_pseudonym_key()")
        data = canonical.encode("utf-8")
        label = _DOMAIN + f"{entity_type}\0{purpose}\0".encode() + len(data).to_bytes(4, "big") + data
        self._base = hmac.new(key.secret, label, hashlib.sha256)
        self._buffer = b""
        self._position = 0
        self._block = 0

    def _take(self, count: int) -> bytes:
        if self._position + count > len(self._buffer):
            mac = self._base.copy()
            mac.update(self._block.to_bytes(4, "big"))
            self._buffer = self._buffer[self._position :] + mac.digest()
            self._position = 0
            self._block += 1
            return self._take(count)
        start = self._position
        self._position += count
        return self._buffer[start : self._position]

    def _byte(self) -> int:
        if self._position >= len(self._buffer):
            self._take(1)
            self._position -= 1
        byte = self._buffer[self._position]
        self._position += 1
        return byte

    def below(self, n: int) -> int:
        """A uniform integer in ``[0, n)``: one byte by rejection for small ``n``, else 64 bits mod ``n``."""
        if n <= 256:
            limit = 256 - 256 % n
            while (byte := self._byte()) >= limit:
                pass
            return byte % n
        return int.from_bytes(self._take(8), "big") % n  # bias below 2⁻⁴⁰ for any list we draw from

    def choice(self, options: Sequence[_T]) -> _T:
        return options[self.below(len(options))]

    def digit(self, nonzero: bool = False) -> str:
        return str(1 + self.below(9)) if nonzero else str(self.below(10))

    def digits(self, count: int, first_nonzero: bool = False) -> str:
        return "".join(self.digit(first_nonzero and i == 0) for i in range(count))

    def bits(self, count: int) -> int:
        return int.from_bytes(self._take((count + 7) // 8), "big") >> (-count % 8)

    def hex(self, chars: int) -> str:
        return self._take((chars + 1) // 2).hex()[:chars]


# --------------------------------------------------------------------------- shape helpers

_TR_SPECIFIC = frozenset("çğıöşüÇĞİÖŞÜ")
_ASCII_FOLD = str.maketrans("çğıöşüâîûÇĞİÖŞÜÂÎÛ", "cgiosuaiuCGIOSUAIU")
_DIGITS = frozenset("0123456789")
_ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Turkish plates use the Latin letters of the Turkish alphabet only: no Q, W, X (and no Ç, Ğ, İ, Ö, Ş, Ü).
PLATE_LETTERS = "ABCDEFGHIJKLMNOPRSTUVYZ"


def _fold(text: str) -> str:
    """Drop Turkish diacritics ("Işık" → "Isik"), the way text typed on an ASCII keyboard looks."""
    return text.translate(_ASCII_FOLD)


def _key_form(word: str) -> str:
    """The spelling-free form a name token is keyed on: "AYŞE", "ayşe", "Ayse" → "ayse".

    ``tr_lower`` then folding, so that "IAN" (tr-lowered to "ıan") and "Ian" meet as well.
    """
    return _fold(tr_lower(word))


def _is_turkish_text(text: str) -> bool:
    return any(c in _TR_SPECIFIC for c in text)


def _case_shape(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if len(letters) > 1 and not any(c.islower() for c in letters):
        return "upper"
    if letters and not any(c.isupper() for c in letters):
        return "lower"
    return "as-is"


def _apply_shape(shape: str, text: str, turkish: bool) -> str:
    if shape == "upper":
        return tr_upper(text) if turkish else text.upper()
    if shape == "lower":
        return tr_lower(text) if turkish else text.lower()
    return text


def _fill_digits(template: str, digits: str) -> str:
    """Write ``digits`` into the digit positions of ``template``, keeping everything else."""
    it = iter(digits)
    return "".join(next(it) if c.isdecimal() else c for c in template)


def _fill_alnum(template: str, chars: str) -> str:
    """Write ``chars`` into the letter/digit positions of ``template``, keeping each position's case."""
    it = iter(chars)
    out = []
    for c in template:
        if c.isalnum():
            new = next(it)
            out.append(new.lower() if c.islower() else new)
        else:
            out.append(c)
    return "".join(out)


def _reshape(template: str, draws: _Draws, letters: str = _ASCII_UPPER) -> str:
    """Every digit → a keyed digit, every letter → a keyed letter of ``letters`` (case kept)."""
    out = []
    for c in template:
        if c.isdecimal() or (c.isalnum() and not c.isalpha()):  # "³" and "½" count as digits too
            out.append(draws.digit())
        elif c.isalpha():
            new = draws.choice(letters)
            out.append(new.lower() if c.islower() else new)
        else:
            out.append(c)
    return "".join(out)


def _split_suffix(word: str) -> tuple[str, str]:
    """``"Ayşe'nin"`` → ``("Ayşe", "'nin")``: a Turkish case suffix after an apostrophe stays as written."""
    for i, c in enumerate(word):
        if c in APOSTROPHES and i > 0:
            return word[:i], word[i:]
    return word, ""
