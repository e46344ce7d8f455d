"""An optional cache of the base model's scores, for repeated local runs of evaluate.

The base never changes between two evaluations of two adapters (or of one adapter after
a retrain), and half of every probe's forward passes score it. With
``evaluate.base_cache`` (or ``mahrem evaluate --base-cache DIR``) set, each base-side
score array is kept in ``DIR`` under a key that names everything the numbers depend on:

* the base's identity (``models/base/digest.json``'s tree digest);
* how it was built and run: quantization, compute dtype, device, torch threads and the
  torch version (thread count and kernels change the last bits of a float sum);
* the scorer and its parameters (batch size, padding id, scored range, Min-K share);
* the exact token ids (and masks) scored, so a changed data file is a different key.

A hit returns exactly the array a cold run computed on this configuration, so the
reports are the same with and without the cache; nothing in the DVC graph depends on it,
and it is off by default (DVC runs stay cold, as issue #13 asks). Entries hold scores
only, never text or token ids. A damaged entry is ignored and recomputed.

>>> import tempfile, numpy as np
>>> cache = BaseScoreCache(Path(tempfile.mkdtemp()), {"base": "abc", "dtype": "float32"})
>>> key = cache.key("sequence_nll", [[1, 2, 3], [4, 5]], batch_size=8)
>>> cache.load(key) is None
True
>>> cache.store(key, {"base_nll": np.array([1.5, 2.0])})
>>> cache.load(key)["base_nll"].tolist(), cache.hits, cache.misses
([1.5, 2.0], 1, 1)
>>> key == cache.key("sequence_nll", [[1, 2, 3], [4, 6]], batch_size=8)
False
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.io import atomic_write

log = logging.getLogger(__name__)

#: Bumped when a scorer's numbers change for the same inputs (a new scoring formula).
CACHE_VERSION = 1


class BaseScoreCache:
    """Score arrays of the base model, keyed by everything they depend on."""

    def __init__(self, directory: Path, identity: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.identity = {"cache_version": CACHE_VERSION, **identity}
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_model(cls, directory: Path, base_dir: Path, scoring: Any, threads: int) -> BaseScoreCache:
        """The cache for this base, as ``scoring`` (a ScoringModel) runs it with ``threads``."""
        import torch

        digest_file = Path(base_dir) / "digest.json"
        try:
            base = json.loads(digest_file.read_text(encoding="utf-8"))["tree_sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            # No recorded identity: hash the weights themselves (slower, still exact).
            from pipeline.train.checkpoint import tree_digest

            base = tree_digest(Path(base_dir))
        return cls(
            directory,
            {
                "base": base,
                "quantization": scoring.quantization,
                "compute_dtype": scoring.compute_dtype,
                "device": scoring.device,
                "threads": threads,
                "torch": torch.__version__,
            },
        )

    def key(
        self, scorer: str, sequences: Sequence[Sequence[int]], masks: Sequence[Sequence[bool]] | None = None, **params: Any
    ) -> str:
        """The entry name for ``scorer`` run with ``params`` on exactly these token ids."""
        digest = hashlib.sha256()
        digest.update(json.dumps({"identity": self.identity, "scorer": scorer, "params": params}, sort_keys=True).encode())
        for seq in sequences:
            digest.update(np.asarray(list(seq), dtype=np.int64).tobytes() + b"|")
        if masks is not None:
            digest.update(b"masks")
            for flags in masks:
                digest.update(bytes(int(bool(f)) for f in flags) + b"|")
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.npz"

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        """The arrays stored under ``key``, or None (a miss, or an unreadable entry)."""
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as entry:
                arrays = {name: entry[name] for name in entry.files}
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, zipfile.BadZipFile, EOFError):
            log.warning("base-score cache: %s is unreadable; recomputing it", path)
            self.misses += 1
            return None
        self.hits += 1
        return arrays

    def store(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Keep ``arrays`` under ``key`` (written atomically; a failure only costs the cache)."""
        path = self._path(key)
        buffer = io.BytesIO()
        np.savez(buffer, **{name: np.asarray(value) for name, value in arrays.items()})
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path, "wb") as handle:
                handle.write(buffer.getvalue())
        except OSError as exc:
            log.warning("base-score cache: cannot write %s (%s); continuing without it", path, exc.strerror or exc)

    def describe(self) -> str:
        return f"base-score cache {self.directory}: {self.hits} hits, {self.misses} misses"
