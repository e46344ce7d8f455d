"""No personal data escapes: every field, every Unicode form, split and encoded values (#15).

Each test plants values an attacker would write and runs the real scan and anonymize
stages; the check is done on the planted values themselves (never on what the detector
found), in their common normalisations, over the dataset *and* every report.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from stdnum import iban as std_iban, luhn
from stdnum.tr import tckimlik

from pipeline.keys import PseudonymKey
from pipeline.scan.analyzer import get_analyzer
from pipeline.anonymize.stage import AnonymizeInput, anonymize_dataset
from pipeline.fields import iter_fields
from pipeline.normalize import normalize, variants
from pipeline.policy import load_policy
from pipeline.scan.stage import InputFile, ScanConfig, scan_files

REPO = Path(__file__).resolve().parents[1]
KEY = PseudonymKey(b"5b0c3e9a7f1d2468ace013579bdf2468a1c3e5f70b2d4f6081a3c5e7092b4d6f")
POLICY = load_policy(REPO / "policies/kvkk.yaml")


def _tckn(stem: str) -> str:
    return stem + tckimlik.calc_check_digits(stem)


def _card(stem: str) -> str:
    return stem + luhn.calc_check_digit(stem)


def _iban(bban: str) -> str:
    return "TR" + std_iban.calc_check_digits("TR00" + bban) + bban


TCKNS = [_tckn(s) for s in ("284619375", "519730284", "730418265", "947205183", "361852907", "628401937", "415067289")]
IBAN = _iban("0006200119000006672315")
CARD = _card("541275000312768")
EMAILS = ["deniz.kara@ornek-posta.com.tr", "m.celik@kurumsal-ornek.com", "b.ozkan@posta-ornek.net", "ece.tan@ornek.org"]
PHONE = "+90 533 418 26 71"
NAME = "Gülten Karadağ"
ZW, SHY, BOM = "\u200b", "\u00ad", "\ufeff"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _arabic_indic(digits: str) -> str:
    return "".join(chr(0x0660 + int(c)) for c in digits)


@pytest.fixture(scope="module")
def analyzer():
    return get_analyzer(str(REPO / "policies/recognizers"), 0.5)


def _chat(rid, *turns, **extra):
    roles = ["user", "assistant"] * len(turns)
    messages = [{"role": "system", "content": "Sen bir müşteri destek asistanısın."}]
    messages += [{"role": role, "content": text} for role, text in zip(roles, turns)]
    return {"id": rid, "messages": messages, "source": "s", **extra}


def _run(tmp: Path, analyzer, rows, policy=POLICY) -> dict[str, str]:
    raw = tmp / "raw.jsonl"
    raw.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    config = ScanConfig(workers=1, max_quarantine_ratio=0.5, recognizer_dir=REPO / "policies/recognizers")
    scan_files([InputFile(raw, "s")], tmp / "scan", config, KEY)
    policy.policy.split.holdout_fraction  # noqa: B018 - the split is irrelevant here
    anonymize_dataset([AnonymizeInput(raw, "s", False)], tmp / "scan/findings.jsonl", tmp / "data", tmp / "report",
                      policy, KEY, analyzer.analyze, canaries=False)  # fmt: skip
    return {str(p.relative_to(tmp)): p.read_text(encoding="utf-8") for p in tmp.rglob("*")
            if p.is_file() and p.name != "raw.jsonl"}  # fmt: skip


def _leaks(outputs: dict[str, str], values: list[str]) -> list[tuple[str, str]]:
    """(file, planted value) for every planted value found in any output, in any common form."""
    found = []
    for name, text in outputs.items():
        flat = normalize(text).text
        digits = re.sub(r"\D", "", flat)
        for value in values:
            plain = normalize(value).text
            forms = [f for f in variants(plain) if len(f) >= 6]
            hit = any(f in text or f in flat for f in forms)
            if not hit and sum(c.isdigit() for c in plain) >= 10:
                hit = re.sub(r"\D", "", plain) in digits
            if hit:
                found.append((name, value))
    return found


def _valid_identifiers(text: str) -> list[str]:
    """Valid TCKNs, IBANs and cards in ``text`` after NFKC and zero-width removal (the attacker's check)."""
    flat = normalize(text).text
    out = [m for m in re.findall(r"(?<!\d)\d{11}(?!\d)", flat) if tckimlik.is_valid(m)]
    out += [m for m in re.findall(r"TR\d{24}", flat.replace(" ", "")) if std_iban.is_valid(m)]
    out += [m for m in re.findall(r"(?<!\d)\d{16}(?!\d)", re.sub(r"(?<=\d)[ -](?=\d)", "", flat)) if luhn.is_valid(m)]
    return out


def test_personal_data_outside_the_conversation_is_found_and_anonymized(tmp_path, analyzer):
    row = _chat(
        EMAILS[0],  # an id that is an e-mail address
        "Merhaba, kargom nerede?",
        "Kontrol ediyorum.",
        metadata={"customer": {"email": EMAILS[1], "tckn": int(TCKNS[0]), "phone": PHONE},
                  EMAILS[2]: "vip", TCKNS[1]: {"note": "eski müşteri"}},
    )  # fmt: skip
    row["messages"][1]["name"] = NAME
    row["messages"][2]["tool_calls"] = [
        {"id": "call_1", "type": "function",
         "function": {"name": "lookup_customer", "arguments": json.dumps({"tckn": TCKNS[2], "email": EMAILS[3]})}}
    ]  # fmt: skip
    outputs = _run(tmp_path, analyzer, [row])
    assert _leaks(outputs, [*EMAILS, *TCKNS[:3], PHONE, NAME]) == []
    (record,) = [json.loads(line) for line in outputs["data/train.jsonl"].splitlines() + outputs["data/holdout.jsonl"].splitlines()]
    assert re.fullmatch(r"r-[b-df-hj-np-tv]{20}", record["id"]) and record["source"] == "s"
    # The structure is kept: the same keys (renamed where they were values), numbers replaced by surrogates.
    assert set(record["metadata"]["customer"]) == {"email", "tckn", "phone"}
    assert len(record["metadata"]) == 3 and json.loads(record["messages"][2]["tool_calls"][0]["function"]["arguments"])
    findings = [json.loads(line) for line in outputs["scan/findings.jsonl"].splitlines()]
    fields = {f["field"] for f in findings}
    assert {"metadata.customer.email", "metadata.customer.tckn", "metadata.#1@key", "metadata.#2@key",
            "messages[1].name", "messages[2].tool_calls[0].function.arguments"} <= fields  # fmt: skip
    assert {f["record_id"] for f in findings} == {record["id"]}


def test_a_source_named_after_a_person_never_reaches_the_output(tmp_path, analyzer):
    row = _chat("plain-1", "Merhaba", "Buyrun")
    row["source"] = EMAILS[0]
    outputs = _run(tmp_path, analyzer, [row])
    assert _leaks(outputs, [EMAILS[0]]) == []


def test_unicode_forms_of_identifiers_are_normalised_before_detection(tmp_path, analyzer):
    rows = [
        _chat("u1", f"TC kimlik numaram {_fullwidth(TCKNS[0])}", "Teşekkürler."),
        _chat("u2", f"TC kimlik no: {_arabic_indic(TCKNS[1])}", "Teşekkürler."),
        _chat("u3", f"TCKN {TCKNS[2][:5]}{ZW}{TCKNS[2][5:]} kayıtlı", "Teşekkürler."),
        _chat("u4", f"kimlik numaram {TCKNS[3][:4]}{SHY}{TCKNS[3][4:]}", "Teşekkürler."),
        _chat("u5", f"IBAN: {IBAN[:4]}{ZW}{IBAN[4:]}", "Aldım."),
        _chat("u6", f"Kart numaram {_fullwidth(CARD)}", "Kartınızı kapattık."),
        _chat("u7", f"e-posta: {EMAILS[0].replace('@', '＠')}", "Güncellendi."),
        _chat("u8", f"mail adresim {EMAILS[1][:3]}{ZW}{EMAILS[1][3:].replace('.', ZW + '.', 1)}", "Güncellendi."),
        _chat("u9", f"TC {TCKNS[4][:6]}{BOM}{TCKNS[4][6:]} ve numara {_fullwidth(TCKNS[5])}", "Tamam."),
    ]
    outputs = _run(tmp_path, analyzer, rows)
    data = outputs["data/train.jsonl"] + outputs["data/holdout.jsonl"]
    assert data.count('"id"') == len(rows)
    assert _valid_identifiers(data) == []
    assert _leaks(outputs, [*TCKNS[:6], IBAN, CARD, EMAILS[0], EMAILS[1]]) == []


def test_split_encoded_and_obfuscated_values_are_found(tmp_path, analyzer):
    encoded = base64.b64encode(f"kimlik {TCKNS[6]} mail {EMAILS[2]}".encode()).decode()
    rows = [
        _chat("s1", f"TC kimlik numaram {TCKNS[0][:6]}", "Devamını yazar mısınız?", f"{TCKNS[0][6:]} tamamı bu"),
        _chat("s2", f"Kayıt verisi: {encoded}", "İnceliyorum."),
        _chat("s3", "Bana deniz.kara [at] ornek-posta [dot] com [dot] tr adresinden ulaşın", "Not aldım."),
        _chat("s4", "write to m.celik (at) kurumsal-ornek (dot) com please", "Noted."),
        _chat("s5", "mail: ece.tan at ornek dot org", "Noted."),
    ]
    outputs = _run(tmp_path, analyzer, rows)
    data = outputs["data/train.jsonl"] + outputs["data/holdout.jsonl"]
    assert data.count('"id"') == len(rows)
    assert encoded not in data and "deniz.kara" not in data and "m.celik" not in data and "ece.tan" not in data
    assert _leaks(outputs, [TCKNS[0], TCKNS[6], EMAILS[2]]) == []
    # Both halves of the split TCKN were replaced, each in its own turn.
    record = next(json.loads(l) for l in data.splitlines() if TCKNS[0][:6] not in l and "Devamını" in l)
    assert TCKNS[0][6:] not in record["messages"][3]["content"]


def test_the_field_policy_drops_or_refuses_fields(tmp_path, analyzer):
    data = POLICY.policy.model_dump()
    data["fields"] = {"default": "scan", "rules": [{"path": "metadata.internal", "action": "drop"},
                                                  {"path": "metadata.raw_export", "action": "refuse"}]}  # fmt: skip
    policy = type(POLICY)(type(POLICY.policy).model_validate(data), POLICY.path)
    rows = [
        _chat("f1", "Merhaba", "Buyrun", metadata={"internal": {"agent_note": f"arayan {NAME}"}, "channel": "web"}),
        _chat("f2", "Merhaba", "Buyrun", metadata={"raw_export": "x"}),
    ]
    outputs = _run(tmp_path, analyzer, rows, policy)
    records = [json.loads(l) for l in (outputs["data/train.jsonl"] + outputs["data/holdout.jsonl"]).splitlines()]
    assert len(records) == 1 and records[0]["metadata"] == {"channel": "web"}
    log = [json.loads(l) for l in outputs["report/log.jsonl"].splitlines()]
    assert sorted(e["reason"] or "" for e in log) == ["", "refused_field"]


def test_a_field_policy_with_a_wrong_action_names_the_key(tmp_path):
    bad = (REPO / "policies/kvkk.yaml").read_text(encoding="utf-8") + "\nfields:\n  default: scan\n  rules:\n    - {path: metadata, action: delete}\n"
    path = tmp_path / "policy.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(Exception, match=r"fields\.rules\[0\]\.action"):
        load_policy(path)


def test_a_catalog_source_that_looks_like_personal_data_is_refused(tmp_path):
    from pipeline.catalog import load_catalog

    text = (REPO / "policies/sources.yaml").read_text(encoding="utf-8").replace("\n  sample:\n", f"\n  {EMAILS[0]}:\n", 1)
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Exception, match="not a plain name") as info:
        load_catalog(path)
    assert EMAILS[0] not in str(info.value)


