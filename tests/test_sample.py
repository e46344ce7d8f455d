"""The synthetic sample corpus: reproducible, exactly labelled, valid values, broad coverage.

The corpus is the gold standard the PII detector is scored against, so these tests hold
it to the standard of a real annotation set: every label is the text at its offsets,
every value would pass the checks a real one passes, and the hard cases (suffixed and
lower-cased names, spaced numbers, public numbers, topic talk) are present.
"""

from __future__ import annotations

import datetime as dt
import doctest
import ipaddress
import itertools
import json
import random
import re
from collections import Counter
from pathlib import Path

import phonenumbers
import pytest
from stdnum import iban, luhn
from stdnum.tr import tckimlik, vkn

from pipeline import entities as E
from pipeline.text import APOSTROPHES, has_context, tr_lower
from pipeline.sample import SampleConfig, SampleResult, generate_sample, write_sample
from pipeline.sample import addresses, builder, corpus, identifiers, people, scenarios, special
from pipeline.sample.identifiers import PUBLIC_NUMBERS

N = SampleConfig().n_records
REQUIRED_TYPES = (
    E.TR_NATIONAL_ID, E.TR_TAX_ID, E.IBAN_CODE, E.PHONE_NUMBER, E.TR_LICENSE_PLATE, E.ADDRESS, E.PERSON,
    E.EMAIL_ADDRESS, E.DATE_OF_BIRTH, E.CREDIT_CARD, E.PASSPORT, E.IP_ADDRESS,
)
# Province 01–81, then 1 letter + 4–5 digits, 2 letters + 3–4 digits or 3 letters + 2–3 digits; no Q, W, X.
PLATE = re.compile(
    r"^(0[1-9]|[1-7][0-9]|8[01]) ?([A-PR-VYZ] ?\d{4,5}|[A-PR-VYZ]{2} ?\d{3,4}|[A-PR-VYZ]{3} ?\d{2,3})$", re.I
)
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
PASSPORT = re.compile(r"^[A-Z]\d{8}$", re.I)
FIELD = re.compile(r"^messages\[(\d+)\]\.content$")


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, Path, SampleResult]:
    directory = tmp_path_factory.mktemp("sample")
    out, labels = directory / "sample.jsonl", directory / "sample.labels.jsonl"
    return out, labels, write_sample(out, labels, SampleConfig())


@pytest.fixture(scope="module")
def pairs(written) -> list[tuple[dict, dict]]:
    out, labels, _ = written
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    gold = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines()]
    return list(zip(records, gold, strict=True))


def _text(record: dict, field: str) -> str:
    match = FIELD.match(field)
    assert match, f"unexpected field name {field!r}"
    return record["messages"][int(match.group(1))]["content"]


def _spans(pairs, kind: str = "pii"):
    for record, labels in pairs:
        for span in labels[kind]:
            yield record, span, _text(record, span["field"])


def _values(pairs, entity_type: str) -> list[str]:
    return [span["value"] for _, span, _ in _spans(pairs) if span["type"] == entity_type]


# --- reproducibility and file format ----------------------------------------------------


def test_same_seed_gives_byte_identical_files(written, tmp_path):
    out, labels, _ = written
    again_out, again_labels = tmp_path / "a.jsonl", tmp_path / "a.labels.jsonl"
    write_sample(again_out, again_labels, SampleConfig())
    assert again_out.read_bytes() == out.read_bytes()
    assert again_labels.read_bytes() == labels.read_bytes()


def test_different_seed_gives_different_corpus(tmp_path):
    write_sample(tmp_path / "a.jsonl", tmp_path / "a.l.jsonl", SampleConfig(seed=1, n_records=40))
    write_sample(tmp_path / "b.jsonl", tmp_path / "b.l.jsonl", SampleConfig(seed=2, n_records=40))
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.l.jsonl").read_bytes() != (tmp_path / "b.l.jsonl").read_bytes()


