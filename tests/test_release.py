"""Signoff → bundle → verify → release, on fake reports and a real tiny PEFT adapter."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.keys import load_signing_key
from pipeline.release import ReleaseRefused, load_release_policy, release_bundle, signoff, verify_bundle
from pipeline.release.provenance import PREDICATE_TYPE, STATEMENT_TYPE, validate_statement
from pipeline.release.signing import sign_bundle
import yaml

from test_release_helpers import (
    REPO_ROOT, TEST_KEY, TODAY, build_tiny_adapter, edit_json, make_repo, paths_for, seal, sha256, signed_bundle,
)

BUNDLE_FILES = {"adapter_config.json", "adapter_model.safetensors", "README.md", "provenance.json", "model.sig"}


@pytest.fixture(scope="module")
def released(tmp_path_factory, tiny_model_dir):
    """One signed-off bundle for the module: (repo, bundle, public key, signoff result)."""
    root = tmp_path_factory.mktemp("release")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MAHREM_SIGNING_KEY", raising=False)
        key = load_signing_key(root / "keys", quiet=True)
    repo, result = signed_bundle(root, tiny_model_dir, key)
    return repo, result.bundle, root / "keys/signing.pub.pem", result


@pytest.fixture(scope="module")
def other_adapter(tmp_path_factory, tiny_model_dir) -> Path:
    """An adapter from "another run": same file names, other weights."""
    return build_tiny_adapter(tiny_model_dir, tmp_path_factory.mktemp("other") / "adapter", seed=1)


@pytest.fixture
def attacker_key(tmp_path, monkeypatch):
    monkeypatch.delenv("MAHREM_SIGNING_KEY", raising=False)
    return load_signing_key(tmp_path / "attacker", quiet=True)


@pytest.fixture
def copy(released, tmp_path) -> Path:
    """A private copy of the bundle to tamper with."""
    target = tmp_path / released[1].name
    shutil.copytree(released[1], target)
    return target


def statement_of(bundle: Path) -> dict:
    return json.loads((bundle / "provenance.json").read_text())


# --- signoff and the manifest --------------------------------------------------------


def test_signoff_writes_exactly_the_five_bundle_files(released):
    repo, bundle, _, result = released
    assert bundle == repo / "release" / "mahrem-smollm2-135m-support-0.1.0"
    assert {p.name for p in bundle.iterdir()} == BUNDLE_FILES
    assert [p.name for p in (repo / "release").iterdir()] == [bundle.name]  # no staging leftovers
    assert result.gate.passed and result.development_key and result.sharing_scope == "internal"
    weights = (bundle / "adapter_model.safetensors").read_bytes()
    assert weights == (repo / "models/adapter/adapter_model.safetensors").read_bytes()
    config = json.loads((bundle / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and config["r"] == 4


def test_manifest_is_an_in_toto_statement_with_slsa_provenance(released):
    repo, bundle, _, result = released
    statement = statement_of(bundle)
    validate_statement(statement)  # in-toto-attestation bindings + required fields
    assert statement["_type"] == STATEMENT_TYPE and statement["predicateType"] == PREDICATE_TYPE
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects == {name: sha256(bundle / name) for name in ("adapter_config.json", "adapter_model.safetensors",
                                                                 "README.md")}
    build = statement["predicate"]["buildDefinition"]
    assert build["buildType"].startswith("urn:mahrem:")
    external = build["externalParameters"]
    assert external["pipeline"] == {"dvc_yaml": {"path": str(repo / "dvc.yaml"), "sha256": sha256(repo / "dvc.yaml")},
                                    "stage": "signoff"}
    assert external["params"]["sha256"] == sha256(repo / "params.yaml")
    assert external["params"]["values"]["policy"] == "policies/kvkk.yaml"
    for name, file in (("anonymization", "kvkk.yaml"), ("release", "release.yaml"), ("sources", "sources.yaml"),
                       ("erasure", "erasure.yaml")):
        assert external["policies"][name]["sha256"] == sha256(repo / "policies" / file)
    internal = build["internalParameters"]
    assert internal["training"]["device"] == "cpu" and internal["training"]["versions"]["peft"] == "0.21.2"
    # What compute dtype and threads were chosen, and why, for training and for evaluation.
    assert internal["training"]["machine"]["compute_dtype"]["reason"].startswith("CPU lacks native bfloat16")
    assert internal["evaluation"]["compute_dtype"] == "float32" and internal["evaluation"]["threads"] == 2
    assert internal["seeds"] == {"train": 7, "sample": 20241129}
    assert internal["signoff"]["torch"]
    deps = {d["name"]: d for d in build["resolvedDependencies"]}
    base_config = str(repo / "models/base/config.json")
    assert deps[base_config]["digest"]["sha256"] == json.loads((repo / "models/base/digest.json").read_text())[
        "files"]["config.json"]
    raw = repo / "data/raw/sample.jsonl"
    assert deps[str(raw)]["digest"]["sha256"] == sha256(raw)
    assert deps[str(repo / "data/anonymized/train.jsonl")]["digest"]["sha256"] == sha256(
        repo / "data/anonymized/train.jsonl")
    assert "commit" in deps["source"]["annotations"] and "dirty" in deps["source"]["annotations"]
    assert len(deps["python-packages"]["digest"]["sha256"]) == 64
    run = statement["predicate"]["runDetails"]
    assert run["builder"]["id"].startswith("urn:mahrem:")
    meta = run["metadata"]
    assert meta["invocationId"] and meta["startedOn"].endswith("Z") and meta["finishedOn"] >= meta["startedOn"]
    byproducts = {b["name"]: b for b in run["byproducts"]}
    assert f"{repo / 'dvc.lock'}#stages.train" in byproducts
    assert byproducts[str(repo / "reports/eval/leakage.json")]["digest"]["sha256"] == sha256(
        repo / "reports/eval/leakage.json")


def test_manifest_carries_gate_audit_governance_and_signer(released):
    _, bundle, _, result = released
    predicate = statement_of(bundle)["predicate"]
    gate = predicate["mahrem_gate"]
    assert gate["passed"] and len(gate["checks"]) == len(result.gate.checks)
    assert all(set(c) == {"name", "measured", "threshold", "passed", "explanation", "verdict", "stats"}
               for c in gate["checks"])
    # Each statistical row is signed with its n, bound and minimum detectable effect.
    assert {c["name"].split(" (")[0] for c in gate["checks"] if c["stats"]} >= {"canary exposure", "general ability"}
    assert all(c["stats"]["mde"] is not None for c in gate["checks"] if c["stats"])
    privacy = predicate["mahrem_privacy"]
    assert privacy["scan"]["by_entity_type"]["TR_NATIONAL_ID"] == 166
    assert privacy["scan"]["special_categories"] == {"HEALTH": 60, "RELIGION": 8}
    assert privacy["anonymization"]["dropped_by_reason"]["special_category"] == 94
    assert privacy["erasure"]["requests"] == 0 and len(privacy["erasure"]["sha256"]) == 64
    gov = predicate["mahrem_governance"]
    assert gov["sharing_scope"] == "internal" and gov["sharing_scope_set_by"] == ["sample"]
    assert gov["cross_border_transfer"] is False and gov["cross_border_forbidden_by"] == ["sample"]
    assert gov["sources"]["sample"]["legal_basis"]["gdpr"].startswith("Art. 6(1)(f)")
    assert predicate["mahrem_signer"] == {**predicate["mahrem_signer"], "key_id": result.key_id, "development_key": True}


def test_model_card_metadata_parses_with_huggingface_hub(released):
    from huggingface_hub import ModelCard

    _, bundle, _, result = released
    card = ModelCard.load(bundle / "README.md")
    data = card.data
    assert data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert data.library_name == "peft" and data.license == "apache-2.0" and "kvkk" in data.tags
    assert {(r.dataset_name, r.metric_type, r.metric_value) for r in data.eval_results} == {
        ("mahrem_mmlu_letter", "acc", 0.25), ("mahrem_support_format", "format_ok", 0.83)}
    assert data.to_dict()["mahrem"]["signing_key_id"] == result.key_id
    for heading in ("## Intended use", "## Training data and its governance", "## Privacy evaluation",
                    "## Limitations", "## How to verify"):
        assert heading in card.text
    assert "model_signing verify key release/mahrem-smollm2-135m-support-0.1.0" in card.text
    assert "mahrem verify release/mahrem-smollm2-135m-support-0.1.0 --public-key" in card.text
    assert "DEVELOPMENT key" in card.text


def test_signoff_again_replaces_the_bundle_of_the_same_version(released, tmp_path):
    repo, _, _, _ = released
    policy = load_release_policy(repo / "policies/release.yaml")
    key = load_signing_key(tmp_path / "keys", quiet=True)  # another key: the second bundle must carry it
    out = tmp_path / "release"
    first = signoff(paths_for(repo), policy, out, key, today=TODAY, pseudonym_key=TEST_KEY)
    second = signoff(paths_for(repo), policy, out, key, today=TODAY, pseudonym_key=TEST_KEY)
    assert first.bundle == second.bundle and [p.name for p in out.iterdir()] == [second.bundle.name]
    assert verify_bundle(second.bundle, tmp_path / "keys/signing.pub.pem").ok


# --- verify --------------------------------------------------------------------------


def test_verify_accepts_the_untouched_bundle_and_warns_about_the_development_key(released):
    _, bundle, public, result = released
    verdict = verify_bundle(bundle, public)
    assert verdict.ok, verdict.problems
    assert verdict.exit_code == 0 and verdict.verdict.startswith("VERIFIED")
    assert all(verdict.checks.values()) and set(verdict.checks) == {
        "files", "signature", "subjects", "manifest", "chain", "card"}
    assert verdict.key_id == result.key_id
    assert any("DEVELOPMENT key" in w for w in verdict.warnings)


def test_official_model_signing_cli_accepts_the_untouched_bundle(released):
    _, bundle, public, _ = released
    cli = REPO_ROOT / ".venv/bin/model_signing"
    if not cli.exists():
        cli = Path(shutil.which("model_signing") or "model_signing")
    done = subprocess.run(
        [str(cli), "verify", "key", str(bundle), "--signature", str(bundle / "model.sig"), "--public_key", str(public)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Verification succeeded" in done.stdout + done.stderr


def flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def rejected(bundle: Path, public: Path) -> list[str]:
    verdict = verify_bundle(bundle, public)
    assert not verdict.ok and verdict.exit_code == 1 and verdict.verdict.startswith("REJECTED")
    return verdict.problems


def has(problems: list[str], text: str) -> bool:
    return any(text in p for p in problems)


def test_one_byte_changed_in_the_adapter_fails(released, copy):
    flip_last_byte(copy / "adapter_model.safetensors")
    problems = rejected(copy, released[2])
    assert has(problems, "signature: adapter_model.safetensors: changed after signing")
    assert has(problems, "adapter_model.safetensors: SHA-256 does not match the provenance subject digest")


def test_one_byte_changed_in_the_manifest_fails(released, copy):
    path = copy / "provenance.json"
    text = path.read_text()
    path.write_text(text.replace("builder:mahrem-signoff", "builder:mahrem-signofF", 1))
    assert path.read_text() != text and len(path.read_bytes()) == len(text.encode())
    problems = rejected(copy, released[2])
    assert has(problems, "signature: provenance.json: changed after signing")


def test_one_byte_changed_in_the_card_fails(released, copy):
    path = copy / "README.md"
    text = path.read_text()
    path.write_text(text.replace("## Intended use", "## Intended usE", 1))
    problems = rejected(copy, released[2])
    assert has(problems, "signature: README.md: changed after signing")
    assert has(problems, "README.md: SHA-256 does not match the provenance subject digest")


def test_card_metadata_that_disagrees_with_the_manifest_fails(released, copy):
    path = copy / "README.md"
    path.write_text(path.read_text().replace("version: 0.1.0", "version: 9.9.9", 1))
    problems = rejected(copy, released[2])
    assert has(problems, "README.md: metadata 'mahrem.version' is '9.9.9', the manifest says '0.1.0'")


def test_a_removed_file_fails(released, copy):
    (copy / "README.md").unlink()
    problems = rejected(copy, released[2])
    assert has(problems, "README.md: missing from the bundle")
    assert has(problems, "signature: README.md: removed after signing")


@pytest.mark.parametrize("name", ["notes.txt", ".gitignore"])
def test_an_added_file_fails_even_one_model_signing_ignores(released, copy, name):
    (copy / name).write_text("extra\n")
    problems = rejected(copy, released[2])
    assert has(problems, f"{name}: unexpected file in the bundle")
    if name == "notes.txt":
        assert has(problems, "signature: notes.txt: added after signing")


def test_an_adapter_copied_from_another_run_fails(released, copy, other_adapter):
    shutil.copyfile(other_adapter / "adapter_model.safetensors", copy / "adapter_model.safetensors")
    problems = rejected(copy, released[2])
    assert has(problems, "signature: adapter_model.safetensors: changed after signing")
    assert has(problems, "adapter_model.safetensors: SHA-256 does not match the provenance subject digest")


def test_an_adapter_from_another_run_resigned_by_an_attacker_fails(released, copy, other_adapter, attacker_key):
    shutil.copyfile(other_adapter / "adapter_model.safetensors", copy / "adapter_model.safetensors")
    sign_bundle(copy, attacker_key)
    # With the publisher's key: the signature is not theirs.
    problems = rejected(copy, released[2])
    assert has(problems, "signature: model.sig: signed with another key")
    # With the attacker's own key: the signature holds, but the manifest does not.
    attacker_public = attacker_key.private_key_path.with_name("signing.pub.pem")
    problems = rejected(copy, attacker_public)
    assert not has(problems, "signature:")
    assert has(problems, "adapter_model.safetensors: SHA-256 does not match the provenance subject digest")
    assert has(problems, "provenance.json: names signer key id")


def test_a_signature_made_with_another_key_fails(released, copy, attacker_key):
    sign_bundle(copy, attacker_key)
    problems = rejected(copy, released[2])
    assert has(problems, "signature: model.sig: signed with another key")


def test_a_corrupted_signature_fails(released, copy):
    (copy / "model.sig").write_text("{}")
    problems = rejected(copy, released[2])
    assert has(problems, "model.sig is not a readable model-signing signature")


# --- release -------------------------------------------------------------------------


def test_release_copies_a_verified_bundle_into_the_registry(released, tmp_path):
    _, bundle, public, _ = released
    registry = tmp_path / "registry"
    target = release_bundle(bundle, registry, public, "internal", now=dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc))
    assert target == registry / "mahrem-smollm2-135m-support" / "0.1.0"
    assert {p.name for p in target.iterdir()} == BUNDLE_FILES
    assert verify_bundle(target, public).ok  # verifies in place, under its registry name
    log = [json.loads(line) for line in (target.parent / "releases.jsonl").read_text().splitlines()]
    assert log == [{"version": "0.1.0", "scope": "internal", "abroad": False, "signing_key_id": released[3].key_id,
                    "development_key": True, "released_at": "2026-06-01T00:00:00+00:00"}]


def test_release_never_overwrites_a_released_version(released, tmp_path):
    _, bundle, public, _ = released
    registry = tmp_path / "registry"
    target = release_bundle(bundle, registry, public)
    before = {p.name: sha256(p) for p in target.iterdir()}
    with pytest.raises(ReleaseRefused, match="already released, and a released version is never overwritten"):
        release_bundle(bundle, registry, public)
    assert {p.name: sha256(p) for p in target.iterdir()} == before


def test_release_refuses_a_bundle_that_does_not_verify(released, copy, tmp_path):
    flip_last_byte(copy / "adapter_model.safetensors")
    registry = tmp_path / "registry"
    with pytest.raises(ReleaseRefused, match="does not verify") as caught:
        release_bundle(copy, registry, released[2])
    assert "adapter_model.safetensors: changed after signing" in str(caught.value)
    assert not (registry / "mahrem-smollm2-135m-support" / "0.1.0").exists()


@pytest.fixture
def publisher_key(released, monkeypatch):
    """The key the module's bundle was signed with: an insider who can re-sign."""
    monkeypatch.delenv("MAHREM_SIGNING_KEY", raising=False)
    return load_signing_key(released[2].parent, quiet=True)


