"""Invented people: names, honorifics, Turkish case suffixes, e-mail addresses, birth dates.

Names come from two sources on purpose. Faker's ``tr_TR`` first names are many (≈1,500)
but mostly rare ("Lezize", "Eryıldız") and lack the common ones (Ayşe, Mehmet), so half
the first names are drawn from the short list of everyday names below. Faker has only
61 Turkish surnames, so the surnames are the hand-written list below. The detector's
own name lexicon (``ayikla``) is deliberately not used: the test would be circular.

The suffix helper follows vowel harmony and consonant assimilation, because a name
with a case suffix ("Yılmaz'a", "Ayşe'nin", "Kurt'tan") is the commonest way a Turkish
name is written in chat, and the gold span must stop at the apostrophe.

>>> case_suffix("Ayşe", "genitive"), case_suffix("Yılmaz", "dative"), case_suffix("Kurt", "ablative")
('nin', 'a', 'tan')
>>> ascii_fold("Işıl Güneş")
'isil gunes'
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass

from faker import Faker

from pipeline.text import EN_MONTHS as _EN_MONTH_NAMES
from pipeline.text import TR_MONTHS as _TR_MONTH_NAMES
from pipeline.text import tr_lower, tr_title

COMMON_FEMALE = (
    "Ayşe", "Fatma", "Emine", "Hatice", "Zeynep", "Elif", "Merve", "Büşra", "Esra", "Özlem", "Selin", "Ebru",
    "Derya", "Gül", "Sibel", "Tuğba", "Yasemin", "Ece", "Hülya", "Şule", "İrem", "Melike", "Sevgi", "Canan",
    "Gizem", "Aslı", "Pınar", "Dilek", "Seda", "Kübra", "Havva", "Leyla", "Neslihan", "Burcu", "Cansu",
    "Ceren", "Damla", "Duygu", "Ilgın", "Işıl", "Özge", "Songül", "Şeyma", "Tülay", "Yeliz", "Zehra",
    "Melek", "Nazlı", "Sena", "Hande",
)
COMMON_MALE = (
    "Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "İsmail", "Osman", "Yusuf", "Murat",
    "Ömer", "Emre", "Burak", "Kerem", "Can", "Cem", "Serkan", "Hakan", "Kemal", "Oğuz", "Onur", "Barış",
    "Tolga", "Volkan", "Uğur", "Erkan", "Selim", "Tarık", "Furkan", "Enes", "Eren", "Berk", "Arda", "Kaan",
    "Umut", "Gökhan", "Halil", "Recep", "Süleyman", "Orhan", "Levent", "Sinan", "Ilgaz", "Işık", "Çağrı",
    "Yiğit", "Batuhan", "İlker", "Şükrü",
)
# Second given names that commonly follow a first one ("Ayşe Nur", "Mehmet Ali").
SECOND_FEMALE = ("Nur", "Gül", "Naz", "Su", "Sultan", "Betül", "Büşra")
SECOND_MALE = ("Ali", "Can", "Emin", "Kaan", "Efe", "Salih", "Said")

SURNAMES = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir",
    "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat",
    "Özer", "Korkmaz", "Çakır", "Erdem", "Aktaş", "Yalçın", "Güneş", "Bulut", "Keskin", "Ünal",
    "Bozkurt", "Kaplan", "Turan", "Tekin", "Işık", "Güler", "Sarı", "Akın", "Karaca", "Bayram", "Uçar",
    "Tunç", "Coşkun", "Gündoğdu", "Başaran", "Taş", "Avcı", "Çiftçi", "Kocabaş", "Erol", "Acar", "Duman",
    "Akgül", "Ateş", "Yavuz", "Sönmez", "Karakaya", "Özgür", "Güven", "Altun", "Tuncer", "Demirci",
    "Altıntaş", "Uysal", "Gök", "Ekinci", "Toprak", "Oral", "Kahraman", "Bilgin", "Aksoy", "Eren", "Tan",
    "Sezer", "Çınar", "Aydoğan", "Kurtuluş", "Karahan", "Akbulut", "Özcan", "Yüksel", "Durmaz", "Köse",
    "Ceylan", "Akyüz", "Balcı", "Yazıcı", "Karataş", "Gürbüz", "Sevim", "Tosun", "Kalkan", "Yiğit", "Ay",
    "Parlak", "Akdağ", "Aydemir", "Bingöl", "Tokgöz", "Dinç", "Baysal", "Soylu", "Demirtaş", "Kılınç",
    "Öz", "Yaşar", "Ergin", "Karabulut", "Temel", "Uzun", "Kaymak", "Gümüş", "Savaş", "Çakmak", "Şen",
    "Akbaş", "Yurt", "Ekici", "Orhan", "Yücel", "Sağlam", "Önal", "Kalaycı", "Gedik", "Bal", "Akman",
    "Metin", "Özbek", "Karagöz", "Sarıkaya", "Erkan", "Cengiz", "Türkmen", "Akçay", "Atalay", "Gezer",
    "Bektaş", "Deniz", "Yaman", "Kaçar", "Ertürk", "Çalışkan", "Akkaya", "Güngör", "Dursun", "Ayhan",
    "Tuna", "Altay", "Soydan", "Bilgiç", "Kutlu", "Çolak", "Sevinç", "Aksu", "Ünlü", "Gültekin", "Öcal",
    "Mutlu", "Albayrak", "Kırmızı", "Çoban", "Yazgan", "Ilıca", "İnce", "İpek", "Irmak",
)

# --- names --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    first: str  # may be two given names: "Ayşe Nur"
    last: str
    female: bool
    english: bool = False

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


class NameSource:
    """Draws people; owns the seeded Faker instances so the corpus stays reproducible."""

    def __init__(self, rng: random.Random, seed: int):
        self.rng = rng
        self.faker_tr = Faker("tr_TR")
        self.faker_tr.seed_instance(seed)
        self.faker_en = Faker("en_US")
        self.faker_en.seed_instance(seed + 1)

    def reseed(self, rng: random.Random, seed: int) -> None:
        """Draw from ``rng`` and re-seed Faker, so each record depends only on its own seed."""
        self.rng = rng
        self.faker_tr.seed_instance(seed)
        self.faker_en.seed_instance(seed + 1)

    def turkish(self, female: bool | None = None) -> Person:
        rng = self.rng
        female = rng.random() < 0.5 if female is None else female
        if rng.random() < 0.5:
            first = rng.choice(COMMON_FEMALE if female else COMMON_MALE)
        else:
            first = self.faker_tr.first_name_female() if female else self.faker_tr.first_name_male()
        if rng.random() < 0.1:
            first += " " + rng.choice(SECOND_FEMALE if female else SECOND_MALE)
        return Person(first, rng.choice(SURNAMES), female)

    def english(self, female: bool | None = None) -> Person:
        female = self.rng.random() < 0.5 if female is None else female
        first = self.faker_en.first_name_female() if female else self.faker_en.first_name_male()
        return Person(first, self.faker_en.last_name(), female, english=True)


# --- Turkish case suffixes ----------------------------------------------------------------

_VOWELS = "aeıioöuüâîû"
_BACK = "aıouâû"
_ROUNDED = "oöuüû"
_VOICELESS = "fstkçşhp"  # "fıstıkçı şahap": after these, d → t


def case_suffix(word: str, case: str) -> str:
    """The case ending for ``word`` (without the apostrophe), by vowel harmony.

    ``case`` is one of genitive (-(n)In), dative (-(y)A), accusative (-(y)I),
    locative (-DA), ablative (-DAn) or instrumental (-(y)lA).
    """
    low = tr_lower(word)
    vowels = [c for c in low if c in _VOWELS]
    last_vowel = vowels[-1] if vowels else "e"
    back, rounded = last_vowel in _BACK, last_vowel in _ROUNDED
    a = "a" if back else "e"
    i = ("u" if rounded else "ı") if back else ("ü" if rounded else "i")
    ends_vowel = low[-1] in _VOWELS
    d = "t" if low[-1] in _VOICELESS else "d"
    if case == "genitive":
        return ("n" + i + "n") if ends_vowel else (i + "n")
    if case == "dative":
        return ("y" + a) if ends_vowel else a
    if case == "accusative":
        return ("y" + i) if ends_vowel else i
    if case == "locative":
        return d + a
    if case == "ablative":
        return d + a + "n"
    if case == "instrumental":
        return ("yl" + a) if ends_vowel else ("l" + a)
    raise ValueError(f"unknown case {case!r}")


# --- e-mail -------------------------------------------------------------------------------

_FOLD = str.maketrans({"ç": "c", "ğ": "g", "ı": "i", "ö": "o", "ş": "s", "ü": "u", "â": "a", "î": "i", "û": "u"})

_FREE_MAIL = ("gmail.com", "hotmail.com", "outlook.com", "yandex.com", "yahoo.com", "icloud.com",
              "ornekmail.com", "hotmail.com.tr", "windowslive.com")
_WORK_MAIL = ("yildizlojistik.com.tr", "akyapi.com.tr", "marmaratekstil.com", "egegida.com.tr",
              "ogr.ornekuniversite.edu.tr", "belediye.example.gov.tr", "anatolyayazilim.com")


def ascii_fold(text: str) -> str:
    """Lower-case and strip Turkish diacritics, the way people build e-mail local parts."""
    return tr_lower(text).translate(_FOLD)


def email_for(rng: random.Random, person: Person, birth_year: int) -> str:
    first = ascii_fold(person.first).replace(" ", "")
    first_only = ascii_fold(person.first.split(" ")[0])
    last = ascii_fold(person.last).replace(" ", "").replace("'", "")
    yy = f"{birth_year % 100:02d}"
    local = rng.choice((
        f"{first}.{last}", f"{first}{last}", f"{first}.{last}{yy}", f"{first_only}{last}{birth_year}",
        f"{first_only[0]}.{last}", f"{last}.{first_only}", f"{first_only}_{last}", f"{first_only}{yy}",
    ))
    domain = rng.choice(_WORK_MAIL) if rng.random() < 0.15 else rng.choice(_FREE_MAIL)
    if person.english and rng.random() < 0.5:
        domain = rng.choice(("gmail.com", "outlook.com", "yahoo.co.uk", "proton.me", "icloud.com"))
    address = f"{local}@{domain}"
    return address.capitalize() if rng.random() < 0.05 else address


# --- dates of birth -----------------------------------------------------------------------

# The shared month table (pipeline.text), capitalised as written in a sentence.
TR_MONTHS = tuple(tr_title(month) for month in _TR_MONTH_NAMES)
EN_MONTHS = tuple(month.capitalize() for month in _EN_MONTH_NAMES)


def new_birth_date(rng: random.Random) -> dt.date:
    year = rng.randint(1950, 2005)
    month = rng.randint(1, 12)
    return dt.date(year, month, rng.randint(1, calendar.monthrange(year, month)[1]))


def spell_date(rng: random.Random, day: dt.date, english: bool = False) -> str:
    d, m, y = day.day, day.month, day.year
    if english:
        return rng.choice((
            f"{EN_MONTHS[m - 1]} {d}, {y}", f"{d} {EN_MONTHS[m - 1]} {y}", f"{y}-{m:02d}-{d:02d}",
            f"{d:02d}/{m:02d}/{y}",
        ))
    return rng.choices(
        (f"{d:02d}.{m:02d}.{y}", f"{d:02d}/{m:02d}/{y}", f"{d} {TR_MONTHS[m - 1]} {y}", f"{y}-{m:02d}-{d:02d}",
         f"{d}.{m}.{y}"),
        weights=(5, 2, 3, 1, 1),
    )[0]