def test_lines_are_compact_utf8_json(written):
    out, labels, _ = written
    for path in (out, labels):
        raw = path.read_bytes()
        assert raw.endswith(b"\n")
        for line in raw.decode("utf-8").splitlines()[:50]:
            obj = json.loads(line)
            assert line == json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    assert "ş".encode() in out.read_bytes()  # Turkish letters stay readable, not \\u015f


def test_record_count_equals_n_records_and_labels_follow_records(pairs, written):
    *_, result = written
    assert len(pairs) == N == result.records
    assert all(record["id"] == labels["id"] for record, labels in pairs)


def test_result_counts_match_the_labels(pairs, written):
    *_, result = written
    assert result.pii_spans == sum(len(labels["pii"]) for _, labels in pairs)
    assert result.special_spans == sum(len(labels["special"]) for _, labels in pairs)
    assert result.records_without_pii == sum(not labels["pii"] for _, labels in pairs)
    assert sum(v for k, v in result.by_type.items() if not E.is_special(k)) == result.pii_spans
    assert list(result.by_type) == sorted(result.by_type)


def test_small_corpus_has_the_requested_size_and_reports_progress(tmp_path):
    seen: list[int] = []
    result = write_sample(tmp_path / "s.jsonl", tmp_path / "l.jsonl", SampleConfig(n_records=7), progress=seen.append)
    assert result.records == 7
    assert len((tmp_path / "s.jsonl").read_text(encoding="utf-8").splitlines()) == 7
    assert seen and seen[-1] == 7


def test_a_failed_write_leaves_no_files_behind(tmp_path):
    def explode(_n: int) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_sample(tmp_path / "s.jsonl", tmp_path / "l.jsonl", SampleConfig(n_records=120), progress=explode)
    assert list(tmp_path.iterdir()) == []


def test_zero_records_is_refused():
    with pytest.raises(ValueError, match="n_records"):
        SampleConfig(n_records=0)


def test_generate_sample_yields_what_write_sample_writes(pairs):
    generated = list(itertools.islice(generate_sample(SampleConfig()), 25))
    assert [r for r, _ in generated] == [r for r, _ in pairs[:25]]
    assert [lab for _, lab in generated] == [lab for _, lab in pairs[:25]]


# --- record shape ---------------------------------------------------------------------


def test_every_record_has_the_raw_shape_and_ids_are_unique(pairs):
    ids = [record["id"] for record, _ in pairs]
    assert len(set(ids)) == len(ids)
    for record, _ in pairs:
        assert list(record) == ["id", "messages", "source"]
        assert isinstance(record["id"], str) and record["id"].startswith("sample-")
        assert record["source"] == "sample"
        messages = record["messages"]
        assert isinstance(messages, list) and messages
        for message in messages:
            assert set(message) == {"role", "content"}
            assert message["role"] in ("system", "user", "assistant")
            assert isinstance(message["content"], str) and message["content"].strip()


def test_conversations_are_a_system_prompt_then_one_to_three_exchanges(pairs):
    for record, labels in pairs:
        roles = [m["role"] for m in record["messages"]]
        assert roles[0] == "system"
        assert roles[1:] == ["user", "assistant"] * ((len(roles) - 1) // 2)
        assert 1 <= (len(roles) - 1) // 2 <= 3
        assert not any(s["field"] == "messages[0].content" for s in labels["pii"] + labels["special"])


# --- labels are exact -------------------------------------------------------------------


def test_every_label_value_is_the_text_at_its_offsets(pairs):
    checked = 0
    for kind in ("pii", "special"):
        for _, span, text in _spans(pairs, kind):
            assert 0 <= span["start"] < span["end"] <= len(text)
            assert text[span["start"] : span["end"]] == span["value"]
            checked += 1
    assert checked > 1000


def test_labels_use_known_types_and_categories(pairs):
    assert {s["type"] for _, s, _ in _spans(pairs)} <= set(E.ENTITY_TYPES)
    assert {s["category"] for _, s, _ in _spans(pairs, "special")} <= set(E.SPECIAL_CATEGORIES)


def test_spans_in_a_field_never_overlap(pairs):
    for _, labels in pairs:
        by_field: dict[str, list[tuple[int, int]]] = {}
        for span in labels["pii"] + labels["special"]:
            by_field.setdefault(span["field"], []).append((span["start"], span["end"]))
        for spans in by_field.values():
            spans.sort()
            assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))


