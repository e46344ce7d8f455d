"""The pseudonym key: ≥ 16 random bytes as hex or base64, or it is refused with a way to make one."""

from __future__ import annotations

import base64
import secrets

import pytest

from pipeline.keys import (
    DEV_PSEUDONYM_FILE,
    MAKE_KEY_HINT,
    PSEUDONYM_ENV,
    KeyConfigError,
    check_pseudonym_key,
    load_pseudonym_key,
)

STRONG_HEX = "c7d1b0a8e2f94b3c8d6e1f2a3b4c5d6e7f8091a2b3c4d5e6f7081928a3b4c5d6"


@pytest.mark.parametrize(
    "key",
    [
        STRONG_HEX,
        STRONG_HEX[:32],  # exactly 16 bytes
        STRONG_HEX.upper(),
        base64.b64encode(bytes.fromhex(STRONG_HEX)).decode(),
        base64.urlsafe_b64encode(bytes.fromhex(STRONG_HEX)).decode().rstrip("="),
    ],
)
def test_generated_keys_in_hex_or_base64_are_accepted(key, monkeypatch, tmp_path):
    monkeypatch.setenv(PSEUDONYM_ENV, f"  {key}\n")  # surrounding whitespace (from `$(cat keyfile)`) is dropped
    loaded = load_pseudonym_key(tmp_path, quiet=True)
    assert loaded.secret == key.encode() and not loaded.development
    assert not (tmp_path / DEV_PSEUDONYM_FILE).exists()


def test_freshly_generated_keys_always_pass():
    for _ in range(2000):
        check_pseudonym_key(secrets.token_hex(16), "k")
        check_pseudonym_key(secrets.token_hex(32), "k")
        check_pseudonym_key(base64.b64encode(secrets.token_bytes(32)).decode(), "k")


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("x" * 32, "repeats one character 32 times"),  # a classic test fixture
        ("correct horse battery staple", "not hex or base64"),
        ("00" * 16, "repeats one character 32 times"),
        ("a" * 8 + secrets.token_hex(16), "repeats one character 8 times"),
        ("ab" * 16, "too little variety"),
        ("000102030405060708090a0b0c0d0e0f", "in a fixed sequence"),
        ("deadbeef" * 4, "too little variety"),
        (secrets.token_hex(15), "is 15 bytes; at least 16"),
        (secrets.token_hex(16)[:-1], "odd number of hex digits"),
        ("test-pseudonym-key-0123456789abcdef", "one letter case only"),  # typed, though it parses as base64url
        ("ünïcödé-ünïcödé-ünïcödé", "not hex or base64"),
    ],
)
def test_weak_keys_are_refused_naming_the_variable_and_how_to_make_one(key, why, monkeypatch, tmp_path):
    monkeypatch.setenv(PSEUDONYM_ENV, key)
    with pytest.raises(KeyConfigError) as caught:
        load_pseudonym_key(tmp_path, quiet=True)
    message = str(caught.value)
    assert message.startswith(f"{PSEUDONYM_ENV}: ") and why in message
    assert MAKE_KEY_HINT in message
    assert key not in message and key[:12] not in message  # never the key, not even in part


def test_an_empty_variable_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(PSEUDONYM_ENV, "  ")
    with pytest.raises(KeyConfigError, match="set but empty"):
        load_pseudonym_key(tmp_path, quiet=True)


def test_the_development_key_is_generated_strong_and_checked_when_read(monkeypatch, tmp_path):
    monkeypatch.delenv(PSEUDONYM_ENV, raising=False)
    key = load_pseudonym_key(tmp_path, quiet=True)
    check_pseudonym_key(key.secret.decode(), "dev")
    assert load_pseudonym_key(tmp_path, quiet=True).secret == key.secret  # created once, then reused
    (tmp_path / DEV_PSEUDONYM_FILE).write_text("password-password-password\n")  # someone edited it by hand
    with pytest.raises(KeyConfigError) as caught:
        load_pseudonym_key(tmp_path, quiet=True)
    message = str(caught.value)
    assert f"development pseudonym key {tmp_path / DEV_PSEUDONYM_FILE}" in message
    assert "delete" in message and MAKE_KEY_HINT in message
    (tmp_path / DEV_PSEUDONYM_FILE).write_bytes(b"\xff\xfe" * 20)
    with pytest.raises(KeyConfigError, match="not hex or base64"):
        load_pseudonym_key(tmp_path, quiet=True)


def test_a_weak_key_stops_a_command_with_one_clear_line(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(PSEUDONYM_ENV, "x" * 32)
    result = CliRunner().invoke(app, ["forget", "--type", "PERSON", "--value", "Ayşe", "--which"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"error: {PSEUDONYM_ENV}: the pseudonym key repeats one character 32 times" in result.output
    assert "secrets.token_hex(32)" in result.output and "x" * 32 not in result.output


# --- inside a DVC experiment's temporary workspace (dvc exp run --queue; tests/test_sweep.py runs the real one) ---


def _experiment_workspace(tmp_path, monkeypatch, layout=("celery", "tmpab12cd")):
    """A project and a temporary workspace laid out as DVC lays them out, the workspace the working directory."""
    project = tmp_path / "project"
    workspace = project.joinpath(".dvc", "tmp", "exps", *layout)
    (workspace / ".dvc").mkdir(parents=True)
    monkeypatch.chdir(workspace)
    monkeypatch.delenv(PSEUDONYM_ENV, raising=False)
    return project, workspace


@pytest.mark.parametrize("layout", [("tmpab12cd",), ("celery", "tmpab12cd"), ("standalone", "tmpab12cd")])
def test_a_queued_experiment_uses_the_development_key_of_its_project(layout, tmp_path, monkeypatch):
    from pipeline.keys import experiment_origin

    project, workspace = _experiment_workspace(tmp_path, monkeypatch, layout)
    assert experiment_origin(workspace / ".mahrem/keys") == (project, workspace)
    expected = load_pseudonym_key(project / ".mahrem/keys", quiet=True)
    loaded = load_pseudonym_key(quiet=True)  # the default, relative .mahrem/keys
    assert loaded.secret == expected.secret and loaded.development
    assert not (workspace / ".mahrem").exists()  # no key of its own was made in the copy


def test_a_queued_experiment_refuses_to_make_a_key_when_the_project_has_none(tmp_path, monkeypatch):
    project, workspace = _experiment_workspace(tmp_path, monkeypatch)
    with pytest.raises(KeyConfigError) as caught:
        load_pseudonym_key(quiet=True)
    message = str(caught.value)
    assert str(workspace) in message and str(project / ".mahrem/keys" / DEV_PSEUDONYM_FILE) in message
    assert f"export {PSEUDONYM_ENV}=<key>" in message and "dvc queue start" in message
    assert not (workspace / ".mahrem").exists() and not (project / ".mahrem").exists()


def test_in_an_experiment_the_environment_key_still_wins(tmp_path, monkeypatch):
    _experiment_workspace(tmp_path, monkeypatch)
    monkeypatch.setenv(PSEUDONYM_ENV, STRONG_HEX)
    loaded = load_pseudonym_key(quiet=True)
    assert loaded.secret == STRONG_HEX.encode() and not loaded.development


def test_a_project_outside_an_experiment_is_unchanged(tmp_path, monkeypatch):
    from pipeline.keys import experiment_origin

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(PSEUDONYM_ENV, raising=False)
    assert experiment_origin(tmp_path / ".mahrem/keys") is None
    assert load_pseudonym_key(quiet=True).development and (tmp_path / ".mahrem/keys" / DEV_PSEUDONYM_FILE).is_file()
