"""Surrogates: what a personal value becomes when the anonymizer rewrites it.

Four operators, all pure and deterministic (no I/O at call time beyond building the name
pools once):

* :func:`pseudonymize` — a *keyed*, *consistent*, *format-preserving* stand-in;
* :func:`mask` — stars over letters and digits, separators kept;
* :func:`generalize` — a coarser value (a year, a province, an operator prefix);
* :func:`placeholder` — a tag such as ``<TCKN>``.

**Keyed.** Every choice :func:`pseudonymize` makes is drawn from
``HMAC-SHA256(key.secret, "mahrem-surrogate" ‖ entity type ‖ canonical value)``, extended in
counter mode when more than 32 bytes are needed. The canonical value is
:func:`~pipeline.pii.fingerprint.normalize` (E.164 for phones, digits for TCKN, ...), made
stricter where a type has a better canonical form: a date is its ISO date, so "12.03.1985"
and "12 Mart 1985" move together; an IP is ``ipaddress``' form; a name is taken token by
token. Without the key the surrogate cannot be derived; the domain prefix keeps these bytes
apart from fingerprints, so a surrogate says nothing about a value's fingerprint either.

**Consistent.** The same key and the same value, however it is spelled, give the same
surrogate in every record and every run; another key gives another surrogate.

**Never a real identifier.** Surrogate TCKN, VKN, IBAN and card numbers fail their checksums;
phone numbers use a prefix that ``phonenumbers`` marks unassigned; IPs are in the RFC 5737 /
RFC 3849 documentation ranges; e-mail goes to RFC 2606 ``example.com``/``example.org``. So a
surrogate is never some real person's number, and the residual scan (which reports only
valid identifiers) does not trip over our own output.

>>> from pipeline.keys import PseudonymKey
>>> k = PseudonymKey(b"k" * 32)
>>> pseudonymize(k, "PERSON", "Ayşe") == pseudonymize(k, "PERSON", "Ayşe Yılmaz").split()[0]
True
>>> from stdnum.tr import tckimlik
>>> tckimlik.is_valid(pseudonymize(k, "TR_NATIONAL_ID", "17291716060").replace(" ", ""))
False
>>> mask("0532 123 45 67", keep_last=2)
'**** *** ** 67'
>>> generalize("DATE_OF_BIRTH", "12 Mart 1985"), generalize("PHONE_NUMBER", "0532 123 45 67")
('1985', '0532 *** ** **')
>>> placeholder("TR_NATIONAL_ID"), placeholder("SPECIAL:HEALTH"), placeholder("NRP")
('<TCKN>', '<SPECIAL>', '<PII>')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import importlib.metadata
import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from pipeline import entities as E
from pipeline.keys import PseudonymKey
from pipeline.pii.fingerprint import normalize
from pipeline.pii.text import APOSTROPHES, tr_lower, tr_title, tr_upper

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


# --------------------------------------------------------------------------- name pools

# Everyday Turkish given names by gender, only to *tag* the ayikla pool (which has no
# gender) and the input: Faker's tr_TR gender lists are mostly rare names and miss the
# common ones (Ayşe, Mehmet). Names used for both sexes (Deniz, Umut, Özgür) are left out.
_TR_FEMALE = frozenset(
    "ayşe fatma emine hatice zeynep elif meryem şerife zehra hanife merve havva esra özlem yasemin hülya "
    "gül derya sibel ebru selin büşra tuğba gizem kübra melek seda aslı pınar dilek burcu cansu ceren damla "
    "duygu esma songül filiz nurcan leyla sevgi gamze şule irem nazlı sena hande melike rabia sevim hacer "
    "fadime sevda aynur nermin nuray serpil gülsüm sultan betül ece özge tülay yeliz şeyma neslihan "
    "gülay gülten nesrin nilgün nihal saadet sema semra sinem şükran türkan yıldız zerrin zübeyde".split()
)
_TR_MALE = frozenset(
    "mehmet mustafa ahmet ali hüseyin hasan ibrahim ismail osman yusuf murat ömer ramazan halil süleyman "
    "abdullah mahmut salih recep kadir emre burak kerem cem serkan hakan kemal oğuz onur barış tolga volkan "
    "uğur erkan selim tarık furkan enes eren berk arda kaan orhan fatih sinan emin metin cengiz erol yavuz "
    "halit bülent levent tuncay cihan ferhat gökhan okan sercan taner yasin yunus adem ilker şükrü batuhan "
    "yiğit çağrı erdem ercan erhan ertan hikmet hilmi mert musa nihat özcan rıza sedat sezgin tayfun "
    "turgut veli yılmaz zafer".split()
)
# Kept as written and never counted as a given name or surname ("Ayşe Hanım", "Dr. Smith").
_HONORIFICS = frozenset(
    _key_form(w)
    for w in "bay bayan sayın sn dr prof doç doc av uzm op öğr hanım hanımefendi bey beyefendi hoca hocam "
    "abla abi ağabey amca teyze mr mrs ms miss mx sir madam dame".split()
)


@dataclass(frozen=True)
class _NamePool:
    """Sorted name lists of one locale, plus the key forms used to recognise its names."""

    turkish: bool
    given: tuple[str, ...]
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    given_keys: frozenset[str]
    surname_keys: frozenset[str]
    female_keys: frozenset[str]
    male_keys: frozenset[str]
    spellings: frozenset[str]  # tr-lower-cased names exactly as the pool spells them

    def typed_without_diacritics(self, word: str) -> bool:
        """"Ayse", "YILMAZ"? The first lost its ş; the second is "Yılmaz" correctly upper-cased."""
        return self.turkish and word.isascii() and tr_lower(word) not in self.spellings

    def gendered(self, key_form: str) -> tuple[str, ...]:
        if key_form in self.female_keys:
            return self.female
        if key_form in self.male_keys:
            return self.male
        return self.given


def _pool(
    turkish: bool, given: list[str], surnames: list[str], female: set[str], male: set[str]
) -> _NamePool:
    female_keys = frozenset(female - male)
    male_keys = frozenset(male - female)
    given_sorted = tuple(sorted(set(given)))
    return _NamePool(
        turkish=turkish,
        given=given_sorted,
        female=tuple(n for n in given_sorted if _key_form(n) in female_keys),
        male=tuple(n for n in given_sorted if _key_form(n) in male_keys),
        surnames=tuple(sorted(set(surnames))),
        given_keys=frozenset(_key_form(n) for n in given),
        surname_keys=frozenset(_key_form(n) for n in surnames),
        female_keys=female_keys,
        male_keys=male_keys,
        spellings=frozenset(tr_lower(n) for n in [*given, *surnames]),
    )


def _ayikla_names(filename: str) -> list[str]:
    try:
        path = importlib.metadata.distribution("ayikla").locate_file(f"ayikla/{filename}")
        lines = path.read_text(encoding="utf-8").splitlines()
    except importlib.metadata.PackageNotFoundError as error:
        raise RuntimeError(
            "Turkish surrogate names come from the 'ayikla' distribution's data files: pip install ayikla==1.2.0"
        ) from error
    # The list ends with a "-.-" separator line; keep single words of letters only.
    return [line.strip() for line in lines if line.strip().isalpha()]


@lru_cache(maxsize=1)
def turkish_names() -> _NamePool:
    """ayikla's 2,221 given names and 3,000 surnames (MIT), read as data; the package is never imported."""
    from faker.providers.person.tr_TR import Provider as TrProvider

    female = {_key_form(n) for n in TrProvider.first_names_female} | {_key_form(n) for n in _TR_FEMALE}
    male = {_key_form(n) for n in TrProvider.first_names_male} | {_key_form(n) for n in _TR_MALE}
    return _pool(True, _ayikla_names("isimler.txt"), _ayikla_names("soyisimler.txt"), female, male)


