"""Surrogates: keyed, consistent, format-preserving, and never a real identifier."""

from __future__ import annotations

import datetime as dt
import doctest
import ipaddress
import re
import time

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban, luhn
from stdnum.tr import tckimlik, vkn

from pipeline.entities import ENTITY_TYPES
from pipeline.keys import PseudonymKey
from pipeline.anonymize import surrogates
from pipeline.anonymize.surrogates import generalize, mask, placeholder, pseudonymize
from pipeline.text import tr_lower, tr_title, tr_upper

KEY = PseudonymKey(b"test-key-0123456789abcdef-0123456")
OTHER_KEY = PseudonymKey(b"another-key-0123456789abcdef-0123")
PHONE_FORMATS = [
    "0532 123 45 67",
    "05321234567",
    "+90 532 123 4567",
    "(0212) 555 12 34",
    "0 (216) 444 55 66",
    "532-123-45-67",
    "+905321234567",
]
FOREIGN_PHONES = ["+1 212 555 0123", "+44 20 7946 0958", "+49 30 12345678", "+33 1 42 68 53 00"]
DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]


def shape(text: str) -> str:
    """Digits → d, letters → a: the written format without the values."""
    return re.sub(r"[^\W\d_]", "a", re.sub(r"\d", "d", text))


def _tokens(text: str) -> list[str]:
    return text.split()


# --------------------------------------------------------------------------- keyed and consistent


@pytest.mark.parametrize(
    ("entity_type", "spellings"),
    [
        ("TR_NATIONAL_ID", ["123 456 789 50", "12345678950", "123-456-789-50"]),
        ("PERSON", ["Ayşe Yılmaz", "AYŞE YILMAZ", "ayşe  yılmaz"]),
        ("EMAIL_ADDRESS", ["Ayse.Yilmaz@Gmail.com", "ayse.yilmaz@gmail.com"]),
        ("IBAN_CODE", ["TR33 0006 1005 1978 6457 8413 26", "tr330006100519786457841326"]),
        ("DATE_OF_BIRTH", ["12.03.1985", "12 Mart 1985", "1985-03-12", "March 12, 1985"]),
    ],
)
def test_same_value_in_any_spelling_gets_the_same_surrogate(entity_type, spellings):
    canonical = {
        "TR_NATIONAL_ID": lambda s: re.sub(r"\D", "", s),
        "PERSON": lambda s: " ".join(tr_lower(s).split()),
        "EMAIL_ADDRESS": str.casefold,
        "IBAN_CODE": lambda s: re.sub(r"\W", "", s).upper(),
        "DATE_OF_BIRTH": lambda s: surrogates.dates._parse_date(s).date,
    }[entity_type]
    results = {canonical(pseudonymize(KEY, entity_type, s)) for s in spellings}
    assert len(results) == 1, results


def test_same_phone_in_every_format_gets_the_same_number():
    numbers = set()
    for written in PHONE_FORMATS[:3] + PHONE_FORMATS[5:]:  # all the same 0532 123 45 67
        new = pseudonymize(KEY, "PHONE_NUMBER", written)
        numbers.add(phonenumbers.national_significant_number(phonenumbers.parse(new, "TR")))
    assert len(numbers) == 1, numbers


def test_repeated_calls_and_a_reloaded_key_give_identical_surrogates():
    reloaded = PseudonymKey(bytes(KEY.secret))
    samples = [("PERSON", "Ayşe Yılmaz"), ("PHONE_NUMBER", "0532 123 45 67"), ("ADDRESS", "Gazi Mah.")]
    for entity_type, value in samples:
        first = pseudonymize(KEY, entity_type, value)
        assert pseudonymize(KEY, entity_type, value) == first
        assert pseudonymize(reloaded, entity_type, value) == first


