"""Which released adapters hold a person's data (issue #17 item 4): holdings, forget --which, erasure marks.

Two real signoffs on the miniature workspace (tests/test_release_helpers.py), under a pseudonym
key the CLI loads from MAHREM_PSEUDONYM_KEY:

* 0.1.0: the planted TCKN is in a trained train-split record; one e-mail is in a train-split
  record that seen.json shows was never trained on; an order code is in a holdout record only.
* 0.2.0: the same, but the scan no longer found the TCKN (the erasure was honoured).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

import test_evaluate_helpers as teh
import test_release_helpers as trh
from pipeline import entities as E
from pipeline.cli import app
from pipeline.fingerprint import fingerprint, record_key
from pipeline.io import iter_jsonl
from pipeline.keys import PseudonymKey, load_signing_key
from pipeline.release import load_release_policy, release_bundle, signoff
from pipeline.release.holdings import (
    ERASURES_LOG,
    HoldingsKeyMismatch,
    erasure_warnings,
    find_holdings,
    load_holdings,
    mark_erasure,
    open_references,
    read_marks,
    release_notes,
    which_bundles,
)

KEY_HEX = "5f1c9a0e7b3d4c2a8e6f0b1d9c7a5e3f"  # a generated-looking key: load_pseudonym_key accepts it
KEY = PseudonymKey(KEY_HEX.encode())  # as load_pseudonym_key makes it from MAHREM_PSEUDONYM_KEY
OTHER_KEY_HEX = "a3e19c07f25b48d6e1c0b97a5f3d2846"
TCKN = teh.PLANTED_TCKN
UNSEEN_RAW_ID, UNSEEN_MAIL = "rec-mail-005", teh.email_of(5)
HOLDOUT_RAW_ID = "rec-0030"  # make_workspace: others[24:] (rec-0024 … rec-0047) are the holdout
NAME = "mahrem-smollm2-135m-support"


def _holdout_code() -> str:
    content = teh.support_record(30)["messages"][1]["content"]
    return content.split("Kod ", 1)[1].split(",", 1)[0]


HOLDOUT_CODE = _holdout_code()
NEVER = "10000000146"  # a valid-looking TCKN in no record
VALUES = (TCKN, UNSEEN_MAIL, HOLDOUT_CODE, teh.PLANTED_NAME, teh.PLANTED_PHONE)


def _holdout_finding() -> dict:
    record = teh.support_record(30)
    content = record["messages"][1]["content"]
    start = content.index(HOLDOUT_CODE)
    return {"record_id": record_key(KEY, HOLDOUT_RAW_ID), "field": "messages[1].content", "start": start,
            "end": start + len(HOLDOUT_CODE), "entity_type": E.PASSPORT, "score": 1.0, "recognizer": "test",
            "fingerprint": fingerprint(KEY, E.PASSPORT, HOLDOUT_CODE)}  # fmt: skip


def _build(root: Path, model_dir: Path, signing, *, version: str, with_tckn: bool, seed: int):
    """make_repo under KEY, with the extra findings and the unseen record; then a real signoff."""
    make_workspace, write_seen_for = teh.make_workspace, trh.write_seen_for
    dropped = fingerprint(KEY, E.TR_NATIONAL_ID, TCKN)

    def workspace(*args, **kwargs):
        out = make_workspace(*args, **kwargs)
        rows = [r for r in iter_jsonl(out["findings"]) if with_tckn or r["fingerprint"] != dropped]
        teh.write_jsonl(out["findings"], [*rows, _holdout_finding()])
        return out

    def seen_for(repo: Path, *, unseen: tuple[str, ...] = ()) -> None:
        write_seen_for(repo, unseen=(*unseen, record_key(KEY, UNSEEN_RAW_ID)))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(teh, "TEST_KEY", KEY)
        mp.setattr(trh, "TEST_KEY", KEY)
        mp.setattr(teh, "make_workspace", workspace)
        mp.setattr(trh, "write_seen_for", seen_for)
        adapter = trh.build_tiny_adapter(model_dir, root / "adapter-src", seed=seed)
        repo = trh.make_repo(root / "repo", adapter=adapter, base=model_dir)
    policy_file = repo / "policies/release.yaml"
    policy_file.write_text(policy_file.read_text(encoding="utf-8").replace("version: 0.1.0", f"version: {version}"),
                           encoding="utf-8")
    result = signoff(trh.paths_for(repo), load_release_policy(policy_file), repo / "release", signing,
                     today=trh.TODAY, pseudonym_key=KEY)
    return repo, result


@pytest.fixture(scope="module")
def signing(tmp_path_factory):
    root = tmp_path_factory.mktemp("signing")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MAHREM_SIGNING_KEY", raising=False)
        key = load_signing_key(root, quiet=True)
    return key, root / "signing.pub.pem"


@pytest.fixture(scope="module")
def v1(tmp_path_factory, tiny_model_dir, signing):
    return _build(tmp_path_factory.mktemp("v1"), tiny_model_dir, signing[0], version="0.1.0", with_tckn=True, seed=0)


@pytest.fixture(scope="module")
def v2(tmp_path_factory, tiny_model_dir, signing):
    return _build(tmp_path_factory.mktemp("v2"), tiny_model_dir, signing[0], version="0.2.0", with_tckn=False, seed=1)


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("MAHREM_PSEUDONYM_KEY", KEY_HEX)

    def invoke(cwd: Path, *args: str):
        monkeypatch.chdir(cwd)
        return CliRunner().invoke(app, [str(a) for a in args], terminal_width=400)

    return invoke


def fp(entity_type: str, value: str, key: PseudonymKey = KEY) -> str:
    return fingerprint(key, entity_type, value)


def _no_value_in(root: Path, *, fingerprints: bool) -> None:
    """No raw value in any file under ``root``; with ``fingerprints``, no fingerprint of one either — the
    bundle's own files included (its provenance's spot check names sampled rows, never fingerprints)."""
    fps = [fp(E.TR_NATIONAL_ID, TCKN), fp(E.EMAIL_ADDRESS, UNSEEN_MAIL), fp(E.PASSPORT, HOLDOUT_CODE)]
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        for value in [*VALUES, *(fps if fingerprints else ())]:
            assert value not in text, f"{path} holds a raw value or its fingerprint"


# --- the holdings file -------------------------------------------------------------------


def test_signoff_keeps_the_train_splits_fingerprints_outside_the_bundle(v1):
    repo, result = v1
    path = result.holdings
    assert path is not None and path.parent == repo / ".mahrem/holdings"
    assert not path.is_relative_to(result.bundle)
    assert {p.name for p in result.bundle.iterdir()} == {
        "adapter_config.json", "adapter_model.safetensors", "README.md", "provenance.json", "model.sig"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    holdings = load_holdings(path)
    assert holdings.pseudonym_key_id == KEY.key_id
    assert holdings.bundle.name == NAME and holdings.bundle.version == "0.1.0"
    assert holdings.bundle.statement_sha256 == trh.sha256(result.bundle / "provenance.json")
    assert holdings.bundle.adapter_sha256 == trh.sha256(result.bundle / "adapter_model.safetensors")
    assert find_holdings(result.bundle, path.parent) == (path, holdings)
    # Trained on; in the train split but never in a trained micro-batch; holdout only.
    assert holdings.fingerprints[fp(E.TR_NATIONAL_ID, TCKN)].model_dump() == {"records": 1, "trained": 1}
    assert holdings.fingerprints[fp(E.EMAIL_ADDRESS, UNSEEN_MAIL)].model_dump() == {"records": 1, "trained": 0}
    assert fp(E.PASSPORT, HOLDOUT_CODE) not in holdings.fingerprints
    seen = json.loads((repo / "reports/train/seen.json").read_text())
    assert holdings.train_records == len(seen["records"])
    assert holdings.trained_records == len(seen["records"]) - 1
    text = path.read_text()
    assert all(v not in text for v in VALUES)
    # The holdings are not copied into the bundle (its provenance's spot check names only sampled extraction targets).
    assert fp(E.EMAIL_ADDRESS, UNSEEN_MAIL) not in (result.bundle / "provenance.json").read_text()


def test_holdings_of_another_bundle_are_not_used(v1, tmp_path):
    repo, result = v1
    copy = tmp_path / result.bundle.name
    copy.mkdir()
    for p in result.bundle.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    assert find_holdings(copy, repo / ".mahrem/holdings") is not None
    (copy / "adapter_model.safetensors").write_bytes(b"other weights")  # same statement, other adapter
    assert find_holdings(copy, repo / ".mahrem/holdings") is None


# --- forget --which ------------------------------------------------------------------------


def test_forget_which_names_the_released_bundle_and_whether_it_was_trained_on(v1, tmp_path, signing, cli):
    repo, result = v1
    registry = tmp_path / "registry"
    target = release_bundle(result.bundle, registry, signing[1], holdings_dir=repo / ".mahrem/holdings",
                            erasure_file=tmp_path / "none.yaml")
    out = cli(repo, "forget", "--which", "--type", "TR_NATIONAL_ID", "--value", "384 619 275 04", "--registry", registry)
    assert out.exit_code == 0, out.output
    assert f"{target} (released, {NAME} 0.1.0): holds it — 1 train-split record(s), trained on in 1 of them" in out.output
    assert f"{repo / 'release' / result.bundle.name} (signed, not released" not in out.output  # relative: release/…
    assert "release/mahrem-smollm2-135m-support-0.1.0 (signed, not released, " in out.output
    assert "2 of 2 bundle(s) hold it" in out.output

    out = cli(repo, "forget", "--which", "--type", "EMAIL_ADDRESS", "--value", UNSEEN_MAIL, "--registry", registry)
    assert out.exit_code == 0, out.output
    assert "holds it — 1 train-split record(s), none of them trained on (seen.json)" in out.output

    # In the holdout split only: the scan report has it, no bundle does.
    out = cli(repo, "forget", "--which", "--type", "PASSPORT", "--value", HOLDOUT_CODE, "--registry", registry)
    assert out.exit_code == 0, out.output
    assert "findings.jsonl: 1 record(s) held it" in out.output
    assert "0 of 2 bundle(s) hold it" in out.output and "holds it —" not in out.output

    out = cli(repo, "forget", "--which", "--type", "TR_NATIONAL_ID", "--value", NEVER, "--registry", registry)
    assert "found in none of" in out.output and "0 of 2 bundle(s) hold it" in out.output
    assert NEVER not in out.output
    assert not (registry / NAME / ERASURES_LOG).exists()  # --which records nothing


def test_forget_which_refuses_to_compare_fingerprints_across_keys(v1, tmp_path, signing, cli, monkeypatch):
    repo, result = v1
    registry = tmp_path / "registry"
    release_bundle(result.bundle, registry, signing[1], holdings_dir=repo / ".mahrem/holdings",
                   erasure_file=tmp_path / "none.yaml")
    monkeypatch.setenv("MAHREM_PSEUDONYM_KEY", OTHER_KEY_HEX)
    out = cli(repo, "forget", "--which", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--registry", registry)
    assert out.exit_code == 1
    assert f"were made under pseudonym key {KEY.key_id}, not the current" in out.output
    assert "holds it —" not in out.output
    other = PseudonymKey(OTHER_KEY_HEX.encode())
    with pytest.raises(HoldingsKeyMismatch, match="Nothing was marked"):
        mark_erasure({fp(E.TR_NATIONAL_ID, TCKN, other)}, other.key_id, "DSR-9", [registry], repo / ".mahrem/holdings")
    assert not (registry / NAME / ERASURES_LOG).exists()


def test_which_bundles_says_when_a_bundle_has_no_holdings(v1, tmp_path, signing):
    repo, result = v1
    registry = tmp_path / "registry"
    release_bundle(result.bundle, registry, signing[1], holdings_dir=tmp_path / "empty", erasure_file=tmp_path / "x")
    [hit] = which_bundles({fp(E.TR_NATIONAL_ID, TCKN)}, KEY.key_id, [registry], [], tmp_path / "empty")
    assert not hit.held and "no holdings record" in hit.problem and not hit.key_mismatch


# --- erasure marks -----------------------------------------------------------------------------


def test_recording_an_erasure_marks_the_release_and_a_later_release_without_it_settles_it(v1, v2, tmp_path, signing,
                                                                                          cli):
    repo1, first = v1
    repo2, second = v2
    holdings1, holdings2 = repo1 / ".mahrem/holdings", repo2 / ".mahrem/holdings"
    assert fp(E.TR_NATIONAL_ID, TCKN) not in load_holdings(second.holdings).fingerprints
    registry, erasure = tmp_path / "registry", tmp_path / "erasure.yaml"
    v1_target = release_bundle(first.bundle, registry, signing[1], holdings_dir=holdings1, erasure_file=erasure)
    assert erasure_warnings(v1_target, holdings_dir=None) == []

    # Recording needs a reference to mark releases; nothing is recorded without one.
    out = cli(repo1, "forget", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--registry", registry,
              "--erasure", erasure)
    assert out.exit_code == 1 and "--reference" in out.output and not erasure.exists()

    out = cli(repo1, "forget", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--reference", "DSR-2041",
              "--registry", registry, "--erasure", erasure)
    assert out.exit_code == 0, out.output
    assert "1 of 1 released version(s) marked" in out.output
    marks = [json.loads(line) for line in (registry / NAME / ERASURES_LOG).read_text().splitlines()]
    assert len(marks) == 1 and marks[0]["event"] == "affected" and marks[0]["version"] == "0.1.0"
    assert marks[0]["reference"] == "DSR-2041" and marks[0]["key_id"] == KEY.key_id
    assert set(marks[0]) == {"event", "version", "reference", "date", "key_id"}
    [warning] = erasure_warnings(v1_target, holdings_dir=None)
    assert "0.1.0 holds data that erasure request DSR-2041" in warning and "no later version" in warning
    # Recording it again adds nothing.
    cli(repo1, "forget", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--reference", "DSR-2041", "--registry",
        registry, "--erasure", erasure)
    assert len(read_marks(registry / NAME)) == 1

    # 0.2.0 does not hold it: releasing it says so and settles the request.
    out = cli(repo2, "release", second.bundle, "--to", registry, "--public-key", signing[1], "--erasure", erasure)
    assert out.exit_code == 0, out.output
    assert "0.2.0 does not hold the data of erasure request DSR-2041" in out.output
    assert "Earlier version(s) 0.1.0 still hold it" in out.output
    v2_target = registry / NAME / "0.2.0"
    assert [(m.event, m.version) for m in read_marks(registry / NAME)] == [("affected", "0.1.0"), ("cleared", "0.2.0")]
    assert open_references(read_marks(registry / NAME)) == {}
    assert erasure_warnings(v2_target, holdings_dir=holdings2, erasure_file=erasure) == []
    [warning] = erasure_warnings(v1_target, holdings_dir=None)
    assert "version 0.2.0 does not hold it: use that one and withdraw 0.1.0" in warning
    # The controller's own check finds the same in the local bundle (no registry needed).
    [local] = erasure_warnings(first.bundle, holdings_dir=holdings1, erasure_file=erasure)
    assert "holds data that erasure request DSR-2041" in local
    assert erasure_warnings(second.bundle, holdings_dir=holdings2, erasure_file=erasure) == []

    _no_value_in(registry, fingerprints=True)
    _no_value_in(tmp_path, fingerprints=False)  # the erasure list holds fingerprints, never values
    _no_value_in(holdings1, fingerprints=False)
    _no_value_in(holdings2, fingerprints=False)
    assert TCKN not in out.output


def test_releasing_a_version_that_still_holds_an_erased_value_marks_it(v1, tmp_path, signing, cli):
    repo, result = v1
    registry, erasure = tmp_path / "registry", tmp_path / "erasure.yaml"
    out = cli(repo, "forget", "--type", "EMAIL_ADDRESS", "--value", UNSEEN_MAIL, "--reference", "DSR-7",
              "--erasure", erasure)
    assert out.exit_code == 0, out.output
    out = cli(repo, "release", result.bundle, "--to", registry, "--public-key", signing[1], "--erasure", erasure)
    assert out.exit_code == 0, out.output
    assert "0.1.0 holds data that erasure request DSR-7 asks to erase" in " ".join(out.output.split())
    assert [(m.event, m.version, m.reference) for m in read_marks(registry / NAME)] == [("affected", "0.1.0", "DSR-7")]
    assert release_notes(registry / NAME / "0.1.0")
    assert erasure_warnings(registry / NAME / "0.1.0", holdings_dir=None)


def test_a_release_without_holdings_while_a_request_is_open_is_unchecked(v1, v2, tmp_path, signing):
    repo1, first = v1
    registry = tmp_path / "registry"
    release_bundle(first.bundle, registry, signing[1], holdings_dir=repo1 / ".mahrem/holdings",
                   erasure_file=tmp_path / "none.yaml")
    mark_erasure({fp(E.TR_NATIONAL_ID, TCKN)}, KEY.key_id, "DSR-1", [registry], repo1 / ".mahrem/holdings")
    target = release_bundle(v2[1].bundle, registry, signing[1], holdings_dir=tmp_path / "nowhere",
                            erasure_file=tmp_path / "none.yaml")
    assert [(m.event, m.version) for m in read_marks(registry / NAME)] == [("affected", "0.1.0"), ("unchecked", "0.2.0")]
    assert "DSR-1" in open_references(read_marks(registry / NAME))  # still open: nobody could tell
    [warning] = erasure_warnings(target, holdings_dir=None)
    assert "whether it holds that person's data is unknown" in warning
    assert "unknown" in release_notes(target)[0]


def test_registry_marks_hold_no_fingerprint_or_value_and_are_appended_only(v1, tmp_path, signing):
    repo, result = v1
    registry = tmp_path / "registry"
    release_bundle(result.bundle, registry, signing[1], holdings_dir=repo / ".mahrem/holdings",
                   erasure_file=tmp_path / "none.yaml")
    holdings = repo / ".mahrem/holdings"
    mark_erasure({fp(E.TR_NATIONAL_ID, TCKN)}, KEY.key_id, "A-1", [registry], holdings)
    before = (registry / NAME / ERASURES_LOG).read_text()
    mark_erasure({fp(E.EMAIL_ADDRESS, UNSEEN_MAIL)}, KEY.key_id, "A-2", [registry], holdings)
    after = (registry / NAME / ERASURES_LOG).read_text()
    assert after.startswith(before) and len(after.splitlines()) == 2
    _no_value_in(registry, fingerprints=True)
    assert sorted(os.listdir(registry / NAME)) == ["0.1.0", ERASURES_LOG, "releases.jsonl"]


def test_generate_and_serve_warn_about_a_release_marked_by_an_erasure(v1, tmp_path, signing, cli, tiny_model_dir):
    repo, first = v1
    registry, erasure = tmp_path / "registry", tmp_path / "erasure.yaml"
    target = release_bundle(first.bundle, registry, signing[1], holdings_dir=None, erasure_file=erasure)
    out = cli(repo, "forget", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--reference", "DSR-7", "--registry",
              registry, "--erasure", erasure)
    assert out.exit_code == 0, out.output

    from pipeline.release import serve

    [warning] = serve.erasure_warnings(target)  # what serve prints at start-up and lists in /v1/models
    assert "erasure request DSR-7" in warning
    out = cli(repo, "generate", "--adapter", f"support={target}", "--public-key", signing[1], "--base",
              tiny_model_dir, "--prompt", "Merhaba", "--max-new-tokens", "2", "--dtype", "float32")
    assert out.exit_code == 0, out.output
    assert "warning:" in out.output and "DSR-7" in out.output
    assert TCKN not in out.output


# --- review findings: several references, reference-less requests, broken logs, atomic release ------------


def test_a_value_recorded_again_under_another_reference_is_marked_and_then_cleared(v1, v2, tmp_path, signing, cli):
    repo1, first = v1
    repo2, second = v2
    registry, erasure = tmp_path / "registry", tmp_path / "erasure.yaml"
    release_bundle(first.bundle, registry, signing[1], holdings_dir=repo1 / ".mahrem/holdings", erasure_file=erasure)
    out = cli(repo1, "forget", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--erasure", erasure)  # no reference
    assert out.exit_code == 0, out.output
    out = cli(repo1, "forget", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--reference", "R2", "--registry",
              registry, "--erasure", erasure)
    assert out.exit_code == 0, out.output
    assert "0 new request(s)" in out.output and "reference R2 added to 1 of them" in out.output
    assert [(m.event, m.version, m.reference) for m in read_marks(registry / NAME)] == [("affected", "0.1.0", "R2")]
    from pipeline.anonymize.erasure import load_erasures

    [request] = load_erasures(erasure).erasures.requests
    assert request.all_references == ["R2"] and request.fingerprint == fp(E.TR_NATIONAL_ID, TCKN)
    out = cli(repo1, "forget", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--reference", "R3", "--registry",
              registry, "--erasure", erasure)
    assert out.exit_code == 0, out.output
    [request] = load_erasures(erasure).erasures.requests
    assert (request.reference, request.references) == ("R2", ["R3"])
    assert "references:" in erasure.read_text() and TCKN not in erasure.read_text()

    out = cli(repo2, "release", second.bundle, "--to", registry, "--public-key", signing[1], "--erasure", erasure)
    assert out.exit_code == 0, out.output
    assert [(m.event, m.version, m.reference) for m in read_marks(registry / NAME)] == [
        ("affected", "0.1.0", "R2"), ("affected", "0.1.0", "R3"), ("cleared", "0.2.0", "R2"), ("cleared", "0.2.0", "R3")]
    assert open_references(read_marks(registry / NAME)) == {}
    [w2, w3] = erasure_warnings(registry / NAME / "0.1.0", holdings_dir=None)
    assert "request R2" in w2 and "request R3" in w3
    assert all("version 0.2.0 does not hold it: use that one and withdraw 0.1.0" in w for w in (w2, w3))
    assert erasure_warnings(registry / NAME / "0.2.0", holdings_dir=None) == []


def test_release_warns_when_the_bundle_holds_a_value_of_a_request_without_reference(v1, tmp_path, signing, cli):
    repo, first = v1
    registry, erasure = tmp_path / "registry", tmp_path / "erasure.yaml"
    out = cli(repo, "forget", "--type", "EMAIL_ADDRESS", "--value", UNSEEN_MAIL, "--erasure", erasure)
    assert out.exit_code == 0, out.output
    out = cli(repo, "release", first.bundle, "--to", registry, "--public-key", signing[1], "--erasure", erasure)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "warning:" in text and "0.1.0 holds data that erasure request received" in text
    assert "(no reference)" in text and UNSEEN_MAIL not in text
    assert read_marks(registry / NAME) == []  # nothing to mark without a reference


def test_a_referenced_request_is_reported_once_by_release(v1, tmp_path, signing, cli):
    repo, first = v1
    registry, erasure = tmp_path / "registry", tmp_path / "erasure.yaml"
    cli(repo, "forget", "--type", "EMAIL_ADDRESS", "--value", UNSEEN_MAIL, "--reference", "DSR-8", "--erasure", erasure)
    out = cli(repo, "release", first.bundle, "--to", registry, "--public-key", signing[1], "--erasure", erasure)
    assert out.exit_code == 0, out.output
    assert " ".join(out.output.split()).count("erasure request DSR-8") == 1


def test_a_broken_erasure_log_refuses_the_release_with_nothing_published(v1, v2, tmp_path, signing, cli):
    from pipeline.io import InputError

    repo1, first = v1
    registry, erasure = tmp_path / "registry", tmp_path / "erasure.yaml"
    release_bundle(first.bundle, registry, signing[1], holdings_dir=repo1 / ".mahrem/holdings", erasure_file=erasure)
    releases = (registry / NAME / "releases.jsonl").read_bytes()
    (registry / NAME / ERASURES_LOG).write_text('{"event": "affected", "version": "0.1.0", "refer\n')
    with pytest.raises(InputError, match=rf"{ERASURES_LOG}:1: not valid JSON"):
        release_bundle(v2[1].bundle, registry, signing[1], holdings_dir=v2[0] / ".mahrem/holdings",
                       erasure_file=erasure)
    assert not (registry / NAME / "0.2.0").exists()
    assert (registry / NAME / "releases.jsonl").read_bytes() == releases
    assert sorted(p.name for p in (registry / NAME).iterdir()) == ["0.1.0", ERASURES_LOG, "releases.jsonl"]
    # A broken erasure list refuses it too, and a re-run after the repair publishes it.
    (registry / NAME / ERASURES_LOG).unlink()
    erasure.write_text("requests:\n- fingerprint: nope\n")
    out = cli(v2[0], "release", v2[1].bundle, "--to", registry, "--public-key", signing[1], "--erasure", erasure)
    assert out.exit_code == 1 and "error:" in out.output and not (registry / NAME / "0.2.0").exists()
    erasure.unlink()
    out = cli(v2[0], "release", v2[1].bundle, "--to", registry, "--public-key", signing[1], "--erasure", erasure)
    assert out.exit_code == 0, out.output
    lines = (registry / NAME / "releases.jsonl").read_bytes()
    assert lines.startswith(releases) and len(lines.splitlines()) == 2  # appended, never rewritten


@pytest.mark.parametrize("line", ['{"version": "0.1.0", "sco', "[1, 2]"])
def test_a_corrupt_registry_log_is_an_input_error_naming_the_line(v1, tmp_path, signing, cli, line):
    repo, first = v1
    registry = tmp_path / "registry"
    release_bundle(first.bundle, registry, signing[1], holdings_dir=repo / ".mahrem/holdings",
                   erasure_file=tmp_path / "none.yaml")
    releases = registry / NAME / "releases.jsonl"
    releases.write_text(releases.read_text() + line + "\n")
    out = cli(repo, "forget", "--which", "--type", "TR_NATIONAL_ID", "--value", NEVER, "--registry", registry)
    assert out.exit_code == 1, out.output
    assert "error:" in out.output and "releases.jsonl:2:" in out.output and "Repair or remove that line" in out.output
    releases.write_text(releases.read_text().splitlines()[0] + "\n")
    (registry / NAME / ERASURES_LOG).write_text(line + "\n")
    erasure = tmp_path / "erasure.yaml"
    out = cli(repo, "forget", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--reference", "DSR-3", "--registry",
              registry, "--erasure", erasure)
    assert out.exit_code == 1, out.output
    assert "error:" in out.output and f"{ERASURES_LOG}:1:" in out.output
    assert not erasure.exists()  # checked before anything was recorded
    assert TCKN not in out.output


def test_marking_an_erasure_marks_a_release_without_holdings_unchecked(v1, tmp_path, signing, cli):
    repo, first = v1
    registry, erasure = tmp_path / "registry", tmp_path / "erasure.yaml"
    target = release_bundle(first.bundle, registry, signing[1], holdings_dir=tmp_path / "empty",
                            erasure_file=erasure)
    out = cli(repo, "forget", "--type", "TR_NATIONAL_ID", "--value", TCKN, "--reference", "DSR-5", "--registry",
              registry, "--erasure", erasure, "--holdings", tmp_path / "empty")
    assert out.exit_code == 0, out.output
    assert [(m.event, m.version, m.reference) for m in read_marks(registry / NAME)] == [("unchecked", "0.1.0", "DSR-5")]
    mark_erasure({fp(E.TR_NATIONAL_ID, TCKN)}, KEY.key_id, "DSR-5", [registry], tmp_path / "empty")
    assert len(read_marks(registry / NAME)) == 1  # not marked twice
    [warning] = erasure_warnings(target, holdings_dir=None)
    assert "erasure request DSR-5" in warning and "whether it holds that person's data is unknown" in warning
    from pipeline.release import serve

    assert serve.erasure_warnings(target) == [warning]
