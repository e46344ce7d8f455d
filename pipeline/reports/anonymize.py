"""``reports/anonymize/summary.json``: what anonymize kept, changed and dropped, and under which policy."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag

from pipeline.reports.base import SCHEMA_VERSION, Chain, ReportModel, ReportPart


class ErasureRecord(ReportPart):
    """The erasure requests applied (``policies/erasure.yaml``)."""

    requests: int
    records_dropped: int
    sha256: str | None = Field(description="SHA-256 of the erasure file read; null when there was none.")


class LengthStats(ReportPart):
    """Characters per kept record."""

    mean: float
    p50: int
    p90: int
    max: int
    histogram: dict[str, int] = Field(description="Length bucket ('0-250', …, '8000+') → records.")


class NoLengths(ReportPart):
    """``length_chars`` when no record was kept."""

    records: Literal[0]


def _length_tag(value: Any) -> str:
    if isinstance(value, NoLengths) or (isinstance(value, dict) and set(value) == {"records"}):
        return "~none"
    return "~stats"


class AnonymizeSummary(ReportModel):
    """The anonymize summary, written by :func:`pipeline.anonymize.stage.anonymize_dataset`."""

    FILE: ClassVar[str] = "reports/anonymize/summary.json"
    STAGE: ClassVar[str] = "anonymize"

    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="Version of this layout.")
    lines: int
    records: int
    quarantined: int
    kept: int
    transformed: int
    dropped: int
    accounted: bool = Field(description="lines == kept + transformed + dropped + quarantined.")
    dropped_by_reason: dict[str, int]
    special_category_records: int
    actions: dict[str, dict[str, int]] = Field(description="Entity type → action → values it was applied to.")
    train: int = Field(description="Records in train.jsonl, canary copies excluded.")
    holdout: int
    canary_records: int = Field(description="Canary copies planted in train.jsonl.")
    canaries: int
    erasure: ErasureRecord
    residual_blocked_findings: int
    language_mix: dict[str, int]
    length_chars: Annotated[
        Annotated[LengthStats, Tag("~stats")] | Annotated[NoLengths, Tag("~none")], Discriminator(_length_tag)
    ]
    policy: str
    policy_sha256: str
    pseudonym_key_id: str
    development_key: bool
    anonymized_at: str
    chain: Chain
