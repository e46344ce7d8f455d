"""The evaluate stage's reports: ``reports/eval/benchmarks.json`` and ``reports/eval/leakage.json``.

Both are DVC metrics files (numbers, no values) written by
:func:`pipeline.evaluate.stage.evaluate_adapter`; signoff's gate reads them.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag

from pipeline.reports.base import Chain, MachineRecord, MeasuredStat, ReportModel, ReportPart

# --- benchmarks.json ------------------------------------------------------------------------


class PairedAccuracy(ReportPart):
    """Base and adapter on the same questions (:func:`pipeline.evaluate.benchmarks.paired_accuracy_report`)."""

    n: int
    base: float
    adapter: float
    drop: MeasuredStat = Field(description="base − adapter accuracy, paired bootstrap over questions.")
    only_base_correct: int
    only_adapter_correct: int
    mcnemar_p: float
    chance: float | None = Field(description="Accuracy of random answers; null when the task has none.")
    resolvable: bool = Field(description="Whether the base is above chance by ≥ 3 se (only then is a drop gated).")


class BenchmarkTask(ReportPart):
    """One lm-eval task scored on base and adapter; the key in ``tasks`` is the lm-eval task name."""

    kind: Literal["general", "domain"]
    metric: str
    higher_is_better: bool
    n: int
    base: float
    base_stderr: float | None
    adapter: float
    adapter_stderr: float | None
    delta: float = Field(description="adapter − base.")
    paired: PairedAccuracy | None = Field(
        None, exclude_if=lambda value: value is None, description="Only for paired (multiple-choice) tasks."
    )


class GeneralUtility(ReportPart):
    """Bits per byte of base and adapter on general English (:func:`pipeline.evaluate.utility.general_utility`)."""

    source: str
    max_tokens: int
    documents: int
    bytes: int
    base_bpb: float
    adapter_bpb: float
    difference: float = Field(description="adapter − base bits per byte.")
    relative_gain: float
    increase: MeasuredStat


class NoGeneralUtility(ReportPart):
    """``utility.general`` when ``evaluate.general.documents`` is 0: an empty object."""


def _general_tag(value: Any) -> str:
    empty = isinstance(value, NoGeneralUtility) or (isinstance(value, dict) and not value)
    return "~none" if empty else "~measured"


class DomainUtility(ReportPart):
    """Bits per byte of base and adapter on the anonymized holdout (the domain gain)."""

    documents: int
    bytes: int
    base_bpb: float
    adapter_bpb: float
    difference: float
    relative_gain: float = Field(description="(base − adapter) / base bits per byte.")
    gain: MeasuredStat
    source: str


class Utility(ReportPart):
    general: Annotated[
        Annotated[GeneralUtility, Tag("~measured")] | Annotated[NoGeneralUtility, Tag("~none")],
        Discriminator(_general_tag),
    ]
    domain: DomainUtility


class Benchmarks(ReportModel):
    """``reports/eval/benchmarks.json``: every benchmark task and the utility figures, base vs adapter."""

    FILE: ClassVar[str] = "reports/eval/benchmarks.json"
    STAGE: ClassVar[str] = "evaluate"

    tasks: dict[str, BenchmarkTask] = Field(description="lm-eval task name → its scores.")
    quantization: str
    lm_eval_version: str
    wall_s: float
    wall_s_by_task: dict[str, dict[str, float]] = Field(description="Task → variant → seconds.")
    utility: Utility
    compute_dtype: str
    threads: int
    machine: MachineRecord
    chain: Chain
    wall_s_total: float


# --- leakage.json ---------------------------------------------------------------------------


class CanaryClass(ReportPart):
    """The canaries planted with one number of repetitions."""

    canaries: int
    seen: int
    unseen: int = Field(description="Canaries of the class training never showed the model.")
    sightings_min: int
    sightings_max: int
    base_exposure_mean: float
    base_exposure_max: float
    adapter_exposure_mean: float
    adapter_exposure_max: float
    base_exposure_skewnorm_max: float
    adapter_exposure_skewnorm_max: float
    exposure: MeasuredStat = Field(description="The class's mean adapter exposure, with its bound.")


class CanaryProbe(ReportPart):
    references: int
    max_exposure: float
    space_size: int
    scored: str
    by_repetitions: dict[str, CanaryClass] = Field(description="Repetitions ('1', '4', …) → the class.")


class ExtractionProbe(ReportPart):
    prompts: int
    samples_per_prompt: int
    max_new_tokens: int
    base_hits: int
    adapter_hits: int
    adapter_only_hits: int
    adapter_greedy_hits: int
    adapter_hits_by_type: dict[str, int]
    base_hits_by_type: dict[str, int]
    prompts_by_type: dict[str, int]
    canary_prompt_hit: bool
    rate: MeasuredStat = Field(description="The adapter's hit rate, exact binomial bound.")


class InferenceProbe(ReportPart):
    trials: int
    candidates: int
    chance: float
    base_top1: float
    adapter_top1: float
    base_mean_rank: float
    adapter_mean_rank: float


class Ineligible(ReportPart):
    members: int
    nonmembers: int


class MembershipProbe(ReportPart):
    members: int
    nonmembers: int
    fpr: float
    attack: str = Field(description="The strongest attack, whose TPR is reported.")
    tpr_at_fpr: float
    tpr: MeasuredStat
    auc: dict[str, float] = Field(description="Attack → ROC AUC.")
    min_resolvable_fpr: float
    window_tokens: int
    ineligible: Ineligible
    base_loss_members: float
    base_loss_nonmembers: float
    adapter_loss_members: float
    adapter_loss_nonmembers: float


class Leakage(ReportModel):
    """``reports/eval/leakage.json``: the leak probes, base vs adapter (numbers only)."""

    FILE: ClassVar[str] = "reports/eval/leakage.json"
    STAGE: ClassVar[str] = "evaluate"

    canary: CanaryProbe
    extraction: ExtractionProbe
    inference: InferenceProbe
    membership: MembershipProbe
    wall_s_by_probe: dict[str, float]
    wall_s: float
    compute_dtype: str
    threads: int
    machine: MachineRecord
    chain: Chain
    wall_s_total: float
