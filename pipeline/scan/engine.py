"""Where detection runs: this process, a local process pool, or an actor pool on Ray Data.

The scan and the anonymize stage's residual re-scan send the same per-batch functions to
an *engine* and get the results back in input order, so every engine writes the same
bytes:

* :class:`LocalEngine` — ``workers`` ≤ 1 runs in this process; more start a pool of
  ``spawn``\\ ed processes, each building its analyzer once (``concurrent.futures``: a
  worker that dies raises instead of hanging the stage).
* :class:`RayEngine` (``pip install 'mahrem[ray]'``) — the raw JSONL shards are read by
  Ray Data read tasks (:class:`JsonlShards`, one per file), each unit of records goes
  through ``map_batches`` to a pool of actors that each build the analyzer once, and the
  driver consumes the units in order (``preserve_order``). It runs on a local Ray
  instance, or on an existing cluster given ``address`` (``ray start --head`` …).

A *unit* (:class:`Unit`) is one batch of up to ``batch_size`` records of one file with the
quarantined lines read before them, in line order. The reader checks id uniqueness inside
its file; the driver (:func:`pipeline.scan.stage.scan_files`) checks it across files, so
a local run and a run whose files were read on different nodes quarantine the same lines.

The pseudonym key reaches Ray's workers inside the read tasks' and actors' constructor
arguments (in memory, through Ray's task specifications), never in a file or a log line.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.fields import is_plain_key
from pipeline.fingerprint import record_key
from pipeline.io import QuarantineEntry, ReadStats, read_records
from pipeline.keys import PseudonymKey

ENGINES = ("local", "ray")


class EngineError(RuntimeError):
    """A worker failed. The message names the error's type and never its text, which may quote a record."""


def _passed_through() -> tuple[type[BaseException], ...]:
    """Errors whose messages are written for the user (paths and keys, no values): passed on as they are."""
    from pipeline.config import ConfigError
    from pipeline.io import InputError
    from pipeline.keys import KeyConfigError
    from pipeline.scan.recognizers.yaml_patterns import RecognizerSpecError
    from pipeline.scan.special import CueLexiconError

    return (ConfigError, InputError, KeyConfigError, RecognizerSpecError, CueLexiconError, EngineError)


def _guarded(what: str, work: Callable[[], Any]) -> Any:
    """Run a Ray worker's ``work``; any other error is replaced by an :class:`EngineError` without its message.

    Ray writes a failed task's exception, message included, to the session's log files on
    disk, and a library error's message may quote the text it failed on (a record).
    """
    try:
        return work()
    except _passed_through():
        raise
    except Exception as exc:  # noqa: BLE001 - in a Ray worker: its message may quote a record, and Ray logs it to disk
        raise EngineError(
            f"{type(exc).__name__} in a Ray {what}. Its message is withheld (it may quote a record); "
            "rerun with --engine local, which writes the stack to .mahrem/logs/."
        ) from None
# [(record_id, [(field, text) or (field, text, role), ...])]; record_id is the keyed id.
Batch = list[tuple[str, list[tuple[str, ...]]]]


@dataclass
class RecordMeta:
    """What the driver needs of one record besides its findings: no text, no raw id."""

    record_id: str  # keyed
    line: int
    byte_offset: int
    source: str
    roles: dict[str, str | None]
    size: int  # UTF-8 bytes of its fields (progress)
    fields: int
    chars: int


@dataclass
class Unit:
    """One batch of one file, in the order the file was read.

    ``events`` interleaves quarantined lines (``("q", entry)``) and records (``("r", i)``
    into ``records``) by line number. The last unit of a file carries its ``stats``.
    """

    file_index: int
    events: list[tuple[str, Any]] = field(default_factory=list)
    records: list[RecordMeta] = field(default_factory=list)
    batch: Batch = field(default_factory=list)
    stats: ReadStats | None = None
    findings: list[list[dict[str, Any]]] | None = None
    worker: int | None = None  # the PID that ran the detection (Ray: proof of distribution)

    def result(self, findings: list[list[dict[str, Any]]]) -> Unit:
        """This unit with its findings and without its texts: what goes back to the driver."""
        return Unit(self.file_index, self.events, self.records, [], self.stats, findings, os.getpid())