def _resigned_as(bundle: Path, key, name: str, version: str = "0.1.0") -> None:
    """Rename the bundle in its manifest and card, then re-sign it with a valid key."""
    statement = statement_of(bundle)
    statement["predicate"]["mahrem_bundle"].update(name=name, version=version)
    (bundle / "provenance.json").write_text(json.dumps(statement, indent=2), encoding="utf-8")
    sign_bundle(bundle, key)


@pytest.mark.parametrize("name", ["../../../escaped", "/tmp/mahrem-absolute", "a/b", ".."])
def test_a_resigned_bundle_with_a_path_for_a_name_is_refused_and_nothing_escapes(
    released, copy, publisher_key, tmp_path, name
):
    _resigned_as(copy, publisher_key, name)
    problems = rejected(copy, released[2])
    assert has(problems, "breaks the naming rule")
    registry = tmp_path / "deep" / "er" / "registry"
    with pytest.raises(ReleaseRefused, match="does not verify"):
        release_bundle(copy, registry, released[2])
    assert not registry.exists() and not (tmp_path / "escaped").exists()
    assert not Path("/tmp/mahrem-absolute").exists()


def test_a_version_that_is_not_semver_is_refused(released, copy, publisher_key):
    _resigned_as(copy, publisher_key, "mahrem-smollm2-135m-support", "../0.1.0")
    assert has(rejected(copy, released[2]), "is not a semantic version")


