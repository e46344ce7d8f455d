"""What every stage report shares: the base model, the common sub-objects, and reading one back.

A report model is the contract between the stage that writes a JSON report, the code that
reads it (signoff, the gate, evaluate) and the tests that build one. The writer validates
its document through the model and writes ``model_dump(mode="json")``; a reader calls
:func:`load_report`, which refuses a file that does not match and says which file, which key
and which stage to re-run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.config import describe_errors as config_describe_errors
from pipeline.config import error_location  # noqa: F401  (part of this module's API: pipeline.reports re-exports it)
from pipeline.hardware import DtypeChoice, ThreadChoice
from pipeline.io import InputError

SCHEMA_VERSION = 1
"""The layout version every report but ``seen.json`` carries (``seen.json`` has its own)."""


class ReportPart(BaseModel):
    """A nested object of a report: every key is known, an unknown one is an error."""

    # NaN/inf stay the JSON constants the writers always emitted (json.dump), never null.
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants")


class ReportModel(ReportPart):
    """A whole report (one JSON file); ``schema_version`` is its first key."""

    # The schemas describe the file as written: a key with a default (schema_version) is always there.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    FILE: ClassVar[str] = ""  # the report's path in the pipeline (repo-relative), for messages and schemas
    STAGE: ClassVar[str] = ""  # the dvc.yaml stage that writes it

    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="Version of this layout.")

    def to_json(self) -> dict[str, Any]:
        """The document the writer puts on disk."""
        return self.model_dump(mode="json")


class Chain(ReportPart):
    """The chain of custody (:func:`pipeline.config.chain_record`): path → SHA-256 read and written."""

    inputs: dict[str, str] = Field(description="Files the stage read: repo-relative path → SHA-256.")
    outputs: dict[str, str] = Field(description="Files the stage wrote: repo-relative path → SHA-256.")


class MeasuredStat(ReportPart):
    """One measured statistic (:class:`pipeline.evaluate.stats.Measured`); non-finite values are null."""

    estimate: float | None
    upper: float | None = Field(description="One-sided upper bound at `confidence`.")
    lower: float | None = Field(description="One-sided lower bound at `confidence`.")
    se: float | None
    mde: float | None = Field(description="Minimum detectable effect at `power` and this n, from `null`.")
    null: float | None = Field(description="The value a harmless adapter would give.")
    n: int
    method: str
    confidence: float
    power: float
    kind: Literal["scaled", "rate"]
    n_min: int
    ceiling: float | None
    extra: dict[str, Any] = Field(description="Method-specific figures (open-ended).")


class MachineRecord(ReportPart):
    """What :meth:`pipeline.hardware.MachineSettings.as_record` records under ``machine``."""

    # the dataclasses themselves: one definition of their fields (they forbid unknown keys too)
    compute_dtype: DtypeChoice
    threads: ThreadChoice


# --- reading -------------------------------------------------------------------------------


class ReportError(InputError):
    """A stage report is missing, unreadable, or does not match its model."""


M = TypeVar("M", bound=BaseModel)

_PROBLEMS = {"extra_forbidden": "unknown key", "missing": "required key is missing"}


def rerun_hint(stage: str) -> str:
    """``written by the <stage> stage: re-run `dvc repro <stage>` (or `mahrem <stage>`)``."""
    return f"written by the {stage} stage: re-run `dvc repro {stage}` (or `mahrem {stage}`)"


def describe_errors(exc: ValidationError) -> str:
    """One ``  - key 'a.b': problem`` line per error (:func:`pipeline.config.describe_errors`)."""
    return config_describe_errors(exc, problems=_PROBLEMS)


def load_report(
    model: type[M], path: Path | str, *, stage: str | None = None, error: type[InputError] = ReportError
) -> M:
    """Read ``path`` through ``model`` (``model_validate_json``).

    Every problem raises ``error`` with the file, each offending key and the stage to
    re-run (``stage`` defaults to the model's ``STAGE``).
    """
    path = Path(path)
    stage = stage or getattr(model, "STAGE", "") or "the"
    hint = rerun_hint(stage)
    if not path.is_file():
        raise error(f"{path}: no such file ({hint}).")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text ({hint}).") from None
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise error(f"{path}: not valid JSON ({exc.errors()[0]['msg']}); {hint}.") from None
        raise error(
            f"{path}: does not match the {model.__name__} report (schema_version "
            f"{_version_of(model)}):\n{describe_errors(exc)}\nIt is {hint}."
        ) from None


def _version_of(model: type[BaseModel]) -> object:
    field = model.model_fields.get("schema_version")
    return field.default if field is not None else "?"


def check_report(model: type[M], document: Any, *, what: str = "report") -> M:
    """Validate a writer's in-memory ``document``; a mismatch is a bug in the writer (``ValueError``)."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise ValueError(
            f"the {what} about to be written does not match {model.__name__}:\n{describe_errors(exc)}"
        ) from None
