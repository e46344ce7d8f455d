"""`mahrem sweep-report` on real DVC experiments, and the keys a queued experiment uses.

The experiments are real: a git + DVC repository in a scratch directory, experiments queued
with `dvc exp run --queue -S …` and run by DVC in its temporary workspaces (.dvc/tmp/exps/).
Their stage writes the evaluate reports the way the release tests build them (pipeline.evaluate's
own statistics on simulated scores; test_release_helpers), so the gate's rows have real
bounds and power to decide on; the rank decides whether the ×1 canaries were memorised.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from pipeline.keys import load_pseudonym_key, load_signing_key

REPO = Path(__file__).resolve().parents[1]
POLICY = REPO / "policies/release.yaml"

# The stage: train metrics (with the size of an adapter that grows with the rank) and the evaluate
# reports + metrics; the pseudonym and signing key ids it ran with (public ids, never the keys).
STAGE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    sys.path[:0] = [{repo!r}, {tests!r}]
    import yaml
    from test_release_helpers import benchmarks, canary_group, leakage, train_summary
    from pipeline.keys import load_pseudonym_key, load_signing_key
    from pipeline.metrics import evaluate_metrics, train_metrics
    from pipeline.io import write_json

    train = yaml.safe_load(open("params.yaml"))["train"]
    r = train["lora"]["r"]
    adapter = Path("models/adapter")
    adapter.mkdir(parents=True, exist_ok=True)
    (adapter / "adapter_model.safetensors").write_bytes(bytes(1000 * r))
    (adapter / "adapter_config.json").write_text(json.dumps({{"r": r}}))
    write_json("reports/train/metrics.json", train_metrics(train_summary(), adapter_dir=adapter))
    bench = benchmarks(domain_shift=-0.3 - 0.002 * r)
    leak = leakage()
    if r >= 32:  # a rank this large memorises its single-insertion canaries (ranked near the top)
        leak["canary"]["by_repetitions"]["1"] = canary_group([9.0, 9.5, 8.8, 9.9, 9.2, 9.6, 8.9, 9.4, 9.1, 9.7])
    write_json("reports/eval/benchmarks.json", bench)
    write_json("reports/eval/leakage.json", leak)
    write_json("reports/eval/metrics.json", evaluate_metrics(bench, leak))
    write_json("reports/keys.json", {{"pseudonym": load_pseudonym_key().key_id, "signing": load_signing_key().key_id}})
    """
)

DVC_YAML = {
    "stages": {
        "sweep_probe": {
            "cmd": f"{sys.executable} stage.py",
            "deps": ["stage.py"],
            "params": ["train"],
            "outs": [{"models/adapter": {}},
                     *({p: {"cache": False}} for p in ("reports/eval/benchmarks.json", "reports/eval/leakage.json",
                                                        "reports/keys.json"))],  # fmt: skip
            "metrics": [{"reports/train/metrics.json": {"cache": False}}, {"reports/eval/metrics.json": {"cache": False}}],
        }
    }
}


def _env() -> dict[str, str]:
    # `dvc exp run --run-all` / `dvc queue start` start their worker as plain `dvc` from PATH: without
    # it on PATH the worker dies and the run waits for ever, so the venv's bin/ goes first.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}  # fmt: skip
    for name in ("MAHREM_PSEUDONYM_KEY", "MAHREM_SIGNING_KEY"):
        env.pop(name, None)
    return env


