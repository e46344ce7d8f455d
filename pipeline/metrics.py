"""Headline figures per stage: the ``metrics.json`` files `dvc metrics show` reads.

Each stage writes one full, nested report (``summary.json``, ``benchmarks.json``,
``leakage.json``) that other code reads — anonymize, signoff, the gate — and that holds
per-source, per-file, per-recognizer tables, histograms, settings and chain digests. Those
stay as they are (declared as plain DVC outputs). What DVC shows as *metrics* is this
module's flat ``metrics.json`` beside them: about twenty numbers per stage, the figures a
person compares between two runs (`dvc metrics diff`). Every figure here is derived from the
full report, never measured separately, so the two cannot disagree.

Every stage writes its own as its last step; ``python -m pipeline.metrics STAGE --dir DIR``
derives one again from reports that are already there.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.io import InputError, write_json

METRICS_FILE = "metrics.json"
# At most this many figures per stage: more and `dvc metrics show` is no longer readable.
MAX_FIGURES = 25

Metrics = dict[str, float | int | bool]


def _number(value: Any, digits: int = 6) -> float | int | bool | None:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    return None


def _clean(figures: Mapping[str, Any]) -> Metrics:
    """Numbers (and flags) only, missing or non-finite ones left out."""
    out: Metrics = {}
    for key, value in figures.items():
        number = _number(value)
        if number is not None:
            out[key] = number
    return out


def _get(data: Mapping[str, Any] | None, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


_SCAN_KEYS = (
    "lines", "records", "quarantined", "quarantine_ratio", "fields_scanned", "chars_scanned", "findings",
    "records_with_pii", "records_with_special", "records_without_pii", "wall_seconds",
)  # fmt: skip
_ANONYMIZE_KEYS = (
    "lines", "records", "quarantined", "kept", "transformed", "dropped", "accounted", "special_category_records",
    "train", "holdout", "canaries", "canary_records", "residual_blocked_findings",
)  # fmt: skip


def scan_metrics(summary: Mapping[str, Any]) -> Metrics:
    """Headline figures of a scan ``summary.json``."""
    special = summary.get("special_categories") or {}
    return _clean(
        {
            **{key: summary.get(key) for key in _SCAN_KEYS},
            "files": len(summary.get("files") or {}),
            "sources": len(summary.get("by_source") or {}),
            "findings_special": sum(special.values()),
            "entity_types_found": len(summary.get("by_entity_type") or {}),
            "special_categories_found": len(special),
        }
    )


def anonymize_metrics(summary: Mapping[str, Any]) -> Metrics:
    """Headline figures of an anonymize ``summary.json``."""
    actions = summary.get("actions") or {}
    spans = {"keep": 0, "changed": 0}
    for by_action in actions.values():
        for action, n in by_action.items():
            spans["keep" if action == "keep" else "changed"] += n
    reasons = summary.get("dropped_by_reason") or {}
    return _clean(
        {
            **{key: summary.get(key) for key in _ANONYMIZE_KEYS},
            "dropped_special_category": sum(n for r, n in reasons.items() if r.startswith("special_category")),
            "dropped_duplicates": reasons.get("duplicate", 0) + reasons.get("near_duplicate", 0),
            "spans_changed": spans["changed"],
            "spans_kept": spans["keep"],
            "erasure_requests": _get(summary, "erasure.requests"),
            "erasure_records_dropped": _get(summary, "erasure.records_dropped"),
        }
    )


_TRAIN_KEYS = (
    "holdout_loss_base", "holdout_loss_adapter", "train_loss_final", "steps", "epochs", "records_train",
    "records_holdout", "seen_records", "seen_unseen", "truncated_records", "holdout_eval_records", "tokens_seen",
    "tokens_trained", "tokens_per_s", "wall_s", "peak_rss_mb", "peak_gpu_mb", "trainable_params", "trainable_share",
)  # fmt: skip


def adapter_bytes(adapter_dir: Path | str) -> int:
    """Bytes of the adapter a stage wrote: every regular file of its directory (weights and config),
    what a release bundle ships besides its card and signature."""
    return sum(p.stat().st_size for p in Path(adapter_dir).iterdir() if p.is_file() and not p.is_symlink())


def train_metrics(summary: Mapping[str, Any], *, adapter_dir: Path | str | None = None) -> Metrics:
    """Headline figures of a train ``summary.json`` (settings, versions and digests stay there).

    With ``adapter_dir`` (the adapter the stage wrote), ``adapter_bytes`` too: the one figure not in
    the summary, the size axis of a rank sweep (`mahrem sweep-report`).
    """
    figures: dict[str, Any] = {key: summary.get(key) for key in _TRAIN_KEYS}
    if adapter_dir is not None:
        figures["adapter_bytes"] = adapter_bytes(adapter_dir)
    return _clean(figures)


def evaluate_metrics(benchmarks: Mapping[str, Any], leakage: Mapping[str, Any]) -> Metrics:
    """Headline figures of ``benchmarks.json`` and ``leakage.json``: each benchmark base/adapter,
    the utility rows, and each leak probe's estimate with the bound the gate decides on."""
    figures: dict[str, Any] = {}
    for name, row in (benchmarks.get("tasks") or {}).items():
        short = name.removeprefix("mahrem_")
        figures[f"{short}_base"] = row.get("base")
        figures[f"{short}_adapter"] = row.get("adapter")
    figures.update(
        {
            "general_bpb_base": _get(benchmarks, "utility.general.base_bpb"),
            "general_bpb_increase": _get(benchmarks, "utility.general.difference"),
            "general_bpb_increase_upper": _get(benchmarks, "utility.general.increase.upper"),
            # bits per byte of the adapter on the anonymized holdout: the utility axis of a sweep
            "holdout_bpb_adapter": _get(benchmarks, "utility.domain.adapter_bpb"),
            "domain_bpb_gain": _get(benchmarks, "utility.domain.relative_gain"),
            "domain_bpb_gain_lower": _get(benchmarks, "utility.domain.gain.lower"),
            "canary_exposure_1x": _get(leakage, "canary.by_repetitions.1.adapter_exposure_mean"),
            "canary_exposure_1x_upper": _get(leakage, "canary.by_repetitions.1.exposure.upper"),
            "canary_exposure_max": max(
                (g.get("adapter_exposure_max", float("nan")) for g in (_get(leakage, "canary.by_repetitions") or {}).values()),
                default=None,
            ),
            "extraction_prompts": _get(leakage, "extraction.prompts"),
            "extraction_adapter_hits": _get(leakage, "extraction.adapter_hits"),
            "extraction_base_hits": _get(leakage, "extraction.base_hits"),
            "extraction_rate_upper": _get(leakage, "extraction.rate.upper"),
            "inference_adapter_top1": _get(leakage, "inference.adapter_top1"),
            "inference_base_top1": _get(leakage, "inference.base_top1"),
            "mia_auc": _get(leakage, f"membership.auc.{_get(leakage, 'membership.attack')}"),
            "mia_tpr_at_fpr": _get(leakage, "membership.tpr_at_fpr"),
            "mia_tpr_at_fpr_upper": _get(leakage, "membership.tpr.upper"),
        }
    )
    return _clean(figures)


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: missing — run the stage that writes it first (`dvc repro`).") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc}) — run the stage that writes it again.") from None