def read_units(
    file_index: int, path: Path, source: str, key: PseudonymKey, batch_size: int, name: str | None = None
) -> Iterator[Unit]:
    """The units of one raw file: ids unique within the file (the driver checks across files).

    ``name`` is how outputs name the file (the path as the user gave it) when ``path`` is
    the absolute path a worker in another directory or on another node opens.
    """
    name = name or str(path)
    stats = ReadStats(file=name)
    unit = Unit(file_index)

    def on_quarantine(entry: QuarantineEntry) -> None:
        unit.events.append(("q", entry))

    for record in read_records(path, on_quarantine, stats=stats, seen_ids=set(), display_name=name):
        fields = list(record.fields())
        # A record's own `source` is data (audit reads any file): named only when plain.
        own = record.source if isinstance(record.source, str) and is_plain_key(record.source) else None
        rid = record_key(key, record.id)
        unit.events.append(("r", len(unit.records)))
        unit.records.append(
            RecordMeta(
                record_id=rid,
                line=record.line,
                byte_offset=record.byte_offset,
                source=source or own or path.stem,
                roles={f: role for f, _, role in fields},
                size=sum(len(text.encode("utf-8")) for _, text, _ in fields),
                fields=len(fields),
                chars=sum(len(text) for _, text, _ in fields),
            )
        )
        unit.batch.append((rid, fields))
        if len(unit.batch) >= batch_size:
            yield unit
            unit = Unit(file_index)
    unit.stats = stats
    yield unit


# --- the work each worker does ----------------------------------------------------------

_WORKER: dict[str, Any] = {}


def init_worker(key: PseudonymKey, recognizer_dir: str | None, min_score: float) -> None:
    """Build this process's analyzer once (a pool's initializer, an actor's constructor)."""
    from pipeline.scan.analyzer import get_analyzer

    _WORKER["key"] = key
    _WORKER["analyzer"] = get_analyzer(recognizer_dir, min_score)


def check_recognizers(recognizer_dir: str | None) -> None:
    """Load the user's recognizer files here before any worker starts (cheap: YAML and regexes).

    A mistake in one then stops the stage with its own message, naming the file and key,
    instead of killing every worker at its start (a broken pool, a dead actor) where the
    message is lost.
    """
    if recognizer_dir is None:
        return
    from pipeline.scan.analyzer import LANGUAGES
    from pipeline.scan.recognizers import pattern_recognizers

    for language in LANGUAGES:
        pattern_recognizers(recognizer_dir, supported_language=language)


def scan_unit(unit: Unit) -> Unit:
    from pipeline.scan.stage import detect_findings

    return unit.result(detect_findings(_WORKER["analyzer"], _WORKER["key"], unit.batch) if unit.batch else [])


def analyze_texts(texts: list[str]) -> list[list[Any]]:
    return _WORKER["analyzer"].analyze(texts)


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class EngineConfig:
    name: str = "local"
    workers: int = 1
    batch_size: int = 64
    min_score: float = 0.5
    recognizer_dir: str | None = None
    address: str | None = None  # Ray only: an existing cluster ("auto", "ray://head:10001")


