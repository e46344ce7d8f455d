"""Each narrowed ``except`` still turns bad input into a verdict, and lets a bug (a TypeError,
an AttributeError injected here) propagate instead of reporting it as bad input (#12 item 7)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from pipeline.keys import load_signing_key


@pytest.fixture
def signed(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A signed one-file bundle and the public key that verifies it."""
    from pipeline.release.signing import sign_bundle

    monkeypatch.delenv("MAHREM_SIGNING_KEY", raising=False)
    key = load_signing_key(tmp_path / "keys", quiet=True)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "weights.bin").write_bytes(b"\x00\x01")
    sign_bundle(bundle, key)
    return bundle, tmp_path / "keys" / "signing.pub.pem"


def _bug(*args, **kwargs):
    raise TypeError("a bug in our code or the library")


def _rewrite(signature: Path, edit) -> None:
    bundle = json.loads(signature.read_text(encoding="utf-8"))
    edit(bundle)
    signature.write_text(json.dumps(bundle), encoding="utf-8")


def _rewrite_payload(signature: Path, edit) -> None:
    def on_bundle(bundle):
        payload = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        edit(payload)
        bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()

    _rewrite(signature, on_bundle)


# --------------------------------------------------------------- signing.check_signature


def test_signature_verification_bug_propagates(signed, monkeypatch):
    from model_signing import verifying

    from pipeline.release.signing import check_signature

    assert check_signature(*signed).valid
    monkeypatch.setattr(verifying.Config, "verify", _bug)
    with pytest.raises(TypeError, match="a bug"):
        check_signature(*signed)


def test_what_model_signing_raises_is_still_a_verdict(signed, monkeypatch):
    from cryptography.exceptions import InvalidSignature
    from model_signing import verifying

    from pipeline.release.signing import check_signature

    for failure in (ValueError("Signature mismatch"), InvalidSignature(), KeyError("x"), IndexError(0), OSError(5)):
        def raising(self, model_path, signature_path, failure=failure):
            raise failure

        monkeypatch.setattr(verifying.Config, "verify", raising)
        check = check_signature(*signed)
        assert not check.valid and "the signature or its payload was altered" in check.problems[0]


# --------------------------------------------------------------- signing.read_signature


def test_reading_the_signature_bug_propagates(signed, monkeypatch):
    from pipeline.release import signing

    monkeypatch.setattr(signing.base64, "b64decode", _bug)
    with pytest.raises(TypeError, match="a bug"):
        signing.read_signature(signed[0] / "model.sig")


@pytest.mark.parametrize(
    "edit",
    [
        lambda b: b["verificationMaterial"]["publicKey"].__setitem__("hint", 5),  # used to crash: 5[:16]
        lambda b: b["verificationMaterial"].__setitem__("publicKey", None),
        lambda b: b.__setitem__("dsseEnvelope", []),
        lambda b: b["dsseEnvelope"].__setitem__("payload", 5),
        lambda b: b["dsseEnvelope"].__setitem__("payload", "not base64 ✗"),
        lambda b: b.clear(),
    ],
)
def test_a_wrongly_shaped_signature_is_unreadable_not_a_crash(signed, edit):
    from pipeline.release.signing import check_signature, read_signature

    _rewrite(signed[0] / "model.sig", edit)
    with pytest.raises(ValueError, match="not a readable model-signing signature"):
        read_signature(signed[0] / "model.sig")
    check = check_signature(*signed)
    assert not check.valid and "not a readable model-signing signature" in check.problems[0]


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: p["predicate"]["resources"][0].__setitem__("name", 5),  # used to crash sorting names
        lambda p: p["predicate"]["resources"][0].__setitem__("name", [1]),
        lambda p: p["predicate"]["resources"].append("weights.bin"),
        lambda p: p["predicate"].__setitem__("resources", 3),
        lambda p: p.__setitem__("predicate", []),
    ],
)
def test_a_wrongly_shaped_payload_is_unreadable_not_a_crash(signed, edit):
    from pipeline.release.signing import check_signature

    _rewrite_payload(signed[0] / "model.sig", edit)
    check = check_signature(*signed)
    assert not check.valid and "not a readable model-signing signature" in check.problems[0]


def test_a_changed_file_is_still_named(signed):
    from pipeline.release.signing import check_signature

    (signed[0] / "weights.bin").write_bytes(b"changed")
    check = check_signature(*signed)
    assert not check.valid
    assert check.problems == ["weights.bin: changed after signing (SHA-256 differs from the signed digest)"]


# --------------------------------------------------------------- signing.public_key_id


def test_public_key_bug_propagates(signed, monkeypatch):
    from pipeline.release import signing

    monkeypatch.setattr(signing, "signing_key_id", _bug)
    with pytest.raises(TypeError, match="a bug"):
        signing.public_key_id(signed[1])


def test_a_bad_public_key_is_still_a_signature_error(tmp_path):
    from pipeline.release.signing import SignatureError, public_key_id

    bad = tmp_path / "bad.pub.pem"
    bad.write_text("not a key\n")
    with pytest.raises(SignatureError, match="not a PEM public key"):
        public_key_id(bad)


# --------------------------------------------------------------- card.read_card_metadata


def _card(tmp_path: Path, metadata: str) -> Path:
    card = tmp_path / "README.md"
    card.write_text(f"---\n{metadata}\n---\n\n# card\n", encoding="utf-8")
    return card


def test_card_bug_outside_the_parse_propagates(tmp_path, monkeypatch):
    from huggingface_hub import ModelCardData

    from pipeline.release.card import read_card_metadata

    card = _card(tmp_path, "license: apache-2.0")
    assert read_card_metadata(card)["license"] == "apache-2.0"
    monkeypatch.setattr(ModelCardData, "to_dict", _bug)
    with pytest.raises(TypeError, match="a bug"):
        read_card_metadata(card)


def test_card_library_error_not_about_the_text_propagates(tmp_path, monkeypatch):
    import huggingface_hub

    from pipeline.release.card import read_card_metadata

    def broken(text):
        raise AttributeError("a bug in the library")

    monkeypatch.setattr(huggingface_hub, "ModelCard", broken)
    with pytest.raises(AttributeError, match="a bug"):
        read_card_metadata(_card(tmp_path, "license: apache-2.0"))


@pytest.mark.parametrize("metadata", ["tags: 5", "- a list", "a: ["])
def test_a_tampered_card_is_still_a_value_error(tmp_path, metadata):
    from pipeline.release.card import read_card_metadata

    with pytest.raises(ValueError, match="README.md: (metadata block does not parse|not a readable model card)"):
        read_card_metadata(_card(tmp_path, metadata))


# --------------------------------------------------------------- keys._warn_development


def test_development_key_warning_bug_propagates(tmp_path, monkeypatch):
    from rich.console import Console

    from pipeline import keys

    monkeypatch.setattr(Console, "print", _bug)
    with pytest.raises(TypeError, match="a bug"):
        keys._warn_development("signing key", tmp_path / "k.pem")


@pytest.mark.parametrize("failure", [BrokenPipeError(32, "Broken pipe"), ValueError("I/O operation on closed file")])
def test_development_key_warning_falls_back_to_print(tmp_path, monkeypatch, capsys, failure):
    from rich.console import Console

    from pipeline import keys

    def raising(*args, **kwargs):
        raise failure

    monkeypatch.setattr(Console, "print", raising)
    keys._warn_development("signing key", tmp_path / "k.pem")
    assert "WARNING: using the DEVELOPMENT signing key" in capsys.readouterr().out
