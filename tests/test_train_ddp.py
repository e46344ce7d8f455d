"""`mahrem train` under `accelerate launch`: 2 real CPU processes (gloo) on the tiny Llama.

Data parallelism must not change the result: with the same global batch, every LoRA weight
of the 2-process adapter is within 1e-4 of the single-process one after 4 float32 steps,
seen.json and the logged losses are the same, a 2-process run killed after a checkpoint
resumes to the same adapter bytes, and unequal shares (grad_accum 3 over 2 ranks) still
match. No mocks: the real launcher, the real CLI, a real gloo process group.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from pipeline.io import write_jsonl
from test_train import ANSWERS, _record as _train_record
from pipeline.train import TrainParams, train_adapter

# Global batch 2 records × grad_accum 2 micro-batches; dropout > 0 so that the dropout masks
# must not depend on which rank runs a micro-batch. float32 so that 1e-4 is a real bound.
PARAMS = {
    "epochs": 2,
    "max_steps": 4,
    "warmup_steps": 1,
    "batch_size": 2,
    "grad_accum": 2,
    "max_seq_len": 64,
    "learning_rate": 3e-2,
    "checkpoint_every": 2,
    "eval_every": 2,
    "eval_batch_size": 4,
    "threads": 1,
    "quantization": "none",
    "compute_dtype": "float32",
    "lora": {"r": 8, "alpha": 16, "dropout": 0.1},
}
TOLERANCE = 1e-4
CONFIG = REPO_ROOT / "configs" / "accelerate" / "ddp_cpu.yaml"


def _record(i: int) -> dict:
    """test_train's toy chat, cut to one exchange (system, user, assistant)."""
    record = _train_record(i)
    return {**record, "messages": record["messages"][:3]}


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("ddp-data")
    write_jsonl(data / "train.jsonl", [_record(i) for i in range(20)])
    write_jsonl(data / "holdout.jsonl", [_record(i) for i in range(100, 107)])
    return data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        env[var] = "1"
    # Not launched by anything: a leftover torchrun variable from the calling shell would make the reference distributed.
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    return env


def _launch(args: list[str], timeout: int = 240) -> subprocess.CompletedProcess:
    """`accelerate launch` with the shipped CPU config, 2 processes, on a free port."""
    command = [
        sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch", "--config_file", str(CONFIG),
        "--num_processes", "2", "--main_process_port", str(_free_port()), *args,
    ]  # fmt: skip
    return subprocess.run(command, cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=timeout)


def _params_file(root: Path, params: dict) -> Path:
    import yaml

    path = root / "params.yaml"
    path.write_text(yaml.safe_dump({"train": params}), encoding="utf-8")
    return path


