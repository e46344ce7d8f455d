"""Turkish provinces (il) and districts (ilçe), for the address recognizer.

The 81 provinces are written out below in plate-code order (Law 5442 and the laws that
created each province; list kept by the Ministry of Interior, https://www.e-icisleri.gov.tr).
The ~950 district names come from ``lokasyon.txt`` in the installed ``ayikla``
distribution — read as a data file, the package is never imported. That file lists
the provinces first, then each province's districts ending with "<il>-il merkezi", then
villages and neighbourhoods, which we do not use (too many ordinary words). Without
``ayikla`` the district set is empty and addresses still end on a province.

>>> len(PROVINCES), PROVINCES[34 - 1], PROVINCES[81 - 1]
(81, 'istanbul', 'düzce')
>>> is_place("İSTANBUL"), is_place("Ankara'da"), is_place("Merhaba")
(True, False, False)
"""

from __future__ import annotations

import importlib.metadata
from functools import lru_cache

from pipeline.text import tr_lower

# Index i holds plate code i + 1.
PROVINCES: tuple[str, ...] = (
    "adana", "adıyaman", "afyonkarahisar", "ağrı", "amasya", "ankara", "antalya", "artvin",
    "aydın", "balıkesir", "bilecik", "bingöl", "bitlis", "bolu", "burdur", "bursa",
    "çanakkale", "çankırı", "çorum", "denizli", "diyarbakır", "edirne", "elazığ", "erzincan",
    "erzurum", "eskişehir", "gaziantep", "giresun", "gümüşhane", "hakkari", "hatay", "ısparta",
    "mersin", "istanbul", "izmir", "kars", "kastamonu", "kayseri", "kırklareli", "kırşehir",
    "kocaeli", "konya", "kütahya", "malatya", "manisa", "kahramanmaraş", "mardin", "muğla",
    "muş", "nevşehir", "niğde", "ordu", "rize", "sakarya", "samsun", "siirt",
    "sinop", "sivas", "tekirdağ", "tokat", "trabzon", "tunceli", "şanlıurfa", "uşak",
    "van", "yozgat", "zonguldak", "aksaray", "bayburt", "karaman", "kırıkkale", "batman",
    "şırnak", "bartın", "ardahan", "ığdır", "yalova", "karabük", "kilis", "osmaniye",
    "düzce",
)  # fmt: skip
# Spellings people also use, and the country itself, which often closes an address.
OTHER_PLACE_NAMES = frozenset({"hakkâri", "isparta", "igdir", "ığdir", "türkiye", "turkiye", "turkey", "kktc"})

# District names that are ordinary words far more often than places.
_NOT_DISTRICTS = frozenset({"merkez", "of"})


@lru_cache(maxsize=1)
def districts() -> frozenset[str]:
    """District names (tr-lower-cased) read from ``ayikla``'s ``lokasyon.txt``; empty if absent."""
    try:
        path = importlib.metadata.distribution("ayikla").locate_file("ayikla/lokasyon.txt")
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except (importlib.metadata.PackageNotFoundError, OSError):
        return frozenset()
    merkez_lines = [i for i, line in enumerate(lines) if line.endswith("-il merkezi")]
    if len(lines) < len(PROVINCES) or not merkez_lines:
        return frozenset()
    district_lines = lines[len(PROVINCES) : merkez_lines[-1] + 1]
    return frozenset(
        name for name in district_lines if name and "merkez" not in name and name not in _NOT_DISTRICTS
    )


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    return frozenset(PROVINCES) | OTHER_PLACE_NAMES | districts()


def is_place(word: str) -> bool:
    """Whether ``word`` is a Turkish province or district name (any case)."""
    return tr_lower(word) in place_names()