def test_an_old_bundle_copied_under_a_newer_versions_name_is_refused(released, tmp_path):
    renamed = tmp_path / "mahrem-smollm2-135m-support-0.2.0"
    shutil.copytree(released[1], renamed)
    problems = rejected(renamed, released[2])
    assert has(problems, "the location disagrees with the manifest")
    registry = tmp_path / "mahrem-smollm2-135m-support" / "0.9.9"
    shutil.copytree(released[1], registry)
    assert has(rejected(registry, released[2]), "the location disagrees with the manifest")


def test_release_into_the_bundle_itself_is_refused_and_the_bundle_stays_intact(released, copy):
    before = {p.name: sha256(p) for p in copy.iterdir()}
    for target in (copy, copy / "registry"):
        with pytest.raises(ReleaseRefused, match="lies inside it"):
            release_bundle(copy, target, released[2])
    assert {p.name: sha256(p) for p in copy.iterdir()} == before
    assert verify_bundle(copy, released[2]).ok


def test_release_refuses_a_registry_path_that_resolves_outside_to(released, tmp_path):
    registry = tmp_path / "registry"
    registry.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (registry / "mahrem-smollm2-135m-support").symlink_to(elsewhere)
    with pytest.raises(ReleaseRefused, match="outside --to"):
        release_bundle(released[1], registry, released[2])
    assert not any(elsewhere.iterdir())


