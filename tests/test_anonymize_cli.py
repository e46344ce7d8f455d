"""The anonymization commands: `redact` for any input, `forget` for erasure requests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

REPO = Path(__file__).resolve().parents[1]
KEY = "5de0d946a34ba9ed576f6b91f18625c8c1cb6452f9dae7af28d9312c540a5e5c"  # hex: keys.check_pseudonym_key refuses typed keys
TCKN = "10000000146"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAHREM_PSEUDONYM_KEY", KEY)
    return tmp_path


def _invoke(args, **kwargs):
    return CliRunner().invoke(app, args, terminal_width=200, **kwargs)


def test_redact_plain_text_lines_from_stdin(project):
    result = _invoke(["redact", "-"], input=f"Ben Ahmet Yılmaz, TC {TCKN}.\nŞeker hastasıyım.\nKargom nerede?\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert TCKN not in lines[0] and "Ahmet Yılmaz" not in lines[0] and lines[0].startswith("Ben ")
    assert lines[1].startswith("[record dropped: special_category")
    assert lines[2] == "Kargom nerede?"


def test_redact_jsonl_file(project, tmp_path):
    raw = tmp_path / "in.jsonl"
    raw.write_text(json.dumps({"id": "1", "text": f"E-posta: ayse.kaya@ornekmail.com, TC {TCKN}"}) + "\n{bad\n",
                   encoding="utf-8")
    result = _invoke(["redact", str(raw), "--out", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(l) for l in (tmp_path / "out.jsonl").open(encoding="utf-8")]
    assert "ornekmail" not in row["text"] and TCKN not in row["text"] and "@example." in row["text"]
    assert "1 quarantined" in result.output


def test_forget_records_a_fingerprint_never_the_value(project, tmp_path):
    values = tmp_path / "request.txt"
    values.write_text(f"{TCKN}\n", encoding="utf-8")
    result = _invoke(["forget", "--type", "TR_NATIONAL_ID", "--from-file", str(values), "--reference", "DSR-7"])
    assert result.exit_code == 0, result.output
    text = (project / "policies/erasure.yaml").read_text(encoding="utf-8")
    assert TCKN not in text and "DSR-7" in text and "fingerprint:" in text
    again = _invoke(["forget", "--type", "TR_NATIONAL_ID", "--value", f"{TCKN[:3]} {TCKN[3:]}"])
    assert "0 new request(s)" in again.output  # the same value, spelt differently


def test_forget_rejects_an_unknown_type(project):
    result = _invoke(["forget", "--type", "SSN", "--value", "1"])
    assert result.exit_code == 1 and "not an entity type" in result.output


def test_forget_which_lists_reports_holding_the_value(project, tmp_path):
    from pipeline.keys import PseudonymKey
    from pipeline.fingerprint import fingerprint

    reports = project / "reports/scan"
    reports.mkdir(parents=True)
    fp = fingerprint(PseudonymKey(KEY.encode()), "TR_NATIONAL_ID", TCKN)
    (reports / "findings.jsonl").write_text(json.dumps({"record_id": "r9", "fingerprint": fp}) + "\n", encoding="utf-8")
    result = _invoke(["forget", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--which"])
    assert result.exit_code == 0 and "reports/scan/findings.jsonl: 1 record(s)" in result.output
    assert "requests: []" in (project / "policies/erasure.yaml").read_text(encoding="utf-8")
