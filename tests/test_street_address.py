"""The international street-address recognizer, read as a spec.

Spans are compared exactly (the text of the one span found). Positive cases are written
the way people write addresses in mail, chat and signatures; negative ones are ordinary
sentences with a capitalised word and a number, ordinals, times and prices.
"""

from __future__ import annotations

import time

import pytest
from presidio_analyzer import RecognizerRegistry

from pipeline import entities
from pipeline.scan.recognizers import StreetAddressRecognizer, street_address_recognizer


@pytest.fixture(scope="module")
def recognizer() -> StreetAddressRecognizer:
    return street_address_recognizer("en")


def found(recognizer, text: str) -> list[str]:
    results = sorted(recognizer.analyze(text, [], None), key=lambda r: r.start)
    return [text[r.start : r.end] for r in results]


def only_result(recognizer, text: str):
    [result] = recognizer.analyze(text, [], None)
    return result


# --- what is found, and exactly where it ends ----------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # number + name + type, and what follows it on the same line
        ("Send it to 1600 Pennsylvania Ave NW, Washington, DC 20500 by Friday.",
         "1600 Pennsylvania Ave NW, Washington, DC 20500"),
        ("We moved to 58 Harrow Avenue last spring.", "58 Harrow Avenue"),
        ("The bakery is at 3170 Maple St", "3170 Maple St"),
        ("Ship to 41 Ashdown Road, Dayton, OH 45402 please", "41 Ashdown Road, Dayton, OH 45402"),
        ("Visit 350 Fifth Avenue, New York, NY 10118 today", "350 Fifth Avenue, New York, NY 10118"),
        ("221B Baker Street, London NW1 6XE", "221B Baker Street, London NW1 6XE"),
        ("Apartment 4B, 77 Sunset Blvd, Los Angeles, CA 90028", "Apartment 4B, 77 Sunset Blvd, Los Angeles, CA 90028"),
        ("Flat 3, 12 High Street, Oxford OX1 4AA", "Flat 3, 12 High Street, Oxford OX1 4AA"),
        # type first (Romance, Slavic), number after or before
        ("Lucia gave me her address: Via Garibaldi 87", "Via Garibaldi 87"),
        ("Rua Augusta 1480", "Rua Augusta 1480"),
        ("Calle de Alcalá 42, 28014 Madrid", "Calle de Alcalá 42, 28014 Madrid"),
        ("Via del Corso 12, 00186 Roma RM", "Via del Corso 12, 00186 Roma RM"),
        ("ul. Marszałkowska 10/16, 00-590 Warszawa", "ul. Marszałkowska 10/16, 00-590 Warszawa"),
        ("nadia lives at 14 rue de lorraine, near the park", "14 rue de lorraine"),
        ("7, boulevard Haussmann\n75009 Paris", "7, boulevard Haussmann\n75009 Paris"),
        ("55 Rue du Faubourg Saint-Honoré, 75008 Paris", "55 Rue du Faubourg Saint-Honoré, 75008 Paris"),
        # Germanic / Nordic / Finnish / Hungarian: type glued to the name or after it
        ("The bus station is on Koulutie 17", "Koulutie 17"),
        ("Kirkkotie 23", "Kirkkotie 23"),
        ("Prinsengracht 263, 1016 GV Amsterdam", "Prinsengracht 263, 1016 GV Amsterdam"),
        ("Drottninggatan 5, 111 51 Stockholm", "Drottninggatan 5, 111 51 Stockholm"),
        ("Passauer Strasse 33, 94032 Passau", "Passauer Strasse 33, 94032 Passau"),
        ("I live at Karl Johans gate 5, 0154 Oslo.", "Karl Johans gate 5, 0154 Oslo"),
        ("Andrássy út 60, 1062 Budapest", "Andrássy út 60, 1062 Budapest"),
        ("Address:\n512 Petőfi út 8. Suite 207 Győr GS.", "512 Petőfi út 8. Suite 207 Győr GS"),
        # a building number and a unit before the street are part of it
        ("Return to 4270 Lindenstrasse 19 Suite 315 GRAZ Styria",
         "4270 Lindenstrasse 19 Suite 315 GRAZ Styria"),
        ("Mrs. Inga Holm Apt. 214 73105 Skovvej 18\nOdense SD 5000",
         "Apt. 214 73105 Skovvej 18\nOdense SD 5000"),
        # US military mail
        ("The restaurant is located at PSC 4471, Box 2206\nAPO AE 09012. It serves great food.",
         "PSC 4471, Box 2206\nAPO AE 09012"),
        ("my new address is USS Halvorsen\nFPO AP 96601", "USS Halvorsen\nFPO AP 96601"),
        ("Send it to Unit 6130 Box 4412\nDPO AE 09498", "Unit 6130 Box 4412\nDPO AE 09498"),
        # P.O. boxes, numbered roads, intersections
        ("Mail it to P.O. Box 1234, Springfield, IL 62704", "P.O. Box 1234, Springfield, IL 62704"),
        ("The farm is at 12345 County Road 12", "12345 County Road 12"),
        ("Our office is on the corner of Main St and Elm Ave.", "Main St and Elm Ave."),
    ],
)  # fmt: skip
def test_address_is_found_with_exact_span(recognizer, text, address):
    assert found(recognizer, text) == [address]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Please return to 3812 46 Makariou Avenue\n Apt. 209\n Paphos\n Cyprus",
         "3812 46 Makariou Avenue\n Apt. 209\n Paphos\n Cyprus"),
        ("Please check this one? 1734 Rue de Namur 12\n Suite 402\n Wavre\n Belgium",
         "1734 Rue de Namur 12\n Suite 402\n Wavre\n Belgium"),
        ("> Ilona Virtanen\n> 40320 Koivukuja 9\n> Suite 112\n> TAMPERE\n> Finland 33100",
         "40320 Koivukuja 9\n> Suite 112\n> TAMPERE\n> Finland 33100"),
        ("Henrik B Lund\n\n2915 Østergade 14\n Apt. 303\n Hjørring\n\n Denmark 9800",
         "2915 Østergade 14\n Apt. 303\n Hjørring\n\n Denmark 9800"),
        ("5213 Václava z Dubé 902\n Apt. 017\n Horní Slavkov u Sokolova\n Czech Republic 35731",
         "5213 Václava z Dubé 902\n Apt. 017\n Horní Slavkov u Sokolova\n Czech Republic 35731"),
    ],
)  # fmt: skip
def test_multi_line_address_is_one_span(recognizer, text, address):
    assert found(recognizer, text) == [address]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # the next line joins only as far as it reads as an address
        ("send a new one to 2264 31 Kennedy Street\n Suite 415\n Limassol\n Cyprus 3035? I am in Larnaca",
         "2264 31 Kennedy Street\n Suite 415\n Limassol\n Cyprus 3035"),
        ("I'll meet you at Laugavegur 27\n Apt. 118\n Selfoss\n Iceland 800 after the concert.",
         "Laugavegur 27\n Apt. 118\n Selfoss\n Iceland 800"),
        ("Billing address:\n4270 Lindenstrasse 19\n Suite 315\n Wien\n Austria 1010\nPhone: 555 1234",
         "4270 Lindenstrasse 19\n Suite 315\n Wien\n Austria 1010"),
        ("Jane Doe\n12 Main Street\nSpringfield, IL 62704\n\nThank you for your order",
         "12 Main Street\nSpringfield, IL 62704"),
        ("I live at 12 Main Street. Then I moved away.", "12 Main Street"),
        ("It is at 12 Main Street, which is near the station.", "12 Main Street"),
    ],
)  # fmt: skip
def test_address_stops_at_sentence_text(recognizer, text, address):
    assert found(recognizer, text) == [address]