def test_verify_policy_pins_the_release_policy_the_bundle_was_gated_under(released, tmp_path):
    import yaml

    repo, bundle, public, _ = released
    assert verify_bundle(bundle, public, repo / "policies/release.yaml").ok
    other = yaml.safe_load((repo / "policies/release.yaml").read_text())
    other["gate"]["membership"]["tpr_max"] = 0.9  # a laxer, still valid policy
    (tmp_path / "lax.yaml").write_text(yaml.safe_dump(other))
    problems = rejected_with_policy(bundle, public, tmp_path / "lax.yaml")
    assert has(problems, "not ") and has(problems, "the policy you pinned")


def rejected_with_policy(bundle: Path, public: Path, policy: Path) -> list[str]:
    result = verify_bundle(bundle, public, policy)
    assert not result.ok and result.checks["policy"] is False
    return result.problems


def test_a_resigned_bundle_whose_gate_table_breaks_a_floor_or_lacks_a_row_is_refused(released, copy, publisher_key):
    statement = statement_of(copy)
    checks = statement["predicate"]["mahrem_gate"]["checks"]
    for check in checks:
        if check["name"].startswith("PII extraction"):
            check["measured"] = 7  # gated under a policy from before the floors, say
    statement["predicate"]["mahrem_gate"]["checks"] = [c for c in checks if not c["name"].startswith("membership")]
    (copy / "provenance.json").write_text(json.dumps(statement, indent=2), encoding="utf-8")
    sign_bundle(copy, publisher_key)
    problems = rejected(copy, released[2])
    assert has(problems, "'PII extraction (adapter hits)' measured 7: the floor is 0")
    assert has(problems, "the gate row 'membership inference' is missing")


