"""The signing key: from MAHREM_SIGNING_KEY, else a development key created once, 0600."""

from __future__ import annotations

import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pipeline.keys import KeyConfigError, load_pseudonym_key, load_signing_key, signing_key_id
from pipeline.release.signing import read_signature, sign_bundle


def write_private(path, key, password: bytes | None = None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return path


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch):
    monkeypatch.delenv("MAHREM_SIGNING_KEY", raising=False)


def test_development_key_pair_is_created_once_private_half_0600(tmp_path, capsys):
    key_dir = tmp_path / "keys"
    first = load_signing_key(key_dir)
    private, public = key_dir / "signing.priv.pem", key_dir / "signing.pub.pem"
    assert first.development and first.private_key_path == private
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert public.read_bytes() == first.public_pem
    assert "DEVELOPMENT signing key" in capsys.readouterr().err
    before = private.read_bytes()
    second = load_signing_key(key_dir, quiet=True)
    assert second.key_id == first.key_id and private.read_bytes() == before
    assert "DEVELOPMENT" not in capsys.readouterr().err


def test_key_id_is_the_sha256_of_the_public_key_and_never_shows_the_secret(tmp_path):
    key = load_signing_key(tmp_path, quiet=True)
    assert len(key.key_id) == 64 and key.key_id == signing_key_id(key.public_pem)
    assert "PRIVATE" not in repr(key) and key.key_id in repr(key)


def test_env_variable_names_the_pem_file_to_sign_with(tmp_path, monkeypatch):
    path = write_private(tmp_path / "prod.pem", ec.generate_private_key(ec.SECP256R1()))
    monkeypatch.setenv("MAHREM_SIGNING_KEY", str(path))
    key = load_signing_key(tmp_path / "devkeys")
    assert not key.development and key.private_key_path == path
    assert not (tmp_path / "devkeys").exists()  # no development key made, nothing copied


def test_key_id_is_the_public_key_hint_model_signing_writes(tmp_path):
    key = load_signing_key(tmp_path / "keys", quiet=True)
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"\x00\x01")
    sign_bundle(model, key)
    hint, files = read_signature(model / "model.sig")
    assert hint == key.key_id
    assert set(files) == {"weights.bin"}  # the signature leaves itself out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key at all\n", "not a PEM private key"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not a PEM private key"),
    ],
)
def test_bad_pem_is_a_clear_error_naming_the_file(tmp_path, monkeypatch, content, message):
    path = tmp_path / "bad.pem"
    path.write_bytes(content)
    monkeypatch.setenv("MAHREM_SIGNING_KEY", str(path))
    with pytest.raises(KeyConfigError) as caught:
        load_signing_key(tmp_path)
    assert message in str(caught.value) and str(path) in str(caught.value)
    assert "AAAA" not in str(caught.value)


def test_rsa_key_is_refused_because_model_signing_needs_an_ec_key(tmp_path, monkeypatch):
    path = write_private(tmp_path / "rsa.pem", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    monkeypatch.setenv("MAHREM_SIGNING_KEY", str(path))
    with pytest.raises(KeyConfigError, match="not an elliptic-curve key on P-256"):
        load_signing_key(tmp_path)


def test_encrypted_key_is_refused_with_advice(tmp_path, monkeypatch):
    path = write_private(tmp_path / "enc.pem", ec.generate_private_key(ec.SECP256R1()), password=b"secret-pass")
    monkeypatch.setenv("MAHREM_SIGNING_KEY", str(path))
    with pytest.raises(KeyConfigError, match="encrypted with a password"):
        load_signing_key(tmp_path)


def test_missing_key_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MAHREM_SIGNING_KEY", str(tmp_path / "nowhere.pem"))
    with pytest.raises(KeyConfigError, match="nowhere.pem: no such file"):
        load_signing_key(tmp_path)


def test_pseudonym_key_loading_is_unchanged(tmp_path, monkeypatch):
    monkeypatch.delenv("MAHREM_PSEUDONYM_KEY", raising=False)
    key = load_pseudonym_key(tmp_path, quiet=True)
    assert key.development and len(key.key_id) == 16
    assert stat.S_IMODE((tmp_path / "pseudonym.key").stat().st_mode) == 0o600


def test_a_queued_dvc_experiment_signs_with_its_projects_development_key(tmp_path, monkeypatch):
    """In <project>/.dvc/tmp/exps/…/ (a queued experiment's copy, without the git-ignored .mahrem/keys)
    the project's key pair is used; none is made in the copy, and none in a project that has none."""
    project = tmp_path / "project"
    workspace = project / ".dvc/tmp/exps/celery/tmpq1w2e3"
    (workspace / ".dvc").mkdir(parents=True)
    monkeypatch.chdir(workspace)
    with pytest.raises(KeyConfigError) as caught:
        load_signing_key(quiet=True)
    assert "export MAHREM_PSEUDONYM_KEY=<key> (and MAHREM_SIGNING_KEY=" in str(caught.value)
    assert not (project / ".mahrem").exists() and not (workspace / ".mahrem").exists()
    made = load_signing_key(project / ".mahrem/keys", quiet=True)
    used = load_signing_key(quiet=True)
    assert used.key_id == made.key_id and used.private_key_path == project / ".mahrem/keys/signing.priv.pem"
    assert not (workspace / ".mahrem").exists()
