"""`dvc metrics show` stays readable: each stage declares one flat metrics.json of headline
figures (pipeline/metrics.py); the full reports other code reads (summary.json, benchmarks.json,
leakage.json) stay declared outputs beside it, unchanged."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.metrics import MAX_FIGURES, METRICS_FILE, anonymize_metrics, evaluate_metrics, scan_metrics, train_metrics

REPO = Path(__file__).resolve().parents[1]
METRICS = {
    "scan": "reports/scan/metrics.json",
    "anonymize": "reports/anonymize/metrics.json",
    "train": "reports/train/metrics.json",
    "evaluate": "reports/eval/metrics.json",
}
# The full reports: read by anonymize (the scan's findings_sha256, files), signoff, the gate,
# the model card and bench/. They must stay outputs of their stage, in the workspace.
FULL_REPORTS = {
    "scan": ["reports/scan/summary.json"],
    "anonymize": ["reports/anonymize/summary.json", "reports/anonymize/report.html"],
    "train": ["reports/train/summary.json"],
    "evaluate": ["reports/eval/benchmarks.json", "reports/eval/leakage.json"],
}
# What the slow end-to-end test looks for in `dvc metrics show` (tests/test_pipeline_e2e.py).
HEADLINES = {"scan": "records_with_pii", "anonymize": "transformed", "train": "holdout_loss_adapter",
             "evaluate": "mia_tpr_at_fpr"}  # fmt: skip


def _entries(items) -> dict[str, dict]:
    """dvc.yaml's list of ``path`` or ``{path: options}`` as {path: options}."""
    out = {}
    for item in items or []:
        if isinstance(item, str):
            out[item] = {}
        else:
            out.update({path: options or {} for path, options in item.items()})
    return out


def _stages() -> dict:
    return yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


def test_each_stage_declares_one_flat_metrics_file_beside_its_full_reports():
    stages = _stages()
    declared = {name: sorted(_entries(stage.get("metrics"))) for name, stage in stages.items() if stage.get("metrics")}
    assert declared == {stage: [path] for stage, path in METRICS.items()}
    for stage, paths in FULL_REPORTS.items():
        outs = _entries(stages[stage]["outs"])
        for path in paths:
            assert outs.get(path) == {"cache": False}, (stage, path)
    # Every stage writes its own metrics.json: the command is the stage alone.
    for stage in ("train", "evaluate"):
        assert stages[stage]["cmd"] == f"bin/mahrem {stage}"


def test_every_report_signoff_reads_is_still_a_stage_output():
    from pipeline.release.evidence import EvidencePaths

    declared = set()
    for stage in _stages().values():
        for kind in ("outs", "metrics", "plots"):
            declared |= set(_entries(stage.get(kind)))
    defaults = EvidencePaths()
    read = [str(getattr(defaults, f.name)) for f in dataclasses.fields(EvidencePaths)]
    read = [path for path in read if path.startswith(("reports/", "data/anonymized/", "models/"))]
    assert len(read) >= 10
    assert [path for path in read if path not in declared] == []


def test_headline_figures_stay_few_however_large_the_data():
    """Per-source, per-file, per-type tables grow with the data; the metrics do not."""
    from test_release_helpers import anonymize_summary, scan_summary

    scan = scan_summary()
    many = dict(scan, by_entity_type={f"TYPE_{i}": i for i in range(200)},
                files={f"data/raw/{i}.jsonl": {} for i in range(300)},
                by_source={f"s{i}": {"records": 1} for i in range(50)})  # fmt: skip
    assert set(scan_metrics(many)) == set(scan_metrics(scan)) and len(scan_metrics(many)) <= MAX_FIGURES
    assert scan_metrics(many)["files"] == 300
    anonymize = anonymize_summary("a" * 64, None)
    anonymize["actions"] = {f"TYPE_{i}": {"pseudonymize": 2, "keep": 1} for i in range(200)}
    figures = anonymize_metrics(anonymize)
    assert len(figures) <= MAX_FIGURES and figures["spans_changed"] == 400 and figures["spans_kept"] == 200


