"""``mahrem merge``: fold a verified adapter into its base model, for runtimes without PEFT.

The bundle is verified (a private copy), the base is checked against the SHA-256 its
provenance records, loaded in ``dtype`` (``auto``: bf16 where this machine runs it natively,
else float32; pipeline/hardware.py), the adapter applied with
``PeftModel`` and merged with ``merge_and_unload``; the result is saved with its tokenizer
and a ``digest.json`` naming the bundle it came from and the SHA-256 of every file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import file_digest
from pipeline.io import atomic_dir, write_json
from pipeline.release.adapters import check_base, load_base, resolve_dtype, verified_copy

MERGE_DIGEST = "digest.json"


@dataclass(frozen=True)
class MergeResult:
    out_dir: Path
    bundle: str  # <name>-<version>
    files: dict[str, str]  # file -> SHA-256


def merge_bundle(
    bundle: Path, public_key: Path, out_dir: Path, base: Path = Path("models/base"), *, dtype: str = "auto"
) -> MergeResult:
    from peft import PeftModel

    dtype = resolve_dtype(dtype)
    with verified_copy(bundle, public_key) as (copy, statement):
        check_base(base, statement)
        model, tokenizer = load_base(base, dtype)
        merged = PeftModel.from_pretrained(model, copy).merge_and_unload()
        info = statement["predicate"]["mahrem_bundle"]
        subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    with atomic_dir(out_dir) as tmp:
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        files = {p.name: file_digest(p) for p in sorted(tmp.iterdir()) if p.is_file()}
        write_json(tmp / MERGE_DIGEST, {
            "bundle": f"{info['name']}-{info['version']}",
            "base_model": info["base_model"],
            "adapter_sha256": {k: v for k, v in subjects.items() if k.startswith("adapter_")},
            "dtype": dtype,
            "files": files,
        })
    return MergeResult(Path(out_dir), f"{info['name']}-{info['version']}", files)