def _train_cli_launched(model: Path, data: Path, root: Path, params: dict) -> subprocess.CompletedProcess:
    """The documented command: accelerate launch … --no_python bin/mahrem train."""
    root.mkdir(parents=True, exist_ok=True)
    done = _launch(
        ["--no_python", "bin/mahrem", "train", "--base", str(model), "--data", str(data), "--out", str(root / "adapter"),
         "--report", str(root / "reports"), "--work-dir", str(root / "work"), "--params", str(_params_file(root, params)),
         "--device", "cpu"]
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _train_single(model: Path, data: Path, root: Path, params: dict):
    config = TrainParams.model_validate(params)
    return train_adapter(model, data, root / "adapter", root / "reports", config, work_dir=root / "work", device="cpu")


def _weights(root: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(root / "adapter" / "adapter_model.safetensors"))


def _assert_close(parallel: Path, single: Path) -> float:
    a, b = _weights(parallel), _weights(single)
    assert set(a) == set(b) and a
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst <= TOLERANCE, f"largest LoRA weight difference {worst:.2e} > {TOLERANCE}"
    # The weights moved (a test on an untrained adapter would pass trivially).
    assert max(float(t.abs().max()) for k, t in b.items() if "lora_B" in k) > 1e-2
    return worst


def _printed(done: subprocess.CompletedProcess) -> str:
    """What the run printed, with the console's line wrapping undone."""
    return " ".join((done.stdout + done.stderr).split())


def _shares(done: subprocess.CompletedProcess) -> list[tuple[int, int, int]]:
    """(rank, pid, micro-batches) from the line rank 0 prints after training."""
    line = _printed(done).split("micro-batches per process:")[1].split(" of ")[0]
    return [(int(r), int(p), int(n)) for r, p, n in re.findall(r"rank (\d+) \(pid (\d+)\) ran (\d+)", line)]


def _losses(root: Path, name: str) -> list[str]:
    return (root / "reports/live/plots/metrics" / name).read_text().splitlines()


@pytest.fixture(scope="module")
def pair(tiny_model_dir, toy_data, tmp_path_factory):
    """The same params trained by one process (in this one) and by 2 launched processes."""
    single = tmp_path_factory.mktemp("single")
    parallel = tmp_path_factory.mktemp("parallel")
    result = _train_single(tiny_model_dir, toy_data, single, PARAMS)
    done = _train_cli_launched(tiny_model_dir, toy_data, parallel, PARAMS)
    return single, parallel, result, done


def test_two_processes_match_one_process(pair):
    single, parallel, result, done = pair
    _assert_close(parallel, single)
    # seen.json is computed from the deterministic order: byte for byte the same (and so is the adapter's config).
    assert (parallel / "reports/seen.json").read_bytes() == (single / "reports/seen.json").read_bytes()
    config = (parallel / "adapter/adapter_config.json").read_bytes()
    assert config == (single / "adapter/adapter_config.json").read_bytes()
    summary = json.loads((parallel / "reports/summary.json").read_text())
    for key in ("steps", "epochs", "tokens_seen", "tokens_nonpad", "tokens_trained", "holdout_eval_records",
                "holdout_tokens_scored", "seen_records", "seen_unseen"):  # fmt: skip
        assert summary[key] == result.summary[key], key
    # The losses were summed over both ranks: the same figures as one process (step 1 from the same weights).
    assert summary["holdout_loss_base"] == result.summary["holdout_loss_base"]
    assert abs(summary["holdout_loss_adapter"] - result.summary["holdout_loss_adapter"]) < 1e-5
    first_single, first_parallel = _losses(single, "train/loss.tsv")[1], _losses(parallel, "train/loss.tsv")[1]
    assert first_single == first_parallel
    assert len(_losses(parallel, "train/loss.tsv")) == len(_losses(single, "train/loss.tsv")) == 1 + PARAMS["max_steps"]


def test_two_distinct_processes_each_ran_half_and_only_rank_0_wrote(pair):
    single, parallel, _, done = pair
    shares = _shares(done)
    assert [rank for rank, _, _ in shares] == [0, 1]
    assert len({pid for _, pid, _ in shares}) == 2 and os.getpid() not in {pid for _, pid, _ in shares}
    # 4 steps × 2 micro-batches, dealt 1 and 1 per step: neither rank could have trained alone, so the
    # adapter matching the single-process one (above) proves the gradients were summed across them.
    assert [n for _, _, n in shares] == [4, 4]
    # One adapter, one report, written once; no record content in what was printed.
    assert sorted(p.name for p in (parallel / "adapter").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    assert not any(answer in done.stdout + done.stderr for answer in ANSWERS)
    assert _printed(done).count("train: 4 steps on cpu") == 1
    assert _printed(done).count("data parallel over 2 processes (MULTI_CPU, gloo)") == 1
    assert not any((parallel / "work" / "checkpoints").glob("*/step-*"))  # cleaned up by rank 0


def test_unequal_shares_in_nf4_grad_accum_3_over_2_ranks_still_match(tiny_model_dir, toy_data, tmp_path):
    """QLoRA (4-bit NF4 base) with 3 micro-batches per step dealt 2 + 1: a different float order, same result."""
    params = {**PARAMS, "quantization": "nf4", "grad_accum": 3, "checkpoint_every": 0, "eval_every": 0}
    single = _train_single(tiny_model_dir, toy_data, tmp_path / "single", params)
    done = _train_cli_launched(tiny_model_dir, toy_data, tmp_path / "parallel", params)
    _assert_close(tmp_path / "parallel", tmp_path / "single")
    assert (tmp_path / "parallel/reports/seen.json").read_bytes() == (tmp_path / "single/reports/seen.json").read_bytes()
    assert [n for _, _, n in _shares(done)] == [8, 4]  # 4 steps of 3 micro-batches: 2 + 1 each
    assert single.summary["steps"] == 4 and single.summary["quantization"] == "nf4"


_KILLED = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from pipeline.train import TrainParams, train_adapter

    base, data, root, params, kill_at = sys.argv[1:6]
    root = Path(root)

    def progress(step, total, metrics):  # called on rank 0 only
        if step == int(kill_at):
            os.kill(os.getpid(), signal.SIGKILL)

    train_adapter(Path(base), Path(data), root / "adapter", root / "reports",
                  TrainParams.model_validate(json.loads(params)), work_dir=root / "work", device="cpu",
                  progress=progress)
    """
)


def test_two_process_run_killed_after_a_checkpoint_resumes_to_the_same_adapter(pair, tiny_model_dir, toy_data, tmp_path):
    _, parallel, _, _ = pair
    script = tmp_path / "killed_run.py"
    script.write_text(_KILLED, encoding="utf-8")
    root = tmp_path / "run"
    killed = _launch([str(script), str(tiny_model_dir), str(toy_data), str(root), json.dumps(PARAMS), "3"])
    assert killed.returncode != 0 and not (root / "adapter").exists(), killed.stderr[-2000:]
    (run_dir,) = (root / "work" / "checkpoints").iterdir()
    assert sorted(p.name for p in run_dir.iterdir()) == ["step-00000002"]

    done = _train_cli_launched(tiny_model_dir, toy_data, root, PARAMS)

    assert "resumed from step 2" in _printed(done)
    assert (root / "adapter/adapter_model.safetensors").read_bytes() == (
        parallel / "adapter/adapter_model.safetensors"
    ).read_bytes()
    assert (root / "reports/seen.json").read_bytes() == (parallel / "reports/seen.json").read_bytes()
    assert _losses(root, "train/loss.tsv") == _losses(parallel, "train/loss.tsv")


def test_not_launched_means_no_process_group(monkeypatch):
    import torch

    from pipeline.train.distributed import SINGLE, launched_rank, launched_world_size, setup

    for var in ("WORLD_SIZE", "RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)
    assert setup("cpu") == (SINGLE, "cpu") and launched_world_size() == 1 and launched_rank() == 0
    assert not torch.distributed.is_initialized()
    assert SINGLE.share(3) == [0, 1, 2] and SINGLE.placed_sum({0: 1.5, 1: 2.0}, 2) == [1.5, 2.0]


def test_the_shipped_fsdp_config_launches_and_is_refused_with_a_clear_message(tiny_model_dir, toy_data, tmp_path):
    """FSDP-QLoRA is not implemented (and cannot run on a CPU): its config is accepted by accelerate, and
    `mahrem train` stops on every rank with a message naming the DDP configs, having written nothing."""
    from pipeline.config import ConfigError
    from pipeline.train.distributed import refuse_unsupported

    with pytest.raises(ConfigError, match=r"FSDP is not implemented.*ddp_gpu\.yaml"):
        refuse_unsupported({"ACCELERATE_USE_FSDP": "true"})
    refuse_unsupported({})  # plain DDP: nothing to refuse

    command = [
        sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch", "--config_file",
        str(CONFIG.with_name("fsdp_qlora.yaml")), "--num_processes", "2", "--main_process_port", str(_free_port()),
        "--no_python", "bin/mahrem", "train", "--base", str(tiny_model_dir), "--data", str(toy_data),
        "--out", str(tmp_path / "adapter"), "--report", str(tmp_path / "reports"), "--work-dir", str(tmp_path / "work"),
        "--params", str(_params_file(tmp_path, PARAMS)),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode != 0
    assert "distributed_type FSDP is not implemented by `mahrem train` yet" in _printed(done)
    assert not (tmp_path / "adapter").exists() and not (tmp_path / "reports").exists()


def test_train_processes_in_params_makes_mahrem_train_launch_itself(pair, tiny_model_dir, toy_data, tmp_path):
    """`train.processes: 2` and a plain `bin/mahrem train` (the DVC stage's command): the same 2-process adapter."""
    _, parallel, _, _ = pair
    root = tmp_path / "run"
    root.mkdir()
    params = _params_file(root, {**PARAMS, "processes": 2})
    env = {**_env(), "MASTER_PORT": str(_free_port())}
    env.pop("OMP_NUM_THREADS")  # the launcher gives each process its share of the cores
    done = subprocess.run(
        [str(REPO_ROOT / "bin" / "mahrem"), "train", "--base", str(tiny_model_dir), "--data", str(toy_data),
         "--out", str(root / "adapter"), "--report", str(root / "reports"), "--work-dir", str(root / "work"),
         "--params", str(params), "--device", "cpu"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "launching 2 processes with accelerate" in _printed(done)
    assert len({pid for _, pid, _ in _shares(done)}) == 2
    assert (root / "adapter/adapter_model.safetensors").read_bytes() == (
        parallel / "adapter/adapter_model.safetensors"
    ).read_bytes()
    assert (root / "reports/seen.json").read_bytes() == (parallel / "reports/seen.json").read_bytes()


def test_a_missing_accelerate_config_is_a_clear_error(tmp_path):
    from pipeline.config import ConfigError
    from pipeline.train.distributed import launch_command

    with pytest.raises(ConfigError, match=r"train.accelerate_config: .*nope.yaml: no such file.*train.processes: 1"):
        launch_command(2, str(tmp_path / "nope.yaml"), "cpu", ["train"])