def test_spans_have_no_surrounding_whitespace(pairs):
    for _, span, _ in _spans(pairs):
        assert span["value"] == span["value"].strip()


# --- values are valid -------------------------------------------------------------------


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def test_national_ids_pass_the_tckn_checksum(pairs):
    values = _values(pairs, E.TR_NATIONAL_ID)
    assert all(tckimlik.is_valid(_digits(v)) for v in values)
    assert any(" " in v for v in values) and any("." in v for v in values) and any("-" in v for v in values)


def test_tax_ids_pass_the_vkn_checksum_and_stand_next_to_a_cue(pairs):
    cues = ("vkn", "vergi", "tax")
    for _, span, text in _spans(pairs):
        if span["type"] == E.TR_TAX_ID:
            assert vkn.is_valid(_digits(span["value"]))
            assert has_context(text, span["start"], span["end"], cues, window_chars=40), span["value"]


def test_ibans_are_valid_turkish_ibans_in_several_forms(pairs):
    values = _values(pairs, E.IBAN_CODE)
    for value in values:
        assert iban.is_valid(value)
        compact = iban.compact(value)
        assert compact.startswith("TR") and len(compact) == 26 and compact[9] == "0"
    assert any(" " in v for v in values) and any(" " not in v for v in values)
    assert any(v.startswith("tr") for v in values)


def test_card_numbers_pass_luhn(pairs):
    values = _values(pairs, E.CREDIT_CARD)
    for value in values:
        assert len(_digits(value)) == 16 and luhn.is_valid(_digits(value))
    assert any(_digits(v).startswith("9792") for v in values)  # Troy


def test_phone_numbers_are_valid_turkish_numbers_in_many_forms(pairs):
    values = _values(pairs, E.PHONE_NUMBER)
    for value in values:
        assert phonenumbers.is_valid_number(phonenumbers.parse(value, "TR")), value
    shapes = {re.sub(r"\d", "9", v) for v in values}
    assert len(shapes) >= 10
    assert any(v.startswith("+90") for v in values) and any(v.startswith("(0") for v in values)


def test_public_service_numbers_are_not_labelled(pairs):
    public = sorted(set(PUBLIC_NUMBERS.values()))
    found = 0
    for record, labels in pairs:
        for i, message in enumerate(record["messages"]):
            field = f"messages[{i}].content"
            spans = [(s["start"], s["end"]) for s in labels["pii"] if s["field"] == field]
            for number in public:
                for match in re.finditer(rf"(?<!\d){re.escape(number)}(?!\d)", message["content"]):
                    if any(a <= match.start() and match.end() <= b and (a, b) != match.span() for a, b in spans):
                        continue  # "112" inside "0532 112 45 67" is part of a personal number
                    found += 1
                    assert not any(a < match.end() and match.start() < b for a, b in spans), number
    assert found >= 20


def test_plates_have_a_province_code_and_a_legal_letter_digit_split(pairs):
    values = _values(pairs, E.TR_LICENSE_PLATE)
    assert all(PLATE.match(v) for v in values), [v for v in values if not PLATE.match(v)]
    assert any(" " not in v for v in values) and any(" " in v for v in values)


def test_emails_look_like_emails_and_fold_turkish_letters(pairs):
    values = _values(pairs, E.EMAIL_ADDRESS)
    assert all(EMAIL.match(v) for v in values)
    assert all(v.isascii() for v in values)


def test_passports_are_a_letter_and_eight_digits_next_to_a_cue(pairs):
    for _, span, text in _spans(pairs):
        if span["type"] == E.PASSPORT:
            assert PASSPORT.match(span["value"])
            assert has_context(text, span["start"], span["end"], ("pasaport", "passport"), window_chars=40)


def test_ip_addresses_parse(pairs):
    values = _values(pairs, E.IP_ADDRESS)
    assert all(ipaddress.ip_address(v) for v in values)


