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
