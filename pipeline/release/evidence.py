"""The evidence signoff weighs: every earlier stage's report, read through its model.

Each report has a known writer (DESIGN.md §1) and one pydantic model in
:mod:`pipeline.reports` that the writer, this reader and the tests share. A report that is
missing, unreadable or does not match its model is an :class:`EvidenceError` that names the
file, every offending key and the stage to re-run, so a gate never passes — or fails — on a
default that stands in for a number nobody measured.

Readers use the typed model (``evidence.leakage.model.extraction.adapter_hits``);
:meth:`Report.get` and :meth:`Report.number` (dotted keys over the validated document)
remain for the gate rows that name a key in their messages.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from pipeline.catalog import SOURCES_FILE, LoadedCatalog, load_catalog
from pipeline.config import PARAMS_FILE, ConfigError, file_digest, policy_path
from pipeline.io import InputError
from pipeline.reports import ReportModel, load_report, rerun_hint
from pipeline.reports.anonymize import AnonymizeSummary
from pipeline.reports.evaluate import Benchmarks, BenchmarkTask, Leakage
from pipeline.reports.scan import ScanSummary
from pipeline.reports.train import TrainSummary


class EvidenceError(InputError):
    """A report signoff needs is missing, unreadable, or does not match its model."""


@dataclass(frozen=True)
class EvidencePaths:
    """Every file signoff reads; the defaults are the pipeline's own paths (repo-relative)."""

    scan_summary: Path = Path("reports/scan/summary.json")
    anonymize_summary: Path = Path("reports/anonymize/summary.json")
    residual: Path = Path("reports/anonymize/residual.json")
    train_summary: Path = Path("reports/train/summary.json")
    seen: Path = Path("reports/train/seen.json")
    benchmarks: Path = Path("reports/eval/benchmarks.json")
    leakage: Path = Path("reports/eval/leakage.json")
    leakage_details: Path = Path("reports/eval/leakage_details.json")
    findings: Path = Path("reports/scan/findings.jsonl")
    canaries: Path = Path("reports/anonymize/canaries.json")
    adapter: Path = Path("models/adapter")
    base: Path = Path("models/base")
    train_data: Path = Path("data/anonymized/train.jsonl")
    holdout_data: Path = Path("data/anonymized/holdout.jsonl")
    params: Path = PARAMS_FILE
    dvc_yaml: Path = Path("dvc.yaml")
    dvc_lock: Path = Path("dvc.lock")
    sources: Path = SOURCES_FILE
    erasure: Path = Path("policies/erasure.yaml")
    anonymization_policy: Path | None = None  # None: params.yaml's top-level `policy:`

    def policy_file(self) -> Path:
        return self.anonymization_policy if self.anonymization_policy is not None else policy_path(self.params)


# The reports signoff reads through their models: EvidencePaths field → model (its STAGE writes it).
_MODELS: dict[str, type[ReportModel]] = {
    "scan_summary": ScanSummary,
    "anonymize_summary": AnonymizeSummary,
    "train_summary": TrainSummary,
    "benchmarks": Benchmarks,
    "leakage": Leakage,
}
# residual.json has no report model yet (it is not one of pipeline/reports'): checked by key.
_RESIDUAL_KEYS = ("blocked_findings", "by_entity_type")
_STAGE_OF_PATH = {"adapter": "train", "base": "base", "train_data": "anonymize", "holdout_data": "anonymize"}

M = TypeVar("M", bound=BaseModel)


def _rerun(stage: str) -> str:
    return rerun_hint(stage)


