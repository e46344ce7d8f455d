"""What this machine offers, and the compute dtype and thread count chosen from it.

Defaults tuned on one CPU must not collapse on another: on an AVX2-only CPU a bfloat16
matmul has no native kernel and runs about 7x slower than float32 (8.0 vs 54.6 GFLOP/s,
one thread, torch 2.13), while on a CPU with AVX512-BF16 or AMX, or on a CUDA GPU of
compute capability 8.0+, bfloat16 is the fast path. So ``compute_dtype: auto`` picks
bfloat16 only where it is native and float32 everywhere else.

The decision is made from capability flags only (``/proc/cpuinfo``, ``sysctl`` on macOS,
``torch.cuda.is_bf16_supported``), never from a timing probe, whose answer would change
with the machine's load. Each decision carries its reason, which the train summary,
the evaluate reports and the provenance record.

``threads: auto`` uses every core this process may run on: the CPU affinity mask and the
cgroup CPU quota, which is how a container, a batch scheduler or ``taskset`` shares a
machine. ``OMP_NUM_THREADS``, the usual knob of a shared host, overrides it when set;
a number in ``params.yaml`` overrides both.

>>> choose_compute_dtype("auto", "cpu", CpuFeatures("x86_64", frozenset({"avx2", "fma"}))).dtype
'float32'
>>> choose_compute_dtype("auto", "cpu", CpuFeatures("x86_64", frozenset({"avx512_bf16"}))).dtype
'bfloat16'
>>> choose_compute_dtype("auto", "cpu", CpuFeatures("aarch64", frozenset({"asimd", "bf16"}))).dtype
'bfloat16'
>>> choose_compute_dtype("float16", "cpu", CpuFeatures("x86_64", frozenset())).reason
'set in params.yaml'
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import platform
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

DTYPES = ("bfloat16", "float16", "float32")
ComputeDtype = Literal["auto", "bfloat16", "float16", "float32"]
# A thread count in params.yaml: "auto" (0 means the same) or a positive number.
Threads = Annotated[int, Field(ge=0, le=1024)] | Literal["auto"]

# x86 flags (Linux /proc/cpuinfo names) that mean bfloat16 matmuls run in hardware.
X86_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
# ARM: the BF16 extension (FEAT_BF16); Linux lists it as "bf16" in Features.
ARM_BF16_FLAGS = ("bf16",)
# Flags shown in logs and the provenance: what the decision looked at, and the SIMD level.
REPORTED_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16", "asimd", "sve", "bf16")


@dataclass(frozen=True)
class CpuFeatures:
    """The CPU's architecture and its capability flags, lower-case (``avx2``, ``amx_bf16``, ``bf16``)."""

    arch: str
    flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_arm(self) -> bool:
        return self.arch.lower() in ("aarch64", "arm64") or self.arch.lower().startswith("armv")

    @property
    def native_bf16(self) -> bool:
        wanted = ARM_BF16_FLAGS if self.is_arm else X86_BF16_FLAGS
        return any(flag in self.flags for flag in wanted)

    def reported(self) -> list[str]:
        """The capability flags worth recording (present ones only), in a fixed order."""
        return [flag for flag in REPORTED_FLAGS if flag in self.flags]


def parse_cpuinfo(text: str) -> frozenset[str]:
    """The flags of ``/proc/cpuinfo`` (x86 ``flags``, ARM ``Features``) of its first processor.

    >>> sorted(parse_cpuinfo("processor: 0\\nflags\\t: fpu avx2 FMA\\n\\nprocessor: 1\\nflags: fpu\\n"))
    ['avx2', 'fma', 'fpu']
    >>> sorted(parse_cpuinfo("Features\\t: fp asimd bf16 sve\\n"))
    ['asimd', 'bf16', 'fp', 'sve']
    """
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ("flags", "features"):
            return frozenset(value.lower().split())
    return frozenset()