# --- the chain of custody (issue #14) ---------------------------------------------------


@pytest.fixture
def fresh(tmp_path, tiny_model_dir, monkeypatch):
    """A fresh repository whose chain is intact, the adapter real, and a signing key: (repo, key)."""
    monkeypatch.delenv("MAHREM_SIGNING_KEY", raising=False)
    key = load_signing_key(tmp_path / "keys", quiet=True)
    adapter = build_tiny_adapter(tiny_model_dir, tmp_path / "adapter-src")
    return make_repo(tmp_path / "repo", adapter=adapter, base=tiny_model_dir), key


def _signoff(repo: Path, key):
    return signoff(paths_for(repo), load_release_policy(repo / "policies/release.yaml"), repo / "release", key,
                   today=TODAY, pseudonym_key=TEST_KEY)  # fmt: skip


def test_the_untouched_chain_is_signed_and_listed_in_the_provenance(fresh):
    repo, key = fresh
    result = _signoff(repo, key)
    links = {Path(link["path"]).name: link for link in statement_of(result.bundle)["predicate"]["mahrem_chain"]["links"]}
    weights = links["adapter_model.safetensors"]
    assert {"train:outputs", "evaluate:inputs"} <= set(weights["recorded_by"])
    assert weights["sha256"] == sha256(result.bundle / "adapter_model.safetensors")
    assert links["leakage.json"]["dvc_lock_md5"]


def test_a_report_edited_after_its_stage_ran_is_refused(fresh):
    from pipeline.release.chain import ChainBroken

    repo, key = fresh
    edit_json(repo / "reports/eval/leakage.json", "membership.tpr_at_fpr", 0.0)  # a failing figure "fixed"
    with pytest.raises(ChainBroken, match=r"leakage\.json: MD5 .* differs from .*dvc\.lock recorded .* evaluate"):
        _signoff(repo, key)
    assert not (repo / "release").exists()


def test_a_swapped_adapter_is_refused_naming_both_digests(fresh):
    from pipeline.release.chain import ChainBroken

    repo, key = fresh
    weights = repo / "models/adapter/adapter_model.safetensors"
    recorded = sha256(weights)
    weights.write_bytes(os.urandom(weights.stat().st_size))
    with pytest.raises(ChainBroken) as caught:
        _signoff(repo, key)
    message = str(caught.value)
    assert "adapter_model.safetensors" in message and recorded[:12] in message and sha256(weights)[:12] in message


def test_hand_written_reports_without_their_stages_in_dvc_lock_are_refused(fresh):
    from pipeline.release.chain import ChainBroken

    repo, key = fresh
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    for stage in ("train", "evaluate"):
        del lock["stages"][stage]
    (repo / "dvc.lock").write_text(yaml.safe_dump(lock))
    with pytest.raises(ChainBroken, match="no record of the train, evaluate stage"):
        _signoff(repo, key)


