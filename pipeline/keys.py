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
    log.warning(message)
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