@pytest.mark.parametrize(
    ("entity_type", "value"),
    [
        ("PERSON", "Ayşe Yılmaz"),
        ("TR_NATIONAL_ID", "17291716060"),
        ("TR_TAX_ID", "1234567890"),
        ("IBAN_CODE", "TR33 0006 1005 1978 6457 8413 26"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("PHONE_NUMBER", "0532 123 45 67"),
        ("EMAIL_ADDRESS", "ayse@example.net"),
        ("DATE_OF_BIRTH", "12.03.1985"),
        ("IP_ADDRESS", "10.1.2.3"),
        ("URL", "https://shop.example.net/orders/123"),
        ("TR_LICENSE_PLATE", "34 ABC 123"),
        ("PASSPORT", "U12345678"),
    ],
)
def test_a_different_key_gives_a_different_surrogate(entity_type, value):
    assert pseudonymize(KEY, entity_type, value) != pseudonymize(OTHER_KEY, entity_type, value)


def test_an_empty_key_is_refused():
    with pytest.raises(ValueError, match="empty"):
        pseudonymize(PseudonymKey(b""), "PERSON", "Ayşe")


# --------------------------------------------------------------------------- identifiers


def _valid_tckn(body: int) -> str:
    nine = str(body)
    return nine + tckimlik.calc_check_digits(nine)


@settings(max_examples=300, deadline=None)
@given(st.integers(100_000_000, 999_999_999), st.sampled_from(["{}", "{} {} {} {}", "{}-{}-{}-{}"]))
def test_tckn_surrogates_are_11_digits_first_nonzero_fail_the_checksum_and_keep_grouping(body, layout):
    tckn = _valid_tckn(body)
    written = layout.format(tckn) if layout == "{}" else layout.format(tckn[:3], tckn[3:6], tckn[6:9], tckn[9:])
    assert tckimlik.is_valid(tckn)
    new = pseudonymize(KEY, "TR_NATIONAL_ID", written)
    digits = re.sub(r"\D", "", new)
    assert len(digits) == 11 and digits[0] != "0"
    assert not tckimlik.is_valid(digits)
    assert shape(new) == shape(written)
    assert digits != tckn


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 999_999_999))
def test_vkn_surrogates_fail_the_check_digit_and_keep_shape(body):
    nine = f"{body:09d}"
    number = nine + vkn.calc_check_digit(nine)
    new = pseudonymize(KEY, "TR_TAX_ID", number)
    assert re.fullmatch(r"\d{10}", new)
    assert not vkn.is_valid(new)
    assert new != number


@pytest.mark.parametrize(
    "written",
    [
        "TR33 0006 1005 1978 6457 8413 26",
        "TR330006100519786457841326",
        "tr33 0006 1005 1978 6457 8413 26",
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
    ],
)
def test_iban_surrogates_keep_country_length_grouping_and_case_but_fail_the_check(written):
    assert iban.is_valid(written)
    new = pseudonymize(KEY, "IBAN_CODE", written)
    assert new[:2] == written[:2]
    assert shape(new) == shape(written)
    assert [c.islower() for c in new] == [c.islower() for c in written]
    assert not iban.is_valid(new)
    if written.upper().startswith("TR"):  # the reserved digit after the bank code stays 0
        assert iban.compact(new)[9] == "0"


@settings(max_examples=200, deadline=None)
@given(st.integers(12, 18).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)), st.booleans())
def test_card_surrogates_keep_length_and_grouping_and_fail_luhn(body, grouped):
    number = "4" + body[1:] + luhn.calc_check_digit("4" + body[1:])
    written = " ".join(number[i : i + 4] for i in range(0, len(number), 4)) if grouped else number
    new = pseudonymize(KEY, "CREDIT_CARD", written)
    assert shape(new) == shape(written)
    assert not luhn.is_valid(re.sub(r"\D", "", new))
    assert new[0] == "4"  # the network digit is kept; the issuer is not


