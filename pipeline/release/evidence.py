"""The evidence signoff weighs: every earlier stage's report, read against its contract.

Each report has a known writer (DESIGN.md §1). A missing file or key is an
:class:`EvidenceError` that names the file, the dotted key and the stage to re-run, so a
gate never passes — or fails — on a default that stands in for a number nobody measured.
Only the keys signoff actually reads are required; the rest of a report may change freely.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.catalog import SOURCES_FILE, LoadedCatalog, load_catalog
from pipeline.config import PARAMS_FILE, ConfigError, file_digest, policy_path
from pipeline.io import InputError


class EvidenceError(InputError):
    """A report signoff needs is missing, unreadable or lacks a key."""


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


# Which stage writes which report, and the keys signoff reads from it (dotted paths).
_CONTRACT: dict[str, tuple[str, tuple[str, ...]]] = {
    "scan_summary": (
        "scan",
        ("records", "quarantined", "quarantine_ratio", "by_entity_type", "special_categories", "by_source", "files"),
    ),
    "anonymize_summary": (
        "anonymize",
        (
            "records", "kept", "transformed", "dropped", "dropped_by_reason", "quarantined", "train", "holdout",
            "canary_records", "erasure.requests", "erasure.records_dropped", "erasure.sha256",
            "residual_blocked_findings", "policy", "policy_sha256", "pseudonym_key_id", "development_key",
        ),
    ),
    "residual": ("anonymize", ("blocked_findings", "by_entity_type")),
    "train_summary": (
        "train",
        (
            "steps", "epochs", "tokens_seen", "wall_s", "trainable_params", "total_params", "trainable_share",
            "quantization", "compute_dtype", "threads", "machine", "device", "seed", "holdout_loss_base",
            "holdout_loss_adapter", "train_loss_final", "versions",
        ),
    ),
    "benchmarks": (
        "evaluate",
        (
            "tasks", "quantization", "compute_dtype", "machine", "lm_eval_version", "utility.general.increase",
            "utility.general.base_bpb", "utility.general.adapter_bpb", "utility.general.documents",
            "utility.domain.gain", "utility.domain.base_bpb", "utility.domain.adapter_bpb", "utility.domain.documents",
        ),
    ),
    "leakage": (
        "evaluate",
        (
            "canary.references", "canary.by_repetitions", "extraction.prompts", "extraction.adapter_hits",
            "extraction.adapter_only_hits", "extraction.adapter_hits_by_type", "extraction.rate", "inference.trials",
            "inference.chance", "inference.base_top1", "inference.adapter_top1", "membership.auc",
            "membership.tpr", "membership.tpr_at_fpr", "membership.fpr", "membership.attack", "membership.members",
            "membership.nonmembers",
        ),
    ),
}
_TASK_KEYS = ("kind", "metric", "higher_is_better", "n", "base", "base_stderr", "adapter", "adapter_stderr")
_CANARY_KEYS = (
    "canaries", "seen", "unseen", "base_exposure_max", "adapter_exposure_mean", "adapter_exposure_max", "exposure",
)
_STAGE_OF_PATH = {"adapter": "train", "base": "base", "train_data": "anonymize", "holdout_data": "anonymize"}


def _rerun(stage: str) -> str:
    return f"written by the {stage} stage: run `dvc repro {stage}` (or `mahrem {stage}`)"


@dataclass(frozen=True)
class Report:
    """One JSON report and where it came from, with key access that explains failures."""

    path: Path
    stage: str
    data: dict[str, Any]

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


def read_report(path: Path, stage: str, required: tuple[str, ...] = ()) -> Report:
    if not path.is_file():
        raise EvidenceError(f"{path}: no such file ({_rerun(stage)}).")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvidenceError(f"{path}: not valid JSON ({type(exc).__name__}); {_rerun(stage)}.") from None
    if not isinstance(data, dict):
        raise EvidenceError(f"{path}: expected a JSON object at the top ({_rerun(stage)}).")
    report = Report(path, stage, data)
    for key in required:
        report.get(key)
    return report


@dataclass(frozen=True)
class Evidence:
    """Everything the gate and the manifest read, loaded and checked against the contracts."""

    paths: EvidencePaths
    scan: Report
    anonymize: Report
    residual: Report
    train: Report
    benchmarks: Report
    leakage: Report
    catalog: LoadedCatalog
    policy_file: Path
    policy_sha256: str
    erasure_sha256: str | None
    signing_development: bool | None = None

    def sources_used(self) -> list[str]:
        """The sources that fed this run: the scan summary's ``by_source`` keys."""
        by_source = self.scan.get("by_source")
        if not isinstance(by_source, dict):
            raise EvidenceError(f"{self.scan.path}: key 'by_source' is not an object ({_rerun('scan')}).")
        return sorted(by_source)

    def tasks(self) -> dict[str, Report]:
        """Each benchmark task as its own report view, so errors name ``tasks.<name>.<key>``."""
        tasks = self.benchmarks.get("tasks")
        if not isinstance(tasks, dict):
            raise EvidenceError(f"{self.benchmarks.path}: key 'tasks' is not an object ({_rerun('evaluate')}).")
        return {name: Report(self.benchmarks.path, "evaluate", {"tasks": {name: spec}}) for name, spec in tasks.items()}


def load_evidence(paths: EvidencePaths = EvidencePaths(), *, signing_development: bool | None = None) -> Evidence:
    """Read and check every report; the first missing file or key is an :class:`EvidenceError`."""
    reports = {
        name: read_report(getattr(paths, name), stage, required) for name, (stage, required) in _CONTRACT.items()
    }
    for name, spec in (reports["benchmarks"].get("tasks") or {}).items():
        if not isinstance(spec, dict):
            raise EvidenceError(f"{paths.benchmarks}: key 'tasks.{name}' is not an object ({_rerun('evaluate')}).")
        for key in _TASK_KEYS:
            reports["benchmarks"].get(f"tasks.{name}.{key}")
    by_repetitions = reports["leakage"].get("canary.by_repetitions")
    for reps in by_repetitions if isinstance(by_repetitions, dict) else ():
        for key in _CANARY_KEYS:
            reports["leakage"].get(f"canary.by_repetitions.{reps}.{key}")
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
