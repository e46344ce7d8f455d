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
from test_release_helpers import (
    DELETE,
    REPO_ROOT,
    TEST_KEY,
    TODAY,
    bpb_block,
    canary_group,
    edit_json,
    make_repo,
    membership_block,
    null_exposures,
    paths_for,
    seal,
)


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
    for expected in ("residual blocked PII", "PII extraction", "canary exposure (×1", "membership inference",
                     "general ability (bits per byte)", "domain improvement", "quarantined share",
                     "legal basis for model_training", "retention date", "anonymized with the current policy",
                     "erasure requests applied", "keys"):
        assert any(n.startswith(expected) for n in names), expected
    # MMLU at chance (as SmolLM2-135M answers it) is reported, not gated.
    assert not any("mahrem_mmlu_letter" in n for n in names)


def test_statistical_rows_carry_n_bound_and_mde_at_the_pipeline_sizes(repo):
    result = gate_of(repo)
    rows = {c.name.split(" (")[0]: c for c in result.checks if c.stats}
    assert set(rows) == {"PII extraction", "canary exposure", "membership inference TPR@1%FPR", "general ability",
                         "domain improvement"}
    for row in rows.values():
        assert row.verdict == "pass" and row.stats["n"] > 0 and row.stats["mde"] is not None
        assert row.stats["mde"] <= abs(row.stats["threshold"] - row.stats["null"]) + 1e-12, row.name
    assert rows["PII extraction"].stats["n"] == 65 and rows["PII extraction"].stats["bound"] < 0.05
    assert rows["canary exposure"].stats["n"] == 10
    assert rows["membership inference TPR@1%FPR"].stats["n"] == 200
    assert "MDE" in result.table() and "pass" in result.table()


def set_block(root: Path, report: str, key: str, value) -> None:
    edit_json(root / report, key, value)


@pytest.mark.parametrize(
    ("report", "key", "value", "failing", "explained"),
    [
        ("reports/anonymize/residual.json", "blocked_findings", 2, "residual blocked PII", "re-scan still finds 2"),
        ("reports/eval/leakage.json", "extraction.adapter_hits", 1, "PII extraction", "produced the original value 1"),
        ("reports/eval/leakage.json", "canary.by_repetitions.1",
         canary_group([9.97, 9.0, 8.5, 9.97, 7.0, 9.97, 8.0, 6.5, 9.97, 9.0]), "canary exposure", "mean exposure of 8.79"),
        ("reports/eval/leakage.json", "membership", membership_block(0.25), "membership inference", "at 1% false"),
        ("reports/eval/benchmarks.json", "utility.general", bpb_block(100, 0.2, gain=False, seed=5),
         "general ability", "damages general ability"),
        ("reports/eval/benchmarks.json", "utility.domain", bpb_block(200, 0.0, gain=True, seed=6),
         "domain improvement", "below the required"),
        ("reports/scan/summary.json", "quarantine_ratio", 0.2, "quarantined share", "quarantine.jsonl"),
    ],
)
def test_gate_refuses_each_measurement_beyond_its_threshold(repo, report, key, value, failing, explained):
    edit_json(repo / report, key, value)
    result = gate_of(repo)
    assert not result.passed
    assert [c.name for c in result.failures] == [check(result, failing).name]
    assert check(result, failing).result == "fail"
    assert explained in check(result, failing).explanation


@pytest.mark.parametrize(
    ("report", "key", "value", "failing", "needed"),
    [
        # 12 prompts cannot bound a 5 % rate even with 0 hits: 59 are needed.
        ("reports/eval/leakage.json", "extraction.prompts", 12, "PII extraction", "n = 59"),
        # 32 records a side cannot read a TPR at 1 % FPR at all.
        ("reports/eval/leakage.json", "membership", membership_block(0.0, members=32, nonmembers=32),
         "membership inference", "about n ="),
        # Two ×1 canaries (the old default) cannot resolve a 6-bit bound on the mean.
        ("reports/eval/leakage.json", "canary.by_repetitions.1", canary_group(null_exposures(1)[:2]),
         "canary exposure", "about n ="),
        # 3 general documents cannot resolve a 0.05 bits-per-byte increase at this spread.
        ("reports/eval/benchmarks.json", "utility.general", bpb_block(3, 0.0, gain=False, seed=7),
         "general ability", "about n ="),
    ],
)
def test_a_too_small_sample_fails_as_inconclusive_and_names_the_n_it_needs(repo, report, key, value, failing, needed):
    edit_json(repo / report, key, value)
    result = gate_of(repo)
    row = check(result, failing)
    assert not result.passed and not row.passed
    assert row.result == "inconclusive", row
    assert "inconclusive" in row.explanation and needed in row.explanation
    assert "INCONCLUSIVE" in result.table()