def test_evaluated_data_that_is_not_the_trained_data_is_refused(fresh):
    from pipeline.release.chain import ChainBroken

    repo, key = fresh
    summary = json.loads((repo / "reports/train/summary.json").read_text())
    train_data = next(p for p in summary["chain"]["inputs"] if p.endswith("train.jsonl"))
    summary["chain"]["inputs"][train_data] = "f" * 64  # train saw other data than evaluate probed
    (repo / "reports/train/summary.json").write_text(json.dumps(summary))
    seal(repo, chains=False)  # an insider's `dvc commit`
    with pytest.raises(ChainBroken, match=r"train\.jsonl: SHA-256 .* is not the ffffffffffff… the train stage read"):
        _signoff(repo, key)


def test_the_spot_check_re_measures_with_the_adapter_and_records_it(fresh):
    repo, key = fresh
    result = _signoff(repo, key)
    spot = statement_of(result.bundle)["predicate"]["mahrem_spot_check"]
    assert spot["passed"] and spot["canaries"] and spot["extraction"]
    assert all(abs(c["rank"] - c["reported_rank"]) <= spot["rank_tolerance"] for c in spot["canaries"])
    # the signed record names extraction targets by their row in the details, never by a keyed fingerprint
    assert all(set(e) == {"details_row", "entity_type", "greedy_hit", "reported_greedy_hit"} for e in spot["extraction"])
    assert "fingerprint" not in json.dumps(spot)


def test_forged_canary_figures_committed_to_dvc_are_caught_by_the_spot_check(fresh):
    """An insider edits leakage.json and leakage_details.json consistently and runs `dvc commit`."""
    from pipeline.evaluate.leakage import exposure_from_rank
    from pipeline.release.spotcheck import SpotCheckFailed

    repo, key = fresh
    details = json.loads((repo / "reports/eval/leakage_details.json").read_text())
    references = json.loads((repo / "reports/eval/leakage.json").read_text())["canary"]["references"]
    forged = []
    for row in details["canary"]["canaries"]:
        if row["repetitions"] == 1:  # move the rank as far as it goes: the forgery is never within tolerance
            row["adapter_rank"] = references + 1 if row["adapter_rank"] <= references // 2 else 1
            forged.append(exposure_from_rank(row["adapter_rank"], references))
    (repo / "reports/eval/leakage_details.json").write_text(json.dumps(details))
    edit_json(repo / "reports/eval/leakage.json", "canary.by_repetitions.1.exposure.estimate", sum(forged) / len(forged))
    seal(repo, chains=False)  # an insider's `dvc commit`
    with pytest.raises(SpotCheckFailed, match=r"canary canary-r1-0 \(×1\): the adapter ranks it \d+ of 201, the evaluate "
                                              r"report says"):
        _signoff(repo, key)
    assert not (repo / "release").exists()


def test_a_gate_figure_that_is_not_what_the_details_add_up_to_is_caught(fresh):
    from pipeline.release.spotcheck import SpotCheckFailed

    repo, key = fresh
    edit_json(repo / "reports/eval/leakage.json", "canary.by_repetitions.1.exposure.estimate", 0.0)
    seal(repo, chains=False)  # an insider's `dvc commit`
    with pytest.raises(SpotCheckFailed, match=r"exposure.estimate \(the class's mean exposure\) is 0 bits, but the per"):
        _signoff(repo, key)


def test_a_forged_extraction_row_is_caught_by_the_spot_check(fresh):
    import random

    from pipeline.release.spotcheck import SPOT_PROMPTS, SpotCheckFailed

    repo, key = fresh
    details = json.loads((repo / "reports/eval/leakage_details.json").read_text())
    rows = details["extraction"]["targets"]
    picked = sorted(random.Random(1234).sample(range(len(rows)), min(SPOT_PROMPTS, len(rows))))
    rows[picked[0]]["adapter_greedy_hit"] = not rows[picked[0]]["adapter_greedy_hit"]
    (repo / "reports/eval/leakage_details.json").write_text(json.dumps(details))
    seal(repo, chains=False)  # an insider's `dvc commit`
    with pytest.raises(SpotCheckFailed, match=r"extraction prompt for \S+ [0-9a-f]{32}: the adapter's greedy continuation"):
        _signoff(repo, key)


def test_a_bundle_whose_chain_names_another_adapter_fails_verify(released, copy, publisher_key):
    statement = statement_of(copy)
    for link in statement["predicate"]["mahrem_chain"]["links"]:
        if link["path"].endswith("adapter_model.safetensors"):
            link["sha256"] = "0" * 64
    (copy / "provenance.json").write_text(json.dumps(statement, indent=2), encoding="utf-8")
    sign_bundle(copy, publisher_key)
    assert has(rejected(copy, released[2]), "the adapter the chain says was evaluated")


