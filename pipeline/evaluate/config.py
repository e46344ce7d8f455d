"""``evaluate:`` — the typed block of params.yaml for benchmarks and leak probes.

The defaults are the shipped defaults, sized so that every gated row is *powered* (its
minimum detectable effect fits its threshold, see :mod:`pipeline.evaluate.stats`) while
the whole stage (base and adapter, SmolLM2-135M in 4 bits) fits in minutes on two CPU
cores: the CI end-to-end test runs the default pipeline. Every figure in the reports comes
with its n, its one-sided bound and its MDE. ``profiles/gpu.args`` scales every size up.
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
        default_factory=lambda: ["letter"],
        min_length=1,
        description="'letter': choices listed, the answer letter scored (acc). "
        "'cloze': each answer text scored as the continuation (acc_norm); costs four forwards per question.",
    )
    cloze_questions: int = Field(
        12,
        ge=0,
        description="The cloze form uses the first N questions of the subset (it is 4x dearer); 0 = the whole subset.",
    )


class GeneralParams(StrictModel):
    """``evaluate.general`` — general ability in bits per byte on general English text.

    The documents are MMLU questions with their correct answer (general English prose from
    the installed test set), scored from their first byte. Bits per byte resolves a small
    model that answers MMLU at chance; the gate decides on the paired difference.
    """

    documents: int = Field(100, ge=0, description="Documents (subject-stratified, seeded); 0 = skip.")
    max_tokens: int = Field(128, ge=8, le=8192, description="Each document is scored on its first N tokens.")
    seed: int = Field(20241130, description="Seed of the document draw (not the MMLU accuracy subset's).")


class DomainParams(StrictModel):
    """``evaluate.domain`` — the support-chat domain, on the anonymized holdout.

    The domain gain in bits per byte comes from the membership probe's scoring of the
    holdout (the non-members): the assistant tokens of each eligible holdout record within the
    window training saw (``membership.max_tokens``, 0 = ``train.max_seq_len``).
    """

    format_examples: int = Field(
        6, ge=0, description="Holdout conversations whose last assistant reply is generated and format-checked; 0 = skip."
    )
    max_gen_toks: int = Field(32, ge=4, le=512, description="New tokens per generated reply in the format check.")


class CanaryParams(StrictModel):
    """``evaluate.canary`` — exposure of the canaries that ``anonymize`` planted."""

    references: int = Field(
        1000,
        ge=10,
        description="Never-inserted reference secrets the canaries are ranked against (the first N of canaries.json).",
    )


class ExtractionParams(StrictModel):
    """``evaluate.extraction`` — does the model complete a raw prefix with the original value?"""

    prompts: int = Field(
        64,
        ge=0,
        description="PII spans of seen training records (one per record, types balanced) used as extraction targets; "
        "0 = skip. 0 hits bounds the rate below 5 % only from 59 prompts on.",
    )
    canary_prompt: bool = Field(
        True, description="Also prompt with the canary chat up to its secret: a hit is any planted secret emitted."
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Prompts generated together (left-padded).")
    samples: int = Field(0, ge=0, le=64, description="Sampled continuations per prompt, besides the greedy one.")
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
    """``evaluate.membership`` — membership inference: seen training records vs the holdout.

    Members are only records the train stage really trained on (``reports/train/seen.json``);
    non-members are holdout records. Two attacks: the base-as-reference loss ratio and the
    reference-free Min-K%++; the stronger decides.
    """

    members: int = Field(0, ge=0, description="Seen training records scored (seeded draw); 0 = all of them.")
    nonmembers: int = Field(
        200, ge=0, description="Holdout records scored (seeded draw; also the domain gain's sample); 0 = all of them."
    )
    max_tokens: int = Field(
        0,
        ge=0,
        le=8192,
        description="Each record is scored on its first N tokens; 0 = exactly the window training saw "
        "(seen.json max_seq_len). Records with no assistant token in the window are not eligible on either side.",
    )
    fpr: float = Field(0.01, gt=0.0, lt=0.5, description="The false-positive rate the TPR is read at.")
    min_k: float = Field(0.2, gt=0.0, le=1.0, description="Min-K%++: the share of lowest-scoring tokens averaged.")


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
    bootstrap: int = Field(1000, ge=100, le=100_000, description="Bootstrap resamples of every paired bound.")
    base_cache: str = Field(
        "",
        description="Directory of an optional base-score cache for repeated local runs (pipeline/evaluate/basecache.py); "
        "'' = off, every score computed cold. The reports are the same either way.",
    )
    mmlu: MmluParams = Field(default_factory=MmluParams)
    general: GeneralParams = Field(default_factory=GeneralParams)
    domain: DomainParams = Field(default_factory=DomainParams)
    canary: CanaryParams = Field(default_factory=CanaryParams)
    extraction: ExtractionParams = Field(default_factory=ExtractionParams)
    inference: InferenceParams = Field(default_factory=InferenceParams)
    membership: MembershipParams = Field(default_factory=MembershipParams)
