"""The scan stage: find personal data in raw JSONL, write findings and a value-free audit.

``scan_files`` streams every input file through :mod:`pipeline.io` (bad lines are
quarantined) and sends batches of records to the analyzer on an engine
(:mod:`pipeline.scan.engine`: this process, a pool of ``workers`` processes, or an actor
pool on Ray Data, each worker building its engines once). The results come back in input
order, so every engine writes the same bytes, atomically:

* ``findings.jsonl`` — one finding per detected span (DESIGN.md §3), no values;
* ``quarantine.jsonl`` — file, line, byte offset and reason of every bad line;
* ``summary.json`` — counts (DVC metrics);
* ``report.html`` — the audit page for a data-protection officer.

Memory stays bounded: the local pool holds at most ``2 × workers`` batches in flight, and
Ray Data applies its own back-pressure.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import entities as E
from pipeline.config import chain_record, file_digest
from pipeline.io import QuarantineEntry, ReadStats, atomic_write, dumps, write_json
from pipeline.keys import PseudonymKey
from pipeline.reports import check_report
from pipeline.reports.scan import ScanSummary
from pipeline.fingerprint import fingerprint
from pipeline.scan.engine import Batch, EngineConfig, open_engine

FINDINGS_FILE = "findings.jsonl"
QUARANTINE_FILE = "quarantine.jsonl"
SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"


class QuarantineLimitExceeded(Exception):
    """Too large a share of the input could not be read; the outputs say which lines."""


@dataclass(frozen=True)
class ScanConfig:
    workers: int = 1
    batch_size: int = 64
    min_score: float = 0.5
    max_quarantine_ratio: float = 0.05
    recognizer_dir: Path | None = Path("policies/recognizers")
    engine: str = "local"  # or "ray" (pipeline.scan.engine)
    address: str | None = None  # Ray only: an existing cluster; None starts a local instance


@dataclass(frozen=True)
class InputFile:
    path: Path
    source: str  # catalog source name (scan) or "" (audit: taken from each record)


@dataclass
class ScanResult:
    out_dir: Path
    lines: int = 0
    records: int = 0
    quarantined: int = 0
    findings: int = 0
    records_with_pii: int = 0
    records_with_special: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    worker_pids: set[int] = field(default_factory=set)  # the processes that ran detection


# Identifiers a customer may type across two messages ("TC'm 12345", "678901"): only types
# with a checksum, so that joining two unrelated numbers almost never makes a false one.
CROSS_TURN_TYPES = frozenset({E.TR_NATIONAL_ID, E.TR_TAX_ID, E.IBAN_CODE, E.CREDIT_CARD})
_CONTENT = re.compile(r"messages\[\d+\]\.content")


def _finding(key: PseudonymKey, rid: str, fname: str, start: int, end: int, d, value: str, recognizer: str) -> dict[str, Any]:
    return {
        "record_id": rid,
        "field": fname,
        "start": start,
        "end": end,
        "entity_type": d.entity_type,
        "score": d.score,
        "recognizer": recognizer,
        "fingerprint": fingerprint(key, d.entity_type, value),
    }


def detect_findings(analyzer, key: PseudonymKey, batch: Batch) -> list[list[dict[str, Any]]]:
    """Findings for each record of ``batch``. Values are used here and never returned.

    Besides each field on its own, the user turns of a conversation are read joined, so
    that an identifier split across two messages is found; each part becomes a finding in
    its own field (recognizer ``cross_turn/…``) with the fingerprint of the whole value.
    """
    flat = [(rid, item[0], item[1]) for rid, fields in batch for item in fields]
    detected = analyzer.analyze([text for _, _, text in flat])
    per_record: dict[str, list[dict[str, Any]]] = {rid: [] for rid, _ in batch}
    for (rid, fname, text), spans in zip(flat, detected):
        for d in sorted(spans, key=lambda s: (s.start, s.end, s.entity_type)):
            per_record[rid].append(_finding(key, rid, fname, d.start, d.end, d, text[d.start : d.end], d.recognizer))
    for rid, fields in batch:
        per_record[rid].extend(_cross_turn_findings(analyzer, key, rid, fields))
    return [per_record[rid] for rid, _ in batch]


def _may_continue(last: str, first: str) -> bool:
    return last.isalnum() and first.isalnum() and (last.isdigit() or first.isdigit())


def _cross_turn_findings(analyzer, key: PseudonymKey, rid: str, fields: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    turns = [(item[0], item[1]) for item in fields if len(item) > 2 and item[2] == "user" and _CONTENT.fullmatch(item[0])]
    # Only where a digit meets a letter or digit at the boundary of two user turns can one of
    # these identifiers continue across them; most records have none and cost nothing here.
    if len(turns) < 2 or not any(_may_continue(a.rstrip()[-1:], b.lstrip()[:1]) for (_, a), (_, b) in zip(turns, turns[1:])):
        return []
    joined, bounds, position = [], [], 0
    for fname, text in turns:
        core = text.strip()
        offset = text.index(core) if core else 0
        joined.append(core)
        bounds.append((position, position + len(core), fname, offset))
        position += len(core)
    whole = "".join(joined)
    found = []
    for d in analyzer.analyze([whole])[0]:
        if d.entity_type not in CROSS_TURN_TYPES:
            continue
        parts = [(lo, hi, fname, offset) for lo, hi, fname, offset in bounds if d.start < hi and lo < d.end]
        if len(parts) < 2:
            continue  # inside one turn: the per-field pass found it
        for lo, hi, fname, offset in parts:
            start, end = max(d.start, lo) - lo + offset, min(d.end, hi) - lo + offset
            found.append(_finding(key, rid, fname, start, end, d, whole[d.start : d.end], f"cross_turn/{d.recognizer}"))
    return found


# --- aggregation ------------------------------------------------------------------------


class _Tally:
    """Value-free counts for the summary and the report."""

    def __init__(self) -> None:
        self.by_type: Counter = Counter()
        self.by_source: dict[str, Counter] = defaultdict(Counter)
        self.by_role: Counter = Counter()
        self.records_by_source: Counter = Counter()
        self.records_with_pii = 0
        self.records_with_special = 0
        self.records_with_pii_by_source: Counter = Counter()
        self.special_records_by_category: Counter = Counter()
        self.scores: dict[str, list[int]] = defaultdict(lambda: [0] * 10)
        self.recognizers: Counter = Counter()
        self.fields = 0
        self.chars = 0

    def add(self, source: str, roles: dict[str, str | None], findings: list[dict[str, Any]]) -> None:
        self.records_by_source[source] += 1
        has_pii = any(not E.is_special(f["entity_type"]) for f in findings)
        special = {f["entity_type"] for f in findings if E.is_special(f["entity_type"])}
        self.records_with_pii += has_pii
        self.records_with_pii_by_source[source] += has_pii
        self.records_with_special += bool(special)
        for entity in special:
            self.special_records_by_category[entity.removeprefix(E.SPECIAL_PREFIX)] += 1
        for f in findings:
            entity = f["entity_type"]
            self.by_type[entity] += 1
            self.by_source[source][entity] += 1
            self.by_role[roles.get(f["field"]) or "text"] += 1
            self.recognizers[f["recognizer"]] += 1
            self.scores[entity][min(9, int(f["score"] * 10))] += 1


def scan_files(
    inputs: Sequence[InputFile],
    out_dir: Path,
    config: ScanConfig,
    key: PseudonymKey,
    *,
    catalog_digest: str | None = None,
    policy_digests: dict[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Scan ``inputs`` and write findings, quarantine, summary and report to ``out_dir``.

    ``progress(done_bytes, total_bytes)`` is called as records are scanned. Raises
    :class:`QuarantineLimitExceeded` *after* writing the outputs when the quarantined
    share of lines exceeds ``config.max_quarantine_ratio``.
    """
    from pipeline.metrics import METRICS_FILE, scan_metrics
    from pipeline.scan.report import render_scan_report

    started = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    total_bytes = sum(f.path.stat().st_size for f in inputs if f.path.is_file())
    tally = _Tally()
    stats_by_file: dict[str, ReadStats] = {}
    quarantine_sample: list[dict[str, Any]] = []
    done_bytes = 0
    recognizer_dir = str(config.recognizer_dir) if config.recognizer_dir and config.recognizer_dir.is_dir() else None

    engine_config = EngineConfig(
        name=config.engine,
        workers=config.workers,
        batch_size=config.batch_size,
        min_score=config.min_score,
        recognizer_dir=recognizer_dir,
        address=config.address,
    )
    accepted: set[str] = set()  # keyed ids: unique across all inputs (each reader checks its own file)
    with (
        atomic_write(out_dir / FINDINGS_FILE) as findings_out,
        atomic_write(out_dir / QUARANTINE_FILE) as quarantine_out,
        open_engine(engine_config, key) as engine,
    ):

        def on_quarantine(entry: QuarantineEntry) -> None:
            quarantine_out.write(dumps(entry.to_json()) + "\n")
            if len(quarantine_sample) < 200:
                quarantine_sample.append(entry.to_json())

        duplicates: dict[int, list[str]] = defaultdict(list)  # file index -> reasons, applied to its stats
        for unit in engine.scan([(item.path, item.source) for item in inputs]):
            item = inputs[unit.file_index]
            for kind, value in unit.events:
                if kind == "q":
                    on_quarantine(value)
                    continue
                meta, findings = unit.records[value], unit.findings[value]
                if meta.record_id in accepted:  # the same id in an earlier file
                    reason = "duplicate id (an earlier line has the same id)"
                    on_quarantine(QuarantineEntry(str(item.path), meta.line, meta.byte_offset, reason))
                    duplicates[unit.file_index].append(reason)
                    continue
                accepted.add(meta.record_id)
                for finding in findings:
                    findings_out.write(dumps(finding) + "\n")
                tally.add(meta.source, meta.roles, findings)
                tally.fields += meta.fields
                tally.chars += meta.chars
                done_bytes += meta.size
            if unit.stats is not None:
                stats = unit.stats
                for reason in duplicates.pop(unit.file_index, []):
                    stats.records -= 1
                    stats.quarantined += 1
                    stats.by_reason[reason.split(" (")[0]] += 1
                earlier = stats_by_file.setdefault(str(item.path), stats)
                if earlier is not stats:  # the same file named twice: its second reading adds to the first
                    earlier.lines += stats.lines
                    earlier.records += stats.records
                    earlier.quarantined += stats.quarantined
                    earlier.by_reason.update(stats.by_reason)
            if progress:
                progress(done_bytes, total_bytes)
        worker_pids = set(engine.worker_pids)

    lines = sum(s.lines for s in stats_by_file.values())
    records = sum(s.records for s in stats_by_file.values())
    quarantined = sum(s.quarantined for s in stats_by_file.values())
    ratio = quarantined / lines if lines else 0.0
    elapsed = time.monotonic() - started
    summary = {
        "lines": lines,
        "records": records,
        "quarantined": quarantined,
        "quarantine_ratio": round(ratio, 6),
        "max_quarantine_ratio": config.max_quarantine_ratio,
        "fields_scanned": tally.fields,
        "chars_scanned": tally.chars,
        "findings": sum(tally.by_type.values()),
        "records_with_pii": tally.records_with_pii,
        "records_with_special": tally.records_with_special,
        "records_without_pii": records - tally.records_with_pii,
        "by_entity_type": dict(sorted((k, v) for k, v in tally.by_type.items() if not E.is_special(k))),
        "special_categories": dict(
            sorted((k.removeprefix(E.SPECIAL_PREFIX), v) for k, v in tally.by_type.items() if E.is_special(k))
        ),
        "special_records_by_category": dict(sorted(tally.special_records_by_category.items())),
        "by_source": {
            source: {
                "records": tally.records_by_source[source],
                "records_with_pii": tally.records_with_pii_by_source[source],
                "findings": dict(sorted(tally.by_source[source].items())),
            }
            for source in sorted(tally.records_by_source)
        },
        "by_role": dict(sorted(tally.by_role.items())),
        "by_recognizer": dict(sorted(tally.recognizers.items())),
        "score_histogram": {k: v for k, v in sorted(tally.scores.items())},
        "files": {
            str(item.path): {
                "source": item.source or None,
                "sha256": file_digest(item.path),
                **{k: v for k, v in stats_by_file[str(item.path)].to_json().items() if k != "file"},
            }
            for item in inputs
            if str(item.path) in stats_by_file
        },
        "quarantine_reasons": dict(
            sorted(sum((s.by_reason for s in stats_by_file.values()), Counter()).items())
        ),
        "config": {
            "workers": config.workers,
            "batch_size": config.batch_size,
            "min_score": config.min_score,
        },
        # Binds this summary to the findings beside it: anonymize refuses findings whose raw
        # files or own bytes differ from what this scan recorded (a stale or killed scan).
        "findings_sha256": file_digest(out_dir / FINDINGS_FILE),
        "chain": chain_record([item.path for item in inputs], [out_dir / FINDINGS_FILE, out_dir / QUARANTINE_FILE]),
        "catalog_sha256": catalog_digest,
        "policy_sha256": policy_digests or {},
        "pseudonym_key_id": key.key_id,
        "development_key": key.development,
        "wall_seconds": round(elapsed, 2),
        "scanned_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
    }
    assert lines == records + quarantined  # every line is accounted for (io.ReadStats)
    # Through its model (pipeline.reports): the same document, plus its schema_version.
    summary = check_report(ScanSummary, summary, what="scan summary").to_json()
    write_json(out_dir / SUMMARY_FILE, summary)  # the full report, read by anonymize and signoff
    write_json(out_dir / METRICS_FILE, scan_metrics(summary))  # its headline figures: `dvc metrics show`
    with atomic_write(out_dir / REPORT_FILE) as handle:
        handle.write(render_scan_report(summary, quarantine_sample))
    result = ScanResult(
        out_dir=out_dir,
        lines=lines,
        records=records,
        quarantined=quarantined,
        findings=summary["findings"],
        records_with_pii=tally.records_with_pii,
        records_with_special=tally.records_with_special,
        summary=summary,
        worker_pids=worker_pids,
    )
    if ratio > config.max_quarantine_ratio:
        raise QuarantineLimitExceeded(
            f"{quarantined} of {lines} input lines ({ratio:.1%}) were quarantined, more than "
            f"max_quarantine_ratio {config.max_quarantine_ratio:.1%}. See {out_dir / QUARANTINE_FILE} "
            "for the file, line and reason of each; fix the export or raise max_quarantine_ratio in the policy file."
        )
    return result