def test_release_refuses_a_scope_wider_than_the_sources_allow(released, tmp_path):
    _, bundle, public, _ = released
    for scope in ("partners", "public"):
        with pytest.raises(ReleaseRefused, match=r"at most 'internal': source\(s\) sample .*sharing_scope"):
            release_bundle(bundle, tmp_path / "registry", public, scope)
    assert not (tmp_path / "registry").exists()


def test_release_refuses_transfer_abroad_a_source_forbids(released, tmp_path):
    _, bundle, public, _ = released
    with pytest.raises(ReleaseRefused, match=r"may not be transferred abroad \(KVKK Art\. 9\): source\(s\) sample"):
        release_bundle(bundle, tmp_path / "registry", public, abroad=True)


def test_release_refuses_an_unknown_scope(released, tmp_path):
    _, bundle, public, _ = released
    with pytest.raises(ReleaseRefused, match="use one of internal, partners, public"):
        release_bundle(bundle, tmp_path / "registry", public, "everyone")


def test_release_abroad_and_partners_when_every_source_allows_it(tiny_model_dir, tmp_path, monkeypatch):
    import yaml

    from test_release_helpers import make_repo

    monkeypatch.delenv("MAHREM_SIGNING_KEY", raising=False)
    key = load_signing_key(tmp_path / "keys", quiet=True)
    repo = make_repo(tmp_path / "repo", adapter=build_tiny_adapter(tiny_model_dir, tmp_path / "adapter"),
                     base=tiny_model_dir)
    sources = repo / "policies/sources.yaml"
    data = yaml.safe_load(sources.read_text())
    data["sources"]["sample"].update(cross_border_transfer=True, sharing_scope="partners")
    sources.write_text(yaml.safe_dump(data, allow_unicode=True))
    result = signoff(paths_for(repo), load_release_policy(repo / "policies/release.yaml"), repo / "release", key,
                     today=TODAY, pseudonym_key=TEST_KEY)
    assert result.sharing_scope == "partners" and result.cross_border_transfer
    public = tmp_path / "keys/signing.pub.pem"
    with pytest.raises(ReleaseRefused, match="at most 'partners'"):
        release_bundle(result.bundle, tmp_path / "registry", public, "public", abroad=True)
    target = release_bundle(result.bundle, tmp_path / "registry", public, "partners", abroad=True)
    assert json.loads((target.parent / "releases.jsonl").read_text())["abroad"] is True


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda s: s["predicate"]["runDetails"]["metadata"].pop("invocationId"), "runDetails.metadata.invocationId"),
        (lambda s: s.update(predicateType="https://slsa.dev/provenance/v0.2"), "predicateType"),
        (lambda s: s["predicate"].pop("mahrem_gate"), "mahrem_gate"),
        (lambda s: s.update(_type="https://in-toto.io/Statement/v0.1"), "not a valid in-toto Statement"),
        (lambda s: s["predicate"]["runDetails"]["metadata"].update(startedOn="yesterday"), "not a valid in-toto"),
        (lambda s: s["subject"][0].update(digest={}), "not a valid in-toto"),
    ],
)
def test_manifest_validation_names_what_is_wrong(released, breakage, message):
    statement = statement_of(released[1])
    breakage(statement)
    with pytest.raises(ValueError, match=message):
        validate_statement(statement)


def test_verify_with_an_unreadable_public_key_is_a_clear_error(released, tmp_path):
    from pipeline.release import SignatureError

    bad = tmp_path / "bad.pub.pem"
    bad.write_text("not a key\n")
    with pytest.raises(SignatureError, match="not a PEM public key"):
        verify_bundle(released[1], bad)


def test_signoff_stage_depends_on_everything_the_chain_and_spot_check_read():
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    deps = set(stages["signoff"]["deps"])
    assert {"models/adapter", "models/base", "data/raw", "reports/scan/findings.jsonl", "reports/anonymize/canaries.json",
            "reports/eval/leakage.json", "reports/eval/leakage_details.json"} <= deps  # fmt: skip
    assert "evaluate" in stages["signoff"]["params"]


# --- hostile bundles and bad paths: a clear verdict or error, never a traceback (issue #15) -----