def _macos_flags() -> frozenset[str]:
    """Apple silicon: ``sysctl hw.optional.arm.FEAT_BF16`` is 1 where BF16 instructions exist."""
    try:
        out = subprocess.run(
            ["sysctl", "-n", "hw.optional.arm.FEAT_BF16"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset({"bf16"}) if out == "1" else frozenset()


def cpu_features(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuFeatures:
    """This machine's CPU flags; an empty set where the OS does not tell (then nothing is assumed native)."""
    arch = platform.machine() or "unknown"
    try:
        flags = parse_cpuinfo(cpuinfo.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        flags = _macos_flags() if platform.system() == "Darwin" else frozenset()
    return CpuFeatures(arch=arch, flags=flags)


@functools.lru_cache(maxsize=1)
def this_cpu() -> CpuFeatures:
    """:func:`cpu_features` of this machine, read once per process (flags do not change while it runs)."""
    return cpu_features()


def cuda_bf16_supported() -> bool:
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


@dataclass(frozen=True)
class DtypeChoice:
    """The compute dtype a stage runs in, what was asked for, and why."""

    # read back from a report (pipeline.reports) an unknown key is an error, as in every report part
    __pydantic_config__ = {"extra": "forbid"}

    dtype: str
    requested: str
    reason: str
    device: str
    cpu_arch: str
    cpu_flags: list[str]

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def choose_compute_dtype(
    requested: str, device: str, cpu: CpuFeatures | None = None, *, cuda_bf16: bool | None = None
) -> DtypeChoice:
    """``requested`` when it names a dtype, else bfloat16 where it is native and float32 elsewhere.

    ``device`` is a torch device type or name (``cpu``, ``cuda``, ``cuda:1``). ``cpu`` and
    ``cuda_bf16`` default to this machine's; tests pass their own.
    """
    if requested != "auto" and requested not in DTYPES:
        raise ValueError(f"compute dtype {requested!r}: use auto or one of {', '.join(DTYPES)}")
    cpu = cpu if cpu is not None else this_cpu()
    kind = str(device).split(":")[0]
    record = {"requested": requested, "device": kind, "cpu_arch": cpu.arch, "cpu_flags": cpu.reported()}
    if requested != "auto":
        return DtypeChoice(dtype=requested, reason="set in params.yaml", **record)
    if kind == "cuda":
        native = cuda_bf16_supported() if cuda_bf16 is None else cuda_bf16
        if native:
            return DtypeChoice(dtype="bfloat16", reason="CUDA device with native bfloat16", **record)
        return DtypeChoice(dtype="float32", reason="CUDA device without bfloat16 support", **record)
    if cpu.native_bf16:
        present = [f for f in (ARM_BF16_FLAGS if cpu.is_arm else X86_BF16_FLAGS) if f in cpu.flags]
        return DtypeChoice(dtype="bfloat16", reason=f"CPU has native bfloat16 ({', '.join(present)})", **record)
    wanted = "bf16" if cpu.is_arm else "avx512_bf16 or amx_bf16"
    return DtypeChoice(
        dtype="float32", reason=f"CPU lacks native bfloat16 (no {wanted}); float32 is several times faster", **record
    )


@dataclass(frozen=True)
class ThreadChoice:
    """The torch thread count a stage runs with, what was asked for, and why."""

    __pydantic_config__ = {"extra": "forbid"}

    threads: int
    requested: int | str
    reason: str

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def _cgroup_cpu_limit(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by the cgroup quota (v2 ``cpu.max``, v1 ``cfs_quota/period``); None when unlimited."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        if quota != "max":
            return int(quota) / int(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def usable_cores() -> tuple[int, str]:
    """Cores this process may use (affinity mask, then cgroup quota), and where the figure came from."""
    try:
        cores, source = len(os.sched_getaffinity(0)), "CPU affinity"
    except (AttributeError, OSError):
        cores, source = os.cpu_count() or 1, "os.cpu_count"
    limit = _cgroup_cpu_limit()
    if limit is not None and math.ceil(limit) < cores:
        cores, source = max(1, math.ceil(limit)), "cgroup CPU quota"
    return cores, source


def choose_threads(requested: int | str, *, environ: dict[str, str] | None = None) -> ThreadChoice:
    """A positive ``requested`` as is; ``auto`` (or 0): ``OMP_NUM_THREADS`` if set, else every usable core.

    >>> choose_threads(3).threads
    3
    >>> choose_threads("auto", environ={"OMP_NUM_THREADS": "1"}).reason
    'OMP_NUM_THREADS=1'
    """
    if isinstance(requested, int) and requested > 0:
        return ThreadChoice(threads=requested, requested=requested, reason="set in params.yaml")
    if requested not in ("auto", 0):
        raise ValueError(f"threads {requested!r}: use auto or a positive number")
    env = os.environ if environ is None else environ
    omp = env.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) > 0:
        return ThreadChoice(threads=int(omp), requested="auto", reason=f"OMP_NUM_THREADS={omp}")
    cores, source = usable_cores()
    return ThreadChoice(threads=cores, requested="auto", reason=f"every usable core ({source})")


@dataclass(frozen=True)
class MachineSettings:
    """The compute dtype and thread count a stage runs with on this machine, each with its reason."""

    dtype: DtypeChoice
    threads: ThreadChoice

    def as_record(self) -> dict[str, Any]:
        """What the reports and the provenance record under ``machine``."""
        return {"compute_dtype": self.dtype.as_record(), "threads": self.threads.as_record()}

    def describe(self) -> str:
        """One log line: ``float32 on cpu (CPU lacks native bfloat16 …), 2 threads (every usable core …)``."""
        return (
            f"{self.dtype.dtype} on {self.dtype.device} ({self.dtype.reason}), "
            f"{self.threads.threads} threads ({self.threads.reason})"
        )


def choose_settings(compute_dtype: str, threads: int | str, device: str) -> MachineSettings:
    """:func:`choose_compute_dtype` and :func:`choose_threads` together, for one stage on ``device``."""
    return MachineSettings(choose_compute_dtype(compute_dtype, device), choose_threads(threads))


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[int]:
    """Run the block with ``threads`` torch threads, restored afterwards (tests share one process)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