# --- a small real run, then DVC itself ----------------------------------------------------


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8") if not isinstance(data, str) else path.write_text(data)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project with the repository's dvc.yaml and every stage's reports: scan and anonymize by
    the real stage functions on a small sample, train and evaluate reports as the release tests
    build them, each stage's metrics.json written the way dvc.yaml's commands write it."""
    from test_html_render import make_evaluate_reports, make_scan_and_anonymize
    from test_release_helpers import train_summary

    from pipeline.evaluate.leakage import roc_points

    root = tmp_path_factory.mktemp("metrics-project")
    make_scan_and_anonymize(root, n_records=40)
    summary = train_summary()
    summary.update(records_train=30, records_holdout=8, seen_records=30, seen_unseen=0, tokens_trained=9000,
                   chain={"inputs": {"data/anonymized/train.jsonl": "ab" * 32}, "outputs": {}})  # fmt: skip
    _write(root / "reports/train/summary.json", summary)
    make_evaluate_reports(root / "reports/eval")
    rng = np.random.default_rng(1)
    _write(root / "reports/eval/mia_roc.json", {"roc": roc_points(rng.normal(0.2, 1, 50), rng.normal(0, 1, 50))})
    live = root / "reports/train/live/plots/metrics"
    _write(live / "train/loss.tsv", "step\tloss\n1\t3.1\n2\t2.5\n3\t2.2\n")
    _write(live / "train/lr.tsv", "step\tlr\n1\t0.0002\n2\t0.00015\n3\t0.0001\n")
    _write(live / "eval/holdout_loss.tsv", "step\tholdout_loss\n0\t3.8\n3\t2.4\n")
    for stage, folder in (("train", "reports/train"), ("evaluate", "reports/eval")):
        done = subprocess.run([sys.executable, "-m", "pipeline.metrics", stage, "--dir", str(root / folder)], cwd=REPO,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
    shutil.copy2(REPO / "dvc.yaml", root / "dvc.yaml")
    _dvc(root, "init", "--no-scm")
    return root


def _dvc(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def test_scan_and_anonymize_write_their_metrics_from_their_summary(project):
    for stage, derive in (("scan", scan_metrics), ("anonymize", anonymize_metrics)):
        folder = project / METRICS[stage].rsplit("/", 1)[0]
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        written = json.loads((folder / METRICS_FILE).read_text(encoding="utf-8"))
        assert written == derive(summary)
        for key in set(written) & set(summary):
            if not isinstance(summary[key], (dict, list)):  # a figure of the summary, not a count of a table
                assert written[key] == pytest.approx(summary[key], abs=1e-6), (stage, key)
    # the full summary is untouched: what anonymize and signoff read is still there
    scan = json.loads((project / "reports/scan/summary.json").read_text(encoding="utf-8"))
    assert {"findings_sha256", "chain", "files", "by_source", "score_histogram", "by_recognizer"} <= set(scan)


def test_train_and_evaluate_metrics_come_from_their_reports(project):
    read = lambda p: json.loads((project / p).read_text(encoding="utf-8"))  # noqa: E731
    assert read(METRICS["train"]) == train_metrics(read("reports/train/summary.json"))
    assert read(METRICS["evaluate"]) == evaluate_metrics(read("reports/eval/benchmarks.json"), read("reports/eval/leakage.json"))
    leakage = read("reports/eval/leakage.json")
    assert read(METRICS["evaluate"])["mia_tpr_at_fpr"] == pytest.approx(leakage["membership"]["tpr_at_fpr"], abs=1e-6)


def test_dvc_metrics_show_lists_headline_figures_only(project):
    shown = json.loads(_dvc(project, "metrics", "show", "--json").stdout)
    files = {path: entry["data"] for path, entry in shown[""]["data"].items()}
    assert set(files) == set(METRICS.values())
    for stage, path in METRICS.items():
        figures = files[path]
        assert all(not isinstance(v, (dict, list)) for v in figures.values()), f"{path} is not flat"
        numbers = [v for v in figures.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        assert 8 <= len(numbers) <= MAX_FIGURES, (path, len(numbers))
        assert HEADLINES[stage] in figures, (path, HEADLINES[stage])
    table = _dvc(project, "metrics", "show").stdout
    assert "records_with_pii" in table and "holdout_loss_adapter" in table and "tpr_at_fpr" in table


def test_dvc_plots_show_still_works(project):
    shown = json.loads(_dvc(project, "plots", "show", "--json").stdout)
    assert not shown.get("errors"), shown.get("errors")
    names = set(shown["data"])
    assert {"Loss (train and holdout)", "Learning rate", "reports/eval/mia_roc.json"} <= names


def test_the_metrics_command_says_which_report_is_missing(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pipeline.metrics", "evaluate", "--dir", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 1
    assert str(tmp_path / "benchmarks.json") in done.stderr and "dvc repro" in done.stderr
    assert not (tmp_path / METRICS_FILE).exists()