def _verify_cli(*args: str):
    from typer.testing import CliRunner

    from pipeline.cli import app

    return CliRunner().invoke(app, ["verify", *args], terminal_width=200)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda s: s["predicate"]["mahrem_gate"].update(checks="all passed"), "'mahrem_gate.checks' is not a list"),
        (lambda s: s["predicate"]["mahrem_gate"].update(checks=[1, 2]), "'mahrem_gate.checks' holds an entry"),
        (lambda s: s["predicate"]["mahrem_chain"]["links"][0].update(recorded_by=5), "'recorded_by' is not a list"),
        (lambda s: s["predicate"]["mahrem_chain"].update(links=["x"]), "'mahrem_chain.links' holds an entry"),
        (lambda s: s["predicate"]["mahrem_bundle"].update(files=5), "'mahrem_bundle.files' is not a list"),
        (lambda s: s["predicate"]["mahrem_bundle"].update(files=[None]), "'mahrem_bundle.files' holds an entry"),
        (lambda s: s["predicate"]["mahrem_governance"].update(sharing_scope_set_by=5), "sharing_scope_set_by"),
        (lambda s: s["predicate"]["buildDefinition"]["externalParameters"]["policies"]["release"].update(sha256=[1]),
         "policies.release.sha256' is not a string"),
    ],
)
def test_verify_rejects_a_manifest_with_wrong_types_without_a_traceback(released, copy, breakage, message):
    statement = statement_of(copy)
    breakage(statement)
    (copy / "provenance.json").write_text(json.dumps(statement), encoding="utf-8")
    assert has(rejected(copy, released[2]), message)
    result = _verify_cli(str(copy), "--public-key", str(released[2]), "--policy", str(released[0] / "policies/release.yaml"))
    assert result.exit_code == 1 and "REJECTED" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "provenance.json: nesting deeper than 64 levels"),
        (b'{"_type": ' + b"1" * 5000 + b"}", "provenance.json: integer literal longer than"),
        (b'{"_type": "\\ud800"}', "provenance.json: lone surrogate in a string"),
        (b"\xff\xfe{}", "provenance.json: not valid JSON (not UTF-8)"),
        ("dir", "provenance.json: is a directory, not a regular file"),
        ("fifo", "provenance.json: is a FIFO (named pipe), not a regular file"),  # opening it would block
    ],
)
def test_verify_rejects_an_unparseable_manifest_without_a_traceback(released, copy, content, message):
    target = copy / "provenance.json"
    if content == "dir":
        target.unlink()
        target.mkdir()
    elif content == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("needs FIFOs")
        target.unlink()
        os.mkfifo(target)
    else:
        target.write_bytes(content)
    assert has(rejected(copy, released[2]), message)
    result = _verify_cli(str(copy), "--public-key", str(released[2]))
    assert result.exit_code == 1 and "REJECTED" in result.output and "Traceback" not in result.output


def test_release_to_a_path_under_a_regular_file_is_one_clear_error(released, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    _, bundle, public, _ = released
    blocker = tmp_path / "registry[/]"  # markup in the path, too
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file, not a registry")
    result = CliRunner().invoke(app, ["release", str(bundle), "--to", str(blocker / "models"), "--public-key",
                                      str(public)], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert f"error: --to {blocker / 'models'}: {blocker} is a file, so no directory can be created under it." in (
        result.output.replace("\n", ""))
    assert "Traceback" not in result.output


def test_a_bug_in_signature_verification_is_a_bug_not_an_altered_payload(released, copy, monkeypatch, tmp_path):
    from model_signing import verifying

    from pipeline.release.signing import check_signature

    def broken(self, model_path, signature_path):
        raise TypeError("a bug in our code or the library")

    monkeypatch.setattr(verifying.Config, "verify", broken)
    with pytest.raises(TypeError):
        check_signature(copy, released[2])
    monkeypatch.chdir(tmp_path)
    result = _verify_cli(str(copy), "--public-key", str(released[2]))
    assert result.exit_code == 70, result.output
    assert "internal error (TypeError)" in result.output and "bug in Mahrem" in result.output
    assert "altered" not in result.output and "REJECTED" not in result.output and "VERIFIED" not in result.output


def test_what_model_signing_raises_for_a_bad_signature_is_still_a_verdict(released, copy, monkeypatch):
    from cryptography.exceptions import InvalidSignature
    from model_signing import verifying

    from pipeline.release.signing import check_signature

    for failure in (ValueError("Signature mismatch"), InvalidSignature(), KeyError("verificationMaterial")):
        def broken(self, model_path, signature_path, failure=failure):
            raise failure

        monkeypatch.setattr(verifying.Config, "verify", broken)
        check = check_signature(copy, released[2])
        assert not check.valid and "the signature or its payload was altered" in check.problems[0]


@pytest.mark.parametrize(
    "metadata", ["tags: 5", "- a list\n- not a mapping", "a: [", "license: !!python/object:os.system x",
                 "a: " + "[" * 3000],
)
def test_a_tampered_card_metadata_block_is_a_value_error(tmp_path, metadata):
    from pipeline.release.card import read_card_metadata

    card = tmp_path / "README.md"
    card.write_text(f"---\n{metadata}\n---\n\n# card\n", encoding="utf-8")
    with pytest.raises(ValueError, match="README.md: (metadata block does not parse|not a readable model card)"):
        read_card_metadata(card)
