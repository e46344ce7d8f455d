"""The compute dtype and thread count are chosen from capability flags, never from timings."""

from __future__ import annotations

import pytest

from pipeline import hardware
from pipeline.hardware import CpuFeatures, choose_compute_dtype, choose_threads, parse_cpuinfo

AVX2_EPYC = CpuFeatures("x86_64", frozenset({"fpu", "sse4_2", "avx", "avx2", "fma"}))
AVX512_NO_BF16 = CpuFeatures("x86_64", frozenset({"avx2", "fma", "avx512f", "avx512bw", "avx512_vnni"}))
SAPPHIRE_RAPIDS = CpuFeatures("x86_64", frozenset({"avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}))
AMX_ONLY = CpuFeatures("x86_64", frozenset({"avx2", "avx512f", "amx_tile", "amx_bf16"}))
GRAVITON3 = CpuFeatures("aarch64", frozenset({"fp", "asimd", "sve", "bf16", "i8mm"}))
GRAVITON2 = CpuFeatures("aarch64", frozenset({"fp", "asimd", "asimddp"}))


@pytest.mark.parametrize(
    ("cpu", "expected"),
    [
        (AVX2_EPYC, "float32"),
        (AVX512_NO_BF16, "float32"),
        (SAPPHIRE_RAPIDS, "bfloat16"),
        (AMX_ONLY, "bfloat16"),
        (GRAVITON3, "bfloat16"),
        (GRAVITON2, "float32"),
        (CpuFeatures("unknown"), "float32"),
    ],
    ids=["avx2", "avx512-no-bf16", "avx512-bf16+amx", "amx", "arm-bf16", "arm-no-bf16", "no-flags"],
)
def test_auto_picks_bf16_only_where_the_cpu_has_it_natively(cpu, expected):
    choice = choose_compute_dtype("auto", "cpu", cpu)
    assert choice.dtype == expected
    assert choice.requested == "auto" and choice.device == "cpu"
    assert ("native bfloat16" in choice.reason) and (("lacks" in choice.reason) == (expected == "float32"))


def test_an_x86_flag_named_bf16_does_not_count_on_x86():
    # Only ARM spells its extension "bf16"; on x86 the flags are avx512_bf16 / amx_bf16.
    assert choose_compute_dtype("auto", "cpu", CpuFeatures("x86_64", frozenset({"bf16"}))).dtype == "float32"


def test_the_reason_names_the_flag_that_decided():
    reason = choose_compute_dtype("auto", "cpu", SAPPHIRE_RAPIDS).reason
    assert "avx512_bf16" in reason and "amx_bf16" in reason
    assert choose_compute_dtype("auto", "cpu", SAPPHIRE_RAPIDS).cpu_flags == [
        "avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"
    ]


@pytest.mark.parametrize(("supported", "expected"), [(True, "bfloat16"), (False, "float32")])
def test_cuda_follows_the_devices_bf16_support_not_the_cpu(supported, expected):
    choice = choose_compute_dtype("auto", "cuda:0", AVX2_EPYC, cuda_bf16=supported)
    assert choice.dtype == expected and choice.device == "cuda"


def test_an_explicit_dtype_is_kept_whatever_the_machine():
    for dtype in ("bfloat16", "float16", "float32"):
        choice = choose_compute_dtype(dtype, "cpu", AVX2_EPYC)
        assert choice.dtype == dtype and choice.reason == "set in params.yaml"


def test_an_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="auto or one of"):
        choose_compute_dtype("int8", "cpu", AVX2_EPYC)


def test_the_decision_reads_flags_and_never_runs_a_matmul(monkeypatch):
    import torch

    def forbidden(*_args, **_kwargs):
        raise AssertionError("the dtype decision must not time or run a matmul")

    monkeypatch.setattr(torch, "matmul", forbidden)
    monkeypatch.setattr(torch.nn.functional, "linear", forbidden)
    monkeypatch.setattr(hardware, "this_cpu", lambda: SAPPHIRE_RAPIDS)
    assert choose_compute_dtype("auto", "cpu").dtype == "bfloat16"


def test_cpuinfo_flags_of_x86_and_arm_are_parsed(tmp_path):
    x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx avx2 fma\n\nprocessor\t: 1\nflags\t: fpu\n"
    arm = "processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd evtstrm sve bf16\nCPU implementer\t: 0x41\n"
    assert parse_cpuinfo(x86) == {"fpu", "avx", "avx2", "fma"}
    assert parse_cpuinfo(arm) == {"fp", "asimd", "evtstrm", "sve", "bf16"}
    assert parse_cpuinfo("processor: 0\n") == frozenset()
    (tmp_path / "cpuinfo").write_text(arm, encoding="utf-8")
    assert "bf16" in hardware.cpu_features(tmp_path / "cpuinfo").flags


def test_this_machines_flags_are_read():
    # Every Linux x86 machine that runs torch has at least SSE2; the flags come from /proc/cpuinfo.
    features = hardware.cpu_features()
    if features.arch == "x86_64":
        assert "sse2" in features.flags


def test_threads_auto_uses_every_usable_core(monkeypatch):
    monkeypatch.setattr(hardware, "usable_cores", lambda: (6, "CPU affinity"))
    choice = choose_threads("auto", environ={})
    assert (choice.threads, choice.requested) == (6, "auto") and "every usable core" in choice.reason
    assert choose_threads(0, environ={}).threads == 6  # the old spelling of "one per core"


def test_omp_num_threads_overrides_auto_and_params_override_both(monkeypatch):
    monkeypatch.setattr(hardware, "usable_cores", lambda: (6, "CPU affinity"))
    assert choose_threads("auto", environ={"OMP_NUM_THREADS": "2"}).threads == 2
    assert choose_threads("auto", environ={"OMP_NUM_THREADS": "junk"}).threads == 6
    choice = choose_threads(1, environ={"OMP_NUM_THREADS": "2"})
    assert choice.threads == 1 and choice.reason == "set in params.yaml"


def test_the_cgroup_quota_caps_the_cores(tmp_path, monkeypatch):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert hardware._cgroup_cpu_limit(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert hardware._cgroup_cpu_limit(tmp_path) is None
    monkeypatch.setattr(hardware.os, "sched_getaffinity", lambda _pid: set(range(8)))
    monkeypatch.setattr(hardware, "_cgroup_cpu_limit", lambda: 1.5)
    assert hardware.usable_cores() == (2, "cgroup CPU quota")


def test_params_accept_auto_numbers_and_reject_the_rest():
    from pydantic import ValidationError

    from pipeline.evaluate import EvalParams
    from pipeline.train import TrainParams

    assert TrainParams().compute_dtype == "auto" and TrainParams().threads == "auto"
    assert EvalParams().compute_dtype == "auto" and EvalParams().threads == "auto"
    assert TrainParams(threads=2, compute_dtype="float32").threads == 2
    for bad in ({"threads": -1}, {"threads": "many"}, {"compute_dtype": "fp8"}):
        with pytest.raises(ValidationError):
            TrainParams(**bad)


def test_the_modules_examples_hold():
    import doctest

    result = doctest.testmod(hardware)
    assert result.attempted >= 6 and result.failed == 0
