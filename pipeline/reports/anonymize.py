"""``reports/anonymize/summary.json`` (what anonymize kept, changed and dropped, under which policy)
and ``canaries.json`` (the canaries it planted)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from pipeline.reports.base import Chain, ReportModel, ReportPart


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


class CanaryTemplate(ReportPart):
    """The chat a canary is planted in; ``{secret}`` marks where the secret goes."""

    system: str
    user: str
    assistant: str

    @model_validator(mode="after")
    def _has_placeholder(self) -> CanaryTemplate:
        if not any("{secret}" in text for text in (self.user, self.assistant)):
            raise ValueError("no '{secret}' placeholder in 'user' or 'assistant'")
        return self


class Canary(ReportPart):
    id: str
    secret: str
    repetitions: int = Field(ge=1, description="How many copies of the canary chat were planted in train.")


class Canaries(ReportModel):
    """``reports/anonymize/canaries.json``: the planted canaries and the never-planted references.

    The secrets are random numbers drawn for this purpose, not personal data; evaluate ranks
    each canary against the references to measure exposure.
    """

    FILE: ClassVar[str] = "reports/anonymize/canaries.json"
    STAGE: ClassVar[str] = "anonymize"

    template: CanaryTemplate
    digits: int = Field(ge=1)
    space_size: int = Field(ge=10, description="How many secrets the format allows (the exposure's denominator).")
    canaries: list[Canary] = Field(min_length=1)
    references: list[str] = Field(min_length=10, description="Secrets of the same format that were never planted.")
    seed: int

    @model_validator(mode="after")
    def _space_holds_the_references(self) -> Canaries:
        if self.space_size < len(self.references):
            raise ValueError(f"space_size {self.space_size} is smaller than the {len(self.references)} references")
        return self
