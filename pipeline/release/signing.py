"""Signing a bundle directory with OpenSSF model signing (``model-signing``), offline.

The signature ``model.sig`` is a Sigstore bundle holding a DSSE envelope, signed with an
elliptic-curve private key — no certificate, no transparency log, no network. Its payload
lists every file of the directory with its SHA-256. model-signing does not leave its own
signature file out by itself (its CLI adds ``--signature`` to the ignored paths), so we
do the same here: ``model.sig`` is ignored, along with the library's default git paths
(``.git/``, ``.gitattributes``, ``.github/``, ``.gitignore``). The official CLI therefore
accepts our bundles unchanged::

    model_signing verify key BUNDLE --signature BUNDLE/model.sig --public_key KEY.pub

:func:`check_signature` runs the library's verification and, when it fails, reads the
(unverified) signed payload to say *which* file changed and which key signed — the
verdict itself always comes from the library.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.keys import SigningKey, signing_key_id

SIGNATURE_FILE = "model.sig"


class SignatureError(Exception):
    """The public key given for verification is unusable."""


def _hashing_config():
    from model_signing import hashing

    return hashing.Config().set_ignored_paths(paths=[SIGNATURE_FILE], ignore_git_paths=True)


def sign_bundle(bundle: Path, key: SigningKey) -> Path:
    """Write ``bundle/model.sig`` over every other file of ``bundle``."""
    from model_signing import signing

    signature = bundle / SIGNATURE_FILE
    (
        signing.Config()
        .use_elliptic_key_signer(private_key=key.private_key_path)
        .set_hashing_config(_hashing_config())
        .sign(bundle, signature)
    )
    return signature


@dataclass
class SignatureCheck:
    valid: bool
    problems: list[str] = field(default_factory=list)
    signer_key_id: str | None = None  # the public-key hint inside model.sig (unverified)
    public_key_id: str | None = None  # the key verification used
    signed_files: dict[str, str] = field(default_factory=dict)  # name -> sha256, from the payload


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_MISSING = object()


def _member(node: Any, key: str, kind: type, default: Any = _MISSING) -> Any:
    """``node[key]`` of a parsed JSON object, checked to be a ``kind``; ``ValueError`` otherwise.

    Checking the shape of an untrusted file up front, instead of catching the TypeError or
    AttributeError that a wrong shape would raise, keeps a bug in this code visible.
    """
    if not isinstance(node, dict) or (default is _MISSING and key not in node):
        raise ValueError(f"no '{key}' object")
    value = node.get(key, default)
    if not isinstance(value, kind):
        raise ValueError(f"'{key}' is not a {kind.__name__}")
    return value


def read_signature(signature: Path) -> tuple[str | None, dict[str, str]]:
    """The signer's key hint and the signed file digests, read WITHOUT verifying anything.

    For diagnostics only: the payload says what the signer claims, which lets an error
    name the changed file. Raises ``ValueError`` if the file is not a model-signing bundle.
    """
    try:
        bundle = json.loads(signature.read_text(encoding="utf-8"))
        material = _member(bundle, "verificationMaterial", dict, {})
        hint = _member(material, "publicKey", dict, {}).get("hint") or None
        if hint is not None and not isinstance(hint, str):
            raise ValueError("'hint' is not a str")
        envelope = _member(bundle, "dsseEnvelope", dict)
        payload = json.loads(base64.b64decode(_member(envelope, "payload", str)))
        files: dict[str, str] = {}
        for resource in _member(_member(payload, "predicate", dict), "resources", list):
            if not isinstance(resource, dict):
                raise ValueError("a resource is not an object")
            if resource.get("algorithm") == "sha256":
                files[_member(resource, "name", str)] = _member(resource, "digest", object)
    except (OSError, RecursionError, ValueError):
        # Reading, decoding (UnicodeDecodeError, JSON, base64: ValueErrors), a hostile nesting
        # (RecursionError) and a wrong shape (_member's ValueError). Nothing else is about the file.
        raise ValueError(f"{signature.name} is not a readable model-signing signature") from None
    return hint, files


def public_key_id(public_key: Path) -> str:
    from cryptography.exceptions import UnsupportedAlgorithm

    from pipeline.io import not_regular_reason

    reason = not_regular_reason(public_key)  # stat, never open: a FIFO here must not block verify
    if reason is not None:
        raise SignatureError(f"{public_key}: {reason}. Pass the signer's public key file (*.pub.pem).")
    try:
        return signing_key_id(Path(public_key).read_bytes())
    except OSError as exc:
        raise SignatureError(f"{public_key}: cannot read the public key ({exc.strerror}).") from None
    except (ValueError, UnsupportedAlgorithm):  # what cryptography raises for data that is not a usable PEM key
        raise SignatureError(f"{public_key}: not a PEM public key. Pass the signer's *.pub.pem file.") from None


def _verification_failures() -> tuple[type[BaseException], ...]:
    """What model-signing raises when a signature does not verify — and nothing else.

    The library reports a mismatch as ``ValueError`` (pydantic's ``ValidationError`` for a
    malformed bundle is one too), a bad ECDSA signature as cryptography's
    ``InvalidSignature``, and reading a tampered bundle can end in ``KeyError``/``IndexError``
    (a missing field or signature) or ``OSError``. Anything else — a ``TypeError``, an
    ``AttributeError`` — is a bug, and must surface as one rather than be reported as an
    altered payload.
    """
    from cryptography.exceptions import InvalidSignature

    return (ValueError, KeyError, IndexError, OSError, InvalidSignature)


def check_signature(bundle: Path, public_key: Path) -> SignatureCheck:
    """Verify ``bundle/model.sig`` with ``public_key`` through model-signing."""
    from model_signing import verifying

    failures = _verification_failures()
    check = SignatureCheck(valid=False, public_key_id=public_key_id(public_key))
    signature = bundle / SIGNATURE_FILE
    if not signature.is_file():
        check.problems.append(f"{SIGNATURE_FILE}: missing — the bundle is not signed")
        return check
    try:
        check.signer_key_id, check.signed_files = read_signature(signature)
    except ValueError as exc:
        check.problems.append(f"{exc} (corrupted or replaced)")
        return check
    if check.signer_key_id and check.signer_key_id != check.public_key_id:
        check.problems.append(
            f"{SIGNATURE_FILE}: signed with another key (key id {check.signer_key_id[:16]}…), "
            f"not the given public key (key id {check.public_key_id[:16]}…)"
        )
        return check
    try:
        (
            verifying.Config()
            .use_elliptic_key_verifier(public_key=public_key)
            .set_hashing_config(_hashing_config())
            .verify(bundle, signature)
        )
    except failures as exc:
        check.problems.extend(_explain(bundle, check.signed_files) or [
            f"{SIGNATURE_FILE}: the signature does not verify with the given public key "
            f"({type(exc).__name__}); the signature or its payload was altered"
        ])
        return check
    check.valid = True
    return check


def _explain(bundle: Path, signed: dict[str, str]) -> list[str]:
    """Name the files that differ from the signed payload (changed, removed, added)."""
    actual = {
        p.relative_to(bundle).as_posix(): _sha256(p)
        for p in sorted(bundle.rglob("*"))
        if p.is_file() and p.name != SIGNATURE_FILE and not p.relative_to(bundle).as_posix().startswith(".git")
    }
    problems = []
    for name in sorted(set(signed) | set(actual)):
        if name not in actual:
            problems.append(f"{name}: removed after signing")
        elif name not in signed:
            problems.append(f"{name}: added after signing (not covered by the signature)")
        elif actual[name] != signed[name]:
            problems.append(f"{name}: changed after signing (SHA-256 differs from the signed digest)")
    return problems