@pytest.mark.parametrize("written", PHONE_FORMATS + FOREIGN_PHONES)
def test_phone_surrogates_keep_the_written_format_and_are_not_valid_numbers(written):
    assert phonenumbers.is_valid_number(phonenumbers.parse(written, "TR"))
    new = pseudonymize(KEY, "PHONE_NUMBER", written)
    assert shape(new) == shape(written)
    assert not phonenumbers.is_valid_number(phonenumbers.parse(new, "TR"))
    prefix = re.match(r"\D*(\+\d{1,2}|0)?", written).group()  # +90, +1 or the trunk 0 stays as written
    assert new.startswith(prefix)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["530", "532", "541", "505", "555", "212", "216", "312", "232"]), st.integers(0, 9_999_999))
def test_phone_surrogates_of_many_turkish_numbers_are_never_valid(operator, subscriber):
    written = f"0{operator} {subscriber:07d}"
    new = pseudonymize(KEY, "PHONE_NUMBER", written)
    assert not phonenumbers.is_valid_number(phonenumbers.parse(new, "TR"))
    assert new[:2] == written[:2]  # a mobile stays a 05xx, a landline a 02xx/03xx


def test_license_plates_keep_their_shape_and_use_turkish_plate_letters():
    for written in ("34 ABC 123", "06 A 1234", "35AB123", "16 ab 4567"):
        new = pseudonymize(KEY, "TR_LICENSE_PLATE", written)
        assert shape(new) == shape(written)
        assert [c.islower() for c in new] == [c.islower() for c in written]
        assert 1 <= int(new[:2]) <= 81
        assert not set(re.sub(r"[\d\s]", "", new).upper()) & set("QWXÇĞİÖŞÜ")
        assert new != written


def test_passports_keep_letter_plus_eight_digits():
    new = pseudonymize(KEY, "PASSPORT", "U12345678")
    assert re.fullmatch(r"[A-Z]\d{8}", new) and new != "U12345678"


# --------------------------------------------------------------------------- e-mail, web, IP


@pytest.mark.parametrize("written", ["ayse.yilmaz85@gmail.com", "info@firma.com.tr", "John.Smith@corp.example.net"])
def test_email_surrogates_are_at_a_reserved_domain_and_hide_the_local_part(written):
    new = pseudonymize(KEY, "EMAIL_ADDRESS", written)
    local, _, domain = new.partition("@")
    assert domain in ("example.com", "example.org")
    assert local and local != written.partition("@")[0].lower()
    assert re.fullmatch(r"[a-z0-9._+-]+", local)


def test_email_with_a_name_follows_the_person_surrogate():
    person = pseudonymize(KEY, "PERSON", "Ayşe Yılmaz")
    local = pseudonymize(KEY, "EMAIL_ADDRESS", "ayse.yilmaz@gmail.com").partition("@")[0]
    folded = tr_lower(person).translate(str.maketrans("çğıöşüâîû", "cgiosuaiu"))
    assert local == folded.replace(" ", ".")


@pytest.mark.parametrize("written", ["192.168.1.10", "8.8.8.8", "10.0.0.1", "fe80::1", "2a00:1450:4017:80b::200e"])
def test_ip_surrogates_are_in_the_documentation_ranges(written):
    new = ipaddress.ip_address(pseudonymize(KEY, "IP_ADDRESS", written))
    assert new.version == ipaddress.ip_address(written).version
    assert any(new in net for net in DOC_NETS if net.version == new.version)


def test_urls_become_example_com_paths():
    new = pseudonymize(KEY, "URL", "https://www.trendyol.com/siparis/123?kullanici=ayse")
    assert re.fullmatch(r"https://example\.com/[0-9a-f]{8}", new)


# --------------------------------------------------------------------------- names


def _pool_spellings(pool) -> set[str]:
    return {tr_lower(n) for n in (*pool.given, *pool.surnames)}


@pytest.mark.parametrize("name", ["Ayşe Yılmaz", "Mehmet Öztürk", "Şükrü Çelik", "İlker Işık"])
def test_turkish_names_stay_turkish(name):
    pool = _pool_spellings(surrogates.turkish_names())
    new = pseudonymize(KEY, "PERSON", name)
    for token in _tokens(new):
        assert tr_lower(token) in pool, token


