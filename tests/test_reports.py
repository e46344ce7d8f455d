"""One pydantic model per stage report (pipeline/reports): schemas, writers, refusals.

* the JSON Schemas committed under docs/schemas are what the models generate now;
* the real writers (scan, anonymize, train and seen.json) write exactly their model's dump,
  with ``schema_version``; the test fixtures of the release tests are built through the same
  models, and so are the evaluate reports (tests/test_evaluate.py, tests/test_gate_real.py
  check evaluate's real output against them);
* a report with a wrong, missing or unknown key is refused with the file, the key and the
  stage to re-run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pipeline.reports import ReportError, check_report, load_report
from pipeline.reports.anonymize import AnonymizeSummary
from pipeline.reports.evaluate import Benchmarks, Leakage
from pipeline.reports.scan import ScanSummary
from pipeline.reports.schemas import REPORTS, schema_text, write_schemas
from pipeline.reports.train import SeenRecords, TrainSummary
from test_release_helpers import DELETE, edit_doc

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "docs" / "schemas"


def _fixtures() -> dict[str, dict]:
    """Every report as the release tests build it (through its model)."""
    from test_release_helpers import anonymize_summary, benchmarks, leakage, scan_summary, train_summary

    from pipeline.train.seen import CanarySightings

    seen = SeenRecords(train_sha256="ab" * 32, records_in_file=4, steps=2, micro_batches=2, epochs=1.0, max_seq_len=64,
                       records={"r1": 1, "r2": 1, "r3": 0}, without_labels=["r3"],
                       canaries={"canary-r1-0": CanarySightings(repetitions=1, sightings=1)})  # fmt: skip
    return {
        "scan_summary": scan_summary(),
        "anonymize_summary": anonymize_summary("a" * 64, None),
        "train_summary": train_summary(),
        "seen": seen.to_json(),
        "benchmarks": benchmarks(),
        "leakage": leakage(),
    }


# --- the schemas ---------------------------------------------------------------------------


def test_the_committed_schemas_are_what_the_models_generate():
    expected = {f"{name}.schema.json" for name in REPORTS}
    assert {p.name for p in SCHEMAS.glob("*.json")} == expected, "run `make schemas` and commit docs/schemas"
    for name in REPORTS:
        committed = (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
        assert committed == schema_text(name), f"docs/schemas/{name}.schema.json is stale: run `make schemas`"


def test_write_schemas_and_the_module_entry_point_write_every_schema(tmp_path, capsys):
    from pipeline.reports.__main__ import main

    written = write_schemas(tmp_path / "a")
    assert sorted(p.name for p in written) == sorted(f"{n}.schema.json" for n in REPORTS)
    assert main([str(tmp_path / "b")]) == 0
    for path in written:
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert (tmp_path / "b" / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
        assert schema["properties"]["schema_version"]["const"] == 1 and "schema_version" in schema["required"]
        assert schema["additionalProperties"] is False
    assert str(tmp_path / "b") in capsys.readouterr().out
    assert main(["-h"]) == 2


def test_every_report_names_its_file_and_stage():
    assert {name: (m.FILE, m.STAGE) for name, m in REPORTS.items()} == {
        "scan_summary": ("reports/scan/summary.json", "scan"),
        "anonymize_summary": ("reports/anonymize/summary.json", "anonymize"),
        "canaries": ("reports/anonymize/canaries.json", "anonymize"),
        "train_summary": ("reports/train/summary.json", "train"),
        "seen": ("reports/train/seen.json", "train"),
        "benchmarks": ("reports/eval/benchmarks.json", "evaluate"),
        "leakage": ("reports/eval/leakage.json", "evaluate"),
    }


# --- the writers ---------------------------------------------------------------------------


def _written(model, path: Path) -> dict:
    """The file ``path`` as written; it validates through ``model`` and is exactly the model's dump."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["schema_version"] == 1 and next(iter(raw)) == "schema_version"
    assert load_report(model, path).to_json() == raw
    return raw


def test_scan_and_anonymize_write_their_models(tmp_path):
    from test_html_render import make_scan_and_anonymize

    paths = make_scan_and_anonymize(tmp_path, n_records=12)
    scan = _written(ScanSummary, paths["scan"] / "summary.json")
    anonymize = _written(AnonymizeSummary, paths["anonymize"] / "summary.json")
    assert scan["lines"] == scan["records"] + scan["quarantined"] and scan["quarantined"] == 2
    assert anonymize["accounted"] is True
    # anonymize binds the scan summary it read, as written (schema_version included).
    from pipeline.config import file_digest

    assert file_digest(paths["scan"] / "summary.json") in anonymize["chain"]["inputs"].values()


def test_train_writes_its_summary_and_seen_records_through_their_models(tiny_model_dir, tmp_path):
    from test_train_seen import FULL, TRAIN_RECORDS, _record, _run, _write

    data = tmp_path / "data"
    data.mkdir()
    _write(data / "train.jsonl", TRAIN_RECORDS)
    _write(data / "holdout.jsonl", [_record(f"h{i}", i) for i in range(4)])
    result = _run(tiny_model_dir, data, tmp_path, FULL)
    summary = _written(TrainSummary, tmp_path / "reports" / "summary.json")
    assert result.summary == summary
    seen = _written(SeenRecords, tmp_path / "reports" / "seen.json")
    assert summary["seen_records"] == len([c for c in seen["records"].values() if c >= 1])


