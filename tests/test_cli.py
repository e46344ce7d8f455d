"""The `mahrem` command line: help that lists every command, clear errors (more in test_cli_errors.py)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()

DESIGN_COMMANDS = [
    "base", "sample", "scan", "anonymize", "train", "evaluate", "signoff",
    "audit", "redact", "forget", "verify", "release", "generate", "merge",
]


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_help_lists_every_command_of_the_design():
    result = runner.invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    listed = set(re.findall(r"│ (\w+)\s", _plain(result.output)))
    assert set(DESIGN_COMMANDS) <= listed


def test_generate_rejects_a_malformed_adapter_option(tmp_path):
    result = runner.invoke(app, ["generate", "--prompt", "hi", "--public-key", str(tmp_path / "k.pem"),
                                 "--adapter", "no-equals-sign"])
    assert result.exit_code == 1
    assert "NAME=BUNDLE_DIR" in _plain(result.output) and "Traceback" not in _plain(result.output)


def test_generate_needs_one_use_per_prompt(tmp_path):
    result = runner.invoke(app, ["generate", "--prompt", "a", "--prompt", "b", "--use", "base",
                                 "--public-key", str(tmp_path / "k.pem")])
    assert result.exit_code == 1
    assert "one per prompt" in _plain(result.output)


def test_config_error_is_printed_without_traceback(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("sample:\n  seed: 1\n  n_recods: 5\n", encoding="utf-8")
    result = runner.invoke(app, ["sample", "--params", str(params), "--out", str(tmp_path / "s.jsonl")])
    assert result.exit_code == 1
    out = _plain(result.output)
    assert "sample.n_recods" in out and "Traceback" not in out
    assert not (tmp_path / "s.jsonl").exists()


def test_sample_command_writes_corpus_and_labels(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("sample:\n  seed: 7\n  n_records: 40\n", encoding="utf-8")
    out, labels = tmp_path / "raw" / "s.jsonl", tmp_path / "raw" / "s.labels.jsonl"
    result = runner.invoke(app, ["sample", "--params", str(params), "--out", str(out), "--labels", str(labels)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 40
    assert len(labels.read_text(encoding="utf-8").splitlines()) == 40


def test_base_command_reports_a_missing_local_model(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(f"base:\n  source: {tmp_path / 'nothing'}\n", encoding="utf-8")
    result = runner.invoke(app, ["base", "--params", str(params), "--out", str(tmp_path / "base")])
    assert result.exit_code == 1
    assert "base.source" in _plain(result.output)
