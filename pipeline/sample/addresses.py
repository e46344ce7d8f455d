"""Turkish postal addresses in the shapes people write them.

Faker's ``tr_TR`` addresses are US-shaped ("123 Cadde, Suite 4"), which no Turkish
detector should have to recognise. A Turkish address is built from a neighbourhood
(mahalle), a street (cadde/sokak), a building number, a flat (daire) or floor (kat), a
district (ilçe) and a province (il); the five-digit postal code starts with the
province's plate code. The districts below are real and belong to the province they are
listed with; the neighbourhood and street names are common ones found in many cities.

>>> import random
>>> a = new_address(random.Random(3))
>>> a.postal_code[:2] == a.plate_code
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.text import tr_lower

# (province, plate code, district) — real pairs.
DISTRICTS = (
    ("İstanbul", "34", "Kadıköy"), ("İstanbul", "34", "Beşiktaş"), ("İstanbul", "34", "Üsküdar"),
    ("İstanbul", "34", "Şişli"), ("İstanbul", "34", "Bakırköy"), ("İstanbul", "34", "Ataşehir"),
    ("İstanbul", "34", "Maltepe"), ("İstanbul", "34", "Esenyurt"), ("İstanbul", "34", "Beylikdüzü"),
    ("İstanbul", "34", "Fatih"), ("İstanbul", "34", "Sarıyer"), ("İstanbul", "34", "Pendik"),
    ("Ankara", "06", "Çankaya"), ("Ankara", "06", "Keçiören"), ("Ankara", "06", "Yenimahalle"),
    ("Ankara", "06", "Etimesgut"), ("Ankara", "06", "Mamak"), ("İzmir", "35", "Konak"),
    ("İzmir", "35", "Karşıyaka"), ("İzmir", "35", "Bornova"), ("İzmir", "35", "Buca"),
    ("Bursa", "16", "Nilüfer"), ("Bursa", "16", "Osmangazi"), ("Antalya", "07", "Muratpaşa"),
    ("Antalya", "07", "Konyaaltı"), ("Adana", "01", "Seyhan"), ("Adana", "01", "Çukurova"),
    ("Konya", "42", "Selçuklu"), ("Konya", "42", "Meram"), ("Eskişehir", "26", "Tepebaşı"),
    ("Eskişehir", "26", "Odunpazarı"), ("Kocaeli", "41", "İzmit"), ("Kocaeli", "41", "Gebze"),
    ("Gaziantep", "27", "Şahinbey"), ("Gaziantep", "27", "Şehitkamil"), ("Kayseri", "38", "Melikgazi"),
    ("Kayseri", "38", "Talas"), ("Trabzon", "61", "Ortahisar"), ("Samsun", "55", "Atakum"),
    ("Diyarbakır", "21", "Kayapınar"), ("Mersin", "33", "Yenişehir"), ("Mersin", "33", "Mezitli"),
    ("Muğla", "48", "Bodrum"), ("Denizli", "20", "Pamukkale"), ("Sakarya", "54", "Adapazarı"),
    ("Erzurum", "25", "Yakutiye"), ("Hatay", "31", "Antakya"),
)

NEIGHBOURHOODS = (
    "Atatürk", "Cumhuriyet", "Fatih", "Yenişehir", "Merkez", "İnönü", "Bahçelievler", "Fevzi Çakmak",
    "Hürriyet", "Yıldırım Beyazıt", "Esentepe", "Kocatepe", "Barbaros", "Mimar Sinan", "Gazi Osman Paşa",
    "Kazım Karabekir", "Mevlana", "Yunus Emre", "Zafer", "Güzelyalı", "Caferağa", "Osmanağa", "Çamlık",
    "Yeşilyurt", "Sahrayıcedit", "Göztepe", "Kültür", "Alsancak", "Emek", "Bağlarbaşı",
)
AVENUES = (
    "Atatürk", "Cumhuriyet", "İstiklal", "Gazi", "İnönü", "Bağdat", "Fevzi Çakmak", "Mithatpaşa",
    "Kazım Karabekir", "Barış", "Menderes", "Ankara", "Halaskargazi", "Büyükdere", "Kıbrıs Şehitleri",
    "Talatpaşa", "Millet", "Şehit Piyade Er Ali Kaya",
)
STREETS = (
    "Gül", "Lale", "Menekşe", "Papatya", "Çınar", "Akasya", "Zambak", "Kardelen", "Ihlamur", "Söğüt",
    "Leylak", "Nergis", "Orkide", "Sedir", "Karanfil", "Gazi", "Güneş", "Yıldız", "Dere", "Okul",
    "Cami", "Pınar", "Fırın", "Bahar",
)
SITES = ("Yeşilvadi", "Güneş Konutları", "Park Evleri", "Mavi Kent", "Çamlıca", "Zambak", "Boğaziçi", "Lale Bahçe")


@dataclass(frozen=True)
class Address:
    neighbourhood: str
    avenue: str | None  # a cadde, or None when the street is a sokak
    street: str
    number: int
    flat: int
    floor: int
    district: str
    province: str
    plate_code: str
    postal_code: str
    site: str | None
    block: str | None


def new_address(rng: random.Random) -> Address:
    province, plate_code, district = rng.choice(DISTRICTS)
    # Real codes are "<plate><3 digits>", usually ending in 0 (34710 Kadıköy, 06680 Çankaya).
    postal = plate_code + f"{rng.randint(0, 99):02d}" + ("0" if rng.random() < 0.8 else str(rng.randint(1, 9)))
    if rng.random() < 0.2:
        street = f"{rng.randint(1, 2999)}" + (f"/{rng.randint(1, 9)}" if rng.random() < 0.3 else "") + "."
    else:
        street = rng.choice(STREETS)
    has_site = rng.random() < 0.15
    return Address(
        neighbourhood=rng.choice(NEIGHBOURHOODS),
        avenue=rng.choice(AVENUES) if rng.random() < 0.5 else None,
        street=street,
        number=rng.randint(1, 180),
        flat=rng.randint(1, 40),
        floor=rng.randint(1, 12),
        district=district,
        province=province,
        plate_code=plate_code,
        postal_code=postal,
        site=rng.choice(SITES) if has_site else None,
        block=rng.choice("ABCDEF") if has_site else None,
    )


def spell_address(rng: random.Random, a: Address, english: bool = False, casual: bool = True) -> str:
    """One surface form of ``a``; the whole string is the ADDRESS span.

    ``casual`` allows the forms only a customer types (all lower case, pasted with a line
    break); an agent reading an address back writes it tidily.
    """
    mah, no, flat, post = a.neighbourhood, a.number, a.flat, a.postal_code
    district_slash = f"{a.district}/{a.province}"
    district_space = f"{a.district} {a.province}"
    # Every spelling names the same road: the cadde when there is one, else the sokak.
    if a.avenue:
        name = a.avenue
        road, road_short, road_shortest, road_en = f"{name} Caddesi", f"{name} Cad.", f"{name} Cd.", f"{name} Avenue"
    else:
        name = a.street
        road, road_short, road_shortest, road_en = f"{name} Sokak", f"{name} Sk.", f"{name} Sk.", f"{name} Street"
    if english:
        return rng.choice((
            f"{mah} Mah., {road_en} No: {no} Flat {flat}, {post} {district_slash}",
            f"No {no}, Flat {flat}, {road_en}, {mah} District, {a.district}, {a.province} {post}, Turkey",
            f"{road_short} No:{no} D:{flat} {district_slash}",
        ))
    if a.site:  # a housing estate is part of every spelling, or the agent would read back another address
        return rng.choice((
            f"{mah} Mah. {a.site} Sitesi {a.block} Blok No:{no} D:{flat} {post} {district_slash}",
            f"{mah} Mahallesi, {road} {a.site} Sitesi {a.block} Blok Daire {flat}, {district_slash}",
            f"{a.site} Sitesi {a.block} Blok D:{flat}, {road_short} No:{no} {district_space}",
        ))
    styles = [
        f"{mah} Mah. {road_short} No:{no} D:{flat} {district_slash}",
        f"{mah} Mahallesi, {road} No: {no} Daire {flat}, {post} {district_slash}",
        f"{road_shortest} No:{no} Kat:{a.floor} {district_space}",
        f"{mah} Mh. {road_short} No:{no}/{flat} {a.district} - {a.province}",
        f"{mah} Mahallesi {road} {no}/{flat} {post} {district_space}",
    ]
    weights = [5, 4, 2, 2, 2]
    if casual:
        styles += [
            tr_lower(f"{mah} mah. {road_short} no {no} daire {flat} {district_space}"),
            f"{mah} Mah. {road_short} No:{no} D:{flat}\n{post} {district_slash}",  # pasted with its line break
        ]
        weights += [1, 1]
    return rng.choices(styles, weights=weights)[0]
