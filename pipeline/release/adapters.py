"""Loading released adapters safely: verify a private copy, check the base, then load.

A bundle is verified and then read by PEFT; if PEFT read the original directory, a file
swapped between the two steps would be loaded unverified. So the bundle is copied into a
private temporary directory, the *copy* is verified, and PEFT loads the copy. The base
model's files are checked against the SHA-256 the bundle's provenance records, so an
adapter is never applied to a base it was not trained on.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.config import ConfigError, file_digest
from pipeline.io import InputError
from pipeline.release.bundle import BUNDLE_FILES
from pipeline.release.provenance import PROVENANCE_FILE
from pipeline.release.registry import ReleaseRefused
from pipeline.release.verify import verify_bundle

DTYPES = ("bfloat16", "float16", "float32")


@contextlib.contextmanager
def verified_copy(bundle: Path, public_key: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Yield ``(copy, statement)``: a verified private copy of ``bundle`` and its provenance."""
    def refuse(result) -> ReleaseRefused:
        return ReleaseRefused(
            f"{bundle}: does not verify, so it is not loaded:\n" + "\n".join(f"  - {p}" for p in result.problems)
        )

    # The original first (an extra file makes it fail, though it would never be copied) …
    result = verify_bundle(Path(bundle), public_key)
    if not result.ok:
        raise refuse(result)
    with tempfile.TemporaryDirectory(prefix="mahrem-bundle-") as tmp:
        # Named as signoff names a bundle, so that a registry bundle (<name>/<version>) copies too.
        copy = Path(tmp) / f"{result.name}-{result.version}"
        copy.mkdir()
        for name in BUNDLE_FILES:
            shutil.copyfile(Path(bundle) / name, copy / name)
        # … then the copy, which is what gets loaded.
        result = verify_bundle(copy, public_key)
        if not result.ok:
            raise refuse(result)
        yield copy, json.loads((copy / PROVENANCE_FILE).read_text(encoding="utf-8"))


def check_base(base: Path, statement: dict[str, Any]) -> None:
    """Every base-model file the provenance names must be in ``base`` with the same SHA-256."""
    recorded = {
        Path(d["name"]).name: d["digest"]["sha256"]
        for d in statement["predicate"]["buildDefinition"]["resolvedDependencies"]
        if (d.get("annotations") or {}).get("role") == "base-model"
    }
    if not recorded:
        raise ReleaseRefused("the bundle's provenance names no base-model files; it cannot be matched to a base.")
    for name, digest in sorted(recorded.items()):
        path = Path(base) / name
        if not path.is_file():
            raise ReleaseRefused(f"{path}: the base model lacks {name}, which the adapter was trained with.")
        if file_digest(path) != digest:
            raise ReleaseRefused(
                f"{path}: differs from the base the adapter was trained on (SHA-256 mismatch with its provenance). "
                "Use the base model of that run (`mahrem base` with the same params)."
            )


def resolve_dtype(dtype: str) -> str:
    """``dtype`` itself, or for ``auto`` bfloat16 where this machine runs it natively, else float32."""
    from pipeline.hardware import choose_compute_dtype

    if dtype != "auto" and dtype not in DTYPES:
        raise ConfigError(f"--dtype {dtype!r}: use auto or one of {', '.join(DTYPES)}.")
    import torch

    return choose_compute_dtype(dtype, "cuda" if torch.cuda.is_available() else "cpu").dtype


def load_base(base: Path, dtype: str):
    """The base model (in ``dtype``, already resolved) and its tokenizer, from a local directory only."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    if not (Path(base) / "config.json").is_file():
        # transformers would raise a bare ValueError/OSError from deep inside, which reads as a bug.
        raise InputError(f"--base {base}: no config.json — not a Hugging Face model directory. Build it with "
                         "`mahrem base` or pass the right --base.")
    model = AutoModelForCausalLM.from_pretrained(base, dtype=getattr(torch, dtype), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    return model.eval(), tokenizer