def test_english_names_become_english_names():
    english = surrogates.english_names()
    given_name, surname = _tokens(pseudonymize(KEY, "PERSON", "John Smith"))
    assert given_name in english.given and surname in english.surnames


def test_the_name_pools_come_from_ayikla_and_faker():
    turkish, english = surrogates.turkish_names(), surrogates.english_names()
    assert len(turkish.given) > 2000 and len(turkish.surnames) == 3000
    assert "Ayşe" in turkish.given and "Öztürk" in turkish.surnames
    assert list(turkish.given) == sorted(turkish.given) and list(english.surnames) == sorted(english.surnames)
    assert "Smith" in english.surnames


@pytest.mark.parametrize(
    ("written", "check"),
    [
        ("AYŞE", lambda s: s == tr_upper(s)),
        ("ayşe", lambda s: s == tr_lower(s)),
        ("Ayşe", lambda s: s[0] == tr_upper(s[0]) and s[1:] == tr_lower(s[1:])),
        ("YILMAZ", lambda s: s == tr_upper(s)),
        ("JOHN", str.isupper),
        ("john", str.islower),
    ],
)
def test_the_casing_shape_is_kept(written, check):
    new = pseudonymize(KEY, "PERSON", written)
    assert check(new), new


def test_upper_case_turkish_is_answered_with_turkish_upper_case():
    # "İ" and "I" must come from tr_upper: "İLKER", never "ILKER" for İlker.
    for name in surrogates.turkish_names().given[:300]:
        new = pseudonymize(KEY, "PERSON", tr_upper(name))
        assert new == tr_upper(new) and "i" not in new and "ı" not in new


def test_a_given_name_maps_the_same_alone_with_a_surname_and_with_an_honorific():
    alone = pseudonymize(KEY, "PERSON", "Ayşe")
    assert _tokens(pseudonymize(KEY, "PERSON", "Ayşe Yılmaz"))[0] == alone
    assert _tokens(pseudonymize(KEY, "PERSON", "Ayşe Hanım")) == [alone, "Hanım"]
    assert tr_lower(_tokens(pseudonymize(KEY, "PERSON", "AYŞE KAYA"))[0]) == tr_lower(alone)


def test_a_surname_maps_the_same_for_every_family_member():
    assert (
        _tokens(pseudonymize(KEY, "PERSON", "Ayşe Yılmaz"))[-1]
        == _tokens(pseudonymize(KEY, "PERSON", "Mehmet Ali Yılmaz"))[-1]
    )


def test_a_name_typed_without_turkish_letters_maps_like_the_proper_spelling_and_stays_ascii():
    proper = pseudonymize(KEY, "PERSON", "Ayşe Yılmaz")
    typed = pseudonymize(KEY, "PERSON", "Ayse Yilmaz")
    assert typed.isascii()
    assert typed == proper.translate(str.maketrans("çğıöşüÇĞİÖŞÜ", "cgiosuCGIOSU"))


def test_a_case_suffix_after_an_apostrophe_is_kept():
    new = pseudonymize(KEY, "PERSON", "Ayşe'nin")
    assert new.endswith("'nin") and new[:-4] == pseudonymize(KEY, "PERSON", "Ayşe")