@lru_cache(maxsize=1)
def english_names() -> _NamePool:
    """Faker's en_US first and last names — the static lists only, never Faker's random generator."""
    from faker.providers.person.en_US import Provider as EnProvider

    return _pool(
        False,
        list(EnProvider.first_names),
        list(EnProvider.last_names),
        {_key_form(n) for n in EnProvider.first_names_female},
        {_key_form(n) for n in EnProvider.first_names_male},
    )


def _locale_of_name(word: str) -> _NamePool:
    """Turkish when the word has Turkish letters or is a known Turkish name, else English."""
    tr = turkish_names()
    if _is_turkish_text(word):
        return tr
    form = _key_form(word)
    if form in tr.given_keys or form in tr.surname_keys:
        return tr
    return english_names()


# --------------------------------------------------------------------------- PERSON

_NAME_PIECES = re.compile(r"[^\W\d_]+|[\W\d_]+")


def _name_word(key: PseudonymKey, word: str, surname: bool) -> str:
    """One run of letters → a name of the same locale, role, gender and case shape."""
    form = _key_form(word)
    draws = _Draws(key, E.PERSON, "name", form)
    if len(word) == 1:  # an initial
        letter = draws.choice([c for c in PLATE_LETTERS if c != form.upper()])
        return letter.lower() if word.islower() else letter
    names = _locale_of_name(word)
    pool = names.surnames if surname else names.gendered(form)
    index = draws.below(len(pool))
    if _key_form(pool[index]) == form:  # never a name to itself
        index = (index + 1) % len(pool)
    new = _apply_shape(_case_shape(word), pool[index], names.turkish)
    if names.typed_without_diacritics(word):  # answer in kind
        new = _fold(new)
    return new


