"""``train:`` — the QLoRA recipe's knobs (params.yaml), validated once.

Every default below is the shipped default: sized so that SmolLM2-135M in 4-bit NF4
trains on the ~490-record sample corpus in about five minutes on two CPU cores, with a
holdout loss clearly below the base's (figures in each run's reports/train/summary.json).
A bigger machine raises ``max_steps`` / ``max_seq_len``; nothing else needs to change.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pipeline.config import StrictModel
from pipeline.hardware import ComputeDtype, Threads


class LoraParams(StrictModel):
    """``train.lora:`` — the adapter's shape (PEFT ``LoraConfig``)."""

    r: int = Field(16, ge=1, le=1024, description="Rank of the low-rank update.")
    alpha: float = Field(32.0, gt=0, description="Scaling numerator: the update is scaled by alpha / r.")
    dropout: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description=(
            "Dropout on the adapter's input (training only). Off by default: a run of a few dozen steps "
            "does not overfit, and on the CPU drawing the dropout masks costs a third of the forward pass."
        ),
    )
    target_modules: Literal["all-linear"] | list[str] = Field(
        "all-linear",
        description=(
            "'all-linear' (every linear layer except the output head, PEFT's QLoRA default) "
            "or a list of module names such as [q_proj, v_proj]."
        ),
    )

    @model_validator(mode="after")
    def _modules_not_empty(self) -> LoraParams:
        if isinstance(self.target_modules, list) and not all(m.strip() for m in self.target_modules):
            raise ValueError("target_modules: names must be non-empty strings")
        if isinstance(self.target_modules, list) and not self.target_modules:
            raise ValueError("target_modules: give at least one module name, or 'all-linear'")
        return self


