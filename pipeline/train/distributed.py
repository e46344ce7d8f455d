"""Data parallelism for ``mahrem train`` under ``accelerate launch`` (or ``torchrun``): exact, not approximate.

**What the processes share.** The single-process schedule is the definition:
:func:`pipeline.train.data.epoch_batches` gives the micro-batch order and each optimizer
step takes the next ``grad_accum`` micro-batches. With ``W`` processes the micro-batches of
one step are *dealt*: micro-batch ``j`` of the step goes to rank ``j % W`` (a rank may get
none). Each rank backpropagates ``loss_sum / step_labels`` over its own micro-batches, where
``step_labels`` is the number of labelled tokens of the *whole* step (every rank holds the
step's rows, so every rank computes the same number). The trainable gradients are then
summed over the ranks (one all-reduce, gloo on CPU, NCCL on CUDA): the sum of every rank's
share is the single-process gradient, up to the order of the float additions. Gradient
clipping and the AdamW step then run identically on every rank, so the weights stay
identical everywhere without ever being broadcast.

**Global batch.** ``batch_size × grad_accum`` records per optimizer step is the *global*
batch whatever the number of processes: adding processes changes the speed, never the
result (beyond float summation order). With ``grad_accum < W`` some ranks have no
micro-batch in a step and idle (a warning says so once); raise ``train.grad_accum`` to use
them.

**Why not torch's ``DistributedDataParallel``.** DDP synchronises inside ``backward`` and
needs every rank to run the same number of backward passes in lockstep; dealing
``grad_accum`` micro-batches over ``W`` ranks gives unequal counts (3 over 2 ranks: 2 and 1),
which would deadlock it or need dummy passes that change the loss. The trainable tensors
are only the LoRA matrices (under 1 % of the model), so one explicit all-reduce of their
gradients per optimizer step is cheap, and its sum is exactly the quantity we want.

**Logged figures.** Per-micro-batch loss sums (and holdout per-batch sums) are placed in a
vector at their micro-batch's position, zero elsewhere, and summed over the ranks: adding
zeros is exact, and the figures are then added up in the single-process order. The
logged losses are therefore bit-for-bit the ones a single process computes from the same
weights. Token counters need no communication: every rank counts the whole step.

**Dropout.** With LoRA dropout > 0 each micro-batch draws its masks from a torch RNG
forked and seeded from ``(seed, global micro-batch index)`` (:func:`micro_batch_rng`), so
the masks do not depend on which rank runs the micro-batch. With dropout 0 (the default)
no RNG is touched.

**Who writes.** Only the main process (rank 0) writes DVCLive, checkpoints, ``seen.json``,
the adapter and the reports; the others wait at a barrier and return. Every rank loads the
same checkpoint on resume. Not launched (no ``WORLD_SIZE`` > 1 in the environment), nothing
here initialises a process group, and the run is the plain single-process one.

**FSDP / DeepSpeed.** Not implemented: under an FSDP or DeepSpeed launch config the stage
refuses with a message (:func:`refuse_unsupported`). configs/accelerate/fsdp_qlora.yaml is
shipped, unverified, for when it is.
"""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from pipeline.config import ConfigError

# The variables the launchers set for the world size (torchrun / accelerate, Intel MPI, Open MPI, MVAPICH).
_WORLD_SIZE_VARS = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_RANK_VARS = ("RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK")
# How long a rank waits at a collective (barrier, all-reduce) for the others.
_TIMEOUT_S = 6 * 3600


