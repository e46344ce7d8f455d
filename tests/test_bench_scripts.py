"""The benchmark scripts run (tiny sizes): a bench that cannot start is found here, not on the day it is needed."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO_ROOT


def test_qlora_gpu_bench_runs_the_recipe_and_the_scoring_path_on_the_cpu(tiny_model_dir, tmp_path):
    out = tmp_path / "qlora.json"
    done = subprocess.run(
        [sys.executable, "bench/qlora_gpu.py", "--size", "tiny", "--device", "cpu", "--threads", "1", "--steps", "1",
         "--batch-size", "2", "--seq-len", "32", "--tokenizer", str(tiny_model_dir), "--score", "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report["results"]) == {"nf4", "none"}
    for variant, row in report["results"].items():
        assert row["quantization"] == variant and row["tokens"] == 2 * 32 and row["tokens_per_s"] > 0
        assert row["compute_dtype"] in ("float32", "bfloat16") and row["mfu"] is None  # no peak known for a CPU
        assert row["scoring_path"]["adapter_changes_scores"] is True
    assert report["ratios_nf4_vs_none"]["tokens_per_s"] > 0


def test_gpu_check_script_parses_and_documents_itself():
    assert subprocess.run(["bash", "-n", "bench/gpu_check.sh"], cwd=REPO_ROOT).returncode == 0
    usage = subprocess.run(["bash", "bench/gpu_check.sh"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert usage.returncode == 2 and "prepare" in usage.stdout and "carry" in usage.stdout


def test_scan_quality_bench_measures_the_dev_split(tmp_path):
    out = tmp_path / "quality.json"
    done = subprocess.run(
        [sys.executable, "bench/scan_quality.py", "--split", "dev", "--no-redact", "--json", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["split"] == "dev" and figures["records"] > 200
    assert {"PERSON", "TR_NATIONAL_ID", "IBAN_CODE"} <= set(figures["pii"])
    assert len(figures["special"]) == 11  # every special category, each with its n and interval
    for rate in (figures["special_overall"], figures["general_talk_false_positives"], figures["passport_with_cue"]):
        assert rate["n"] > 0 and 0 <= rate["ci95"][0] <= rate["rate"] <= rate["ci95"][1] <= 1
    assert "special categories, record recall" in done.stdout
