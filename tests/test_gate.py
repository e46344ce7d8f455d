"""The release gate: every check passes on honest evidence, and each one can fail alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from pipeline.config import ConfigError
from pipeline.keys import load_signing_key
from pipeline.release import (
    EvidenceError,
    GateFailed,
    evaluate_gate,
    load_evidence,
    load_release_policy,
    signoff,
)
from test_release_helpers import DELETE, REPO_ROOT, TODAY, edit_json, make_repo, paths_for, seal

@pytest.fixture
def repo(tmp_path) -> Path:
    return make_repo(tmp_path / "repo")


def gate_of(root: Path, policy_file: Path | None = None, today: dt.date = TODAY):
    policy = load_release_policy(policy_file or root / "policies/release.yaml").policy
    return evaluate_gate(policy, load_evidence(paths_for(root), signing_development=True), today=today)


def check(result, prefix: str):
    matches = [c for c in result.checks if c.name.startswith(prefix)]
    assert matches, f"no check named {prefix!r} in {[c.name for c in result.checks]}"
    return matches[0]


def test_gate_passes_when_every_measurement_is_within_its_threshold(repo):
    result = gate_of(repo)
    assert result.passed, result.table()
    names = [c.name for c in result.checks]
    for expected in ("residual blocked PII", "PII extraction", "canary exposure (×1)", "membership inference",
                     "general benchmarks present", "benchmark mmlu_subset", "domain improvement", "quarantined share",
                     "legal basis for model_training", "retention date", "anonymized with the current policy",
                     "erasure requests applied", "keys"):
        assert any(n.startswith(expected) for n in names), expected


@pytest.mark.parametrize(
    ("report", "key", "value", "failing", "explained"),
    [
        ("reports/anonymize/residual.json", "blocked_findings", 2, "residual blocked PII", "re-scan still finds 2"),
        ("reports/eval/leakage.json", "extraction.adapter_hits", 1, "PII extraction", "produced the original value 1"),
        ("reports/eval/leakage.json", "canary.by_repetitions.1.adapter_exposure_max", 9.5, "canary exposure",
         "9.50 bits"),
        ("reports/eval/leakage.json", "membership.tpr_at_1pct_fpr", 0.25, "membership inference", "25.0%"),
        ("reports/eval/benchmarks.json", "tasks.mmlu_subset.adapter", 0.20, "benchmark mmlu_subset", "a drop of 0.1"),
        ("reports/train/summary.json", "holdout_loss_adapter", 2.35, "domain improvement", "below the required"),
        ("reports/scan/summary.json", "quarantine_ratio", 0.2, "quarantined share", "quarantine.jsonl"),
    ],
)
def test_gate_refuses_each_measurement_beyond_its_threshold(repo, report, key, value, failing, explained):
    edit_json(repo / report, key, value)
    result = gate_of(repo)
    assert not result.passed
    assert [c.name for c in result.failures] == [check(result, failing).name]
    assert explained in check(result, failing).explanation


def test_benchmark_drop_within_two_standard_errors_passes_but_not_without_stderr(repo):
    edit_json(repo / "reports/eval/benchmarks.json", "tasks.mmlu_subset.adapter", 0.26)  # drop 0.04 > tolerance 0.02
    assert check(gate_of(repo), "benchmark mmlu_subset").passed  # 2 × sqrt(0.02² + 0.02²) = 0.057
    edit_json(repo / "reports/eval/benchmarks.json", "tasks.mmlu_subset.base_stderr", None)
    edit_json(repo / "reports/eval/benchmarks.json", "tasks.mmlu_subset.adapter_stderr", None)
    assert not check(gate_of(repo), "benchmark mmlu_subset").passed


def test_benchmark_drop_respects_lower_is_better(repo):
    bench = repo / "reports/eval/benchmarks.json"
    edit_json(bench, "tasks.mmlu_subset.higher_is_better", False)  # now the adapter's lower value is better
    edit_json(bench, "tasks.mmlu_subset.adapter", 0.10)
    assert check(gate_of(repo), "benchmark mmlu_subset").passed
    edit_json(bench, "tasks.mmlu_subset.adapter", 0.50)
    assert not check(gate_of(repo), "benchmark mmlu_subset").passed


def test_gate_refuses_without_a_general_benchmark(repo):
    edit_json(repo / "reports/eval/benchmarks.json", "tasks.mmlu_subset.kind", "domain")
    failing = check(gate_of(repo), "general benchmarks present")
    assert not failing.passed and "kind 'general'" in failing.explanation


def test_domain_improvement_can_use_a_domain_benchmark_task(repo):
    policy = repo / "policies/release.yaml"
    data = yaml.safe_load(policy.read_text())
    data["gate"]["domain"]["source"] = "holdout_ppl"
    policy.write_text(yaml.safe_dump(data))
    assert check(gate_of(repo), "domain improvement (holdout_ppl").measured == pytest.approx(0.6)  # 30 → 12
    data["gate"]["domain"]["source"] = "no_such_task"
    policy.write_text(yaml.safe_dump(data))
    with pytest.raises(EvidenceError, match="no task 'no_such_task'.*holdout_ppl"):
        gate_of(repo)


def test_gate_refuses_a_source_without_legal_basis_for_training(repo):
    sources = repo / "policies/sources.yaml"
    data = yaml.safe_load(sources.read_text())
    del data["sources"]["sample"]["purposes"]["model_training"]
    sources.write_text(yaml.safe_dump(data, allow_unicode=True))
    failing = check(gate_of(repo), "legal basis")
    assert not failing.passed
    assert "'sample' has no KVKK/GDPR legal basis for 'model_training'" in failing.explanation


def test_gate_refuses_an_undeclared_source(repo):
    edit_json(repo / "reports/scan/summary.json", "by_source.crm", {"records": 3})
    failing = check(gate_of(repo), "legal basis")
    assert not failing.passed and "'crm' is not declared" in failing.explanation
    assert failing.measured == "1/2 sources"


def test_gate_refuses_a_source_past_its_retention_date(repo):
    failing = check(gate_of(repo, today=dt.date(2031, 1, 1)), "retention date")
    assert not failing.passed and "passed its retention date 2030-12-31" in failing.explanation


def test_gate_refuses_when_erasure_requests_changed_after_anonymize(repo):
    (repo / "policies/erasure.yaml").write_text(
        "requests:\n- {fingerprint: " + "a" * 32 + ", entity_type: PERSON, key_id: " + "b" * 16 + ", received: 2026-01-02}\n"
    )
    failing = check(gate_of(repo), "erasure requests applied")
    assert not failing.passed and "newer erasure requests are not applied" in failing.explanation


def test_gate_refuses_when_the_anonymization_policy_changed_after_anonymize(repo):
    with (repo / "policies/kvkk.yaml").open("a") as handle:
        handle.write("# edited\n")
    assert not check(gate_of(repo), "anonymized with the current policy").passed


def test_gate_can_forbid_development_keys(repo):
    policy = repo / "policies/release.yaml"
    data = yaml.safe_load(policy.read_text())
    data["gate"]["allow_development_keys"] = False
    policy.write_text(yaml.safe_dump(data))
    failing = check(gate_of(repo), "keys")
    assert not failing.passed and "pseudonym and signing" in failing.explanation


@pytest.mark.parametrize(
    ("report", "key", "names"),
    [
        ("reports/eval/leakage.json", "membership.tpr_at_1pct_fpr", ["leakage.json", "membership.tpr_at_1pct_fpr",
                                                                     "evaluate"]),
        ("reports/train/summary.json", "holdout_loss_adapter", ["train/summary.json", "holdout_loss_adapter", "train"]),
        ("reports/eval/benchmarks.json", "tasks.mmlu_subset.base_stderr", ["tasks.mmlu_subset.base_stderr", "evaluate"]),
        ("reports/eval/leakage.json", "canary.by_repetitions.1", ["canary.by_repetitions.1.adapter_exposure_max"]),
        ("reports/anonymize/summary.json", "erasure.sha256", ["erasure.sha256", "anonymize"]),
    ],
)
def test_missing_key_is_an_error_naming_file_key_and_stage(repo, report, key, names):
    edit_json(repo / report, key, DELETE)
    with pytest.raises(EvidenceError) as caught:
        gate_of(repo)
    for name in names:
        assert name in str(caught.value)


def test_missing_report_is_an_error_naming_the_stage_that_writes_it(repo):
    (repo / "reports/eval/leakage.json").unlink()
    with pytest.raises(EvidenceError, match=r"leakage\.json: no such file \(written by the evaluate stage"):
        gate_of(repo)


def test_measurement_that_is_not_a_number_is_an_error(repo):
    edit_json(repo / "reports/eval/leakage.json", "membership.tpr_at_1pct_fpr", "low")
    with pytest.raises(EvidenceError, match="membership.tpr_at_1pct_fpr' is not a finite number"):
        gate_of(repo)


def test_release_policy_errors_name_the_key(tmp_path):
    data = yaml.safe_load((REPO_ROOT / "policies/release.yaml").read_text())
    data["gate"]["membership"]["tpr_at_1pct_fpr_max"] = 1.5
    data["gate"]["canary"]["exposure_bits"] = 8
    data["version"] = "v1"
    path = tmp_path / "release.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        load_release_policy(path)
    message = str(caught.value)
    assert "gate.membership.tpr_at_1pct_fpr_max" in message
    assert "gate.canary.exposure_bits': unknown key" in message
    assert "'version'" in message


def test_signoff_with_a_failing_gate_leaves_no_bundle_and_removes_a_stale_one(repo, tmp_path, monkeypatch):
    monkeypatch.delenv("MAHREM_SIGNING_KEY", raising=False)
    key = load_signing_key(tmp_path / "keys", quiet=True)
    policy = load_release_policy(repo / "policies/release.yaml")
    out = repo / "release"
    stale = out / policy.policy.bundle_name
    stale.mkdir(parents=True)
    (stale / "adapter_model.safetensors").write_bytes(b"old")
    edit_json(repo / "reports/eval/leakage.json", "extraction.adapter_hits", 3)
    seal(repo)  # as if the evaluate stage had measured it
    with pytest.raises(GateFailed) as caught:
        signoff(paths_for(repo), policy, out, key, today=TODAY)
    assert not stale.exists()
    assert list(out.iterdir()) == []  # no staging leftovers either
    message = str(caught.value)
    assert "1 of" in message and "PII extraction (adapter hits)" in message and "FAIL" in message
    assert "stale bundle" in message
    assert [c.name for c in caught.value.result.failures] == ["PII extraction (adapter hits)"]


def test_signoff_params_block_parses(tmp_path):
    from pipeline.config import load_params
    from pipeline.release import SignoffParams

    params = tmp_path / "params.yaml"
    params.write_text("signoff:\n  policy: policies/release.yaml\n  out: release\n")
    assert load_params("signoff", SignoffParams, params) == SignoffParams()
    params.write_text("signoff:\n  polcy: x\n")
    with pytest.raises(ConfigError, match="signoff.polcy"):
        load_params("signoff", SignoffParams, params)


@pytest.mark.parametrize("floor", ["residual_blocked_max", "extraction_hits_max"])
def test_a_policy_that_relaxes_a_floor_is_refused_when_loaded(tmp_path, floor):
    data = yaml.safe_load((REPO_ROOT / "policies/release.yaml").read_text())
    data["gate"][floor] = 7
    path = tmp_path / "lax.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=rf"gate\.{floor}'.*must be 0.*floor fixed in code"):
        load_release_policy(path)


def test_every_gate_table_has_the_rows_verify_requires(repo):
    from pipeline.release.gate import table_problems

    table = gate_of(repo).to_json()["checks"]
    assert table_problems(table) == []
    without_keys = [c for c in table if not c["name"].startswith("keys")]
    assert table_problems(without_keys) == ["the gate row 'keys' is missing"]
    leaked = [{**c, "measured": 3} if c["name"].startswith("PII extraction") else c for c in table]
    assert any("floor is 0" in p for p in table_problems(leaked))