def _is_surname_only(word: str) -> bool:
    names = _locale_of_name(word)
    form = _key_form(word)
    return form in names.surname_keys and form not in names.given_keys


def _person(key: PseudonymKey, value: str) -> str | None:
    parts = re.split(r"(\s+)", value)
    stems = [_split_suffix(p) if p and not p.isspace() else (p, "") for p in parts]
    name_at = [
        i
        for i, (stem, _) in enumerate(stems)
        if any(c.isalpha() for c in stem) and _key_form(stem.rstrip(".")) not in _HONORIFICS
    ]
    if not name_at:
        return None
    if len(name_at) == 1:  # alone, a name is a given name — unless it is only known as a surname
        stem = stems[name_at[0]][0]
        letters = max(re.findall(r"[^\W\d_]+", stem), key=len)
        surname_at = name_at[0] if _is_surname_only(letters) else -1
    else:
        surname_at = name_at[-1]
    out = []
    for i, (stem, suffix) in enumerate(stems):
        if i in name_at:
            stem = "".join(
                _name_word(key, piece, i == surname_at) if piece[0].isalpha() else piece
                for piece in _NAME_PIECES.findall(stem)
            )
        out.append(stem + suffix)
    return "".join(out)


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


# --------------------------------------------------------------------------- dates

_TR_MONTHS = (
    "ocak", "şubat", "mart", "nisan", "mayıs", "haziran", "temmuz", "ağustos", "eylül", "ekim", "kasım", "aralık",
)  # fmt: skip
_TR_MONTHS_SHORT = ("oca", "şub", "mar", "nis", "may", "haz", "tem", "ağu", "eyl", "eki", "kas", "ara")
_EN_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
)  # fmt: skip
_EN_MONTHS_SHORT = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _month_table() -> dict[str, tuple[tuple[str, ...], int]]:
    table: dict[str, tuple[tuple[str, ...], int]] = {}
    # Earlier lists win a clash: "mar" is English before Turkish, "may" is the full English month.
    for names in (_TR_MONTHS, _EN_MONTHS, _EN_MONTHS_SHORT, _TR_MONTHS_SHORT):
        for number, name in enumerate(names, 1):
            table.setdefault(_key_form(name), (names, number))
    table.setdefault("sept", (_EN_MONTHS_SHORT, 9))
    return table


_MONTHS = _month_table()
_TURKISH_MONTH_LISTS = (_TR_MONTHS, _TR_MONTHS_SHORT)

# A time of day, a zone and a case suffix after the date are kept as written.
_TAIL = (
    r"(?P<tail>(?:(?:[ ,]+|T)\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?(?:\s?Z|\s?[+-]\d{2}:?\d{2})?)?"
    r"(?:[" + APOSTROPHES + r"][^\W\d_]+)?)"
)
_WORD = r"(?P<mon>[^\W\d_]+\.?)"
_DATE_FORMATS = (
    ("dmy", re.compile(rf"(?P<a>\d{{1,2}})(?P<sep>[./-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}|\d{{2}}){_TAIL}")),
    ("ymd", re.compile(rf"(?P<y>\d{{4}})(?P<sep>[./-])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_TAIL}")),
    ("d_mon_y", re.compile(rf"(?P<d>\d{{1,2}})\.?\s+{_WORD},?\s+(?P<y>\d{{4}}){_TAIL}")),
    ("mon_d_y", re.compile(rf"{_WORD}\s+(?P<d>\d{{1,2}})(?P<ord>st|nd|rd|th)?,?\s+(?P<y>\d{{4}}){_TAIL}")),
    ("mon_y", re.compile(rf"{_WORD},?\s+(?P<y>\d{{4}}){_TAIL}")),
    ("y", re.compile(rf"(?P<y>\d{{4}}){_TAIL}")),
)


