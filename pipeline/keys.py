"""Keys: the pseudonym key (HMAC for fingerprints and pseudonyms) and the signing key.

Both come from the environment — ``MAHREM_PSEUDONYM_KEY`` (the key itself, at least 16
characters) and ``MAHREM_SIGNING_KEY`` (a path to a PEM private key) — or, when absent,
from a development key created once under ``.mahrem/keys/`` (git- and DVC-ignored), with
a loud warning. A key never appears in any output; reports carry only :func:`key_id`, a
short digest that says *which* key was used without revealing it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PSEUDONYM_ENV = "MAHREM_PSEUDONYM_KEY"
SIGNING_ENV = "MAHREM_SIGNING_KEY"
DEV_KEY_DIR = Path(".mahrem/keys")
DEV_PSEUDONYM_FILE = "pseudonym.key"
MIN_KEY_CHARS = 16

log = logging.getLogger(__name__)


class KeyConfigError(Exception):
    """A key is set but unusable."""


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes = b""
    development: bool = False

    def __repr__(self) -> str:  # never print the secret, even by accident
        return f"PseudonymKey(id={self.key_id}, development={self.development})"

    @property
    def key_id(self) -> str:
        return key_id(self.secret)


def key_id(secret: bytes) -> str:
    """A public identifier of a key: its domain-separated SHA-256, first 16 hex chars."""
    return hashlib.sha256(b"mahrem-key-id\0" + secret).hexdigest()[:16]


def _warn_development(what: str, path: Path) -> None:
    message = (
        f"WARNING: using the DEVELOPMENT {what} at {path}. It is fine for trying Mahrem, "
        f"not for real data: set {PSEUDONYM_ENV if 'pseudonym' in what else SIGNING_ENV}."
    )
    if log.hasHandlers():  # an application that configured logging gets it there too; with none
        log.warning(message)  # configured, logging's last-resort handler would print it a second time
    try:
        from rich.console import Console

        Console(stderr=True).print(f"[bold yellow]{message}[/]", highlight=False)
    except Exception:  # pragma: no cover - rich is a dependency; never fail on a warning
        print(message)


def load_pseudonym_key(key_dir: Path | str = DEV_KEY_DIR, *, quiet: bool = False) -> PseudonymKey:
    """The pseudonym key from ``MAHREM_PSEUDONYM_KEY``, else the development key."""
    value = os.environ.get(PSEUDONYM_ENV)
    if value is not None:
        if len(value) < MIN_KEY_CHARS:
            raise KeyConfigError(
                f"{PSEUDONYM_ENV} is set but shorter than {MIN_KEY_CHARS} characters. "
                "Use a long random value, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`."
            )
        return PseudonymKey(value.encode("utf-8"), development=False)
    path = Path(key_dir) / DEV_PSEUDONYM_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    if not quiet:
        _warn_development("pseudonym key", path)
    return PseudonymKey(path.read_text().strip().encode("utf-8"), development=True)


# --- the signing key ------------------------------------------------------------------

DEV_SIGNING_PRIVATE_FILE = "signing.priv.pem"
DEV_SIGNING_PUBLIC_FILE = "signing.pub.pem"
# The curves model-signing accepts for its elliptic-key signer (Sigstore's protobuf specs).
SIGNING_CURVES = ("secp256r1", "secp384r1", "secp521r1")


@dataclass(frozen=True)
class SigningKey:
    """Where the private signing key lies, and its public half.

    The private key is never read into this object: model-signing's signer reads it from
    ``private_key_path`` itself, so the secret exists in one file only.
    """

    private_key_path: Path
    public_pem: bytes
    development: bool = False

    def __repr__(self) -> str:
        return f"SigningKey(id={self.key_id}, development={self.development})"

    @property
    def key_id(self) -> str:
        return signing_key_id(self.public_pem)


def signing_key_id(public_pem: bytes) -> str:
    """The id of a public signing key: SHA-256 (hex) of its SubjectPublicKeyInfo PEM.

    It is the same digest model-signing writes into a signature as the public-key hint,
    so a bundle's manifest, its model card and its ``model.sig`` can be cross-checked.
    The PEM is re-serialised first, so whitespace or comments in a key file do not matter.
    """
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_pem)
    canonical = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(canonical).hexdigest()


def _public_pem(private_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _load_private_pem(path: Path, origin: str):
    """Load and check an EC private key; errors name the file and never show its content."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if not path.is_file():
        raise KeyConfigError(f"{origin} {path}: no such file. Point {SIGNING_ENV} at a PEM private key file.")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except TypeError:
        raise KeyConfigError(
            f"{origin} {path}: the key is encrypted with a password, which Mahrem does not prompt for. "
            "Use an unencrypted PEM file readable only by the signing user (chmod 600)."
        ) from None
    except (ValueError, OSError):
        raise KeyConfigError(
            f"{origin} {path}: not a PEM private key. Create one with "
            "`openssl ecparam -name prime256v1 -genkey -noout -out signing.priv.pem`."
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name not in SIGNING_CURVES:
        raise KeyConfigError(
            f"{origin} {path}: not an elliptic-curve key on P-256, P-384 or P-521, which model-signing needs. "
            "Create one with `openssl ecparam -name prime256v1 -genkey -noout -out signing.priv.pem`."
        )
    return key


def _create_development_signing_key(private_path: Path, public_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # O_EXCL: two processes racing to create the key cannot overwrite each other's.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.write_bytes(_public_pem(key))


def load_signing_key(key_dir: Path | str = DEV_KEY_DIR, *, quiet: bool = False) -> SigningKey:
    """The signing key from ``MAHREM_SIGNING_KEY`` (a PEM path), else the development key.

    The development key pair is created once as ``signing.priv.pem`` (mode 0600) and
    ``signing.pub.pem`` under ``key_dir``; using it prints a loud warning, and the bundles
    it signs say so in their manifest and card.
    """
    value = os.environ.get(SIGNING_ENV)
    if value is not None:
        if not value.strip():
            raise KeyConfigError(f"{SIGNING_ENV} is set but empty. Set it to the path of a PEM private key, or unset it.")
        path = Path(value).expanduser()
        key = _load_private_pem(path, SIGNING_ENV)
        return SigningKey(path, _public_pem(key), development=False)
    private_path = Path(key_dir) / DEV_SIGNING_PRIVATE_FILE
    public_path = Path(key_dir) / DEV_SIGNING_PUBLIC_FILE
    if not private_path.exists():
        _create_development_signing_key(private_path, public_path)
    key = _load_private_pem(private_path, "development signing key")
    public_pem = _public_pem(key)
    if not public_path.exists() or public_path.read_bytes() != public_pem:
        public_path.write_bytes(public_pem)  # the public half is derived, never a secret
    if not quiet:
        _warn_development("signing key", private_path)
    return SigningKey(private_path, public_pem, development=True)


def development_public_key_path(key_dir: Path | str = DEV_KEY_DIR) -> Path:
    """Where the development key's public half lies (for `mahrem verify --public-key`)."""
    return Path(key_dir) / DEV_SIGNING_PUBLIC_FILE
