"""Keys: the pseudonym key (HMAC for fingerprints and pseudonyms) and the signing key.

Both come from the environment — ``MAHREM_PSEUDONYM_KEY`` (the key itself: at least 16
random bytes written as hex or base64) and ``MAHREM_SIGNING_KEY`` (a path to a PEM private
key) — or, when absent, from a development key created once under ``.mahrem/keys/`` (git-
and DVC-ignored), with a loud warning. A key never appears in any output; reports carry
only :func:`key_id`, a short digest that says *which* key was used without revealing it.

The pseudonym key is the only thing between a fingerprint (or a pseudonym) and the value
behind it: anyone holding it can hash a guessed TCKN and look for it. A short or patterned
key ("x" * 32, a word) makes that a dictionary attack, so :func:`check_pseudonym_key`
refuses keys that are not hex/base64 of ≥ 16 bytes, hold a run of one character, or have
too few distinct bytes — the marks of a typed rather than generated key. It cannot prove
randomness; it catches the keys people type.

A DVC experiment that runs from the queue (queued with ``dvc exp run``, run by ``dvc queue
start`` or in the foreground) or in a temporary directory runs in a temporary copy of the project under
``.dvc/tmp/exps/``, which lacks the git-ignored ``.mahrem/keys``. A development key created
there would give that experiment pseudonyms and fingerprints no other run shares. So, with no
key in the environment, a process inside such a copy uses the development keys of the project
the experiment was queued from (the directory above ``.dvc/tmp/exps``, which is also what DVC
passes its stage commands as ``DVC_ROOT``), and refuses — never creates — when that project has
none: :func:`experiment_key_dir`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

PSEUDONYM_ENV = "MAHREM_PSEUDONYM_KEY"
SIGNING_ENV = "MAHREM_SIGNING_KEY"
DEV_KEY_DIR = Path(".mahrem/keys")
DEV_PSEUDONYM_FILE = "pseudonym.key"
MIN_KEY_BYTES = 16
# A generated key never repeats one character 8 times (p ≈ 1e-7 for 64 hex digits), and its
# bytes are mostly distinct; a typed key ("aaaa…", "abab…", "x" * 32) fails one of the two.
MAX_CHAR_RUN = 8
MAKE_KEY_HINT = 'python -c "import secrets; print(secrets.token_hex(32))"'
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2}")

log = logging.getLogger(__name__)
# Where DVC runs a queued or temporary-directory experiment: <project>/.dvc/tmp/exps/[celery|standalone/]tmpXXXX
# (dvc.repo.experiments.utils.EXEC_TMP_DIR under the repository's tmp_dir).
EXPERIMENT_TMP_PARTS = (".dvc", "tmp", "exps")
EXPORT_HINT = (
    f"export {PSEUDONYM_ENV}=<key> (and {SIGNING_ENV}=<path to the PEM private key>) in the shell that runs "
    "`dvc queue start` (or that runs the queue in the foreground with `dvc exp run`)"
)


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

        from rich.markup import escape

        Console(stderr=True).print(f"[bold yellow]{escape(message)}[/]", highlight=False, soft_wrap=True)
    except (ImportError, OSError, ValueError):
        # Never fail on a warning: rich missing, stderr closed or broken (OSError, or ValueError
        # "I/O operation on closed file"), a terminal that cannot encode the text
        # (UnicodeEncodeError). A bug in this code still raises.
        print(message)


def experiment_origin(path: Path | str) -> tuple[Path, Path] | None:
    """``(project, workspace)`` when ``path`` lies in a DVC experiment's temporary workspace, else None.

    ``project`` is the repository the experiment was queued from (the directory holding the
    ``.dvc/tmp/exps`` the workspace lies in); ``workspace`` is the temporary copy's root (the
    nearest directory at or above ``path`` under ``exps/`` that holds its own ``.dvc``).

    >>> experiment_origin("/home/a/proj/.dvc/tmp/exps/celery/tmpab12/.mahrem/keys")
    (PosixPath('/home/a/proj'), PosixPath('/home/a/proj/.dvc/tmp/exps/celery/tmpab12'))
    >>> experiment_origin("/home/a/proj/.mahrem/keys") is None
    True
    """
    parts = Path(os.path.abspath(path)).parts
    n = len(EXPERIMENT_TMP_PARTS)
    starts = [i for i in range(len(parts) - n) if parts[i : i + n] == EXPERIMENT_TMP_PARTS]
    if not starts:
        return None
    start = starts[-1]  # the innermost, should a project itself lie in another's experiment copy
    project = Path(*parts[:start])
    workspace = None
    for end in range(len(parts), start + n, -1):
        candidate = Path(*parts[:end])
        if (candidate / ".dvc").is_dir():
            workspace = candidate
            break
    if workspace is None:  # not (or no longer) on disk: DVC's layout, exps/[celery|standalone/]tmpXXXX
        below = parts[start + n :]
        depth = 2 if below and below[0] in {"celery", "standalone"} else 1
        workspace = Path(*parts[: start + n + depth])
    return project, workspace


def experiment_key_dir(key_dir: Path | str, needed: tuple[str, ...], what: str) -> Path:
    """The development key directory to use: ``key_dir``, or, inside a DVC experiment's temporary
    workspace, the same directory of the project the experiment was queued from.

    Inside a workspace it never creates a key: when the project lacks one of ``needed`` it
    raises :class:`KeyConfigError` saying to export the keys before running the queue.
    """
    located = experiment_origin(key_dir)
    if located is None:
        return Path(key_dir)
    project, workspace = located
    absolute = Path(os.path.abspath(key_dir))
    try:
        relative = absolute.relative_to(workspace)
    except ValueError:
        relative = DEV_KEY_DIR
    origin = project / relative
    missing = [name for name in needed if not (origin / name).is_file()]
    if missing:
        raise KeyConfigError(
            f"this process runs in a DVC experiment's temporary workspace ({workspace}), which lacks the "
            f"git-ignored {relative}, and the project the experiment was queued from has no development {what} "
            f"either ({origin / missing[0]} is missing). A key made here would give this experiment pseudonyms "
            f"and fingerprints no other run shares, so none is made: {EXPORT_HINT}, or run the pipeline once in "
            f"{project} (`dvc repro`) so that its development keys exist."
        )
    return origin


def _decode_key_text(text: str) -> bytes | None:
    """The bytes a key written as hex (preferred: ``secrets.token_hex``) or base64 stands for."""
    if len(text) % 2 == 0 and _HEX.fullmatch(text):
        return bytes.fromhex(text)
    if _BASE64.fullmatch(text):
        padded = text + "=" * (-len(text) % 4)
        try:
            if "-" in text or "_" in text:
                return base64.urlsafe_b64decode(padded)
            return base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError):
            return None
    return None


def check_pseudonym_key(text: str, origin: str) -> None:
    """Raise :class:`KeyConfigError` unless ``text`` looks like a generated key of ≥ 16 bytes.

    ``origin`` names where the key came from (the variable or the file), so the message
    says what to fix. Messages never quote the key, not even in part.
    """
    how = f"Make one with `{MAKE_KEY_HINT}`"
    if _HEX.fullmatch(text) and len(text) % 2:
        raise KeyConfigError(f"{origin}: the pseudonym key has an odd number of hex digits (a digit lost?). {how}.")
    decoded = _decode_key_text(text)
    if decoded is None:
        raise KeyConfigError(
            f"{origin}: the pseudonym key is not hex or base64. A key is at least {MIN_KEY_BYTES} random bytes "
            f"written as hex or base64. {how}."
        )
    if len(decoded) < MIN_KEY_BYTES:
        raise KeyConfigError(
            f"{origin}: the pseudonym key is {len(decoded)} bytes; at least {MIN_KEY_BYTES} random bytes are needed "
            f"({2 * MIN_KEY_BYTES} hex digits). {how}."
        )
    longest = max(len(m.group(0)) for m in re.finditer(r"(.)\1*", text))
    if longest >= MAX_CHAR_RUN:
        raise KeyConfigError(
            f"{origin}: the pseudonym key repeats one character {longest} times in a row, so it was not generated "
            f"at random. {how}."
        )
    distinct = len(set(decoded))
    steps = {(b - a) % 256 for a, b in zip(decoded, decoded[1:])}
    if distinct < len(decoded) // 2 or len(steps) == 1:
        raise KeyConfigError(
            f"{origin}: the pseudonym key has too little variety ({distinct} distinct bytes of {len(decoded)}"
            f"{', in a fixed sequence' if len(steps) == 1 else ''}), so it was not generated at random. {how}."
        )
    if not _HEX.fullmatch(text) and (text.lower() == text or text.upper() == text):
        # Random base64 mixes both cases (22 characters of one case: p ≈ 2e-5); one case
        # throughout is a word or phrase someone typed ("test-pseudonym-key-0123…").
        raise KeyConfigError(
            f"{origin}: the pseudonym key reads as base64 but uses one letter case only, which random base64 "
            f"almost never does (a typed word or phrase?). {how}."
        )


def load_pseudonym_key(key_dir: Path | str = DEV_KEY_DIR, *, quiet: bool = False) -> PseudonymKey:
    """The pseudonym key from ``MAHREM_PSEUDONYM_KEY``, else the development key.

    Both are checked by :func:`check_pseudonym_key`. The HMAC secret is the key *as written*
    (its UTF-8 text, surrounding whitespace removed), not the decoded bytes: that keeps every
    fingerprint, key id and erasure list made with an existing key valid. Inside a DVC
    experiment's temporary workspace the development key is the queuing project's
    (:func:`experiment_key_dir`).
    """
    value = os.environ.get(PSEUDONYM_ENV)
    if value is not None:
        value = value.strip()
        if not value:
            raise KeyConfigError(
                f"{PSEUDONYM_ENV} is set but empty. Set it to a key, e.g. from `{MAKE_KEY_HINT}`, or unset it "
                "to use the development key."
            )
        check_pseudonym_key(value, PSEUDONYM_ENV)
        return PseudonymKey(value.encode("utf-8"), development=False)
    path = experiment_key_dir(key_dir, (DEV_PSEUDONYM_FILE,), "pseudonym key") / DEV_PSEUDONYM_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    from pipeline.io import not_regular_reason

    reason = not_regular_reason(path)  # stat first: reading a FIFO planted there would block
    if reason is not None:
        raise KeyConfigError(f"development pseudonym key {path}: {reason}. Delete it to have a new key generated.")
    try:
        text = path.read_bytes().decode("ascii").strip()
    except OSError as exc:
        raise KeyConfigError(f"development pseudonym key {path}: cannot be read ({exc.strerror}).") from None
    except UnicodeDecodeError:
        text = ""  # not hex or base64 either; reported below without showing the bytes
    try:
        check_pseudonym_key(text, f"development pseudonym key {path}")
    except KeyConfigError as exc:
        raise KeyConfigError(
            f"{exc} Or delete {path} to have a new one generated (fingerprints made with the old key will no "
            "longer match)."
        ) from None
    if not quiet:
        _warn_development("pseudonym key", path)
    return PseudonymKey(text.encode("utf-8"), development=True)


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
    it signs say so in their manifest and card. Inside a DVC experiment's temporary workspace
    it is the queuing project's pair, never a new one (:func:`experiment_key_dir`).
    """
    value = os.environ.get(SIGNING_ENV)
    if value is not None:
        if not value.strip():
            raise KeyConfigError(f"{SIGNING_ENV} is set but empty. Set it to the path of a PEM private key, or unset it.")
        path = Path(value).expanduser()
        key = _load_private_pem(path, SIGNING_ENV)
        return SigningKey(path, _public_pem(key), development=False)
    key_dir = experiment_key_dir(key_dir, (DEV_SIGNING_PRIVATE_FILE,), "signing key")
    private_path = key_dir / DEV_SIGNING_PRIVATE_FILE
    public_path = key_dir / DEV_SIGNING_PUBLIC_FILE
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