class TrainParams(StrictModel):
    """``train:`` — QLoRA (4-bit base + LoRA) or plain LoRA, and the training schedule."""

    # --- the base model's precision -------------------------------------------------
    quantization: Literal["nf4", "fp4", "none"] = Field(
        "nf4",
        description="4-bit type of the frozen base (bitsandbytes), or 'none' for plain LoRA on the 16/32-bit base.",
    )
    double_quant: bool = Field(True, description="Quantize the 4-bit scales too (saves ~0.4 bit/parameter).")
    compute_dtype: ComputeDtype = Field(
        "auto",
        description=(
            "dtype of the 4-bit layers' matmuls and of autocast; with quantization 'none', the dtype the base is "
            "loaded in. 'auto': bfloat16 where the device runs it natively (CUDA with bf16, a CPU with AVX512-BF16, "
            "AMX or ARM BF16), float32 elsewhere — on an AVX2-only CPU bfloat16 is ~7x slower (pipeline/hardware.py)."
        ),
    )
    lora: LoraParams = Field(default_factory=LoraParams)

    # --- optimisation ---------------------------------------------------------------
    learning_rate: float = Field(
        1e-3,
        gt=0,
        le=1.0,
        description=(
            "Peak learning rate (AdamW); high because the run is short (one epoch of ~340 records). Measured on the "
            "sample corpus (holdout loss, base ~3.8): 1e-3 → ~2.25, 2e-3 → ~2.1. At 2e-3 the default adapter sat "
            "at the general-ability gate (+0.06 bits per byte on general English, upper bound 0.075 > 0.05); at "
            "1e-3 it moved +0.006 (bound 0.012, n 100). Higher rates also memorise more, which the leak probes of "
            "`mahrem evaluate` measure."
        ),
    )
    lr_schedule: Literal["cosine", "linear", "constant"] = Field(
        "cosine", description="Decay after warm-up (transformers' get_scheduler)."
    )
    warmup_steps: int = Field(3, ge=0, description="Linear warm-up from 0 to learning_rate, in optimizer steps.")
    weight_decay: float = Field(0.0, ge=0.0, le=1.0)
    max_grad_norm: float = Field(1.0, ge=0.0, description="Clip the global gradient norm; 0 = no clipping.")
    epochs: int = Field(1, ge=1, le=1000, description="Passes over the training data (unless max_steps stops first).")
    max_steps: int = Field(
        0,
        ge=0,
        description="Stop after this many optimizer steps; 0 = no cap (run all epochs). A cap that ends the epoch early "
        "leaves records unseen: reports/train/seen.json says which, and the privacy evaluation only uses seen ones.",
    )
    batch_size: int = Field(4, ge=1, le=4096, description="Records per micro-batch.")
    grad_accum: int = Field(1, ge=1, le=1024, description="Micro-batches per optimizer step.")
    max_seq_len: int = Field(
        192, ge=8, le=131072, description="Tokens per record; longer records are truncated (and counted)."
    )
    group_by_length: bool = Field(
        True, description="Batch records of similar length together (less padding); batch order is still shuffled."
    )
    seed: int = Field(1234, ge=0, le=2**32 - 1)

    # --- evaluation, checkpoints, machine -------------------------------------------
    eval_every: int = Field(
        0, ge=0, description="Holdout loss every N optimizer steps; 0 = only before training and at the end."
    )
    eval_batch_size: int = Field(8, ge=1, le=4096, description="Records per holdout-evaluation batch.")
    eval_records: int = Field(
        64,
        ge=0,
        description=(
            "The train stage's holdout loss (before, during and after training) uses only the first N usable "
            "holdout records in file order; 0 = all. The holdout also holds the membership probe's non-members "
            "(a few hundred records), which `mahrem evaluate` scores in full anyway."
        ),
    )
    checkpoint_every: int = Field(
        10, ge=0, description="Write a resumable checkpoint every N optimizer steps; 0 = never."
    )
    keep_checkpoints: bool = Field(False, description="Keep the run's checkpoints after it succeeds.")
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in backward: less memory, ~30% slower. Off for small bases."
    )
    threads: Threads = Field(
        "auto",
        description=(
            "CPU threads for torch. 'auto' (or 0): OMP_NUM_THREADS when set, else every core this process may use "
            "(CPU affinity, cgroup quota). On a machine shared with other busy jobs set 1: two OpenMP threads on "
            "a 2-core machine that is also running anything else wait on each other and run far slower."
        ),
    )

    # --- processes (data parallelism; pipeline/train/distributed.py) -------------------
    processes: int = Field(
        1,
        ge=1,
        le=1024,
        description=(
            "Data-parallel processes on this machine. Above 1, `mahrem train` (and so `dvc repro train`) launches "
            "itself with `accelerate launch`; the result equals one process's (same global batch, "
            "batch_size x grad_accum), only the speed changes. Processes beyond grad_accum idle."
        ),
    )
    accelerate_config: str = Field(
        "auto",
        description=(
            "The accelerate config file used when processes > 1; 'auto' = configs/accelerate/ddp_gpu.yaml on "
            "CUDA, configs/accelerate/ddp_cpu.yaml on the CPU. FSDP (configs/accelerate/fsdp_qlora.yaml) is "
            "refused: not implemented yet."
        ),
    )

    @model_validator(mode="after")
    def _coherent(self) -> TrainParams:
        if self.max_steps and self.warmup_steps >= self.max_steps:
            raise ValueError(
                f"warmup_steps ({self.warmup_steps}) must be below max_steps ({self.max_steps}); "
                "lower warmup_steps or raise max_steps"
            )
        if self.checkpoint_every and self.max_steps and self.checkpoint_every > self.max_steps:
            raise ValueError(
                f"checkpoint_every ({self.checkpoint_every}) is above max_steps ({self.max_steps}), so no "
                "checkpoint would ever be written; lower it, or set 0 to turn checkpoints off on purpose"
            )
        return self

    @property
    def quantized(self) -> bool:
        """True for QLoRA (4-bit base). ``double_quant`` only applies then and is ignored otherwise."""
        return self.quantization != "none"