def _int_env(names: Sequence[str], default: int, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    for name in names:
        value = env.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return default


def launched_world_size(environ: Mapping[str, str] | None = None) -> int:
    """How many processes the launcher started (1 when not launched).

    >>> launched_world_size({"WORLD_SIZE": "2"}), launched_world_size({})
    (2, 1)
    """
    return max(1, _int_env(_WORLD_SIZE_VARS, 1, environ))


def launched_rank(environ: Mapping[str, str] | None = None) -> int:
    """This process's rank as the launcher set it (0 when not launched): the CLI draws its bar only on rank 0."""
    return _int_env(_RANK_VARS, 0, environ) if launched_world_size(environ) > 1 else 0


def refuse_unsupported(environ: Mapping[str, str] | None = None) -> None:
    """Refuse an FSDP or DeepSpeed launch: only data parallelism (DDP-style) is implemented."""
    env = os.environ if environ is None else environ
    if env.get("ACCELERATE_USE_FSDP", "").lower() in ("1", "true"):
        raise ConfigError(
            "accelerate launch config: distributed_type FSDP is not implemented by `mahrem train` yet "
            "(configs/accelerate/fsdp_qlora.yaml is shipped unverified). Launch with "
            "configs/accelerate/ddp_gpu.yaml (one process per GPU) or configs/accelerate/ddp_cpu.yaml instead."
        )
    if env.get("ACCELERATE_USE_DEEPSPEED", "").lower() in ("1", "true"):
        raise ConfigError(
            "accelerate launch config: distributed_type DEEPSPEED is not supported by `mahrem train`. Launch with "
            "configs/accelerate/ddp_gpu.yaml or configs/accelerate/ddp_cpu.yaml."
        )


@dataclass(frozen=True)
class Dist:
    """This process's place in the run: rank, world size and how to talk to the others."""

    rank: int = 0
    world: int = 1
    kind: str = "NO"  # accelerate's DistributedType name: NO, MULTI_CPU, MULTI_GPU
    backend: str | None = None
    comm_device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def describe(self) -> str:
        return f"{self.world} processes ({self.kind}, {self.backend})"

    def share(self, count: int) -> list[int]:
        """Positions ``j`` of a step's ``count`` micro-batches this rank runs: ``j % world == rank``."""
        return list(range(self.rank, count, self.world))

    def barrier(self) -> None:
        if self.active:
            torch.distributed.barrier()

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (it may write caches), the others after it has finished."""
        if not self.main:
            self.barrier()
        yield
        if self.main:
            self.barrier()

    def placed_sum(self, mine: Mapping[int, float], count: int) -> list[float]:
        """Every rank's values at their positions ``0 … count-1`` (each position filled by one rank).

        Exact: each position holds one rank's value plus zeros from the others.
        """
        values = torch.zeros(count, dtype=torch.float64, device=self.comm_device)
        for position, value in mine.items():
            values[position] = value
        if self.active:
            torch.distributed.all_reduce(values, op=torch.distributed.ReduceOp.SUM)
        return values.cpu().tolist()

    def sum_gradients(self, params: Sequence[torch.Tensor]) -> None:
        """All-reduce (SUM) the gradients of ``params``; a rank without a micro-batch contributes zeros."""
        if not self.active:
            return
        buckets: dict[torch.dtype, list[torch.Tensor]] = {}
        for param in params:
            if param.grad is None:
                param.grad = torch.zeros_like(param)
            buckets.setdefault(param.grad.dtype, []).append(param)
        for group in buckets.values():
            flat = torch.cat([p.grad.reshape(-1) for p in group]).to(self.comm_device)
            torch.distributed.all_reduce(flat, op=torch.distributed.ReduceOp.SUM)
            offset = 0
            for param in group:
                n = param.numel()
                param.grad.copy_(flat[offset : offset + n].view_as(param.grad))
                offset += n

    def gather(self, value: Any) -> list[Any]:
        """``value`` of every rank, in rank order (small picklable values only)."""
        if not self.active:
            return [value]
        out: list[Any] = [None] * self.world
        torch.distributed.all_gather_object(out, value)
        return out


SINGLE = Dist()


def setup(device: str | None) -> tuple[Dist, str | None]:
    """Join the launcher's process group when launched; the device this rank trains on.

    Not launched: returns :data:`SINGLE` and ``device`` untouched, and initialises nothing.
    Under an FSDP or DeepSpeed launch config it refuses (:func:`refuse_unsupported`).
    Launched: accelerate's ``PartialState`` initialises the process group (gloo on CPU,
    NCCL on CUDA) and each process takes ``cuda:LOCAL_RANK`` on a GPU machine.
    """
    refuse_unsupported()
    if launched_world_size() <= 1:
        return SINGLE, device
    if device is not None and device.startswith("cuda:"):
        raise ConfigError(
            f"--device {device}: with several processes each takes the GPU of its local rank; "
            "pass --device cuda (or nothing) and choose GPUs with CUDA_VISIBLE_DEVICES or `accelerate launch --gpu_ids`."
        )
    on_cpu = device == "cpu" or (device is None and not torch.cuda.is_available())
    from accelerate import PartialState

    # Rank 0 tokenizes (and writes the cache) while the others wait at a barrier: on a large
    # corpus that takes longer than torch's default 30-minute collective timeout.
    state = PartialState(cpu=on_cpu, timeout=timedelta(seconds=_TIMEOUT_S))
    if state.num_processes <= 1:
        raise ConfigError(
            f"the launcher asked for {launched_world_size()} processes but no process group could be formed "
            f"(accelerate: {state.distributed_type}). Launch with `accelerate launch --config_file "
            "configs/accelerate/ddp_cpu.yaml` (CPU) or configs/accelerate/ddp_gpu.yaml (GPUs)."
        )
    comm = torch.device("cpu") if state.backend in ("gloo", "mpi") else state.device
    dist = Dist(
        rank=state.process_index,
        world=state.num_processes,
        kind=str(getattr(state.distributed_type, "value", state.distributed_type)),
        backend=state.backend,
        comm_device=comm,
    )
    return dist, ("cpu" if on_cpu else str(state.device))


def idle_warning(dist: Dist, grad_accum: int) -> str | None:
    """The once-per-run warning when some ranks can never get a micro-batch."""
    if dist.world <= grad_accum:
        return None
    return (
        f"train.grad_accum is {grad_accum} with {dist.world} processes: each optimizer step has only "
        f"{grad_accum} micro-batch(es), so {dist.world - grad_accum} process(es) idle every step. The global batch "
        "is batch_size × grad_accum whatever the number of processes; raise train.grad_accum to use them."
    )


def micro_batch_seed(seed: int, index: int) -> int:
    """The torch seed for global micro-batch ``index``'s dropout masks (63 bits, from NumPy's SeedSequence)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