@dataclass(frozen=True)
class Report(Generic[M]):
    """One validated report: its typed ``model``, where it came from, and its JSON document.

    ``data`` is the document as the model dumps it (what the writer wrote). ``get`` and
    ``number`` read it by dotted key and explain a missing or non-numeric one.
    """

    path: Path
    stage: str
    data: dict[str, Any]
    model: M | None = None

    @classmethod
    def of(cls, path: Path, stage: str, model: M) -> Report[M]:
        return cls(path, stage, model.model_dump(mode="json"), model)

    def get(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise EvidenceError(f"{self.path}: missing key '{dotted}' ({_rerun(self.stage)}).")
            node = node[part]
        return node

    def number(self, dotted: str, *, optional: bool = False) -> float | None:
        value = self.get(dotted)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise EvidenceError(
                f"{self.path}: key '{dotted}' is not a finite number ({_rerun(self.stage)})."
            )
        return value

    @property
    def sha256(self) -> str:
        return file_digest(self.path)


def read_model(model: type[M], path: Path, stage: str | None = None) -> Report[M]:
    """``path`` validated through ``model``; any mismatch is an :class:`EvidenceError` naming file, key and stage."""
    stage = stage or getattr(model, "STAGE", "") or "the"
    return Report.of(Path(path), stage, load_report(model, path, stage=stage, error=EvidenceError))


def read_report(path: Path, stage: str, required: tuple[str, ...] = ()) -> Report[Any]:
    """A JSON report that has no model (``residual.json``), with its ``required`` dotted keys checked."""
    if not path.is_file():
        raise EvidenceError(f"{path}: no such file ({_rerun(stage)}).")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvidenceError(f"{path}: not valid JSON ({type(exc).__name__}); {_rerun(stage)}.") from None
    if not isinstance(data, dict):
        raise EvidenceError(f"{path}: expected a JSON object at the top ({_rerun(stage)}).")
    report: Report[Any] = Report(path, stage, data)
    for key in required:
        report.get(key)
    return report


@dataclass(frozen=True)
class Evidence:
    """Everything the gate and the manifest read, each report validated through its model."""

    paths: EvidencePaths
    scan: Report[ScanSummary]
    anonymize: Report[AnonymizeSummary]
    residual: Report[Any]
    train: Report[TrainSummary]
    benchmarks: Report[Benchmarks]
    leakage: Report[Leakage]
    catalog: LoadedCatalog
    policy_file: Path
    policy_sha256: str
    erasure_sha256: str | None
    signing_development: bool | None = None

    def sources_used(self) -> list[str]:
        """The sources that fed this run: the scan summary's ``by_source`` keys."""
        return sorted(self.scan.model.by_source)

    def tasks(self) -> dict[str, Report[BenchmarkTask]]:
        """Each benchmark task as its own report view (``model`` the task), so errors name ``tasks.<name>.<key>``."""
        return {
            name: Report(self.benchmarks.path, "evaluate", {"tasks": {name: task.model_dump(mode="json")}}, task)
            for name, task in self.benchmarks.model.tasks.items()
        }


def load_evidence(paths: EvidencePaths = EvidencePaths(), *, signing_development: bool | None = None) -> Evidence:
    """Read every report through its model; the first that is missing or does not match is an :class:`EvidenceError`."""
    reports: dict[str, Report[Any]] = {}
    for name, model in _MODELS.items():  # in the order the stages run, residual.json beside its summary
        reports[name] = read_model(model, getattr(paths, name))
        if name == "anonymize_summary":
            reports["residual"] = read_report(paths.residual, "anonymize", _RESIDUAL_KEYS)
    for name, stage in _STAGE_OF_PATH.items():
        if not getattr(paths, name).exists():
            raise EvidenceError(f"{getattr(paths, name)}: not found ({_rerun(stage)}).")
    for path in (paths.params, paths.dvc_yaml, paths.sources):
        if not path.is_file():
            raise ConfigError(f"{path}: file not found. Signoff runs from the repository root, where it lies.")
    policy_file = paths.policy_file()
    if not policy_file.is_file():
        raise ConfigError(f"{policy_file}: the anonymization policy named in {paths.params} is missing.")
    return Evidence(
        paths=paths,
        scan=reports["scan_summary"],
        anonymize=reports["anonymize_summary"],
        residual=reports["residual"],
        train=reports["train_summary"],
        benchmarks=reports["benchmarks"],
        leakage=reports["leakage"],
        catalog=load_catalog(paths.sources),
        policy_file=policy_file,
        policy_sha256=file_digest(policy_file),
        erasure_sha256=file_digest(paths.erasure) if paths.erasure.is_file() else None,
        signing_development=signing_development,
    )
