"""The anonymize stage: actions, consistency, overlaps, special categories, residual re-scan,
canaries, erasure and accounting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stdnum.tr import tckimlik

from pipeline.config import file_digest
from pipeline.io import RawRecord
from pipeline.keys import PseudonymKey
from pipeline.scan.analyzer import get_analyzer
from pipeline.anonymize.stage import (
    AnonymizeInput,
    ResidualPIIError,
    StaleFindingsError,
    anonymize_dataset,
    anonymize_record,
    resolve_overlaps,
    rewrite_field,
)
from pipeline.anonymize.erasure import load_erasures, record_request
from pipeline.fingerprint import fingerprint, record_key
from pipeline.policy import load_policy
from pipeline.scan.stage import InputFile, ScanConfig, scan_files
from pipeline.text import tr_lower

REPO = Path(__file__).resolve().parents[1]
KEY = PseudonymKey(b"test-pseudonym-key-0123456789abcdef")
OTHER = PseudonymKey(b"another-pseudonym-key-fedcba987654")
POLICY = load_policy(REPO / "policies/kvkk.yaml")
TCKN = "10000000146"  # valid checksum
assert tckimlik.is_valid(TCKN)


def _span(start, end, entity, score=0.9, fp="0" * 32, field="text"):
    return {"record_id": "r", "field": field, "start": start, "end": end, "entity_type": entity,
            "score": score, "recognizer": "t", "fingerprint": fp}


def _policy_with(**actions):
    data = POLICY.policy.model_dump()
    for entity, action in actions.items():
        data["entities"][entity] = {**data["entities"][entity], "action": action}
    return type(POLICY.policy).model_validate(data)


def _rewrite(text, spans, **actions):
    return rewrite_field(text, spans, _policy_with(**actions), KEY)


# --- actions ---------------------------------------------------------------------------


def test_pseudonymize_gives_an_invalid_tckn_of_the_same_shape():
    text = f"TC kimlik: {TCKN[:3]} {TCKN[3:6]} {TCKN[6:9]} {TCKN[9:]} tamam"
    new, actions, inserted = _rewrite(text, [_span(11, 25, "TR_NATIONAL_ID")], TR_NATIONAL_ID="pseudonymize")
    surrogate = new[inserted[0][0] : inserted[0][1]]
    digits = surrogate.replace(" ", "")
    assert len(digits) == 11 and digits[0] != "0" and not tckimlik.is_valid(digits)
    assert [len(g) for g in surrogate.split(" ")] == [3, 3, 3, 2]
    assert new.startswith("TC kimlik: ") and new.endswith(" tamam")
    assert actions == {"TR_NATIONAL_ID:pseudonymize": 1}


def test_replace_mask_redact_generalize_and_keep():
    text = "Kart 4111 1111 1111 1111, doğum 12.03.1985, pasaport U12345678."
    spans = [_span(5, 24, "CREDIT_CARD"), _span(32, 42, "DATE_OF_BIRTH"), _span(53, 62, "PASSPORT")]
    new, actions, _ = _rewrite(text, spans, CREDIT_CARD="mask", DATE_OF_BIRTH="generalize", PASSPORT="replace")
    assert "**** **** **** 1111" in new and "1985" in new and "12.03" not in new and "<PASSPORT>" in new
    assert set(actions) == {"CREDIT_CARD:mask", "DATE_OF_BIRTH:generalize", "PASSPORT:replace"}
    new, _, _ = _rewrite(text, spans[2:], PASSPORT="redact")
    assert "U12345678" not in new and "pasaport ." in new
    new, actions, inserted = _rewrite(text, spans[2:], PASSPORT="keep")
    assert new == text and inserted == [] and actions == {"PASSPORT:keep": 1}


def test_offsets_stay_valid_with_multibyte_turkish_text():
    text = "İĞÜŞÖÇ ğüşıöç: Ayşe Yılmaz ile Şükrü Öztürk'ün telefonu"
    first = text.index("Ayşe Yılmaz")
    second = text.index("Şükrü Öztürk")
    spans = [_span(second, second + len("Şükrü Öztürk"), "PERSON"), _span(first, first + len("Ayşe Yılmaz"), "PERSON")]
    new, _, inserted = _rewrite(text, spans, PERSON="replace")
    assert new == "İĞÜŞÖÇ ğüşıöç: <PERSON> ile <PERSON>'ün telefonu"
    assert [new[s:e] for s, e in inserted] == ["<PERSON>", "<PERSON>"]


def test_a_kept_type_never_shields_an_overlapping_value():
    text = "Numaram 05321234567."
    spans = [_span(8, 19, "DATE_TIME", 0.85), _span(8, 19, "PHONE_NUMBER", 0.75)]
    new, actions, _ = _rewrite(text, spans, DATE_TIME="keep", PHONE_NUMBER="replace")
    assert new == "Numaram <PHONE>." and actions == {"DATE_TIME:keep": 1, "PHONE_NUMBER:replace": 1}


def test_overlaps_keep_the_longest_then_the_highest_score():
    spans = [_span(0, 10, "PHONE_NUMBER", 0.6), _span(0, 14, "ADDRESS", 0.5), _span(20, 25, "PERSON", 0.7),
             _span(20, 25, "LOCATION", 0.9), _span(30, 35, "PERSON", 0.8)]
    chosen = resolve_overlaps(spans)
    assert [(s["start"], s["entity_type"]) for s in chosen] == [(0, "ADDRESS"), (20, "LOCATION"), (30, "PERSON")]


# --- consistency -------------------------------------------------------------------------


def _record(rid, *turns):
    return RawRecord({"id": rid, "messages": [{"role": r, "content": c} for r, c in turns], "source": "s"}, "f", 1)


def test_same_name_gets_the_same_surrogate_across_turns_records_and_runs():
    rec = _record("a", ("user", "Ben Ayşe Yılmaz."), ("assistant", "Merhaba Ayşe Yılmaz, nasıl yardımcı olabilirim?"))
    findings = [_span(4, 15, "PERSON", field="messages[0].content"), _span(8, 19, "PERSON", field="messages[1].content")]
    one = anonymize_record(rec, findings, POLICY.policy, KEY, special_allowed=False)
    two = anonymize_record(rec, findings, POLICY.policy, KEY, special_allowed=False)
    first = one.data["messages"][0]["content"][4:-1]
    assert first != "Ayşe Yılmaz" and first in one.data["messages"][1]["content"]
    assert one.data == two.data
    other = anonymize_record(rec, findings, POLICY.policy, OTHER, special_allowed=False)
    assert other.data["messages"][0]["content"] != one.data["messages"][0]["content"]


# --- special categories and drops -----------------------------------------------------


def test_special_category_drops_the_record_by_default():
    rec = _record("h", ("user", "Şeker hastasıyım, ilacımı sipariş ettim."), ("assistant", "Geçmiş olsun."))
    outcome = anonymize_record(rec, [_span(0, 16, "SPECIAL:HEALTH", field="messages[0].content")], POLICY.policy, KEY,
                               special_allowed=False)
    assert outcome.status == "dropped" and outcome.reason == "special_category:HEALTH" and outcome.data is None


def _special_policy(action):
    data = POLICY.policy.model_dump()
    data["special_categories"]["HEALTH"] = action
    return type(POLICY.policy).model_validate(data)


def test_special_category_kept_only_with_consent():
    rec = _record("h", ("user", "Şeker hastasıyım. Siparişim nerede?"), ("assistant", "Kontrol ediyorum."))
    finding = [_span(0, 16, "SPECIAL:HEALTH", field="messages[0].content")]
    keep = _special_policy("keep")
    refused = anonymize_record(rec, finding, keep, KEY, special_allowed=False)
    assert refused.status == "dropped" and refused.reason == "special_category_without_consent:HEALTH"
    allowed = anonymize_record(rec, finding, keep, KEY, special_allowed=True)
    assert allowed.status == "kept" and allowed.data["messages"][0]["content"].startswith("Şeker")


def test_special_category_mask_removes_the_sentence():
    rec = _record("h", ("user", "Şeker hastasıyım. Siparişim nerede?"), ("assistant", "Kontrol ediyorum."))
    outcome = anonymize_record(rec, [_span(0, 16, "SPECIAL:HEALTH", field="messages[0].content")],
                               _special_policy("mask"), KEY, special_allowed=False)
    assert outcome.status == "transformed"
    assert outcome.data["messages"][0]["content"] == "<SPECIAL> Siparişim nerede?"


def test_empty_assistant_turn_drops_the_record():
    rec = _record("e", ("user", "Merhaba"), ("assistant", "  "))
    assert anonymize_record(rec, [], POLICY.policy, KEY, special_allowed=False).reason == "empty_assistant_turn"


# --- the dataset stage ----------------------------------------------------------------


def _write(path: Path, rows: list[dict], extra_lines: list[str] = ()) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "".join(l + "\n" for l in extra_lines),
                    encoding="utf-8")
    return path


def _chat(i, user, assistant="Teşekkürler, talebinizi aldık ve inceliyoruz."):
    return {"id": f"r{i}", "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}],
            "source": "s"}


LONG_REPLY = (
    "Yaşadığınız gecikme için özür dileriz. Kargo firmasıyla görüştük ve paketinizin dağıtım merkezinde "
    "beklediğini öğrendik. Paketiniz en geç iki iş günü içinde adresinize teslim edilecek ve teslimattan önce "
    "kargo görevlisi sizi arayacak. Takip numaranızı mobil uygulamamızdaki siparişlerim bölümünden de "
    "görebilirsiniz. Başka bir sorunuz olursa bize her zaman buradan yazabilirsiniz, iyi günler dileriz."
)

ROWS = [
    _chat(0, f"Merhaba, ben Ahmet Yılmaz. TC kimlik numaram {TCKN}, kartım kayboldu."),
    _chat(1, "Telefonum 0532 123 45 67, beni arar mısınız? Kargo hâlâ gelmedi."),
    _chat(2, "E-posta adresim ayse.kaya@ornekmail.com, faturamı gönderin lütfen."),
    _chat(3, "Şeker hastasıyım, insülin kalemlerimi ne zaman gönderirsiniz?"),
    _chat(4, "Merhaba, ben Ahmet Yılmaz. TC kimlik numaram 10000000146, kartım kayboldu."),  # exact duplicate of r0
    _chat(5, "İade sürecini başlatmak istiyorum, ürün kusurlu geldi ve kutusu hasarlı."),
    _chat(6, "Mağazanız hafta sonu kaçta açılıyor, pazar günü de açık mısınız acaba?"),
    _chat(7, "Yeni kredi kartı başvurusu için hangi belgeler gerekiyor, bilgi verir misiniz?"),
] + [_chat(10 + i, f"Siparişim {word} hâlâ gelmedi, kargo takip numarası nedir?", LONG_REPLY) for i, word in
      enumerate(["dün", "bugün", "yine", "maalesef", "hala", "henüz"])]


@pytest.fixture(scope="module")
def analyzer():
    return get_analyzer(str(REPO / "policies/recognizers"), 0.5)


def _run(tmp: Path, analyzer, rows=ROWS, extra_lines=(), erased=frozenset(), findings_filter=None):
    raw = _write(tmp / "raw.jsonl", rows, list(extra_lines))
    scan_files([InputFile(raw, "s")], tmp / "scan", ScanConfig(workers=1, max_quarantine_ratio=0.5, recognizer_dir=REPO / "policies/recognizers"), KEY)
    findings = tmp / "scan/findings.jsonl"
    if findings_filter:
        # Pretend the scan itself missed these: its summary records the filtered findings.
        kept = [l for l in findings.read_text(encoding="utf-8").splitlines() if findings_filter(json.loads(l))]
        findings.write_text("".join(l + "\n" for l in kept), encoding="utf-8")
        summary = json.loads((tmp / "scan/summary.json").read_text())
        summary["findings_sha256"] = file_digest(findings)
        (tmp / "scan/summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return anonymize_dataset([AnonymizeInput(raw, "s", False)], findings, tmp / "data", tmp / "report", POLICY, KEY,
                             analyzer.analyze, erased=set(erased))


def _all_text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_stage_accounts_for_every_line_and_removes_values(tmp_path, analyzer):
    result = _run(tmp_path, analyzer, extra_lines=["{broken json"])
    s = result.summary
    assert s["lines"] == len(ROWS) + 1
    assert s["kept"] + s["transformed"] + s["dropped"] + s["quarantined"] == s["lines"]
    assert s["quarantined"] == 1 and s["accounted"] is True
    assert s["dropped_by_reason"]["special_category"] == 1 and s["dropped_by_reason"]["duplicate"] >= 1
    out = _all_text(tmp_path / "data/train.jsonl") + _all_text(tmp_path / "data/holdout.jsonl")
    for value in (TCKN, "0532 123 45 67", "ayse.kaya@ornekmail.com", "Ahmet Yılmaz", "insülin"):
        assert value not in out
    log = [json.loads(l) for l in (tmp_path / "report/log.jsonl").open(encoding="utf-8")]
    assert len(log) == len(ROWS) and all(set(e) >= {"record_id", "status", "reason", "actions"} for e in log)
    assert TCKN not in _all_text(tmp_path / "report/log.jsonl")


def test_near_duplicates_collapse_and_no_record_is_in_both_splits(tmp_path, analyzer):
    result = _run(tmp_path, analyzer)
    # Six tracking questions that differ in one word, with the same long reply, collapse.
    # MinHash estimates the Jaccard similarity (true value ≈ 0.9 here), so allow one miss.
    assert result.summary["dropped_by_reason"].get("near_duplicate", 0) >= 4
    train = {json.loads(l)["id"] for l in (tmp_path / "data/train.jsonl").open()}
    holdout = {json.loads(l)["id"] for l in (tmp_path / "data/holdout.jsonl").open()}
    assert train.isdisjoint(holdout)


def test_canaries_go_to_train_only_with_their_repetition_counts(tmp_path, analyzer):
    _run(tmp_path, analyzer)
    spec = json.loads((tmp_path / "report/canaries.json").read_text())
    train = (tmp_path / "data/train.jsonl").read_text(encoding="utf-8")
    holdout = (tmp_path / "data/holdout.jsonl").read_text(encoding="utf-8")
    records = [json.loads(line) for line in train.splitlines()]
    for canary in spec["canaries"]:
        assert train.count(canary["secret"]) == canary["repetitions"]
        assert canary["secret"] not in holdout
        # Only in the assistant turn: a model can produce it from memory, never by copying the prompt.
        for record in records:
            if canary["secret"] in json.dumps(record, ensure_ascii=False):
                assert [m["role"] for m in record["messages"] if canary["secret"] in m["content"]] == ["assistant"]
    assert sorted({c["repetitions"] for c in spec["canaries"]}) == [1, 4, 8]
    assert len(spec["canaries"]) == 30
    assert len(spec["references"]) == 1000
    assert not set(spec["references"]) & {c["secret"] for c in spec["canaries"]}
    assert all(r not in train for r in spec["references"][:50])


def test_residual_rescan_fails_on_a_planted_miss_and_writes_nothing(tmp_path, analyzer):
    # Pretend the scan missed the TCKN: drop its finding, so anonymize leaves it in place.
    with pytest.raises(ResidualPIIError, match="TR_NATIONAL_ID 1"):
        _run(tmp_path, analyzer, findings_filter=lambda f: f["entity_type"] != "TR_NATIONAL_ID")
    assert not (tmp_path / "data/train.jsonl").exists() and not (tmp_path / "data/holdout.jsonl").exists()
    residual = json.loads((tmp_path / "report/residual.json").read_text())
    assert residual["by_entity_type"] == {"TR_NATIONAL_ID": 1}
    assert residual["record_ids"]["TR_NATIONAL_ID"] == [record_key(KEY, "r0")]
    assert TCKN not in (tmp_path / "report/residual.json").read_text()


def test_erasure_request_end_to_end(tmp_path, analyzer):
    erasure = tmp_path / "erasure.yaml"
    added = record_request(erasure, KEY, "PHONE_NUMBER", ["+90 532 123 4567"], reference="DSR-1")
    assert added == [fingerprint(KEY, "PHONE_NUMBER", "05321234567")]
    assert "532" not in erasure.read_text(encoding="utf-8")
    loaded = load_erasures(erasure)
    result = _run(tmp_path, analyzer, erased=loaded.fingerprints)
    assert result.summary["erasure"]["records_dropped"] == 1
    log = {json.loads(l)["record_id"]: json.loads(l) for l in (tmp_path / "report/log.jsonl").open()}
    r1 = record_key(KEY, "r1")
    assert log[r1]["status"] == "dropped" and log[r1]["reason"] == "erasure_request"
    with pytest.raises(Exception, match="another pseudonym key"):
        loaded.check_key(OTHER)


def test_controller_public_names_are_never_transformed():
    rec = _record("o", ("user", "Anka Bank ile Sierra Mason'a ödeme yaptım."), ("assistant", "Anka Bank olarak teşekkürler."))
    findings = [_span(0, 9, "ORGANIZATION", field="messages[0].content"), _span(14, 26, "ORGANIZATION", field="messages[0].content"),
                _span(0, 9, "ORGANIZATION", field="messages[1].content")]
    outcome = anonymize_record(rec, findings, POLICY.policy, KEY, special_allowed=False, allow=frozenset({"anka bank"}))
    first = outcome.data["messages"][0]["content"]
    assert first.startswith("Anka Bank ile ") and "Sierra Mason" not in first
    assert outcome.data["messages"][1]["content"] == "Anka Bank olarak teşekkürler."


def test_an_undetected_repeat_of_a_detected_name_is_anonymized_too():
    rec = _record("p", ("user", "Güleğen Doğan'a transfer yaptım."), ("assistant", "Alıcı adı güleğen doğan olarak görünüyor."))
    findings = [_span(0, 13, "PERSON", field="messages[0].content")]
    outcome = anonymize_record(rec, findings, POLICY.policy, KEY, special_allowed=False)
    first, second = outcome.data["messages"][0]["content"], outcome.data["messages"][1]["content"]
    assert "Güleğen" not in first and "güleğen" not in second.lower()
    surrogate = first.split("'")[0]
    assert surrogate.lower() in second.lower() or tr_lower(surrogate) in tr_lower(second)
    assert outcome.actions["PERSON:pseudonymize"] == 2


def _scan_only(tmp: Path, rows=ROWS) -> tuple[Path, Path]:
    raw = _write(tmp / "raw.jsonl", rows)
    scan_files([InputFile(raw, "s")], tmp / "scan", ScanConfig(workers=1, max_quarantine_ratio=0.5,
               recognizer_dir=REPO / "policies/recognizers"), KEY)  # fmt: skip
    return raw, tmp / "scan/findings.jsonl"


def _anonymize(tmp: Path, raw: Path, findings: Path, analyzer):
    return anonymize_dataset([AnonymizeInput(raw, "s", False)], findings, tmp / "data", tmp / "report", POLICY, KEY,
                             analyzer.analyze)  # fmt: skip


def test_a_raw_file_replaced_after_the_scan_is_refused_and_nothing_is_written(tmp_path, analyzer):
    raw, findings = _scan_only(tmp_path, ROWS[:3])
    _write(raw, ROWS)  # new records, with names and identifiers the old findings never saw
    with pytest.raises(StaleFindingsError, match=r"raw\.jsonl: SHA-256 .* differs from .* the scan recorded"):
        _anonymize(tmp_path, raw, findings, analyzer)
    assert not (tmp_path / "data").exists() and not (tmp_path / "report").exists()


def test_findings_without_their_scan_summary_are_refused(tmp_path, analyzer):
    raw, findings = _scan_only(tmp_path, ROWS[:3])
    (tmp_path / "scan/summary.json").unlink()  # e.g. the scan was killed before writing it
    with pytest.raises(StaleFindingsError, match="summary.json: missing"):
        _anonymize(tmp_path, raw, findings, analyzer)


def test_findings_from_another_run_are_refused(tmp_path, analyzer):
    raw, findings = _scan_only(tmp_path, ROWS[:3])
    findings.write_text("", encoding="utf-8")  # an older, emptier scan's findings beside this summary
    with pytest.raises(StaleFindingsError, match="not the output of the last completed scan"):
        _anonymize(tmp_path, raw, findings, analyzer)


def test_a_raw_file_the_scan_never_read_is_refused(tmp_path, analyzer):
    _, findings = _scan_only(tmp_path, ROWS[:3])
    other = _write(tmp_path / "other.jsonl", ROWS[3:5])
    with pytest.raises(StaleFindingsError, match="other.jsonl: not among the files the scan read"):
        _anonymize(tmp_path, other, findings, analyzer)


def test_stages_that_read_raw_files_depend_on_the_whole_raw_directory():
    """scan.inputs is data/raw: a second raw file beside the sample must re-run scan, anonymize and evaluate."""
    import yaml

    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for name in ("scan", "anonymize", "evaluate"):
        assert "data/raw" in stages[name]["deps"], name


def test_the_split_is_the_same_whatever_the_pseudonym_key(tmp_path, analyzer):
    # Ids leave as keyed hashes, but the split is drawn from the raw id and the policy's salt:
    # a machine with its own development key trains on the same records.
    def splits(root: Path, key: PseudonymKey) -> dict[str, str]:
        root.mkdir()
        raw = _write(root / "raw.jsonl", ROWS, [])
        scan_files([InputFile(raw, "s")], root / "scan", ScanConfig(workers=1, recognizer_dir=REPO / "policies/recognizers"), key)
        anonymize_dataset([AnonymizeInput(raw, "s", False)], root / "scan/findings.jsonl", root / "data", root / "report",
                          POLICY, key, analyzer.analyze, canaries=False)  # fmt: skip
        log = {json.loads(l)["record_id"]: json.loads(l) for l in (root / "report/log.jsonl").open()}
        return {row["id"]: log[record_key(key, row["id"])]["split"] for row in ROWS}

    first, second = splits(tmp_path / "a", KEY), splits(tmp_path / "b", OTHER)
    assert first == second and set(first.values()) >= {"train"}


# --- name propagation within a record (issue #16 item 5, pipeline.anonymize.propagate) -------

from pipeline.anonymize.surrogates import pseudonymize  # noqa: E402
from pipeline.anonymize.surrogates.base import _fold  # noqa: E402
from pipeline.reports import check_report  # noqa: E402
from pipeline.reports.anonymize import AnonymizeSummary  # noqa: E402
from pipeline.text import tr_upper  # noqa: E402


def _found(turns, *names, entity="PERSON"):
    """A finding for the first occurrence of each (turn index, value)."""
    out = []
    for i, value in names:
        start = turns[i][1].index(value)
        out.append(_span(start, start + len(value), entity, field=f"messages[{i}].content"))
    return out


def _names(turns, *found, key=KEY, policy=None, record=None, **kwargs):
    rec = record or _record("n", *turns)
    outcome = anonymize_record(rec, _found(turns, *found), policy or POLICY.policy, key, special_allowed=False, **kwargs)
    return [m["content"] for m in outcome.data["messages"]], outcome


def _surrogate(name):
    """The surrogate words the found full name gets (the PERSON surrogate goes word by word)."""
    return pseudonymize(KEY, "PERSON", name).split()


def test_a_found_name_is_replaced_in_every_apostrophe_inflection_with_the_same_surrogate():
    turns = [("user", "Ben Ayşe Yılmaz."), ("assistant", "Ayşe'nin kartı, Ayşe’ye mesaj, Ayşeʼden yanıt, Ayşe‘yle görüştük.")]
    given, _ = _surrogate("Ayşe Yılmaz")
    (first, second), outcome = _names(turns, (0, "Ayşe Yılmaz"))
    assert "Ayşe" not in second
    assert second == f"{given}'nin kartı, {given}’ye mesaj, {given}ʼden yanıt, {given}‘yle görüştük."
    assert first.startswith(f"Ben {given} ")
    assert outcome.actions["PERSON:pseudonymize_propagated"] == 4


def test_honorific_forms_other_case_and_ascii_spelling_take_the_same_surrogate():
    turns = [("user", "Ben Ayşe Yılmaz, eşim Mehmet Demir."),
             ("assistant", "Ayşe Hanım ve Mehmet Bey, hoş geldiniz. AYŞE adına kayıt var; ayşe yazılmış; Ayse diye de."),
             ("user", "Sayın Yılmaz aradı mı?")]  # fmt: skip
    given, surname = _surrogate("Ayşe Yılmaz")
    mehmet, _ = _surrogate("Mehmet Demir")
    (_, second, third), _ = _names(turns, (0, "Ayşe Yılmaz"), (0, "Mehmet Demir"))
    assert second == (f"{given} Hanım ve {mehmet} Bey, hoş geldiniz. {tr_upper(given)} adına kayıt var; "
                      f"{tr_lower(given)} yazılmış; {_fold(given)} diye de.")  # fmt: skip
    assert third == f"Sayın {surname} aradı mı?"


def test_surname_or_given_name_alone_after_the_full_name_is_replaced_consistently():
    turns = [("user", "Ben Ayşe Yılmaz, siparişim gelmedi."), ("assistant", "Yılmaz Hanım dedi ki paket yolda, Ayşe de onayladı.")]
    given, surname = _surrogate("Ayşe Yılmaz")
    (_, second), _ = _names(turns, (0, "Ayşe Yılmaz"))
    assert second == f"{surname} Hanım dedi ki paket yolda, {given} de onayladı."


def test_a_found_surname_alone_takes_the_surname_surrogate_of_the_full_name():
    # "Yılmaz" alone is also a given name; the full name in the record says it is the surname here.
    turns = [("user", "Ben Ayşe Yılmaz."), ("assistant", "Yılmaz Hanım, hoş geldiniz.")]
    _, surname = _surrogate("Ayşe Yılmaz")
    (_, second), outcome = _names(turns, (0, "Ayşe Yılmaz"), (1, "Yılmaz"))
    assert second == f"{surname} Hanım, hoş geldiniz."
    assert outcome.actions["PERSON:pseudonymize"] == 2


def test_names_are_propagated_into_every_text_field_of_the_record():
    data = {"id": "t", "messages": [{"role": "user", "content": "Ben Ayşe Yılmaz."},
                                    {"role": "assistant", "content": "Tamam.", "name": "Ayşe"}],
            "text": "Not: Yılmaz Hanım aradı.", "metadata": {"note": "AYŞE'nin talebi"}, "source": "s"}  # fmt: skip
    given, surname = _surrogate("Ayşe Yılmaz")
    rec = RawRecord(data, "f", 1)
    outcome = anonymize_record(rec, [_span(4, 15, "PERSON", field="messages[0].content")], POLICY.policy, KEY,
                               special_allowed=False)  # fmt: skip
    assert outcome.data["text"] == f"Not: {surname} Hanım aradı."
    assert outcome.data["messages"][1]["name"] == given
    assert outcome.data["metadata"]["note"] == f"{tr_upper(given)}'nin talebi"


def test_propagation_never_matches_inside_another_word_nor_short_or_common_words():
    turns = [("user", "Ben Can Demir, eşim Ay Kaya, annem Ayşe Öztürk."),
             ("assistant", "Canan Hanım aradı. Ayrıca ay sonunda kaya gibi sağlam bir çözüm; can sıkıcı. "
                           "Kaya gibi dur. Öztürkler geldi; ayse85 kullanıcı adı; Ayşe-Nur ayrı kişi.")]  # fmt: skip
    (_, second), outcome = _names(turns, (0, "Can Demir"), (0, "Ay Kaya"), (0, "Ayşe Öztürk"))
    # sub-words (Canan, Ayrıca, Öztürkler, ayse85, Ayşe-Nur), a two-letter given name never found
    # alone (ay), common words in lower case or at a sentence start (kaya, can, "Kaya gibi"): untouched.
    assert second == turns[1][1]
    assert "PERSON:pseudonymize_propagated" not in outcome.actions


def test_a_common_word_is_replaced_when_capitalised_mid_sentence_or_by_an_honorific():
    turns = [("user", "Ben Ayşe Kaya."), ("assistant", "Dün Kaya aradı; kaya hanım da yazdı. Kaya'nın dosyası hazır.")]
    _, surname = _surrogate("Ayşe Kaya")
    (_, second), _ = _names(turns, (0, "Ayşe Kaya"))
    assert second == f"Dün {surname} aradı; {tr_lower(surname)} hanım da yazdı. {surname}'nın dosyası hazır."


def test_a_short_name_found_alone_is_propagated():
    turns = [("user", "Adım Ay."), ("assistant", "Merhaba Ay'a iletildi. Ayrıca bilgi verelim.")]
    (first, second), _ = _names(turns, (0, "Ay"))
    new = first.removeprefix("Adım ").removesuffix(".")
    assert new != "Ay" and second == f"Merhaba {new}'a iletildi. Ayrıca bilgi verelim."


def test_another_person_with_the_same_surname_is_replaced_too():
    # Acceptable over-protection: the surname alone cannot tell two people of one family apart.
    turns = [("user", "Ben Ayşe Yılmaz."), ("assistant", "Kardeşiniz Mehmet Yılmaz da aradı.")]
    _, surname = _surrogate("Ayşe Yılmaz")
    (_, second), _ = _names(turns, (0, "Ayşe Yılmaz"))
    assert second == f"Kardeşiniz Mehmet {surname} da aradı."


def test_spans_already_replaced_are_never_touched_again():
    turns = [("user", "Ben Ayşe Yılmaz, adresim Yılmaz Sokak No:5, e-posta ayse@example.org."), ("assistant", "Tamam.")]
    findings = _found(turns, (0, "Ayşe Yılmaz")) + _found(turns, (0, "Yılmaz Sokak No:5"), entity="ADDRESS") + \
        _found(turns, (0, "ayse@example.org"), entity="EMAIL_ADDRESS")  # fmt: skip
    outcome = anonymize_record(_record("s", *turns), findings, POLICY.policy, KEY, special_allowed=False)
    assert "PERSON:pseudonymize_propagated" not in outcome.actions
    assert sum(n for k, n in outcome.actions.items() if k.startswith(("ADDRESS:", "EMAIL_ADDRESS:"))) == 2


def test_lower_case_english_words_that_are_english_names_are_left_alone():
    turns = [("user", "Hi, I am Mark Powell."), ("assistant", "Hello Mark, we will mark it done. Mark's order is here.")]
    given, _ = pseudonymize(KEY, "PERSON", "Mark Powell").split()
    (_, second), _ = _names(turns, (0, "Mark Powell"))
    assert second == f"Hello {given}, we will mark it done. {given}'s order is here."


def test_propagation_is_deterministic_keyed_off_switchable_and_follows_the_policy_action():
    turns = [("user", "Ben Ayşe Yılmaz."), ("assistant", "Yılmaz Hanım, Ayşe'nin kartı hazır.")]
    one, _ = _names(turns, (0, "Ayşe Yılmaz"))
    assert one == _names(turns, (0, "Ayşe Yılmaz"))[0]
    other, _ = _names(turns, (0, "Ayşe Yılmaz"), key=OTHER)
    assert other[1] != one[1] and "Ayşe" not in other[1] and "Yılmaz" not in other[1]
    off, outcome = _names(turns, (0, "Ayşe Yılmaz"), name_propagation=False)
    assert off[1] == turns[1][1] and "PERSON:pseudonymize_propagated" not in outcome.actions
    replaced, outcome = _names(turns, (0, "Ayşe Yılmaz"), policy=_policy_with(PERSON="replace"))
    assert replaced[1] == "<PERSON> Hanım, <PERSON>'nin kartı hazır."
    assert outcome.actions["PERSON:replace_propagated"] == 2
    kept, _ = _names(turns, (0, "Ayşe Yılmaz"), policy=_policy_with(PERSON="keep"))
    assert kept[1] == turns[1][1]


def test_the_propagated_count_fits_the_summary_actions_without_a_schema_change(tmp_path, analyzer):
    rows = [_chat(0, "Merhaba, ben Ahmet Yılmaz. Kartım kayboldu.", "Ahmet'in kartını iptal ettik, Yılmaz Bey.")]
    raw, findings = _scan_only(tmp_path, rows)
    summary = _anonymize(tmp_path, raw, findings, analyzer).summary
    check_report(AnonymizeSummary, summary, what="anonymize summary")
    person = summary["actions"]["PERSON"]
    assert person.get("pseudonymize", 0) + person.get("pseudonymize_propagated", 0) >= 3
    text = _all_text(tmp_path / "data/train.jsonl") + _all_text(tmp_path / "data/holdout.jsonl")
    assert "Ahmet" not in text and "Yılmaz" not in text


def test_a_lower_case_word_of_a_finding_no_name_list_knows_is_not_propagated_in_lower_case():
    # A finding that no name list knows may be a scan miss ("kod geldi"); only a capitalised mention follows it.
    turns = [("user", "kod geldi."), ("assistant", "Size bir kod gönderdik, Kod Bey.")]
    (_, second), _ = _names(turns, (0, "kod geldi"))
    assert second.startswith("Size bir kod gönderdik, ") and "Kod Bey" not in second
    # ... while a word of a full name typed in lower case follows in lower case too.
    turns = [("user", "babam ürfettin başaran için sipariş."), ("assistant", "not: 'iyi ki doğdun ürfettin!'")]
    given, _ = pseudonymize(KEY, "PERSON", "ürfettin başaran").split()
    (_, second), _ = _names(turns, (0, "ürfettin başaran"))
    assert second == f"not: 'iyi ki doğdun {given}!'"


def test_a_name_written_in_capitals_then_in_title_case_keeps_one_surrogate_in_each_case():
    turns = [("user", "Merhaba, ben FATİNUR GÜMÜŞ."), ("assistant", "Talebinizi aldık Fatinur Hanım; GÜMÜŞ soyadıyla kayıt var.")]
    given, surname = pseudonymize(KEY, "PERSON", "FATİNUR GÜMÜŞ").split()
    (_, second), _ = _names(turns, (0, "FATİNUR GÜMÜŞ"), (1, "Fatinur"))
    # "Fatinur" is how "FATİNUR" is written in title case, not a spelling without Turkish letters.
    assert second == f"Talebinizi aldık {tr_upper(given[:1]) + tr_lower(given[1:])} Hanım; {surname} soyadıyla kayıt var."


def test_a_capitalised_given_name_the_scan_left_before_a_found_name_is_taken_in_mid_sentence_only():
    turns = [("user", "Alıcı Mehmet Savaş, ben de Celilay Can Başaran."), ("assistant", "Adım Ayşe diyen yok; Celilay Bey, tamam.")]
    (first, second), _ = _names(turns, (0, "Mehmet Savaş"), (0, "Can Başaran"), (1, "Ayşe"))
    full = pseudonymize(KEY, "PERSON", "Celilay Can Başaran")
    # "Celilay" joins the finding; "Alıcı" (recipient) and "Adım" (my name is) start a sentence: left as written.
    assert first == f"Alıcı {pseudonymize(KEY, 'PERSON', 'Mehmet Savaş')}, ben de {full}."
    assert second.startswith("Adım ") and second.endswith(f"; {full.split()[0]} Bey, tamam.")
