"""Resumable checkpoints: everything needed to continue a run bit for bit.

A checkpoint lives in ``work_dir/checkpoints/<run-digest>/step-NNNNNNNN/`` — outside
the stage's DVC outputs, which DVC deletes before it runs a stage. The run digest
covers the data files, the base model's files, the tokenizer, every parameter that
changes the result, the device kind, the thread count, the library versions and this
package's source, so a checkpoint is only ever resumed by the run that would have
written it (anything else gets a new digest and starts fresh).

Each checkpoint directory is built under a temporary name and renamed into place only
once complete (:func:`pipeline.io.atomic_dir`), so a ``kill -9`` mid-write leaves a
hidden ``.step-….tmp`` directory that is ignored (and swept), never a half checkpoint.

Contents: ``adapter.safetensors`` (the LoRA tensors), ``state.pt`` (optimizer,
scheduler, torch RNG states), ``progress.json`` (step, data position, token counters,
metric history, Python and NumPy RNG states).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.io import atomic_dir, write_json

_STEP_PREFIX = "step-"


def tree_digest(directory: Path) -> str:
    """SHA-256 over every file's relative path and bytes (the base model's identity)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def source_digest() -> str:
    """SHA-256 of this package's source: changed training code never resumes an old checkpoint."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_digest(material: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:32]


@dataclass
class Progress:
    """The loop's position and counters; JSON-serialisable."""

    step: int = 0
    micro_batch: int = 0  # global index into the concatenated epochs' micro-batches
    tokens_seen: int = 0
    tokens_nonpad: int = 0
    tokens_trained: int = 0
    train_seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Checkpoint:
    step: int
    path: Path
    progress: Progress
    trainable: dict[str, torch.Tensor]
    state: dict[str, Any]
    python_rng: Any
    numpy_rng: dict[str, Any]


def _numpy_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"kind": kind, "keys": keys.tolist(), "pos": pos, "has_gauss": has_gauss, "cached": cached}


def _set_numpy_state(state: dict[str, Any]) -> None:
    np.random.set_state(
        (state["kind"], np.array(state["keys"], dtype=np.uint32), state["pos"], state["has_gauss"], state["cached"])
    )


def _python_state() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _set_python_state(state: list[Any]) -> None:
    random.setstate((state[0], tuple(state[1]), state[2]))


def save_checkpoint(
    run_dir: Path,
    progress: Progress,
    trainable: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    digest: str,
) -> Path:
    """Write step ``progress.step`` atomically, then drop the older checkpoints of this run."""
    from safetensors.torch import save_file

    target = run_dir / f"{_STEP_PREFIX}{progress.step:08d}"
    state = {
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    with atomic_dir(target) as tmp:
        save_file(trainable, str(tmp / "adapter.safetensors"))
        torch.save(state, tmp / "state.pt")
        write_json(
            tmp / "progress.json",
            {
                "run_digest": digest,
                "progress": progress.to_json(),
                "python_rng": _python_state(),
                "numpy_rng": _numpy_state(),
            },
        )
    for old in run_dir.iterdir():
        if old != target and (old.name.startswith(_STEP_PREFIX) or old.name.startswith(f".{_STEP_PREFIX}")):
            shutil.rmtree(old, ignore_errors=True)
    return target


def latest_checkpoint(run_dir: Path, digest: str) -> Checkpoint | None:
    """The newest complete checkpoint of this run, or ``None``. Leftover temporaries are swept."""
    from safetensors.torch import load_file

    if not run_dir.is_dir():
        return None
    for leftover in run_dir.glob(f".{_STEP_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    candidates = sorted(
        (p for p in run_dir.glob(f"{_STEP_PREFIX}*") if p.is_dir() and (p / "progress.json").is_file()),
        reverse=True,
    )
    for path in candidates:
        meta = json.loads((path / "progress.json").read_text(encoding="utf-8"))
        if meta.get("run_digest") != digest:
            continue
        progress = Progress(**meta["progress"])
        state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
        return Checkpoint(
            step=progress.step,
            path=path,
            progress=progress,
            trainable=load_file(str(path / "adapter.safetensors")),
            state=state,
            python_rng=meta["python_rng"],
            numpy_rng=meta["numpy_rng"],
        )
    return None


def restore_rng(checkpoint: Checkpoint) -> None:
    """Put every random generator back where the interrupted run had it."""
    torch.set_rng_state(checkpoint.state["torch_rng"])
    if checkpoint.state["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(checkpoint.state["cuda_rng"])
    _set_python_state(checkpoint.python_rng)
    _set_numpy_state(checkpoint.numpy_rng)