@pytest.mark.parametrize(
    ("name", "pool"),
    [("Ayşe", "female"), ("Zeynep", "female"), ("Mehmet", "male"), ("Mary", "female"), ("James", "male")],
)
def test_common_names_keep_their_gender(name, pool):
    names = surrogates.turkish_names() if name in ("Ayşe", "Zeynep", "Mehmet") else surrogates.english_names()
    assert pseudonymize(KEY, "PERSON", name) in getattr(names, pool)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_name_never_maps_to_itself(data):
    pool = data.draw(st.sampled_from([surrogates.turkish_names(), surrogates.english_names()]))
    first = data.draw(st.sampled_from(pool.given))
    last = data.draw(st.sampled_from(pool.surnames))
    for written in (first, f"{first} {last}"):
        new = pseudonymize(KEY, "PERSON", written)
        for old_token, new_token in zip(_tokens(written), _tokens(new), strict=True):
            assert tr_lower(old_token) != tr_lower(new_token)


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "written",
    ["12.03.1985", "12/03/1985", "1985-03-12", "12 Mart 1985", "March 12, 1985", "5 ŞUBAT 2021", "Mayıs 2020",
     "3.7.85"],
)
def test_dates_keep_their_format_and_change(written):
    new = pseudonymize(KEY, "DATE_OF_BIRTH", written)
    assert new != written
    old_date, new_date = surrogates.dates._parse_date(written), surrogates.dates._parse_date(new)
    assert new_date is not None and new_date.kind == old_date.kind
    assert re.sub(r"[^\W\d_]+", "a", shape(new)) == re.sub(r"[^\W\d_]+", "a", shape(written))
    assert new_date.date < old_date.date  # a birth date only moves back: never in the future


def test_date_shift_is_between_30_and_3650_days():
    for day in range(1, 29):
        written = f"{day:02d}.06.1990"
        new = pseudonymize(KEY, "DATE_TIME", written)
        shift = surrogates.dates._parse_date(written).date - surrogates.dates._parse_date(new).date
        assert 30 <= abs(shift.days) <= 3650


def test_month_names_stay_in_their_language_and_case():
    assert re.fullmatch(r"\d{1,2} [A-ZÇĞİÖŞÜ]+ \d{4}", pseudonymize(KEY, "DATE_TIME", "12 MART 1985"))
    turkish = {tr_title(m) for m in surrogates.dates._TR_MONTHS}
    english = {dt.date(2000, m, 1).strftime("%B") for m in range(1, 13)}
    assert pseudonymize(KEY, "DATE_TIME", "12 Mart 1985").split()[1] in turkish
    assert pseudonymize(KEY, "DATE_TIME", "March 12, 1985").split()[0] in english


def test_one_month_table_serves_surrogates_recognizer_and_sample():
    from pipeline import text
    from pipeline.sample import people
    from pipeline.scan.recognizers.date_of_birth import MONTHS, month_key

    assert surrogates.dates._TR_MONTHS is text.TR_MONTHS and surrogates.dates._EN_MONTHS is text.EN_MONTHS
    assert surrogates.dates._TR_MONTHS_SHORT is text.TR_MONTHS_SHORT
    assert surrogates.dates._EN_MONTHS_SHORT is text.EN_MONTHS_SHORT
    assert people.TR_MONTHS == tuple(tr_title(m) for m in text.TR_MONTHS) and people.TR_MONTHS[7] == "Ağustos"
    assert people.EN_MONTHS[0] == "January"
    for number, names in enumerate(zip(text.TR_MONTHS, text.TR_MONTHS_SHORT, text.EN_MONTHS, text.EN_MONTHS_SHORT), 1):
        assert all(MONTHS[month_key(name)] == number for name in names)
    assert MONTHS["subat"] == 2 and MONTHS["agustos"] == 8 and MONTHS["eylul"] == 9 and MONTHS["sept"] == 9


@pytest.mark.parametrize("written", ["yarın", "geçen salı", "31.02.1985"])
def test_an_unreadable_date_becomes_a_placeholder(written):
    assert pseudonymize(KEY, "DATE_TIME", written) == "<DATE>"
    assert pseudonymize(KEY, "DATE_OF_BIRTH", written) == "<DOB>"


# --------------------------------------------------------------------------- places, organisations


def test_a_turkish_address_becomes_a_synthetic_turkish_address():
    written = "Atatürk Mah. Gazi Cad. No:12 D:5 Çankaya/Ankara"
    new = pseudonymize(KEY, "ADDRESS", written)
    assert re.fullmatch(r"[\w ]+ Mah\. [\w ]+ Cad\. No:\d+ D:\d+ \w+/\w+", new), new
    assert not {"atatürk", "gazi", "çankaya", "ankara"} & set(re.findall(r"\w+", tr_lower(new)))


