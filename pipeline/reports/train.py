"""The train stage's reports: ``reports/train/summary.json`` and ``reports/train/seen.json``."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from pipeline.reports.base import Chain, MachineRecord, ReportModel, ReportPart

SEEN_SCHEMA_VERSION = 1
"""The layout version of ``seen.json`` (it carried one before the other reports did)."""


class TrainSummary(ReportModel):
    """The train summary, written by :func:`pipeline.train.recipe.train_adapter` (read by the gate: keep the names)."""

    FILE: ClassVar[str] = "reports/train/summary.json"
    STAGE: ClassVar[str] = "train"

    steps: int = Field(description="Optimizer steps run.")
    epochs: float
    tokens_seen: int
    tokens_nonpad: int
    tokens_trained: int = Field(description="Assistant (label) tokens trained on.")
    wall_s: float
    tokens_per_s: float | None
    peak_rss_mb: float
    peak_gpu_mb: float | None = Field(description="Null on CPU.")
    trainable_params: int
    total_params: int
    trainable_share: float
    quantization: str
    device: str
    seed: int
    holdout_loss_base: float
    holdout_loss_adapter: float
    train_loss_final: float | None
    records_train: int
    records_holdout: int
    truncated_records: int
    truncated_records_holdout: int
    records_without_labels: int
    holdout_eval_records: int
    holdout_tokens_scored: int
    seen_records: int = Field(description="Non-canary records trained on at least once (seen.json).")
    seen_unseen: int = Field(description="Non-canary records never trained on (seen.json).")
    resumed_from_step: int | None
    threads: int
    compute_dtype: str
    machine: MachineRecord
    versions: dict[str, str] = Field(description="Package → version (torch, transformers, peft, bitsandbytes).")
    chain: Chain


class CanarySightings(ReportPart):
    """One planted canary: its copies in ``train.jsonl`` and how often any copy was trained on."""

    model_config = ConfigDict(frozen=True)

    repetitions: int = Field(ge=0, description="Copies of the canary planted in train.jsonl.")
    sightings: int = Field(description="Times any copy was in a trained micro-batch (at most repetitions × epochs).")


class SeenRecords(ReportModel):
    """``reports/train/seen.json`` (layout: :mod:`pipeline.train.seen`), written by :func:`pipeline.train.seen.write_seen`."""

    FILE: ClassVar[str] = "reports/train/seen.json"
    STAGE: ClassVar[str] = "train"
    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = Field(SEEN_SCHEMA_VERSION, description="Version of this layout.")
    train_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the train.jsonl described.")
    records_in_file: int = Field(ge=0, description="Records in train.jsonl, canary copies included.")
    steps: int = Field(ge=0, description="Optimizer steps run.")
    micro_batches: int = Field(ge=0, description="Micro-batches trained (all epochs together).")
    epochs: float = Field(ge=0, description="micro_batches / micro-batches per epoch.")
    max_seq_len: int | None = Field(
        None, ge=1, description="Tokens of each record training saw (train.max_seq_len); later tokens never were."
    )
    records: dict[str, int] = Field(description="Every non-canary record id → times it was in a trained micro-batch.")
    without_labels: list[str] = Field(
        default_factory=list, description="Ids skipped for having no label token after truncation (never trained)."
    )
    canaries: dict[str, CanarySightings] = Field(
        default_factory=dict, description="Canary id (canary-r<repetitions>-<index>) → planted copies and sightings."
    )

    def members(self, min_sightings: int = 1) -> list[str]:
        """Non-canary record ids trained on at least ``min_sightings`` times, sorted."""
        return sorted(rid for rid, count in self.records.items() if count >= min_sightings)

    def unseen(self) -> list[str]:
        """Non-canary record ids never trained on (cut by ``max_steps``, or without labels), sorted."""
        return sorted(rid for rid, count in self.records.items() if count == 0)

    def max_sightings_per_copy(self) -> int:
        """The most times one record can have been trained on: once per started epoch."""
        return math.ceil(self.epochs)