def write_stage_metrics(stage: str, report_dir: Path, *, adapter_dir: Path | None = None) -> Path:
    """Derive ``metrics.json`` in ``report_dir`` from the stage's full reports there (train: and the
    size of ``adapter_dir``, when given)."""
    if stage == "scan":
        figures = scan_metrics(_read(report_dir / "summary.json"))
    elif stage == "anonymize":
        figures = anonymize_metrics(_read(report_dir / "summary.json"))
    elif stage == "train":
        if adapter_dir is not None and not Path(adapter_dir).is_dir():
            raise InputError(f"{adapter_dir}: no such directory (--adapter) — run the train stage first (`dvc repro train`).")
        figures = train_metrics(_read(report_dir / "summary.json"), adapter_dir=adapter_dir)
    elif stage == "evaluate":
        figures = evaluate_metrics(_read(report_dir / "benchmarks.json"), _read(report_dir / "leakage.json"))
    else:
        raise ValueError(f"unknown stage {stage!r}: one of scan, anonymize, train, evaluate")
    write_json(report_dir / METRICS_FILE, figures)
    return report_dir / METRICS_FILE


DEFAULT_DIRS = {
    "scan": Path("reports/scan"),
    "anonymize": Path("reports/anonymize"),
    "train": Path("reports/train"),
    "evaluate": Path("reports/eval"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.metrics", description="Write a stage's headline metrics.json (what `dvc metrics show` reads)."
    )
    parser.add_argument("stage", choices=sorted(DEFAULT_DIRS))
    parser.add_argument("--dir", type=Path, default=None, help="the stage's report directory (default: the dvc.yaml one)")
    parser.add_argument("--adapter", type=Path, default=None,
                        help="train only: the adapter directory whose size becomes adapter_bytes (e.g. models/adapter)")
    args = parser.parse_args(argv)
    if args.adapter is not None and args.stage != "train":
        parser.error("--adapter applies to the train stage only")
    try:
        path = write_stage_metrics(args.stage, args.dir or DEFAULT_DIRS[args.stage], adapter_dir=args.adapter)
    except InputError as exc:
        print(f"pipeline.metrics: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: {len(json.loads(path.read_text(encoding='utf-8')))} figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