def run_scan(
    paths: Sequence[Path],
    out: Path,
    params: Any,
    policy_file: Path,
    *,
    catalog_check: bool,
    on_skip: Callable[[Path, str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """The scan stage (``catalog_check=True``) or ``mahrem audit`` (any file), from params to outputs.

    ``params`` is the ``scan:`` block (:class:`pipeline.config.ScanParams`). With
    ``catalog_check`` every file must match a source with a legal basis for model training,
    checked for all files before any is read. Non-regular files found in a directory are
    passed to ``on_skip``; a non-regular file named directly is an error.
    """
    import os

    from pipeline.catalog import load_catalog
    from pipeline.io import InputError, discover_inputs, not_regular_reason
    from pipeline.keys import load_pseudonym_key
    from pipeline.policy import load_policy

    files = discover_inputs(list(paths), on_skip=on_skip)
    if not files:
        raise InputError(f"no JSONL input found in {', '.join(map(str, paths))}. Put raw *.jsonl files there.")
    catalog_digest = None
    if catalog_check:
        catalog = load_catalog()
        # Check every file before scanning any: a missing legal basis stops the run up front.
        inputs = [InputFile(p, catalog.require_training_basis(p)[0]) for p in files]
        catalog_digest = catalog.digest
    else:
        for p in files:
            reason = not_regular_reason(p)
            if reason is not None:
                raise InputError(f"{p}: {reason}.")
        inputs = [InputFile(p, "") for p in files]
    policy = load_policy(policy_file)
    config = ScanConfig(
        workers=params.workers or (os.cpu_count() or 1),
        batch_size=params.batch_size,
        min_score=params.min_score,
        max_quarantine_ratio=policy.policy.max_quarantine_ratio,
        recognizer_dir=Path(params.recognizers),
        engine=params.engine,
        address=params.ray_address,
    )
    return scan_files(
        inputs,
        out,
        config,
        load_pseudonym_key(),
        catalog_digest=catalog_digest,
        policy_digests={str(policy.path): policy.digest},
        progress=progress,
    )

