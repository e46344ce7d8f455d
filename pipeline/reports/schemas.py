"""Every report model by name, and their JSON Schemas (``docs/schemas/<name>.schema.json``).

``python -m pipeline.reports [DIR]`` (``make schemas``) calls :func:`write_schemas`;
tests/test_reports.py fails when a committed schema is not what its model generates.

>>> sorted(REPORTS)
['anonymize_summary', 'benchmarks', 'canaries', 'leakage', 'scan_summary', 'seen', 'train_summary']
>>> REPORTS["leakage"].FILE, REPORTS["leakage"].STAGE
('reports/eval/leakage.json', 'evaluate')
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.reports.anonymize import AnonymizeSummary, Canaries
from pipeline.reports.base import ReportModel
from pipeline.reports.evaluate import Benchmarks, Leakage
from pipeline.reports.scan import ScanSummary
from pipeline.reports.train import SeenRecords, TrainSummary

# Report name (also the schema file's stem) → model.
REPORTS: dict[str, type[ReportModel]] = {
    "scan_summary": ScanSummary,
    "anonymize_summary": AnonymizeSummary,
    "canaries": Canaries,
    "train_summary": TrainSummary,
    "seen": SeenRecords,
    "benchmarks": Benchmarks,
    "leakage": Leakage,
}

SCHEMA_DIR = Path("docs/schemas")


def schema_of(name: str) -> dict:
    """The JSON Schema (draft 2020-12) of one report as written, naming its file and stage."""
    model = REPORTS[name]
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["x-mahrem-file"] = model.FILE
    schema["x-mahrem-stage"] = model.STAGE
    return schema


def schema_text(name: str) -> str:
    """The exact text of ``docs/schemas/<name>.schema.json``."""
    return json.dumps(schema_of(name), indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: Path | str = SCHEMA_DIR) -> list[Path]:
    """Write ``<name>.schema.json`` for every report into ``directory``; return the paths written."""
    from pipeline.io import atomic_write

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in REPORTS:
        path = directory / f"{name}.schema.json"
        with atomic_write(path) as handle:
            handle.write(schema_text(name))
        written.append(path)
    return written
