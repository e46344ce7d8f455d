"""PERSON surrogates: Turkish and English name pools (ayikla, Faker's static lists), gender and case kept."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline import entities as E
from pipeline.anonymize.surrogates.base import PLATE_LETTERS, _Draws, _apply_shape, _case_shape, _fold, _is_turkish_text, _key_form, _split_suffix
from pipeline.keys import PseudonymKey
from pipeline.lexicons import ayikla_names
from pipeline.text import tr_lower

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


@lru_cache(maxsize=1)
def turkish_names() -> _NamePool:
    """ayikla's 2,221 given names and 3,000 surnames (MIT), read as data; the package is never imported."""
    from faker.providers.person.tr_TR import Provider as TrProvider

    female = {_key_form(n) for n in TrProvider.first_names_female} | {_key_form(n) for n in _TR_FEMALE}
    male = {_key_form(n) for n in TrProvider.first_names_male} | {_key_form(n) for n in _TR_MALE}
    return _pool(True, list(ayikla_names("isimler.txt")), list(ayikla_names("soyisimler.txt")), female, male)


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