@contextlib.contextmanager
def micro_batch_rng(dropout: float, seed: int, index: int, device: torch.device) -> Iterator[None]:
    """Dropout masks that depend on (seed, micro-batch index) only; nothing happens when ``dropout`` is 0."""
    if not dropout:
        yield
        return
    devices = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(micro_batch_seed(seed, index))
        yield


# --- `train.processes` > 1: the stage launches itself --------------------------------------

ACCELERATE_CONFIGS = {"cpu": "configs/accelerate/ddp_cpu.yaml", "cuda": "configs/accelerate/ddp_gpu.yaml"}


def launch_command(processes: int, config_file: str, device: str | None, argv: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The ``accelerate launch`` command (and environment) that reruns ``mahrem train`` on ``processes`` processes.

    ``train.processes`` in params.yaml makes ``bin/mahrem train`` (the DVC stage's command)
    start itself this way, so ``dvc repro`` runs the same graph on one process or many.
    ``config_file`` ``auto`` is the repository's DDP config for the device (CUDA when
    available or asked for, else the CPU). Each process gets its share of the cores
    (``OMP_NUM_THREADS``) unless the caller set it.

    >>> cmd, env = launch_command(2, "configs/accelerate/ddp_cpu.yaml", "cpu", ["train"])
    >>> cmd[3:8]
    ['launch', '--config_file', 'configs/accelerate/ddp_cpu.yaml', '--num_processes', '2']
    """
    import sys
    from pathlib import Path

    if config_file == "auto":
        cuda = (device or "").startswith("cuda") or (device is None and torch.cuda.is_available())
        config_file = ACCELERATE_CONFIGS["cuda" if cuda else "cpu"]
    if not Path(config_file).is_file():
        raise ConfigError(
            f"train.accelerate_config: {config_file}: no such file. train.processes is {processes}, so `mahrem train` "
            "launches itself with accelerate: run it from the repository root (configs/accelerate/ holds the DDP "
            "configs), name an accelerate config file, or set train.processes: 1."
        )
    env = dict(os.environ)
    if "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) // processes))
    # A free rendezvous port (accelerate's fixed default, 29500, would collide with any other launch on this machine).
    port = env.get("MASTER_PORT") or str(_free_port())
    command = [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch", "--config_file", config_file,
               "--num_processes", str(processes), "--main_process_port", port, "-m", "pipeline.cli", *argv]  # fmt: skip
    return command, env


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