_DATE_FORMATS = ("%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%B %d, %Y")


def _parse_date(value: str) -> dt.date:
    for i, month in enumerate(people.TR_MONTHS):
        value = re.sub(rf"\b{month}\b", people.EN_MONTHS[i], value, flags=re.I)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise AssertionError(f"not a date in a known format: {value!r}")


def test_dates_of_birth_are_real_past_dates_next_to_a_cue(pairs):
    cues = ("doğum", "d.t.", "born", "date of birth")
    formats = set()
    for _, span, text in _spans(pairs):
        if span["type"] == E.DATE_OF_BIRTH:
            assert _parse_date(span["value"]) < dt.date(2024, 1, 1)
            assert has_context(text, span["start"], span["end"], cues, window_chars=40), span["value"]
            formats.add(re.sub(r"\d", "9", re.sub(r"[A-Za-zÇĞİÖŞÜçğıöşü]+", "M", span["value"])))
    assert len(formats) >= 4


def test_addresses_name_a_real_district_and_province(pairs):
    known = [(tr_lower(district), tr_lower(province)) for province, _, district in addresses.DISTRICTS]
    for value in _values(pairs, E.ADDRESS):
        low = tr_lower(value)
        assert any(d in low and p in low for d, p in known), value
        for code in re.findall(r"(?<!\d)\d{5}(?!\d)", value):  # postal codes start with the plate code
            assert any(code.startswith(plate) and tr_lower(district) in low
                       for _, plate, district in addresses.DISTRICTS), value


# --- names ------------------------------------------------------------------------------


def test_person_spans_stop_at_the_apostrophe_of_a_suffix(pairs):
    followed_by_apostrophe = 0
    for _, span, text in _spans(pairs):
        if span["type"] != E.PERSON:
            continue
        assert not any(a in span["value"] for a in APOSTROPHES)
        after = text[span["end"] : span["end"] + 1]
        before = text[span["start"] - 1 : span["start"]] if span["start"] else ""
        assert not after.isalnum() and not before.isalnum(), (before, span["value"], after)
        followed_by_apostrophe += bool(after) and after in APOSTROPHES
    assert followed_by_apostrophe >= 20


def test_honorifics_are_left_outside_person_spans(pairs):
    titles_before = ("Dr. ", "Av. ", "Sayın ", "Mr. ", "Ms. ")
    titles_after = (" Hanım", " Bey")
    seen = Counter()
    for _, span, text in _spans(pairs):
        if span["type"] != E.PERSON:
            continue
        assert not any(t.strip() in span["value"].split() for t in titles_before + titles_after)
        for title in titles_before:
            seen[title] += text[: span["start"]].endswith(title)
        for title in titles_after:
            seen[title] += text[span["end"] :].startswith(title)
    assert all(seen[t] > 0 for t in titles_before + titles_after), seen


def test_lower_case_names_from_sloppy_chat_are_labelled(pairs):
    lower = [v for v in _values(pairs, E.PERSON) if v == tr_lower(v)]
    assert len(lower) >= 10


def test_surname_list_is_long_and_hand_written():
    assert len(set(people.SURNAMES)) >= 150


# --- coverage ---------------------------------------------------------------------------


def test_every_entity_type_appears_at_least_twenty_times(written):
    *_, result = written
    assert {t: result.by_type.get(t, 0) for t in REQUIRED_TYPES if result.by_type.get(t, 0) < 20} == {}


def test_special_categories_cover_at_least_six_categories_in_about_fifteen_percent(pairs):
    categories = Counter(s["category"] for _, s, _ in _spans(pairs, "special"))
    assert len(categories) >= 6
    with_special = sum(bool(labels["special"]) for _, labels in pairs)
    assert 0.10 * N <= with_special <= 0.25 * N


