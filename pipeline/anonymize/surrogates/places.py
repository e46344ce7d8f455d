"""LOCATION, ADDRESS and ORGANIZATION surrogates, Turkish or English by the original's language."""

from __future__ import annotations

from typing import TypeVar

import re
from functools import lru_cache

from pipeline import entities as E
from pipeline.anonymize.surrogates.base import _Draws, _apply_shape, _case_shape, _fold, _is_turkish_text, _key_form, _split_suffix
from pipeline.anonymize.surrogates.names import turkish_names
from pipeline.fingerprint import normalize
from pipeline.keys import PseudonymKey
from pipeline.text import tr_lower, tr_title

_T = TypeVar("_T")

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
    from pipeline.scan.recognizers import places

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