def _run(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(list(args), cwd=root, env=_env(), capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def _dvc(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run(root, sys.executable, "-m", "dvc", *args, check=check)


def _scratch_project(root: Path) -> Path:
    """A git + DVC repository (scratch, not this checkout) whose one stage writes a sweep point's reports."""
    root.mkdir(parents=True)
    _run(root, "git", "init", "-q")
    _dvc(root, "init", "-q")
    (root / "stage.py").write_text(STAGE.format(repo=str(REPO), tests=str(REPO / "tests")), encoding="utf-8")
    (root / "params.yaml").write_text(yaml.safe_dump({"train": {"lora": {"r": 8, "alpha": 16.0}, "quantization": "nf4"}}))
    (root / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML, sort_keys=False))
    (root / ".gitignore").write_text(".mahrem/\n")
    _run(root, "git", "add", "-A")
    _run(root, "git", "commit", "-q", "-m", "scratch project")
    return root


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> dict:
    """A 2-point rank sweep (r=4, r=32), queued and run by DVC in temporary workspaces."""
    root = _scratch_project(tmp_path_factory.mktemp("sweep") / "project")
    keys = root / ".mahrem/keys"
    ids = {"pseudonym": load_pseudonym_key(keys, quiet=True).key_id, "signing": load_signing_key(keys, quiet=True).key_id}
    _dvc(root, "exp", "run", "--queue", "-S", "train.lora.r=4,32")
    ran = _dvc(root, "exp", "run", "--run-all")
    return {"root": root, "ids": ids, "log": ran.stdout + ran.stderr}


def test_queued_experiments_use_the_keys_of_the_project_they_were_queued_from(swept):
    from dvc.api import DVCFileSystem

    from pipeline.release.sweep import exp_show, list_points

    points = [p for p in list_points(exp_show(swept["root"])) if p.kind == "experiment"]
    assert sorted(p.params["train.lora.r"] for p in points) == [4, 32]
    for point in points:
        used = json.loads(DVCFileSystem(str(swept["root"]), rev=point.rev).read_text("reports/keys.json"))
        assert used == swept["ids"], point.name  # the project's development keys, not fresh ones
    # the development-key warnings name the project's key files, not ones in the temporary copy
    log = " ".join(swept["log"].split())  # rich wraps long lines
    assert log.count("WARNING: using the DEVELOPMENT pseudonym key at") == 2
    assert f"DEVELOPMENT pseudonym key at {swept['root'] / '.mahrem/keys/pseudonym.key'}" in log
    assert f"DEVELOPMENT signing key at {swept['root'] / '.mahrem/keys/signing.priv.pem'}" in log


def test_a_queued_experiment_refuses_to_make_keys_when_its_project_has_none(tmp_path):
    root = _scratch_project(tmp_path / "project")
    _dvc(root, "exp", "run", "--queue", "-S", "train.lora.r=4")
    ran = _dvc(root, "exp", "run", "--run-all", check=False)
    log = " ".join((ran.stdout + ran.stderr).split())
    assert "runs in a DVC experiment's temporary workspace" in log
    assert "export MAHREM_PSEUDONYM_KEY=<key>" in log and "dvc queue start" in log
    assert not (root / ".mahrem").exists()  # nothing was created in the project either
    from pipeline.release.sweep import exp_show, list_points

    assert [p.state for p in list_points(exp_show(root)) if p.kind == "experiment"] == ["failed"]


def test_sweep_judges_each_experiment_with_the_gates_own_rows(swept):
    from pipeline.release.gate import REQUIRED_ROWS
    from pipeline.release.sweep import build_sweep

    sweep = build_sweep(swept["root"], POLICY)
    by_r = {p.params["train.lora.r"]: p for p in sweep.points if p.kind == "experiment"}
    assert set(by_r) == {4, 32} and all(p.state == "success" for p in by_r.values())
    small, large = by_r[4], by_r[32]
    # r=4: every row the evaluate reports decide passes; r=32 memorised its ×1 canaries.
    assert small.passed is True and small.failed_rows == []
    assert large.passed is False and large.failed_rows == ["canary exposure (×1, class mean)"]
    canary = next(c for c in large.checks if c["name"].startswith("canary exposure"))
    assert canary["verdict"] == "fail" and canary["stats"]["bound"] > 6.0 and "fewer epochs" in canary["explanation"]
    judged = {c["name"] for c in small.checks}
    assert any(n.startswith("PII extraction") for n in judged) and any(n.startswith("membership") for n in judged)
    # The rows a training sweep cannot move are named, not guessed at.
    assert sweep.not_judged_rows == [row for row in REQUIRED_ROWS if not any(n.startswith(row) for n in judged)]
    assert "residual blocked PII" in sweep.not_judged_rows and "keys" in sweep.not_judged_rows
    assert "canary exposure" not in sweep.not_judged_rows
    # The figures the trade-off is drawn on, from the experiments' metrics.json.
    for r, point in by_r.items():  # every file of the adapter directory: weights and config
        assert point.metrics["adapter_bytes"] == 1000 * r + len(json.dumps({"r": r}))
    for point in (small, large):
        assert {"holdout_bpb_adapter", "general_bpb_increase", "canary_exposure_1x", "mia_tpr_at_fpr"} <= set(point.metrics)
    assert large.metrics["canary_exposure_1x"] > small.metrics["canary_exposure_1x"]
    assert sweep.changed_params[:3] == ["train.lora.r", "train.lora.alpha", "train.quantization"]


def test_sweep_report_writes_one_offline_page_and_its_json(swept, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app

    monkeypatch.chdir(swept["root"])
    (swept["root"] / "params.yaml").write_text(
        yaml.safe_dump({"train": {"lora": {"r": 8, "alpha": 16.0}}, "signoff": {"policy": str(POLICY)}})
    )
    result = CliRunner().invoke(app, ["sweep-report", "--out", "out/sweep.html"])
    assert result.exit_code == 0, result.output
    page = (swept["root"] / "out/sweep.html").read_text(encoding="utf-8")
    data = json.loads((swept["root"] / "out/sweep.json").read_text(encoding="utf-8"))
    assert page.count("<svg") == 4 and "<script" not in page
    assert not re.search(r"(?i)https?:|//cdn|src=['\"](?!data:)", page)
    assert "r=4 α=16 nf4" in page and "r=32 α=16 nf4" in page
    assert "canary exposure (×1, class mean)" in page and "Not judged here" in page
    verdicts = {p["params"]["train.lora.r"]: p["passes_judged_rows"] for p in data["points"] if p["kind"] == "experiment"}
    assert verdicts == {4: True, 32: False}
    assert data["policy_sha256"] and "residual blocked PII" in data["rows_not_judged"]


def test_an_experiment_without_evaluate_reports_is_listed_not_judged(tmp_path):
    from pipeline.release.sweep import SweepPoint, judge_point
    from pipeline.release.policy import load_release_policy

    point = SweepPoint(name="queued-one", rev="0" * 40, kind="experiment", state="queued")
    judge_point(tmp_path, point, load_release_policy(POLICY).policy)
    assert point.passed is None and point.not_judged == "the experiment is queued"


def test_sweep_report_outside_a_dvc_repository_says_what_to_do(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["sweep-report", "--policy", str(POLICY)])
    assert result.exit_code == 1
    assert "dvc exp show --json" in result.output and "repository" in result.output


# --- the real train stage, swept over the LoRA rank and LoRA vs QLoRA ------------------------


@pytest.mark.slow
def test_a_queued_sweep_of_the_real_train_stage_on_the_tiny_model(tiny_model_dir, tmp_path):
    """`dvc exp run --queue` of the train stage (bin/mahrem train) on the tiny Llama: r × quantization,
    run by DVC in its temporary workspaces; sweep-report reads the adapter sizes they measured."""
    import shutil

    from test_train import PARAMS, _record, _write

    from pipeline.release.sweep import build_sweep

    root = tmp_path / "project"
    root.mkdir()
    _run(root, "git", "init", "-q")
    _dvc(root, "init", "-q")
    shutil.copytree(tiny_model_dir, root / "models/base")
    (root / "data/anonymized").mkdir(parents=True)
    _write(root / "data/anonymized/train.jsonl", [_record(i) for i in range(8)])
    _write(root / "data/anonymized/holdout.jsonl", [_record(i) for i in range(100, 104)])
    train = {**PARAMS, "epochs": 1, "max_steps": 0, "checkpoint_every": 0, "eval_every": 0, "quantization": "nf4",
             "lora": {"r": 4, "alpha": 8.0, "dropout": 0.0}}  # fmt: skip
    (root / "params.yaml").write_text(yaml.safe_dump({"train": train}))
    stage = {
        "cmd": f"{Path(sys.executable).parent / 'mahrem'} train",
        "deps": ["models/base", "data/anonymized"],
        "params": ["train"],
        "outs": ["models/adapter", *({p: {"cache": False}} for p in ("reports/train/summary.json",
                 "reports/train/seen.json", "reports/train/report.html", "reports/train/live"))],  # fmt: skip
        "metrics": [{"reports/train/metrics.json": {"cache": False}}],
    }
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"train": stage}}, sort_keys=False))
    (root / ".gitignore").write_text(".mahrem/\n")
    _run(root, "git", "add", "-A")
    _run(root, "git", "commit", "-q", "-m", "tiny train pipeline")
    _dvc(root, "exp", "run", "--queue", "-S", "train.lora.r=2,8", "-S", "train.quantization=nf4,none")
    _dvc(root, "exp", "run", "--run-all")

    sweep = build_sweep(root, POLICY)
    points = {(p.params["train.lora.r"], p.params["train.quantization"]): p for p in sweep.points if p.kind == "experiment"}
    assert set(points) == {(2, "nf4"), (8, "nf4"), (2, "none"), (8, "none")}
    assert all(p.state == "success" for p in points.values())
    for point in points.values():  # each trained (4 steps of a random model: the loss need not fall yet)
        assert point.metrics["steps"] == 4 and point.metrics["holdout_loss_adapter"] > 0
        assert point.passed is None and "the evaluate stage did not run" in point.not_judged
    # LoRA weights grow linearly with the rank and do not depend on the base's quantization.
    for quantization in ("nf4", "none"):
        assert points[(8, quantization)].metrics["adapter_bytes"] > 3 * points[(2, quantization)].metrics["adapter_bytes"]
    assert points[(2, "nf4")].metrics["trainable_params"] == points[(2, "none")].metrics["trainable_params"]
    assert sweep.changed_params[:3] == ["train.lora.r", "train.lora.alpha", "train.quantization"]
