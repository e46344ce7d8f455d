"""One pydantic model per stage report (DESIGN.md §2): the writer, the readers and the tests share it.

==============================  ===========================================  =========
report                          model                                        stage
==============================  ===========================================  =========
reports/scan/summary.json       :class:`pipeline.reports.scan.ScanSummary`   scan
reports/anonymize/summary.json  :class:`~.anonymize.AnonymizeSummary`        anonymize
reports/anonymize/canaries.json :class:`~.anonymize.Canaries`                anonymize
reports/train/summary.json      :class:`~.train.TrainSummary`                train
reports/train/seen.json         :class:`~.train.SeenRecords`                 train
reports/eval/benchmarks.json    :class:`~.evaluate.Benchmarks`               evaluate
reports/eval/leakage.json       :class:`~.evaluate.Leakage`                  evaluate
==============================  ===========================================  =========

Each carries ``schema_version``. A writer validates its document through the model
(:func:`check_report`) and writes ``model_dump(mode="json")``; a reader calls
:func:`load_report`, which names the file, each offending key and the stage to re-run.
``python -m pipeline.reports`` (``make schemas``) writes each model's JSON Schema to
``docs/schemas/<name>.schema.json`` (:mod:`pipeline.reports.schemas`).

Each stage imports only its own module (``pipeline.reports.scan`` …), so that its DVC deps
name the models it writes and not the others': this package's ``__init__`` re-exports the
shared base only.
"""

from __future__ import annotations

from pipeline.reports.base import (
    SCHEMA_VERSION,
    Chain,
    MachineRecord,
    MeasuredStat,
    ReportError,
    ReportModel,
    ReportPart,
    check_report,
    describe_errors,
    error_location,
    load_report,
    rerun_hint,
)

__all__ = [
    "SCHEMA_VERSION", "Chain", "MachineRecord", "MeasuredStat", "ReportError", "ReportModel", "ReportPart",
    "check_report", "describe_errors", "error_location", "load_report", "rerun_hint",
]