# --- a bare "Name 12" needs evidence ---------------------------------------------------


def test_bare_name_and_number_with_address_cue_is_found(recognizer):
    assert found(recognizer, "Marek lives at Kuuse 12, Tartu") == ["Kuuse 12, Tartu"]


def test_bare_name_and_number_followed_by_unit_is_found(recognizer):
    text = "0427 Ombues 3315\n Suite 061\n Salto\n Uruguay 50000"
    assert found(recognizer, text) == [text]


def test_bare_name_and_number_followed_by_postcode_and_town_is_found(recognizer):
    assert found(recognizer, "Platz der Republik 1, 11011 Berlin") == ["Platz der Republik 1, 11011 Berlin"]


def test_lower_case_street_needs_a_cue(recognizer):
    assert found(recognizer, "I live at 12 main street") == ["12 main street"]
    assert found(recognizer, "we need 12 main street signs") == []


# --- postcodes and units on their own -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "postcode"),
    [("my zip code is 48213", "48213"), ("ZIP: 3520", "3520"), ("Postcode: SW1A 1AA", "SW1A 1AA"),
     ("postal code 1100-053", "1100-053")],
)  # fmt: skip
def test_postcode_after_a_cue_is_found(recognizer, text, postcode):
    result = only_result(recognizer, text)
    assert text[result.start : result.end] == postcode
    assert result.score == pytest.approx(0.6)