@dataclass(frozen=True)
class _ParsedDate:
    kind: str
    match: re.Match[str]
    date: dt.date
    day_first: bool = True  # for "dmy": whether group a is the day


def _year(text: str) -> int:
    # A two-digit year is read in a fixed window (not "relative to today"), so runs agree.
    value = int(text)
    return value if len(text) == 4 else (2000 + value if value <= 30 else 1900 + value)


def _parse_date(value: str) -> _ParsedDate | None:
    for kind, pattern in _DATE_FORMATS:
        match = pattern.fullmatch(value)
        if not match:
            continue
        try:
            year = _year(match["y"])
            if kind == "dmy":
                a, b = int(match["a"]), int(match["b"])
                day_first = not (a <= 12 < b)  # Turkish day.month unless only month/day fits
                day, month = (a, b) if day_first else (b, a)
                return _ParsedDate(kind, match, dt.date(year, month, day), day_first)
            if kind == "ymd":
                return _ParsedDate(kind, match, dt.date(year, int(match["m"]), int(match["d"])))
            if kind == "y":
                if not 1000 <= year <= 2999:
                    return None
                return _ParsedDate(kind, match, dt.date(year, 7, 1))
            month_entry = _MONTHS.get(_key_form(match["mon"].rstrip(".")))
            if month_entry is None:
                continue
            day = int(match["d"]) if "d" in match.re.groupindex else 15
            return _ParsedDate(kind, match, dt.date(year, month_entry[1], day))
        except ValueError:  # 31.02.1985 and the like: not a date
            return None
    return None


def _ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _render_date(parsed: _ParsedDate, new: dt.date) -> str:
    match = parsed.match
    numeric = [match[g] for g in ("a", "b", "m", "d") if g in match.re.groupindex and match[g]]
    if parsed.kind in ("dmy", "ymd"):
        padded = all(len(f) == 2 for f in numeric)
    else:
        padded = bool(numeric) and numeric[0].startswith("0")

    def number(n: int) -> str:
        return f"{n:02d}" if padded else str(n)

    fields: dict[str, str] = {"y": f"{new.year:04d}" if len(match["y"]) == 4 else f"{new.year % 100:02d}"}
    if parsed.kind == "dmy":
        fields["a"], fields["b"] = (
            (number(new.day), number(new.month)) if parsed.day_first else (number(new.month), number(new.day))
        )
    elif parsed.kind in ("ymd", "d_mon_y", "mon_d_y"):
        if parsed.kind == "ymd":
            fields["m"] = number(new.month)
        fields["d"] = number(new.day)
    if "mon" in match.re.groupindex:
        word = match["mon"]
        bare = word.rstrip(".")
        names, _ = _MONTHS[_key_form(bare)]
        turkish = names in _TURKISH_MONTH_LISTS
        name = names[new.month - 1]
        name = _apply_shape(_case_shape(bare), tr_title(name) if turkish else name.capitalize(), turkish)
        if turkish and bare.isascii() and tr_lower(bare) not in names:  # "Subat" typed for "Şubat"
            name = _fold(name)
        fields["mon"] = name + word[len(bare) :]
    if "ord" in match.re.groupindex and match["ord"]:
        fields["ord"] = _ordinal(new.day)
    out, cursor = [], 0
    for group in sorted(fields, key=match.start):
        out.append(match.string[cursor : match.start(group)])
        out.append(fields[group])
        cursor = match.end(group)
    out.append(match.string[cursor:])
    return "".join(out)


def _date(key: PseudonymKey, value: str, entity_type: str) -> str | None:
    parsed = _parse_date(value)
    if parsed is None:
        return None
    granularity = {"y": "year", "mon_y": "month"}.get(parsed.kind, "day")
    canonical = f"{granularity}:{parsed.date.isoformat()}"
    draws = _Draws(key, entity_type, "", canonical)
    # A birth date only moves back, so it never lands in the future; other dates either way.
    backwards = entity_type == E.DATE_OF_BIRTH or draws.below(2) == 0
    try:
        if granularity == "year":
            years = 1 + draws.below(10)
            new = parsed.date.replace(year=parsed.date.year + (-years if backwards else years))
        else:
            days = 30 + draws.below(3650 - 30 + 1)
            new = parsed.date + dt.timedelta(days=-days if backwards else days)
    except (OverflowError, ValueError):
        return None
    return _render_date(parsed, new)


