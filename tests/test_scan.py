"""The scan stage: findings schema, determinism, fingerprints, accounting, no raw values out."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.keys import PseudonymKey
from pipeline.fingerprint import fingerprint, record_key
from pipeline.scan.stage import InputFile, QuarantineLimitExceeded, ScanConfig, scan_files
from pipeline.sample import SampleConfig, write_sample

REPO = Path(__file__).resolve().parents[1]
KEY = PseudonymKey(b"1669a2aa2ffa14cf899f2652d6b9cd6ec56ebc83775dbfccc2a0760a21d03f32")  # hex, as keys.check_pseudonym_key wants
OTHER_KEY = PseudonymKey(b"dba47c1fc6520abd74bc0813b800f2f863859aaaf2a24c0a4ba6a07b6ba56c68")
FINDING_KEYS = {"record_id", "field", "start", "end", "entity_type", "score", "recognizer", "fingerprint"}
CONFIG = ScanConfig(workers=1, recognizer_dir=REPO / "policies/recognizers")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("raw")
    raw, labels = directory / "sample.jsonl", directory / "sample.labels.jsonl"
    write_sample(raw, labels, SampleConfig(seed=11, n_records=150))
    return raw, labels


@pytest.fixture(scope="module")
def scanned(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scan")
    scan_files([InputFile(corpus[0], "sample")], out, CONFIG, KEY, catalog_digest="c" * 64)
    return out


def _findings(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "findings.jsonl").open(encoding="utf-8")]


def test_findings_follow_the_schema(scanned, corpus):
    records = {record_key(KEY, r["id"]): r for r in map(json.loads, corpus[0].open(encoding="utf-8"))}
    findings = _findings(scanned)
    assert findings
    for f in findings:
        assert set(f) == FINDING_KEYS
        assert re.fullmatch(r"messages\[\d+\]\.content|text", f["field"])
        index = int(re.search(r"\d+", f["field"]).group())
        content = records[f["record_id"]]["messages"][index]["content"]
        assert 0 <= f["start"] < f["end"] <= len(content)
        assert re.fullmatch(r"[0-9a-f]{32}", f["fingerprint"])
        assert 0.0 < f["score"] <= 1.0


def test_no_raw_label_value_in_any_output(scanned, corpus):
    outputs = {p.name: p.read_text(encoding="utf-8") for p in scanned.iterdir()}
    assert set(outputs) >= {"findings.jsonl", "summary.json", "report.html", "quarantine.jsonl"}
    values = set()
    for line in corpus[1].open(encoding="utf-8"):
        labels = json.loads(line)
        values |= {span["value"] for span in labels["pii"] + labels["special"]}
    leaked = []
    for value in values:
        if len(value) < 4:
            continue
        pattern = re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)")
        leaked += [(name, value) for name, text in outputs.items() if pattern.search(text)]
    assert leaked == []


def test_scan_finds_the_main_types_of_the_sample(scanned):
    summary = json.loads((scanned / "summary.json").read_text())
    for entity in ("PERSON", "PHONE_NUMBER", "TR_NATIONAL_ID", "IBAN_CODE", "EMAIL_ADDRESS", "ADDRESS"):
        assert summary["by_entity_type"].get(entity, 0) > 0, entity
    assert summary["records_with_special"] > 0
    assert summary["lines"] == summary["records"] + summary["quarantined"] == 150


def test_same_input_and_key_give_identical_findings(scanned, corpus, tmp_path):
    scan_files([InputFile(corpus[0], "sample")], tmp_path, CONFIG, KEY)
    assert (tmp_path / "findings.jsonl").read_bytes() == (scanned / "findings.jsonl").read_bytes()


def test_another_key_changes_fingerprints_but_not_spans(scanned, corpus, tmp_path):
    scan_files([InputFile(corpus[0], "sample")], tmp_path, CONFIG, OTHER_KEY)
    first, second = _findings(scanned), _findings(tmp_path)
    assert [(f["field"], f["start"], f["end"]) for f in first] == [(f["field"], f["start"], f["end"]) for f in second]
    assert all(a["fingerprint"] != b["fingerprint"] for a, b in zip(first, second))
    # Record ids are keyed too: the same records, under ids nobody without the key can link.
    assert not {f["record_id"] for f in first} & {f["record_id"] for f in second}


def test_equal_values_share_a_fingerprint_across_spellings():
    assert fingerprint(KEY, "TR_NATIONAL_ID", "100 000 001 46") == fingerprint(KEY, "TR_NATIONAL_ID", "10000000146")
    assert fingerprint(KEY, "PHONE_NUMBER", "0532 123 45 67") == fingerprint(KEY, "PHONE_NUMBER", "+90 532 123 4567")
    assert fingerprint(KEY, "IBAN_CODE", "tr33 0006 1005 1978 6457 8413 26") == fingerprint(
        KEY, "IBAN_CODE", "TR330006100519786457841326"
    )
    assert fingerprint(KEY, "PERSON", "İSMAİL IŞIK") == fingerprint(KEY, "PERSON", "ismail ışık")
    assert fingerprint(KEY, "PERSON", "Ayşe") != fingerprint(KEY, "PERSON", "Ayse")
    assert fingerprint(KEY, "PERSON", "Ayşe") != fingerprint(OTHER_KEY, "PERSON", "Ayşe")


def test_two_workers_give_the_same_findings(scanned, corpus, tmp_path):
    config = ScanConfig(workers=2, batch_size=16, recognizer_dir=CONFIG.recognizer_dir)
    scan_files([InputFile(corpus[0], "sample")], tmp_path, config, KEY)
    assert (tmp_path / "findings.jsonl").read_bytes() == (scanned / "findings.jsonl").read_bytes()


def _bad_file(path: Path, good: int, bad: int) -> Path:
    lines = [json.dumps({"id": f"r{i}", "text": f"Merhaba, siparişim {i} nerede?"}) for i in range(good)]
    lines += ['{"id": "x", "text": "Ayşe Yılmaz 0532 123 45 67' for _ in range(bad)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_quarantined_lines_are_counted_and_reported_without_content(tmp_path):
    raw = _bad_file(tmp_path / "in.jsonl", good=40, bad=1)
    result = scan_files([InputFile(raw, "s")], tmp_path / "out", CONFIG, KEY)
    assert (result.lines, result.records, result.quarantined) == (41, 40, 1)
    entries = [json.loads(line) for line in (tmp_path / "out/quarantine.jsonl").open()]
    assert entries == [{"file": str(raw), "line": 41, "byte_offset": entries[0]["byte_offset"], "reason": entries[0]["reason"]}]
    for name in ("quarantine.jsonl", "summary.json", "report.html"):
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "Ayşe" not in text and "0532" not in text


def test_too_many_quarantined_lines_fail_after_writing_the_evidence(tmp_path):
    raw = _bad_file(tmp_path / "in.jsonl", good=5, bad=5)
    with pytest.raises(QuarantineLimitExceeded, match="5 of 10 input lines"):
        scan_files([InputFile(raw, "s")], tmp_path / "out", CONFIG, KEY)
    assert json.loads((tmp_path / "out/summary.json").read_text())["quarantined"] == 5


def test_report_is_self_contained_html(scanned):
    html = (scanned / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Personal data by type" in html and "Special categories" in html and "<svg" in html
    assert not re.search(r"(src|href)=['\"]?https?://", html)
    assert "<script" not in html


# --- the commands -------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path, corpus, monkeypatch) -> Path:
    """A project directory with the shipped policies and the sample corpus in data/raw."""
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "data/raw").mkdir(parents=True)
    shutil.copy(corpus[0], tmp_path / "data/raw/sample.jsonl")
    shutil.copy(corpus[1], tmp_path / "data/raw/sample.labels.jsonl")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAHREM_PSEUDONYM_KEY", KEY.secret.decode())
    return tmp_path


def _invoke(args):
    from pipeline.cli import app

    return CliRunner().invoke(app, args, terminal_width=200)


def test_scan_refuses_a_file_without_a_source_naming_it(project):
    (project / "data/raw/crm_export.jsonl").write_text('{"id": "1", "text": "x"}\n', encoding="utf-8")
    result = _invoke(["scan", "--workers", "1"])
    assert result.exit_code == 1
    assert "data/raw/crm_export.jsonl: matches no source" in result.output
    assert not (project / "reports/scan/findings.jsonl").exists()


def test_scan_command_skips_gold_labels_and_writes_reports(project):
    result = _invoke(["scan", "--workers", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads((project / "reports/scan/summary.json").read_text())
    assert list(summary["files"]) == ["data/raw/sample.jsonl"]
    assert summary["by_source"]["sample"]["records"] == 150
    assert len(summary["catalog_sha256"]) == 64


def test_audit_command_needs_no_catalog(project, tmp_path):
    other = tmp_path / "elsewhere.jsonl"
    other.write_text(json.dumps({"id": "1", "text": "Ahmet Yılmaz, TC 10000000146"}) + "\n", encoding="utf-8")
    os.remove(project / "policies/sources.yaml")
    result = _invoke(["audit", str(other), "--out", str(tmp_path / "audit"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "audit/summary.json").read_text())
    assert summary["by_entity_type"].get("TR_NATIONAL_ID") == 1
    assert summary["catalog_sha256"] is None