def test_an_english_address_becomes_an_english_address():
    assert re.fullmatch(r"\d+ \w+ Street, \w+", pseudonymize(KEY, "ADDRESS", "221B Baker Street, London"))


def test_a_place_maps_the_same_however_its_i_is_typed():
    spellings = ("İstanbul", "İSTANBUL", "Istanbul", "ISTANBUL", "istanbul")
    forms = {tr_lower(pseudonymize(KEY, "LOCATION", w)) for w in spellings}
    assert len({f.translate(str.maketrans("çğıöşü", "cgiosu")) for f in forms}) == 1, forms


def test_text_typed_without_turkish_letters_is_answered_without_them_and_only_then():
    assert pseudonymize(KEY, "ADDRESS", "Ataturk Mah. Gazi Cad. No:12 Cankaya/Ankara").isascii()
    assert pseudonymize(KEY, "ORGANIZATION", "Ege Gida A.S.").startswith("Ornek ")
    # Correct Turkish that happens to be ASCII is not "typed without diacritics".
    assert not surrogates.places._typed_without_diacritics("Gazi Mahallesi Lale Sokak Kat 3 Daire 5")
    assert surrogates.places._typed_without_diacritics("GAZI MAH. ISTANBUL")


def test_locations_and_organisations_get_locale_matching_stand_ins():
    assert pseudonymize(KEY, "LOCATION", "Ankara") in surrogates.places._province_names()
    assert pseudonymize(KEY, "LOCATION", "Paris") in surrogates.places._EN_CITIES
    assert re.fullmatch(r"Örnek \w+ \w+ A\.Ş\.", pseudonymize(KEY, "ORGANIZATION", "Ege Gıda A.Ş."))
    assert re.fullmatch(r"Example \w+ \w+ Inc\.", pseudonymize(KEY, "ORGANIZATION", "Acme Inc."))


# --------------------------------------------------------------------------- placeholders, mask, generalize


@pytest.mark.parametrize(
    ("entity_type", "tag"),
    [
        ("TR_NATIONAL_ID", "<TCKN>"),
        ("PHONE_NUMBER", "<PHONE>"),
        ("SPECIAL:HEALTH", "<SPECIAL>"),
        ("NRP", "<PII>"),
        ("SOMETHING", "<PII>"),
    ],
)
def test_placeholders_are_short_tags(entity_type, tag):
    assert placeholder(entity_type) == tag


def test_types_without_a_surrogate_rule_get_their_placeholder():
    assert pseudonymize(KEY, "SPECIAL:HEALTH", "diyabet") == "<SPECIAL>"
    assert pseudonymize(KEY, "NRP", "Kürt") == "<PII>"


def test_mask_keeps_separators_and_the_last_characters():
    assert mask("0532 123 45 67", keep_last=2) == "**** *** ** 67"
    assert mask("TR33-0006", keep_last=4, char="#") == "####-0006"
    assert mask("ayse@example.com", keep_last=0) == "****@*******.***"


def test_mask_never_shows_a_short_value_whole():
    assert mask("1234", keep_last=4) == "**34"
    with pytest.raises(ValueError):
        mask("1234", keep_last=-1)


@pytest.mark.parametrize(
    ("entity_type", "value", "expected"),
    [
        ("DATE_OF_BIRTH", "12.03.1985", "1985"),
        ("DATE_OF_BIRTH", "12 Mart 1985", "1985"),
        ("DATE_TIME", "March 12, 1985", "1985"),
        ("DATE_TIME", "yarın", None),
        ("ADDRESS", "Atatürk Mah. Gazi Cad. No:12 D:5 Çankaya/Ankara", "Ankara"),
        ("ADDRESS", "Bağdat Cad. No:5 Kadıköy İSTANBUL", "İstanbul"),
        ("ADDRESS", "221B Baker Street, London", "London"),
        ("ADDRESS", "Gazi Cad. No:12", None),
        ("LOCATION", "Kadıköy", "Kadıköy"),
        ("PHONE_NUMBER", "0532 123 45 67", "0532 *** ** **"),
        ("PHONE_NUMBER", "+90 532 123 4567", "+90 532 *** ****"),
        ("PHONE_NUMBER", "(0212) 555 12 34", "(0212) *** ** **"),
        ("TR_NATIONAL_ID", "17291716060", None),
    ],
)
def test_generalize_examples(entity_type, value, expected):
    assert generalize(entity_type, value) == expected