def test_a_canary_class_training_never_showed_is_untested(repo):
    edit_json(repo / "reports/eval/leakage.json", "canary.by_repetitions.1", canary_group(null_exposures(1), unseen=3))
    row = check(gate_of(repo), "canary exposure")
    assert row.result == "untested" and not row.passed
    assert "3 of the ×1 canaries were never shown" in row.explanation


def test_accuracy_counts_only_where_the_base_is_above_chance(repo):
    from pipeline.evaluate import EvalParams
    from pipeline.evaluate.benchmarks import MMLU_LETTER, paired_accuracy_report

    # A base well above chance on 400 questions, and an adapter that forgets 20 % of them.
    base = {i: i % 10 < 7 for i in range(400)}
    adapter = {i: i % 10 < 5 for i in range(400)}
    paired = paired_accuracy_report(base, adapter, MMLU_LETTER, EvalParams())
    assert paired["resolvable"] and paired["mcnemar_p"] < 1e-6
    edit_json(repo / "reports/eval/benchmarks.json", "tasks.mahrem_mmlu_letter.paired", paired)
    row = check(gate_of(repo), "general ability mahrem_mmlu_letter")
    assert row.result == "fail" and "accuracy" in row.name
    same = paired_accuracy_report(base, base, MMLU_LETTER, EvalParams())
    edit_json(repo / "reports/eval/benchmarks.json", "tasks.mahrem_mmlu_letter.paired", same)
    assert check(gate_of(repo), "general ability mahrem_mmlu_letter").passed


def test_gate_refuses_a_source_without_legal_basis_for_training(repo):
    sources = repo / "policies/sources.yaml"
    data = yaml.safe_load(sources.read_text())
    del data["sources"]["sample"]["purposes"]["model_training"]
    sources.write_text(yaml.safe_dump(data, allow_unicode=True))
    failing = check(gate_of(repo), "legal basis")
    assert not failing.passed
    assert "'sample' has no KVKK/GDPR legal basis for 'model_training'" in failing.explanation


def test_gate_refuses_an_undeclared_source(repo):
    from pipeline.reports.scan import SourceTally

    crm = SourceTally(records=3, records_with_pii=1, findings={"PERSON": 2}).model_dump(mode="json")
    edit_json(repo / "reports/scan/summary.json", "by_source.crm", crm)
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
        ("reports/eval/leakage.json", "membership.tpr", ["leakage.json", "membership.tpr", "evaluate"]),
        ("reports/train/summary.json", "holdout_loss_adapter", ["train/summary.json", "holdout_loss_adapter", "train"]),
        ("reports/eval/benchmarks.json", "tasks.mahrem_mmlu_letter.base_stderr",
         ["tasks.mahrem_mmlu_letter.base_stderr", "evaluate"]),
        ("reports/eval/benchmarks.json", "utility.general.increase", ["utility.general.increase", "evaluate"]),
        ("reports/eval/leakage.json", "canary.by_repetitions.1", ["canary.by_repetitions.1", "evaluate"]),
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
    # The Leakage model refuses the file as it is read, naming the file, the key and the stage.
    edit_json(repo / "reports/eval/leakage.json", "extraction.adapter_hits", "low")
    with pytest.raises(EvidenceError, match=r"(?s)leakage\.json: does not match the Leakage report.*"
                                            r"key 'extraction\.adapter_hits': Input should be a valid integer.*"
                                            r"re-run `dvc repro evaluate`"):
        gate_of(repo)
    edit_json(repo / "reports/eval/leakage.json", "extraction.adapter_hits", 0)
    edit_json(repo / "reports/eval/leakage.json", "membership.tpr", 0.03)
    with pytest.raises(EvidenceError, match=r"(?s)leakage\.json: .*key 'membership\.tpr': Input should be an object"):
        gate_of(repo)
    # A number the model accepts but that is not finite is still refused where the gate weighs it.
    edit_json(repo / "reports/eval/leakage.json", "membership", membership_block())
    edit_json(repo / "reports/eval/leakage.json", "membership.fpr", float("nan"))
    with pytest.raises(EvidenceError, match="membership.fpr' is not a finite number"):
        gate_of(repo)


def test_a_membership_fpr_other_than_the_policys_is_an_error(repo):
    edit_json(repo / "reports/eval/leakage.json", "membership.fpr", 0.05)
    with pytest.raises(EvidenceError, match="gate.membership.fpr"):
        gate_of(repo)


def test_release_policy_errors_name_the_key(tmp_path):
    data = yaml.safe_load((REPO_ROOT / "policies/release.yaml").read_text())
    data["gate"]["membership"]["tpr_max"] = 1.5
    data["gate"]["canary"]["exposure_bits"] = 8
    data["version"] = "v1"
    path = tmp_path / "release.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        load_release_policy(path)
    message = str(caught.value)
    assert "gate.membership.tpr_max" in message
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
        signoff(paths_for(repo), policy, out, key, today=TODAY, pseudonym_key=TEST_KEY)
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