class LocalEngine:
    """This process (``workers`` ≤ 1) or a pool of spawned processes."""

    def __init__(self, config: EngineConfig, key: PseudonymKey) -> None:
        self.config, self.key = config, key
        self._executor: ProcessPoolExecutor | None = None
        self.worker_pids: set[int] = set()

    def __enter__(self) -> LocalEngine:
        if self.config.workers > 1:
            check_recognizers(self.config.recognizer_dir)
            # spawn, not fork: the parent may hold threads (progress bar) and loaded models.
            self._executor = ProcessPoolExecutor(
                self.config.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker,
                initargs=(self.key, self.config.recognizer_dir, self.config.min_score),
            )
        else:
            init_worker(self.key, self.config.recognizer_dir, self.config.min_score)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)

    def _ordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Results in input order, at most 2 × workers items in flight (bounded memory)."""
        if self._executor is None:
            yield from map(fn, items)
            return
        window = 2 * self.config.workers
        pending: deque = deque()
        for item in items:
            pending.append(self._executor.submit(fn, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def scan(self, files: Sequence[tuple[Path, str]]) -> Iterator[Unit]:
        """Every unit of ``files`` ((path, source) pairs) with its findings, in file and line order."""
        units = (
            unit
            for index, (path, source) in enumerate(files)
            for unit in read_units(index, path, source, self.key, self.config.batch_size)
        )
        for unit in self._ordered(scan_unit, units):
            self.worker_pids.add(unit.worker)
            yield unit

    def analyze(self, texts: Sequence[str]) -> list[list[Any]]:
        """The analyzer's spans for each text, in order (the residual re-scan)."""
        if self._executor is None:
            return _WORKER["analyzer"].analyze(list(texts))
        return [spans for part in self._ordered(analyze_texts, _chunks(list(texts), self.config.batch_size)) for spans in part]


# --- Ray Data ----------------------------------------------------------------------------


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # the optional extra is not installed
        from pipeline.config import ConfigError

        raise ConfigError(
            "scan.engine is 'ray' but Ray is not installed: `pip install 'mahrem[ray]'` "
            "(or set scan.engine: local in params.yaml / pass --engine local)."
        ) from exc
    return ray


class _DetectActor:
    """One analyzer per actor, built once; ``__call__`` runs one Ray Data batch of units."""

    def __init__(self, key: PseudonymKey, recognizer_dir: str | None, min_score: float) -> None:
        _guarded("actor's start", lambda: init_worker(key, recognizer_dir, min_score))

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        def run(blob: bytes) -> bytes:
            op, payload = pickle.loads(blob)
            result = scan_unit(payload) if op == "scan" else (os.getpid(), analyze_texts(payload))
            return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)

        return {"item": np.array([_guarded("detection actor", lambda b=blob: run(b)) for blob in batch["item"]], dtype=object)}


def _shards_datasource(files: Sequence[tuple[Path, str]], key: PseudonymKey, batch_size: int) -> Any:
    """A Ray Data datasource with one read task per raw JSONL shard."""
    ray = _ray()
    import pyarrow as pa
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    # A worker's working directory is not the driver's (nor, on a cluster, its machine): it opens
    # the absolute path, taken here on the driver, and outputs name the file as the user gave it.
    absolute = {str(path): path.absolute() for path, _ in files}

    def read(index: int, path: Path, source: str) -> Iterator[Any]:
        units = read_units(index, absolute[str(path)], source, key, batch_size, name=str(path))
        while (unit := _guarded(f"read task ({path})", lambda: next(units, None))) is not None:
            yield pa.table({"item": [pickle.dumps(("scan", unit), protocol=pickle.HIGHEST_PROTOCOL)]})

    class JsonlShards(Datasource):
        def estimate_inmemory_data_size(self) -> int:
            return sum(path.stat().st_size for path, _ in files)

        def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None) -> list[Any]:
            return [
                ReadTask(
                    lambda i=i, path=path, source=source: read(i, path, source),
                    BlockMetadata(num_rows=None, size_bytes=path.stat().st_size, input_files=[str(path)], exec_stats=None),
                )
                for i, (path, source) in enumerate(files)
            ]

    del ray
    return JsonlShards()


def _user_error(exc: BaseException) -> BaseException | None:
    """The user-facing error a Ray exception carries (through ``cause`` / ``__cause__``), if any."""
    import ray

    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _passed_through()) and not isinstance(current, ray.exceptions.RayError):
            return current
        todo += [getattr(current, "cause", None), current.__cause__, current.__context__]
    return None


