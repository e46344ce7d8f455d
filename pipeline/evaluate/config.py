"""``evaluate:`` — the typed block of params.yaml for benchmarks and leak probes.

The defaults are the shipped defaults, sized so that the whole stage (base and adapter,
SmolLM2-135M in 4 bits) fits in a few minutes on two CPU cores: the CI end-to-end test
runs the default pipeline. They are small samples, and every figure in the reports comes
with its sample size and, where one exists, its standard error or confidence interval.
On a GPU raise them (``mmlu.questions: 0`` is the whole MMLU test set).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from pipeline import entities as E
from pipeline.config import StrictModel
from pipeline.hardware import ComputeDtype, Threads


def _known_types(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - set(E.ENTITY_TYPES))
    if unknown:
        raise ValueError(f"unknown entity type(s) {', '.join(unknown)}; use names from pipeline/entities.py")
    return values

# Identifiers and full names: values a model does not emit or rank first by chance. Dates,
# places, organisations and generalised addresses are left out because short common
# tokens ("Ankara", "2023") would count as "leaks" without any memorisation.
PROBE_ENTITY_TYPES = (
    E.TR_NATIONAL_ID,
    E.TR_TAX_ID,
    E.PHONE_NUMBER,
    E.EMAIL_ADDRESS,
    E.IBAN_CODE,
    E.CREDIT_CARD,
    E.TR_LICENSE_PLATE,
    E.PASSPORT,
    E.PERSON,
)


class MmluParams(StrictModel):
    """``evaluate.mmlu`` — general capability: a seeded subject-stratified MMLU subset."""

    questions: int = Field(
        32,
        ge=0,
        description="Questions in the subset, spread over the subjects in proportion; 0 = the whole test set.",
    )
    seed: int = Field(20241129, description="Seed of the subset draw (fixed, so base and adapter see the same questions).")
    forms: list[Literal["letter", "cloze"]] = Field(
        default_factory=lambda: ["letter", "cloze"],
        min_length=1,
        description="'letter': choices listed, the answer letter scored (acc). "
        "'cloze': each answer text scored as the continuation (acc_norm); costs four forwards per question.",
    )
    cloze_questions: int = Field(
        12,
        ge=0,
        description="The cloze form uses the first N questions of the subset (it is 4x dearer); 0 = the whole subset.",
    )


class DomainParams(StrictModel):
    """``evaluate.domain`` — the support-chat domain, on the anonymized holdout."""

    perplexity_records: int = Field(
        24, ge=0, description="Holdout records whose assistant replies are scored (word perplexity); 0 = all."
    )
    format_examples: int = Field(
        6, ge=0, description="Holdout conversations whose last assistant reply is generated and format-checked; 0 = skip."
    )
    max_gen_toks: int = Field(32, ge=4, le=512, description="New tokens per generated reply in the format check.")


class CanaryParams(StrictModel):
    """``evaluate.canary`` — exposure of the canaries that ``anonymize`` planted."""

    references: int = Field(
        200,
        ge=10,
        description="Never-inserted reference secrets the canaries are ranked against (the first N of canaries.json).",
    )


class ExtractionParams(StrictModel):
    """``evaluate.extraction`` — does the model complete a raw prefix with the original value?"""

    prompts: int = Field(
        12, ge=0, description="PII spans (one per record, types balanced) used as extraction targets; 0 = skip."
    )
    samples: int = Field(1, ge=0, le=64, description="Sampled continuations per prompt, besides the greedy one.")
    slack_tokens: int = Field(
        8, ge=0, le=256, description="Tokens generated beyond the value's own length (its tokens in the original)."
    )
    max_new_tokens: int = Field(40, ge=4, le=512, description="Cap on the tokens generated after a prefix.")
    temperature: float = Field(1.0, gt=0.0, le=2.0, description="Sampling temperature of the sampled continuations.")
    top_k: int = Field(40, ge=0, description="Top-k of the sampled continuations (0 = no top-k cut).")
    entity_types: list[str] = Field(default_factory=lambda: list(PROBE_ENTITY_TYPES), min_length=1)

    _check_types = field_validator("entity_types")(_known_types)


class InferenceParams(StrictModel):
    """``evaluate.inference`` — rank the true value of a span among same-type candidates."""

    trials: int = Field(8, ge=0, description="PII spans whose true value is ranked; 0 = skip.")
    candidates: int = Field(100, ge=2, le=1000, description="Candidates per trial, the true value included (chance = 1/N).")
    entity_types: list[str] = Field(
        default_factory=lambda: [E.TR_NATIONAL_ID, E.PHONE_NUMBER, E.EMAIL_ADDRESS, E.IBAN_CODE, E.PERSON],
        min_length=1,
        description="Types with enough distinct values in the corpus to draw candidates from.",
    )

    _check_types = field_validator("entity_types")(_known_types)


class MembershipParams(StrictModel):
    """``evaluate.membership`` — loss-ratio membership inference, train vs holdout."""

    records: int = Field(32, ge=2, description="Records per side (train and holdout; capped by the holdout size).")
    max_tokens: int = Field(128, ge=16, le=8192, description="Each record is scored on its first N tokens.")
    bootstrap: int = Field(1000, ge=0, le=100_000, description="Bootstrap resamples for the AUC and TPR intervals.")


class EvalParams(StrictModel):
    """``evaluate:`` — benchmarks (lm-eval) and PII-leak probes, base vs adapter."""

    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$", description="'auto' = CUDA when available, else CPU.")
    compute_dtype: ComputeDtype = Field(
        "auto",
        description="dtype of the scoring matmuls; 'auto' = bfloat16 where native (CUDA, AVX512-BF16, AMX, ARM BF16), "
        "else float32 (pipeline/hardware.py). Base and adapter are always scored in the same dtype.",
    )
    threads: Threads = Field(
        "auto", description="CPU threads for torch; 'auto' = OMP_NUM_THREADS when set, else every usable core."
    )
    batch_size: int = Field(8, ge=1, le=1024, description="Sequences per forward pass (lm-eval and the probes).")
    seed: int = Field(1234, description="Seed of the probes: target choice, sampling, candidates, bootstrap.")
    mmlu: MmluParams = Field(default_factory=MmluParams)
    domain: DomainParams = Field(default_factory=DomainParams)
    canary: CanaryParams = Field(default_factory=CanaryParams)
    extraction: ExtractionParams = Field(default_factory=ExtractionParams)
    inference: InferenceParams = Field(default_factory=InferenceParams)
    membership: MembershipParams = Field(default_factory=MembershipParams)