def test_general_talk_about_sensitive_topics_exists_and_is_not_labelled(pairs):
    sentences = [tr_lower(s) for group in special.GENERAL_TALK.values() for s in group]
    found = 0
    for record, labels in pairs:
        for i, message in enumerate(record["messages"]):
            low = tr_lower(message["content"])
            for sentence in sentences:
                at = low.find(sentence)
                if at < 0:
                    continue
                found += 1
                field = f"messages[{i}].content"
                for span in labels["special"]:
                    if span["field"] == field:
                        assert span["end"] <= at or span["start"] >= at + len(sentence)
    assert found >= 10


def test_pii_free_records_exist_in_about_fifteen_percent(pairs):
    free = sum(not labels["pii"] and not labels["special"] for _, labels in pairs)
    assert 0.10 * N <= free <= 0.20 * N


def test_english_records_make_up_about_fifteen_percent(pairs):
    english_prompts = {p for prompts in scenarios.SYSTEM_PROMPTS.values() for p in prompts["en"]}
    english = sum(record["messages"][0]["content"] in english_prompts for record, _ in pairs)
    assert 0.10 * N <= english <= 0.20 * N


def test_code_switched_records_exist(pairs):
    mixed = {t for s in scenarios.SCENARIOS.values() for sc in s for ex in sc.exchanges for b in ex.branches
             for t in b.user.get("mix", ())}
    markers = [re.split(r"\{\w+\}", t)[0] for t in mixed if not t.startswith("{")]
    assert sum(any(m and m in record["messages"][1]["content"] for m in markers) for record, _ in pairs) >= 10


def test_agents_sometimes_repeat_the_customers_data(pairs):
    def role(record: dict, span: dict) -> str:
        return record["messages"][int(FIELD.match(span["field"]).group(1))]["role"]

    repeated = 0
    for record, labels in pairs:
        said = {s["value"] for s in labels["pii"] if role(record, s) == "user" and s["type"] != E.PERSON}
        repeated += any(s["value"] in said for s in labels["pii"] if role(record, s) == "assistant")
    assert repeated >= 50


# --- the scripts themselves -------------------------------------------------------------


def _all_templates():
    for domain in scenarios.SCENARIOS:
        for scenario in scenarios.SCENARIOS[domain] + (scenarios.PII_FREE[domain],):
            for exchange in scenario.exchanges:
                for branch in exchange.branches:
                    for templates in (branch.user, branch.agent):
                        yield from (t for group in templates.values() for t in group)
    for templates in (scenarios.GREETINGS_NAMED, scenarios.GREETINGS_ANON, scenarios.CLOSINGS,
                      scenarios.GENERAL_REPLIES, scenarios.THANKS.branches[0].user, scenarios.THANKS.branches[0].agent):
        yield from (t for group in templates.values() for t in group)


def test_every_template_slot_has_a_value():
    chat = corpus.Chat(random.Random(0), people.NameSource(random.Random(0), 0), "bank", "tr", sloppy=False)
    used = {slot for template in _all_templates() for slot in re.findall(r"\{(\w+)\}", template)}
    assert used - set(chat.slots) == set()


def test_every_customer_turn_has_an_agent_reply_that_fits_it():
    for domain, group in scenarios.SCENARIOS.items():
        for scenario in group + (scenarios.PII_FREE[domain],):
            for lang in ("tr", "en", "mix"):
                states: set[frozenset[str]] = {frozenset()}
                for exchange in scenario.exchanges:
                    next_states = set()
                    for mentioned in states:
                        for branch in exchange.branches:
                            for user in corpus.pick_templates(branch.user, lang, "user"):
                                now = mentioned | corpus.mentioned_by(user)
                                replies = corpus.pick_templates(branch.agent, lang, "assistant")
                                assert any(corpus.can_say(r, now) for r in replies), (scenario.name, lang, user)
                                next_states.add(frozenset(now))
                    states = next_states


def test_every_special_category_has_turkish_and_english_cues():
    for category in E.SPECIAL_CATEGORIES:
        langs = {c.lang for c in special.CUE_SENTENCES if c.category == category}
        assert {"tr", "en"} <= langs, category


@pytest.mark.parametrize("module", [identifiers, people, addresses, builder], ids=lambda m: m.__name__)
def test_module_examples_hold(module):
    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0