@contextlib.contextmanager
def _worker_errors() -> Iterator[None]:
    """Ray's wrapped worker errors as the error the worker raised (one clean line), or an :class:`EngineError`."""
    ray = _ray()
    try:
        yield
    except ray.exceptions.RayError as exc:
        cause = _user_error(exc)
        if cause is not None:
            raise cause.with_traceback(None) from None
        raise EngineError(
            f"a Ray worker failed ({type(exc).__name__}): an actor or node died or was out of memory. Lower "
            "--workers or scan.batch_size, or see the Ray session's logs (ray status, /tmp/ray/session_latest/logs)."
        ) from None


class RayEngine:
    """Ray Data: shards read by read tasks, detection on an actor pool of ``workers`` actors."""

    def __init__(self, config: EngineConfig, key: PseudonymKey) -> None:
        self.config, self.key = config, key
        self.worker_pids: set[int] = set()
        self._started = False

    def __enter__(self) -> RayEngine:
        ray = _ray()
        check_recognizers(self.config.recognizer_dir)
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "logging_level": "WARNING", "log_to_driver": False}
            if self.config.address:
                ray.init(address=self.config.address, **options)
            elif os.environ.get("RAY_ADDRESS"):  # Ray's own variable names a cluster: join it as it is
                ray.init(**options)
            else:
                ray.init(num_cpus=self.config.workers, **options)
            self._started = True
        from ray.data import DataContext

        context = DataContext.get_current()
        self._saved = (context.execution_options.preserve_order, context.enable_progress_bars, context.wait_for_min_actors_s)
        context.execution_options.preserve_order = True  # the outputs are written in input order
        context.enable_progress_bars = False  # the stage draws its own, with counts only
        # Start only once every actor has built its analyzer: otherwise the first one ready takes all the work.
        context.wait_for_min_actors_s = 600
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # no per-dataset INFO lines on the console
        return self

    def __exit__(self, *exc: object) -> None:
        from ray.data import DataContext

        context = DataContext.get_current()
        context.execution_options.preserve_order, context.enable_progress_bars, context.wait_for_min_actors_s = self._saved
        if self._started:
            _ray().shutdown()

    def _actors(self, dataset: Any) -> Any:
        return dataset.map_batches(
            _DetectActor,
            fn_constructor_kwargs={
                "key": self.key,
                # absolute, as taken on the driver: an actor's working directory is not the driver's
                "recognizer_dir": str(Path(self.config.recognizer_dir).absolute()) if self.config.recognizer_dir else None,
                "min_score": self.config.min_score,
            },
            batch_size=1,
            batch_format="numpy",
            compute=_ray().data.ActorPoolStrategy(size=self.config.workers),
            num_cpus=1,
            # Ray Data's default restarts a dead actor and retries its task forever: a batch that
            # kills its actor (out of memory) would never end the stage. Twice, then fail.
            max_restarts=2,
            max_task_retries=2,
        )

    def scan(self, files: Sequence[tuple[Path, str]]) -> Iterator[Unit]:
        ray = _ray()
        source = _shards_datasource(files, self.key, self.config.batch_size)
        # Reading is light (JSON parsing) next to detection: read tasks ask for no CPU of their own,
        # so the actors may take every core.
        dataset = ray.data.read_datasource(source, num_cpus=0, concurrency=self.config.workers)
        with _worker_errors():
            for row in self._actors(dataset).iter_rows():
                unit = pickle.loads(row["item"])
                self.worker_pids.add(unit.worker)
                yield unit

    def analyze(self, texts: Sequence[str]) -> list[list[Any]]:
        ray = _ray()
        items = [{"item": pickle.dumps(("analyze", list(part)), protocol=pickle.HIGHEST_PROTOCOL)}
                 for part in _chunks(list(texts), self.config.batch_size)]
        if not items:
            return []
        out: list[list[Any]] = []
        with _worker_errors():
            for row in self._actors(ray.data.from_items(items)).iter_rows():
                pid, spans = pickle.loads(row["item"])
                self.worker_pids.add(pid)
                out.extend(spans)
        return out


def open_engine(config: EngineConfig, key: PseudonymKey) -> LocalEngine | RayEngine:
    """The engine named by ``config.name`` (use it as a context manager)."""
    if config.name == "ray":
        return RayEngine(config, key)
    return LocalEngine(config, key)