# --------------------------------------------------------------------------- for every type

SAMPLES = [
    ("PERSON", "Ayşe Yılmaz"),
    ("PERSON", "Dr. John Smith"),
    ("TR_NATIONAL_ID", "123 456 789 50"),
    ("TR_TAX_ID", "1234567890"),
    ("IBAN_CODE", "TR33 0006 1005 1978 6457 8413 26"),
    ("CREDIT_CARD", "4111 1111 1111 1111"),
    ("PHONE_NUMBER", "0532 123 45 67"),
    ("EMAIL_ADDRESS", "ayse.yilmaz85@gmail.com"),
    ("TR_LICENSE_PLATE", "34 ABC 123"),
    ("PASSPORT", "U12345678"),
    ("DATE_OF_BIRTH", "12 Mart 1985"),
    ("DATE_TIME", "2024-01-15 10:30"),
    ("ADDRESS", "Atatürk Mah. Gazi Cad. No:12 D:5 Çankaya/Ankara"),
    ("IP_ADDRESS", "192.168.1.10"),
    ("URL", "https://www.example.net/a"),
    ("LOCATION", "İzmir"),
    ("ORGANIZATION", "Ege Gıda A.Ş."),
    ("NRP", "Kürt"),
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SAMPLES), st.binary(min_size=16, max_size=64))
def test_the_surrogate_never_equals_the_input(sample, secret):
    entity_type, value = sample
    assert pseudonymize(PseudonymKey(secret), entity_type, value) != value


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(ENTITY_TYPES),
    st.text(st.characters(codec="utf-8") | st.sampled_from(list("0123456789 +-./:@'ıİşŞ")), max_size=40),
)
def test_any_text_of_any_type_gets_a_string_back_and_never_itself(entity_type, value):
    new = pseudonymize(KEY, entity_type, value)
    assert isinstance(new, str)
    assert new != value or not value.strip()
    generalize(entity_type, value)  # must not raise either


@pytest.mark.parametrize(
    ("entity_type", "value"),
    [
        ("TR_NATIONAL_ID", "--"),
        ("TR_TAX_ID", "/"),
        ("CREDIT_CARD", "7"),
        ("IBAN_CODE", "-"),
        ("PASSPORT", "#"),
        ("PERSON", "Bey"),
    ],
)
def test_a_value_with_nothing_to_replace_gets_its_placeholder(entity_type, value):
    assert pseudonymize(KEY, entity_type, value) == placeholder(entity_type)


def test_a_time_and_zone_after_the_date_are_kept():
    new = pseudonymize(KEY, "DATE_TIME", "2024-01-15T10:30:00Z")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T10:30:00Z", new) and not new.startswith("2024-01-15")


def test_surrounding_whitespace_is_kept():
    assert re.fullmatch(r" \S+ \S+\n", pseudonymize(KEY, "PERSON", " Ayşe Yılmaz\n"))


def test_each_call_takes_well_under_a_millisecond():
    for entity_type, value in SAMPLES:
        pseudonymize(KEY, entity_type, value)  # build pools and caches once
    start = time.perf_counter()
    rounds = 50
    for _ in range(rounds):
        for entity_type, value in SAMPLES:
            pseudonymize(KEY, entity_type, value)
    per_call = (time.perf_counter() - start) / (rounds * len(SAMPLES))
    assert per_call < 1e-3, f"{per_call * 1e6:.0f} µs per call"


def test_the_module_docstring_examples_hold():
    failures, tried = doctest.testmod(surrogates)
    assert tried > 0 and failures == 0
