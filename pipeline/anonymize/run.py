"""The anonymize stage from params to outputs: what `mahrem anonymize` runs.

The CLI parses options and prints; this module finds the inputs (each must have a legal
basis in the catalog), loads the policy, the key and the erasure list, builds the analyzer
for the residual re-scan and calls :func:`pipeline.anonymize.stage.anonymize_dataset`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from pathlib import Path
from typing import Any

from pipeline.io import InputError, discover_inputs, not_regular_reason


def anonymize_inputs(inputs: list[str], on_skip: Callable[[Path, str], None] | None = None) -> list[Any]:
    """One :class:`~pipeline.anonymize.stage.AnonymizeInput` per raw file, each checked against the catalog."""
    from pipeline.anonymize.stage import AnonymizeInput
    from pipeline.catalog import load_catalog
    from pipeline.text import tr_lower

    catalog = load_catalog()
    found = []
    for path in discover_inputs([Path(p) for p in inputs], on_skip=on_skip):
        name, source = catalog.require_training_basis(path)
        allow = frozenset(tr_lower(n) for n in source.controller.public_names)
        found.append(AnonymizeInput(path, name, source.special_categories.allowed, allow))
    if not found:
        raise InputError(f"no JSONL input found in {', '.join(inputs)}.")
    return found


def run_anonymize(
    scan_params: Any,
    policy_file: Path,
    findings: Path,
    data_out: Path,
    report_out: Path,
    erasure: Path,
    *,
    on_skip: Callable[[Path, str], None] | None = None,
    status: Callable[[str], AbstractContextManager] = lambda _message: nullcontext(),
):
    """Anonymize every raw file of ``scan_params.inputs``; returns the stage's result.

    ``status(message)`` wraps the two long steps (loading the analyzer, anonymizing) so a
    caller can show a spinner. Errors a user can fix are :class:`~pipeline.io.InputError`
    or :class:`~pipeline.config.ConfigError` naming the file or key.
    """
    from pipeline.anonymize.erasure import load_erasures
    from pipeline.anonymize.stage import anonymize_dataset
    from pipeline.keys import load_pseudonym_key
    from pipeline.policy import load_policy
    from pipeline.scan.engine import EngineConfig, open_engine

    policy = load_policy(policy_file)
    inputs = anonymize_inputs(list(scan_params.inputs), on_skip)
    if not findings.exists():
        raise InputError(f"{findings}: no such file. Run `mahrem scan` (or `dvc repro scan`) first.")
    reason = not_regular_reason(findings)
    if reason is not None:
        raise InputError(f"--findings {findings}: {reason}.")
    key = load_pseudonym_key()
    erasures = load_erasures(erasure)
    erasures.check_key(key)
    recognizers = scan_params.recognizers if Path(scan_params.recognizers).is_dir() else None
    # The residual re-scan streams through the same worker pool as the scan (scan.engine, scan.workers).
    engine_config = EngineConfig(
        name=scan_params.engine,
        workers=scan_params.workers or (os.cpu_count() or 1),
        batch_size=scan_params.batch_size,
        min_score=scan_params.min_score,
        recognizer_dir=recognizers,
        address=scan_params.ray_address,
    )
    with ExitStack() as stack:
        with status(f"anonymize: starting the {scan_params.engine} engine for the residual re-scan"):
            engine = stack.enter_context(open_engine(engine_config, key))
        with status("anonymize: applying the policy, de-duplicating, re-scanning"):
            return anonymize_dataset(
                inputs, findings, data_out, report_out, policy, key, engine.analyze,
                erased=erasures.fingerprints, erasure_digest=erasures.digest,
            )
