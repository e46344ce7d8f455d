"""The bundle's layout — exactly five files — and building one directory atomically."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pipeline.release.card import CARD_FILE
from pipeline.release.provenance import PROVENANCE_FILE
from pipeline.release.signing import SIGNATURE_FILE

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
# The statement's subjects: the payload a user loads, and the card that describes it.
SUBJECT_FILES = (ADAPTER_CONFIG, ADAPTER_WEIGHTS, CARD_FILE)
BUNDLE_FILES = frozenset((*SUBJECT_FILES, PROVENANCE_FILE, SIGNATURE_FILE))


@contextlib.contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Build ``final`` in a staging area beside it; move it into place only on success.

    Like :func:`pipeline.io.atomic_dir`, except that the directory being built already
    carries its final name: model-signing writes the directory's name into the signed
    statement, and it should read ``<name>-<version>``, not a temporary name. An existing
    ``final`` is replaced only once the new one is complete.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".staging", dir=final.parent))
    build = staging / final.name
    build.mkdir()
    try:
        yield build
        for item in build.rglob("*"):
            os.chmod(item, 0o755 if item.is_dir() else 0o644)
        os.chmod(build, 0o755)
        if final.exists():
            final.rename(staging / ".previous")
        build.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def bundle_listing(bundle: Path) -> list[str]:
    """Every entry of the bundle, files and directories, hidden ones included, as relative paths."""
    return sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*"))