def test_field_paths_never_carry_a_value():
    data = {"id": "x", "text": "t", "metadata": {EMAILS[0]: 1, TCKNS[0]: 2, "ahmet_yilmaz": 3, "customer_email": "e"}}
    paths = [f.path for f in iter_fields(data)]
    assert paths == ["text", "metadata.#0@key", "metadata.#0", "metadata.#1@key", "metadata.#1", "metadata.#2@key",
                     "metadata.#2", "metadata.customer_email"]  # fmt: skip


def test_the_leak_check_finds_values_in_their_common_forms():
    from leakcheck import found_in, searchable, survivors

    text = f"ad: GÜLTEN KARADAĞ, tc {_fullwidth(TCKNS[0])}, tel 0533{ZW}418 2671, mail {EMAILS[0].upper()}"
    haystack = searchable(text)
    assert found_in(NAME, haystack, whole_word=True) and found_in(TCKNS[0], haystack)
    assert found_in("0533 418 26 71", haystack) and found_in(EMAILS[0], haystack)
    assert not found_in("Gülten Kara", haystack, whole_word=True) and not found_in(TCKNS[1], haystack)
    found, total = survivors([("a", "PERSON", NAME), ("a", "PERSON", "Ayla Demir"), ("gone", "PERSON", NAME)], {"a": text})
    assert found["PERSON"] == 1 and total["PERSON"] == 2


def test_a_deeply_nested_or_non_utf8_recognizer_file_is_a_clear_error(tmp_path):
    from pipeline.scan.recognizers.yaml_patterns import RecognizerSpecError, yaml_recognizers

    deep = tmp_path / "deep.yaml"
    deep.write_text("recognizers: " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    with pytest.raises(RecognizerSpecError, match="nested too deeply"):
        yaml_recognizers(deep, supported_language="tr")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("recognizers: []  # müdür\n".encode("latin-1"))
    with pytest.raises(RecognizerSpecError, match="not UTF-8"):
        yaml_recognizers(latin, supported_language="tr")
