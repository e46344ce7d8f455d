"""``reports/scan/summary.json``: the scan's audit figures (counts, types, digests; never a value)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from pipeline.reports.base import Chain, ReportModel, ReportPart


class SourceTally(ReportPart):
    """One source of the catalog: its records and findings per entity type."""

    records: int
    records_with_pii: int
    findings: dict[str, int] = Field(description="Entity type (SPECIAL:<category> included) → findings.")


class ScannedFile(ReportPart):
    """One raw file read: its source, digest and line accounting (:class:`pipeline.io.ReadStats`)."""

    source: str | None
    sha256: str
    lines: int
    records: int
    quarantined: int
    quarantine_reasons: dict[str, int]
    bom: bool


class ScanConfigRecord(ReportPart):
    workers: int
    batch_size: int
    min_score: float


class ScanSummary(ReportModel):
    """The scan summary, written by :func:`pipeline.scan.stage.scan_files`."""

    FILE: ClassVar[str] = "reports/scan/summary.json"
    STAGE: ClassVar[str] = "scan"

    lines: int = Field(description="Physical input lines: records + quarantined.")
    records: int
    quarantined: int
    quarantine_ratio: float
    max_quarantine_ratio: float
    fields_scanned: int
    chars_scanned: int
    findings: int
    records_with_pii: int
    records_with_special: int
    records_without_pii: int
    by_entity_type: dict[str, int] = Field(description="Entity type → findings (special categories excluded).")
    special_categories: dict[str, int] = Field(description="Special category → findings.")
    special_records_by_category: dict[str, int] = Field(description="Special category → records with it.")
    by_source: dict[str, SourceTally] = Field(description="Source name (policies/sources.yaml) → its tally.")
    by_role: dict[str, int]
    by_recognizer: dict[str, int]
    score_histogram: dict[str, list[int]] = Field(description="Entity type → findings per score decile.")
    files: dict[str, ScannedFile] = Field(description="Raw file path → what was read from it.")
    quarantine_reasons: dict[str, int]
    config: ScanConfigRecord
    findings_sha256: str
    chain: Chain
    catalog_sha256: str | None
    policy_sha256: dict[str, str] = Field(description="Policy file → SHA-256.")
    pseudonym_key_id: str
    development_key: bool
    wall_seconds: float
    scanned_at: str