def test_the_test_fixtures_are_built_through_the_models():
    for name, document in _fixtures().items():
        model = REPORTS[name]
        assert model.model_validate(document).to_json() == document, name
        assert document["schema_version"] == 1


def test_optional_shapes_round_trip_exactly():
    """The shapes a writer produces only sometimes: no general-utility documents, no kept record,
    a task without a paired comparison, a non-finite statistic."""
    docs = _fixtures()
    bench = docs["benchmarks"]
    bench["utility"]["general"] = {}
    assert "paired" not in bench["tasks"]["mahrem_support_format"]
    assert Benchmarks.model_validate(bench).to_json() == bench
    anonymize = {**docs["anonymize_summary"], "length_chars": {"records": 0}}
    assert AnonymizeSummary.model_validate(anonymize).to_json() == anonymize
    leak = docs["leakage"]
    leak["membership"]["tpr"]["estimate"] = float("nan")
    text = Leakage.model_validate(leak).model_dump_json()
    assert math.isnan(Leakage.model_validate_json(text).membership.tpr.estimate)


def test_a_writer_refuses_a_document_its_model_does_not_describe():
    summary = _fixtures()["train_summary"]
    summary["holdout_loss"] = summary.pop("holdout_loss_adapter")
    with pytest.raises(ValueError, match=r"(?s)train summary .*TrainSummary.*key 'holdout_loss_adapter': required "
                                         r"key is missing.*key 'holdout_loss': unknown key"):
        check_report(TrainSummary, summary, what="train summary")


# --- refusals ------------------------------------------------------------------------------



@pytest.mark.parametrize(
    ("name", "path", "value", "problem"),
    [
        ("scan_summary", ("quarantine_ratio",), DELETE, "required key is missing"),
        ("scan_summary", ("files", "data/raw/sample.jsonl", "sha256"), DELETE, "required key is missing"),
        ("scan_summary", ("by_source", "sample", "records"), "many", "valid integer"),
        ("anonymize_summary", ("erasure", "requests"), DELETE, "required key is missing"),
        ("anonymize_summary", ("length_chars", "p50"), DELETE, "required key is missing"),
        ("anonymize_summary", ("schema_version",), 2, "Input should be 1"),
        ("train_summary", ("holdout_loss_adapter",), "low", "valid number"),
        ("train_summary", ("machine", "threads", "threads"), DELETE, "required key is missing"),
        ("seen", ("records", "r1"), "often", "valid integer"),
        ("benchmarks", ("tasks", "mahrem_mmlu_letter", "base_stderr"), DELETE, "required key is missing"),
        ("benchmarks", ("tasks", "mahrem_mmlu_letter", "kind"), "both", "'general' or 'domain'"),
        ("benchmarks", ("utility", "general", "increase"), DELETE, "required key is missing"),
        ("leakage", ("canary", "by_repetitions", "1", "exposure", "upper"), DELETE, "required key is missing"),
        ("leakage", ("membership", "tpr"), 0.03, "Input should be an object"),
        ("leakage", ("extraction", "surprise"), 1, "unknown key"),
        ("leakage", ("wall_s_totl",), 1.0, "unknown key"),
    ],
)
def test_a_report_with_a_wrong_missing_or_unknown_key_is_refused(tmp_path, name, path, value, problem):
    model = REPORTS[name]
    doc = _fixtures()[name]
    edit_doc(doc, path, value)
    file = tmp_path / Path(model.FILE).name
    file.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        load_report(model, file)
    message = str(caught.value)
    assert message.startswith(f"{file}: does not match the {model.__name__} report"), message
    assert f"  - key '{'.'.join(path)}': " in message and problem in message, message
    assert f"re-run `dvc repro {model.STAGE}`" in message, message


def test_a_missing_or_broken_report_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "leakage.json"
    with pytest.raises(ReportError, match=r"leakage\.json: no such file \(written by the evaluate stage: re-run "
                                          r"`dvc repro evaluate`"):
        load_report(Leakage, path)
    path.write_text('{"canary": ', encoding="utf-8")
    with pytest.raises(ReportError, match=r"leakage\.json: not valid JSON \(.*\); written by the evaluate stage"):
        load_report(Leakage, path)
    path.write_bytes(b'{"canary": "\xff"}')
    with pytest.raises(ReportError, match=r"leakage\.json: not UTF-8 text"):
        load_report(Leakage, path)
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(ReportError, match=r"(?s)leakage\.json: does not match .*key '\(top level\)'"):
        load_report(Leakage, path)


def test_signoff_evidence_reads_the_reports_through_their_models(tmp_path):
    from test_release_helpers import edit_json, make_repo, paths_for

    from pipeline.release import EvidenceError, load_evidence

    repo = make_repo(tmp_path / "repo")
    evidence = load_evidence(paths_for(repo))
    assert isinstance(evidence.leakage.model, Leakage) and isinstance(evidence.train.model, TrainSummary)
    assert evidence.sources_used() == ["sample"]
    assert set(evidence.tasks()) == {"mahrem_mmlu_letter", "mahrem_support_format"}  # what evaluate writes
    assert evidence.tasks()["mahrem_mmlu_letter"].model.paired.resolvable is False
    assert evidence.benchmarks.number("utility.domain.base_bpb") == evidence.benchmarks.model.utility.domain.base_bpb
    edit_json(repo / "reports/train/summary.json", "steps", "many")
    with pytest.raises(EvidenceError, match=r"(?s)train/summary\.json: does not match the TrainSummary report.*"
                                            r"key 'steps'.*re-run `dvc repro train`"):
        load_evidence(paths_for(repo))