def test_postcode_without_cue_or_street_is_not_found(recognizer):
    assert found(recognizer, "Order 48213 shipped, 2 of 61007 items left") == []


@pytest.mark.parametrize("unit", ["Suite 238", "Apt. 509", "Apartment 12B", "Ste 300"])
def test_lone_unit_is_found_with_a_lower_score(recognizer, unit):
    result = only_result(recognizer, f"Please deliver to {unit}")
    assert result.score == pytest.approx(0.5)


def test_scores_rise_with_the_parts_of_an_address(recognizer):
    lone_unit = only_result(recognizer, "Suite 238").score
    common_noun_street = only_result(recognizer, "12 Market Place").score
    street = only_result(recognizer, "58 Harrow Avenue").score
    full = only_result(recognizer, "58 Harrow Avenue, Dayton, OH 45402").score
    assert lone_unit < common_noun_street < street < full == pytest.approx(0.85)


# --- what is not an address ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I live on the 3rd floor",
        "Chapter 12 covers the basics",
        "Room 5 is free",
        "version 2 St",
        "Section 8 housing is hard to find",
        "See page 12 for details",
        "The meeting is at 10:30 tomorrow",
        "It costs $12 at the Main Street Market",
        "It costs 12 euros",
        "Windows 10 and Python 3.11 are installed",
        "Call me at 555-1234",
        "We walked 3 blocks down the road",
        "In 2020 Apple sold 50 million phones",
        "Top 10 Best Places to Visit",
        "5 Ways To Drive Better",
        "Bach wrote Cello Suite No. 1",
        "Flight 370 departs from Gate 12",
        "Unit 3 of the course is hard",
        "zip the files into 3 archives",
        "The ship left via Route 66",
        "Add 2 via Settings",
        "Article 9 of the GDPR covers health data",
        "Please send the gifts before Christmas 2020",
        "He arrives at 5 pm on Monday 12 March",
        "Visual Studio 2019 is required",
        "Name      Age\n------  -----\nAlice      24\nBob        19",
        "Earth  6371\nMars   3390",
        "See RFC 2142 for mailbox names",
    ],
)
def test_ordinary_sentence_is_not_an_address(recognizer, text):
    assert found(recognizer, text) == []


# --- Presidio plumbing ------------------------------------------------------------------


def test_result_names_the_recognizer_and_the_entity(recognizer):
    result = only_result(recognizer, "58 Harrow Avenue")
    assert result.entity_type == entities.ADDRESS
    assert result.recognition_metadata["recognizer_name"] == "StreetAddressRecognizer"
    assert result.analysis_explanation.recognizer == "StreetAddressRecognizer"
    assert result.analysis_explanation.pattern_name == "number_name_type"


def test_other_entities_requested_means_no_work(recognizer):
    assert recognizer.analyze("58 Harrow Avenue", ["PERSON"], None) == []


def test_registry_serves_it_for_its_language():
    registry = RecognizerRegistry(recognizers=[street_address_recognizer("en")], supported_languages=["en"])
    [served] = registry.get_recognizers(language="en", entities=[entities.ADDRESS])
    assert isinstance(served, StreetAddressRecognizer)


# --- no catastrophic backtracking ------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "Ab-",  # one endless hyphenated word
        "Ab'",
        "Abc 12 ",  # a bare candidate at every word
        "1 ",
        "A ",
        "Apt. 12 ",
        "corner of A ",
        "12 Main Street\n",
        "Hauptstraße 5 Suite 12, Berlin, DE 10115\n",
        "Springfield\n",
        "address: Kuuse 12 ",
        "PSC 1 Box 2 ",
        "de la ",
    ],
)
def test_50_kb_adversarial_text_takes_under_a_second(recognizer, pattern):
    text = pattern * (50_000 // len(pattern))
    timings = []
    for _ in range(2):  # the better of two runs: a busy machine is not a regression
        started = time.perf_counter()
        recognizer.analyze(text, [], None)
        timings.append(time.perf_counter() - started)
    # Typically 0.05–0.4 s; a quadratic pattern takes minutes here ("Ab-" × 16,000 did).
    assert min(timings) < 1.0