def date_year(value: str) -> str | None:
    """The four-digit year a written date names, or None."""
    parsed = _parse_date(value)
    if parsed is not None:
        return f"{parsed.date.year:04d}"
    found = re.search(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", value)
    return found.group(1) if found else None


# --------------------------------------------------------------------------- places, addresses, organisations

_TR_MAHALLE = (
    "Cumhuriyet", "Atatürk", "Fatih", "Bahçelievler", "Gazi", "Barbaros", "Hürriyet", "İstiklal",
    "Fevzi Çakmak", "Mimar Sinan", "Yunus Emre", "Çamlık", "Kültür", "Zafer", "Esentepe", "Güzelyalı",
    "Kocatepe", "Mevlana", "Yeşilyurt", "Çiftlik",
)  # fmt: skip
_TR_STREETS = (
    "İnönü", "Cumhuriyet", "İstasyon", "Okul", "Çiçek", "Lale", "Menekşe", "Papatya", "Kavak", "Çınar",
    "Ihlamur", "Akasya", "Bağlar", "Pınar", "Güneş", "Yıldız", "Şehitler", "Millet", "Hastane", "Zeytin",
)  # fmt: skip
_TR_DISTRICTS = (
    ("Kadıköy", "İstanbul"), ("Üsküdar", "İstanbul"), ("Bakırköy", "İstanbul"), ("Beşiktaş", "İstanbul"),
    ("Çankaya", "Ankara"), ("Keçiören", "Ankara"), ("Yenimahalle", "Ankara"), ("Karşıyaka", "İzmir"),
    ("Bornova", "İzmir"), ("Konak", "İzmir"), ("Nilüfer", "Bursa"), ("Osmangazi", "Bursa"),
    ("Muratpaşa", "Antalya"), ("Seyhan", "Adana"), ("Selçuklu", "Konya"), ("Tepebaşı", "Eskişehir"),
    ("Melikgazi", "Kayseri"), ("İlkadım", "Samsun"), ("Ortahisar", "Trabzon"), ("Pamukkale", "Denizli"),
    ("Şahinbey", "Gaziantep"), ("İzmit", "Kocaeli"), ("Adapazarı", "Sakarya"), ("Odunpazarı", "Eskişehir"),
)  # fmt: skip
_EN_STREETS = (
    "Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Birch", "Lake", "Hill", "Park", "Church", "Mill",
    "River", "Spring", "Sunset", "Highland", "Meadow", "Forest", "Chestnut", "Walnut",
)  # fmt: skip
_EN_CITIES = (
    "Springfield", "Riverside", "Fairview", "Franklin", "Greenville", "Bristol", "Clinton", "Madison",
    "Georgetown", "Salem", "Arlington", "Ashland", "Burlington", "Manchester", "Milton", "Newport",
    "Oxford", "Dover", "Kingston", "Hudson",
)  # fmt: skip
_ORG_NAMES_TR = (
    "Mavi", "Yıldız", "Kuzey", "Güney", "Ege", "Toros", "Anadolu", "Ada", "Çınar", "Defne", "Pınar",
    "Atlas", "Bahar", "Doğa", "Kartal", "Lale", "Nehir", "Safir", "Umut", "Zirve",
)  # fmt: skip
_ORG_SECTORS_TR = (
    "Teknoloji", "Gıda", "İnşaat", "Lojistik", "Yazılım", "Tekstil", "Enerji", "Danışmanlık", "Turizm",
    "Sağlık", "Mobilya", "Tarım", "Otomotiv", "Eğitim", "Ticaret", "Kimya", "Medya", "Reklam", "Sigorta", "Yapı",
)  # fmt: skip
_ORG_NAMES_EN = (
    "Blue", "Northern", "Southern", "Summit", "Harbor", "Cedar", "Maple", "Atlas", "Beacon", "Pioneer",
    "Silver", "River", "Oak", "Falcon", "Meadow", "Crescent", "Granite", "Horizon", "Liberty", "Vertex",
)  # fmt: skip
_ORG_SECTORS_EN = (
    "Technologies", "Foods", "Construction", "Logistics", "Software", "Textiles", "Energy", "Consulting",
    "Travel", "Health", "Furniture", "Farms", "Motors", "Learning", "Trading", "Chemicals", "Media",
    "Advertising", "Insurance", "Builders",
)  # fmt: skip

_TR_ADDRESS_WORD = re.compile(
    r"(?<![^\W\d_])(mahalle\w*|mah|mh|cadde\w*|cad|cd|sokak\w*|sokağ\w*|sok|sk|bulvar\w*|blv|apt|apartman\w*"
    r"|daire|kat)"
    r"(?![^\W\d_])",
    re.IGNORECASE,
)
_TR_ORG_WORD = re.compile(
    r"(?<![^\W\d_])(a\.?ş|a\.s|şti|sti|san|tic|holding|koop|vakf\w*|derne\w*)(?![^\W\d_])", re.IGNORECASE
)


def _text_key(entity_type: str, value: str) -> str:
    """normalize(), then without diacritics: "İSTANBUL", "Istanbul", "istanbul" are one place."""
    return _fold(normalize(entity_type, value))


def _places():
    # Imported when first needed: the recognizers package pulls in Presidio.
    from pipeline.pii.recognizers import places

    return places


def _names_turkish_place(text: str) -> bool:
    """Whether a word of ``text`` is a Turkish province or district, also when typed as "ISTANBUL"."""
    folded = _folded_place_names()
    return any(_key_form(w) in folded for w in re.findall(r"[^\W\d_]+", text))


@lru_cache(maxsize=1)
def _province_names() -> tuple[str, ...]:
    return tuple(tr_title(p) for p in _places().PROVINCES)


@lru_cache(maxsize=1)
def _folded_place_names() -> frozenset[str]:
    return frozenset(_fold(name) for name in _places().place_names())


@lru_cache(maxsize=1)
def _proper_spellings() -> dict[str, frozenset[str]]:
    """Known Turkish words (places, names, our own lists) by key form → their proper tr-lower spellings."""
    districts = (name for pair in _TR_DISTRICTS for name in pair)
    listed = (*_TR_MAHALLE, *_TR_STREETS, *districts, *_ORG_NAMES_TR, *_ORG_SECTORS_TR)
    words = set(_places().place_names()) | turkish_names().spellings | {"şti", "sokağı", "bulvarı"}
    words |= {tr_lower(w) for phrase in listed for w in phrase.split()}
    table: dict[str, set[str]] = {}
    for word in words:
        table.setdefault(_fold(word), set()).add(word)
    return {form: frozenset(spellings) for form, spellings in table.items()}


def _typed_without_diacritics(text: str) -> bool:
    """ "Ataturk Mah.", "ISTANBUL", "Gida A.S." — known Turkish words that lost their ş, ı, İ, ü ...

    Plain ASCII is not enough: "Gazi Mah. Lale Sok." is correctly spelled Turkish.
    """
    if not text.isascii():
        return False
    if re.search(r"(?<![^\W\d_])a\.s\.", text, re.IGNORECASE):
        return True
    table = _proper_spellings()
    for word in re.findall(r"[^\W\d_]+", text):
        spellings = table.get(_key_form(word))
        if spellings and tr_lower(word) not in spellings:
            return True
    return False


def _location(key: PseudonymKey, value: str) -> str:
    stem, suffix = _split_suffix(value)
    typed_ascii = _typed_without_diacritics(stem)
    turkish = _is_turkish_text(stem) or _names_turkish_place(stem)
    options = _province_names() if turkish else _EN_CITIES
    draws = _Draws(key, E.LOCATION, "", _text_key(E.LOCATION, stem))
    index = draws.below(len(options))
    if _key_form(options[index]) == _key_form(stem):
        index = (index + 1) % len(options)
    new = _apply_shape(_case_shape(stem), options[index], turkish)
    if typed_ascii:  # "Istanbul" typed for "İstanbul": answer in kind
        new = _fold(new)
    return new + suffix


@lru_cache(maxsize=32)
def _lowered(options: tuple[str | tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(tr_lower(n) for n in (o if isinstance(o, tuple) else (o,))) for o in options)


def _choose_new(draws: _Draws, options: tuple[_T, ...], lowered_original: str) -> _T:
    """A keyed option that shares no name with the original (never "Atatürk Mah." → "Atatürk Mah.")."""
    lowered = _lowered(options)  # type: ignore[arg-type]
    fresh = [o for o, names in zip(options, lowered) if not any(n in lowered_original for n in names)]
    return draws.choice(fresh or options)


def _turkish_address(draws: _Draws, value: str) -> str:
    """The parts the original has, in PTT order, each from the built-in lists; nothing copied over."""
    lowered = tr_lower(value)
    found = {m.group(1).lower() for m in _TR_ADDRESS_WORD.finditer(lowered)}
    places_only = not found and _names_turkish_place(value)  # "Kadıköy, İstanbul"
    everything = not found and not places_only  # no part we can tell: a whole address

    def has(*prefixes: str) -> bool:
        return everything or any(f.startswith(p) for f in found for p in prefixes)

    spelled_out = not everything and has("mahalle", "cadde", "sokak", "sokağ", "bulvar")
    parts = []
    if has("mah", "mh"):
        parts.append(f"{_choose_new(draws, _TR_MAHALLE, lowered)} {'Mahallesi' if spelled_out else 'Mah.'}")
    roads = (
        (("cad", "cd"), "Caddesi", "Cad."),
        (("sok", "sk"), "Sokak", "Sok."),
        (("bulvar", "blv"), "Bulvarı", "Blv."),
    )
    for prefixes, long, short in roads:
        if has(*prefixes):
            parts.append(f"{_choose_new(draws, _TR_STREETS, lowered)} {long if spelled_out else short}")
            break
    if everything or re.search(r"(?<![^\W\d_])no\b", lowered):
        parts.append(f"No:{1 + draws.below(150)}")
    if not everything and has("kat"):
        parts.append(f"Kat:{1 + draws.below(12)}")
    if has("daire") or re.search(r"(?<![^\W\d_])d\s*:", lowered):
        parts.append(f"D:{1 + draws.below(40)}")
    if re.search(r"(?<!\d)\d{5}(?!\d)", value):  # a postal code: province code + 3 digits
        parts.append(f"{1 + draws.below(81):02d}{draws.digits(3)}")
    if everything or "/" in value or _names_turkish_place(value):
        district, province = _choose_new(draws, _TR_DISTRICTS, lowered)
        separator = "/" if "/" in value or not places_only else ", " if "," in value else " "
        parts.append(f"{district}{separator}{province}")
    return " ".join(parts)


def _english_address(draws: _Draws, value: str) -> str:
    lowered = _fold(tr_lower(value))
    road = next((w for w in ("Avenue", "Road", "Lane", "Boulevard") if w.lower() in lowered), "Street")
    street, city = _choose_new(draws, _EN_STREETS, lowered), _choose_new(draws, _EN_CITIES, lowered)
    return f"{1 + draws.below(999)} {street} {road}, {city}"


def _address(key: PseudonymKey, value: str) -> str:
    draws = _Draws(key, E.ADDRESS, "", _text_key(E.ADDRESS, value))
    turkish = _is_turkish_text(value) or bool(_TR_ADDRESS_WORD.search(value)) or _names_turkish_place(value)
    new = _turkish_address(draws, value) if turkish else _english_address(draws, value)
    new = _apply_shape(_case_shape(value), new, turkish)
    return _fold(new) if turkish and _typed_without_diacritics(value) else new  # answer in kind


def _organization(key: PseudonymKey, value: str) -> str:
    draws = _Draws(key, E.ORGANIZATION, "", _text_key(E.ORGANIZATION, value))
    lowered = tr_lower(value)
    turkish = _is_turkish_text(value) or bool(_TR_ORG_WORD.search(value))
    if turkish:
        suffix = "Ltd. Şti." if "ltd" in lowered or "şti" in lowered else "A.Ş."
        new = f"Örnek {_choose_new(draws, _ORG_NAMES_TR, lowered)} {draws.choice(_ORG_SECTORS_TR)} {suffix}"
        if _typed_without_diacritics(value):  # "Ege Gida A.S.": answer in kind
            new = _fold(new)
    else:
        words = set(re.findall(r"\w+", _fold(lowered)))  # folded: tr_lower makes "Inc" "ınc"
        suffix = next((s for s in ("Inc.", "LLC", "Corp.", "GmbH", "PLC") if s.lower().rstrip(".") in words), "Ltd.")
        new = f"Example {_choose_new(draws, _ORG_NAMES_EN, lowered)} {draws.choice(_ORG_SECTORS_EN)} {suffix}"
    return _apply_shape(_case_shape(value), new, turkish)


# --------------------------------------------------------------------------- pseudonymize

_PSEUDONYMIZERS: dict[str, Callable[[PseudonymKey, str], str | None]] = {
    E.PERSON: _person,
    E.TR_NATIONAL_ID: _tckn,
    E.TR_TAX_ID: _vkn,
    E.IBAN_CODE: _iban,
    E.CREDIT_CARD: _card,
    E.PHONE_NUMBER: _phone,
    E.EMAIL_ADDRESS: _email,
    E.TR_LICENSE_PLATE: _plate,
    E.PASSPORT: _passport,
    E.DATE_OF_BIRTH: lambda key, value: _date(key, value, E.DATE_OF_BIRTH),
    E.DATE_TIME: lambda key, value: _date(key, value, E.DATE_TIME),
    E.ADDRESS: _address,
    E.IP_ADDRESS: _ip,
    E.URL: _url,
    E.LOCATION: _location,
    E.ORGANIZATION: _organization,
}


def pseudonymize(key: PseudonymKey, entity_type: str, value: str) -> str:
    """A keyed, consistent stand-in for ``value`` in the same format (see the module docstring).

    Surrounding whitespace is kept. A type without a surrogate rule (NRP, special
    categories), or a value its rule cannot read (an unparseable date), gets
    :func:`placeholder`. The result never equals the input.
    """
    rule = _PSEUDONYMIZERS.get(entity_type)
    core = value.strip()
    if rule is None or not core:
        return placeholder(entity_type)
    start = value.index(core[0])
    new = rule(key, core)
    if new is None or new == core:
        return placeholder(entity_type)
    return value[:start] + new + value[start + len(core) :]


# --------------------------------------------------------------------------- generalize

_ADDRESS_KEYWORDS = re.compile(
    r"(?<![^\W\d_])(?:mahalle\w*|mah|mh|cadde\w*|cad|cd|sokak\w*|sok|sk|bulvar\w*|blv|no|apt|daire|kat|d|"
    r"street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|flat|apt|suite|floor)(?![^\W\d_])",
    re.IGNORECASE,
)


def _province_of(value: str) -> str | None:
    places = _places()
    provinces = set(places.PROVINCES) | {"isparta"}
    found = None
    for word in re.findall(r"[^\W\d_]+", value):
        form = tr_lower(_split_suffix(word)[0])
        if form in provinces:
            found = "Isparta" if form in ("ısparta", "isparta") else tr_title(form)
    return found


def _last_place_component(value: str) -> str | None:
    components = [c.strip() for c in re.split(r"[,/\n]", value) if c.strip()]
    if not components:
        return None
    last = re.sub(r"(?<![^\W\d_])\d+(?![^\W\d_])", " ", components[-1])  # postal codes
    last = " ".join(_split_suffix(w)[0] for w in last.split())
    words = last.split()
    if not 1 <= len(words) <= 3 or _ADDRESS_KEYWORDS.search(last) or not all(w.isalpha() for w in words):
        return None
    return last


def _phone_prefix(value: str) -> str | None:
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "TR")
    except phonenumbers.NumberParseException:
        return None
    national = phonenumbers.national_significant_number(number)
    positions = [i for i, c in enumerate(value) if c.isdecimal()]
    if not national or len(national) > len(positions):
        return None
    destination = phonenumbers.length_of_national_destination_code(number) or min(3, len(national))
    visible = set(positions[: len(positions) - len(national) + destination])
    return "".join(c if (i in visible or not c.isdecimal()) else "*" for i, c in enumerate(value))


def generalize(entity_type: str, value: str) -> str | None:
    """A coarser value that keeps some use, or None when no generalization is known.

    DATE_OF_BIRTH / DATE_TIME → the year; ADDRESS → the province it names (else its last
    place-like part); LOCATION → itself; PHONE_NUMBER → country code and operator or area
    code, the rest masked.

    >>> generalize("ADDRESS", "Atatürk Mah. Gazi Cad. No:12 D:5 Çankaya/Ankara")
    'Ankara'
    >>> generalize("PHONE_NUMBER", "+90 532 123 4567")
    '+90 532 *** ****'
    >>> generalize("TR_NATIONAL_ID", "17291716060") is None
    True
    """
    value = value.strip()
    if entity_type in (E.DATE_OF_BIRTH, E.DATE_TIME):
        return date_year(value)
    if entity_type == E.ADDRESS:
        return _province_of(value) or _last_place_component(value)
    if entity_type == E.LOCATION:
        return value or None
    if entity_type == E.PHONE_NUMBER:
        return _phone_prefix(value)
    return None
