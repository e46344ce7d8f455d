"""The train stage on the tiny random Llama: 4-bit layers, LoRA only, determinism, exact
resume after a hard kill, PEFT round-trip, metrics contract, clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from pipeline.config import ConfigError, load_params
from pipeline.io import InputError
from pipeline.train import TrainParams, train_adapter

# Small enough to run in seconds, long enough for the loss to move and for the run to
# cross checkpoints (every 2 steps) and evaluations (every 4). One thread: the test
# machine is shared, and the thread count is part of what makes a run reproducible.
PARAMS = {
    "epochs": 2,
    "max_steps": 12,
    "warmup_steps": 1,
    "batch_size": 2,
    "max_seq_len": 64,
    "learning_rate": 3e-2,
    "checkpoint_every": 2,
    "eval_every": 4,
    "eval_batch_size": 4,
    "threads": 1,
    "lora": {"r": 8, "alpha": 16, "dropout": 0.1},  # dropout: the resume must restore the RNG
}
KILL_AT_STEP = 5  # after the checkpoint of step 4, before the one of step 6

SUMMARY_KEYS = {
    "steps", "epochs", "tokens_seen", "tokens_nonpad", "tokens_trained", "wall_s", "tokens_per_s",
    "peak_rss_mb", "peak_gpu_mb", "trainable_params", "total_params", "trainable_share", "quantization",
    "device", "seed", "holdout_loss_base", "holdout_loss_adapter", "train_loss_final", "records_train",
    "records_holdout", "truncated_records", "resumed_from_step", "versions", "compute_dtype", "threads", "machine",
}  # fmt: skip

ANSWERS = ["Kargo takip numarası nedir?", "Merhaba, kartım çalındı.", "Randevumu ertelemek istiyorum."]


def _record(i: int) -> dict:
    return {
        "id": f"r{i}",
        "messages": [
            {"role": "system", "content": "Sen bir asistansın."},
            {"role": "user", "content": "Siparişim nerede? " * (1 + i % 3)},
            {"role": "assistant", "content": ANSWERS[i % 3]},
            {"role": "user", "content": "0123456789"},
            {"role": "assistant", "content": ANSWERS[(i + 1) % 3]},
        ],
        "source": "test",
    }


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("train-data")
    plain_text = {"id": "t", "text": "Merhaba, kartım çalındı."}
    _write(data / "train.jsonl", [_record(i) for i in range(14)] + [plain_text])
    _write(data / "holdout.jsonl", [_record(i) for i in range(100, 106)])
    return data


def _run(tiny_model_dir: Path, data: Path, root: Path, params: dict | None = None, **kwargs):
    config = TrainParams.model_validate(params or PARAMS)
    return train_adapter(
        tiny_model_dir, data, root / "adapter", root / "reports", config, work_dir=root / "work", **kwargs
    )


@pytest.fixture(scope="module")
def trained(tiny_model_dir, toy_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    calls = []
    result = _run(tiny_model_dir, toy_data, root, progress=lambda s, t, m: calls.append((s, t, dict(m))))
    return root, result, calls


def test_base_layers_are_4bit_and_only_lora_trains(tiny_model_dir):
    import bitsandbytes as bnb
    import torch

    from pipeline.train.model import attach_lora, load_base

    config = TrainParams.model_validate(PARAMS)
    model = attach_lora(load_base(tiny_model_dir, config, torch.device("cpu")), config)
    layers = model.get_base_model().model.layers
    assert isinstance(layers[0].self_attn.q_proj.base_layer, bnb.nn.Linear4bit)
    assert isinstance(layers[1].mlp.down_proj.base_layer, bnb.nn.Linear4bit)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_A" in n or "lora_B" in n for n in trainable)
    # every linear layer of every block carries an adapter ("all-linear")
    assert len(trainable) == 2 * 7 * len(layers)


def test_training_lowers_train_and_holdout_loss(trained):
    root, result, _ = trained
    assert result.holdout_loss_adapter < result.holdout_loss_base - 0.15
    rows = (root / "reports/live/plots/metrics/train/loss.tsv").read_text().splitlines()[1:]
    losses = [float(row.split("\t")[1]) for row in rows]
    assert len(losses) == PARAMS["max_steps"]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.15


def test_progress_is_reported_after_each_step_with_counts_only(trained):
    _, _, calls = trained
    assert [(s, t) for s, t, _ in calls] == [(s, PARAMS["max_steps"]) for s in range(PARAMS["max_steps"] + 1)]
    assert set(calls[1][2]) == {"loss", "lr", "tokens_per_s"}
    assert "holdout_loss" in calls[0][2] and "holdout_loss" in calls[4][2] and "holdout_loss" in calls[12][2]
    assert all(isinstance(v, float) for _, _, m in calls for v in m.values())


def test_summary_has_the_contract_keys_and_dvclive_curves_exist(trained, toy_data):
    root, result, _ = trained
    summary = json.loads((root / "reports" / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary == result.summary
    assert summary["steps"] == 12 and summary["resumed_from_step"] is None
    assert summary["quantization"] == "nf4" and summary["device"] == "cpu" and summary["peak_gpu_mb"] is None
    assert summary["records_train"] == 15 and summary["records_holdout"] == 6
    assert summary["tokens_seen"] >= summary["tokens_nonpad"] >= summary["tokens_trained"] > 0
    assert 0 < summary["trainable_share"] < 1
    # The machine decision is recorded: asked for, chosen, and why (PARAMS leave the dtype on auto).
    from pipeline.hardware import choose_compute_dtype

    assert summary["compute_dtype"] == choose_compute_dtype("auto", "cpu").dtype
    assert summary["machine"]["compute_dtype"]["requested"] == "auto" and summary["machine"]["compute_dtype"]["reason"]
    # The chain of custody: the data it trained on, the adapter it wrote (SHA-256, never content).
    from pipeline.config import file_digest

    assert summary["chain"]["inputs"][(toy_data / "train.jsonl").as_posix()] == file_digest(toy_data / "train.jsonl")
    written = {Path(k).name: v for k, v in summary["chain"]["outputs"].items()}
    assert written["adapter_model.safetensors"] == file_digest(root / "adapter/adapter_model.safetensors")
    assert summary["threads"] == 1 and summary["machine"]["threads"] == {
        "threads": 1, "requested": 1, "reason": "set in params.yaml"}
    assert set(summary["versions"]) == {"torch", "transformers", "peft", "bitsandbytes"}
    live = root / "reports" / "live"
    for name in ("train/loss", "train/lr", "train/tokens_per_s", "eval/holdout_loss"):
        assert (live / "plots" / "metrics" / f"{name}.tsv").is_file(), name
    holdout = (live / "plots/metrics/eval/holdout_loss.tsv").read_text().splitlines()
    assert holdout[0] == "step\tholdout_loss"
    assert [line.split("\t")[0] for line in holdout[1:]] == ["0", "4", "8", "12"]
    assert not (live / "dvc.yaml").exists()  # the lead's dvc.yaml declares the plots, DVCLive does not
    html = (root / "reports" / "report.html").read_text()
    assert "<svg" in html and "holdout loss" in html
    # No record content in any report.
    for text in (json.dumps(summary), html, *(p.read_text() for p in live.rglob("*.tsv"))):
        assert not any(answer in text for answer in ANSWERS) and "Siparişim" not in text
    # The run's checkpoints are removed once the adapter is written.
    assert not any((root / "work" / "checkpoints").glob("*/step-*"))


def test_adapter_reloads_with_peft_and_changes_the_outputs(trained, tiny_model_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    root, _, _ = trained
    adapter = root / "adapter"
    assert sorted(p.name for p in adapter.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert not os.path.isabs(config["base_model_name_or_path"])
    assert config["r"] == 8 and config["peft_type"] == "LORA"
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    ids = torch.tensor([[1, 60, 61, 62, 63, 64]])
    with torch.no_grad():
        before = base(input_ids=ids).logits
        tuned = PeftModel.from_pretrained(base, adapter).eval()
        after = tuned(input_ids=ids).logits
    assert (after - before).abs().max() > 1e-3


def test_same_params_twice_give_identical_adapter_bytes(trained, tiny_model_dir, toy_data, tmp_path):
    root, first, _ = trained
    second = _run(tiny_model_dir, toy_data, tmp_path)
    assert (tmp_path / "adapter/adapter_model.safetensors").read_bytes() == (
        root / "adapter/adapter_model.safetensors"
    ).read_bytes()
    assert second.holdout_loss_adapter == first.holdout_loss_adapter


_KILLED_RUN = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from pipeline.train import TrainParams, train_adapter

    base, data, root, params, kill_at = sys.argv[1:6]
    root = Path(root)

    def progress(step, total, metrics):
        if step == int(kill_at):
            os.kill(os.getpid(), signal.SIGKILL)  # a hard stop: no cleanup, no finally blocks

    train_adapter(Path(base), Path(data), root / "adapter", root / "reports",
                  TrainParams.model_validate(json.loads(params)), work_dir=root / "work", progress=progress)
    """
)


def test_resume_after_sigkill_ends_with_the_same_adapter(trained, tiny_model_dir, toy_data, tmp_path):
    root, uninterrupted, _ = trained
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, str(tiny_model_dir), str(toy_data), str(tmp_path), json.dumps(PARAMS),
         str(KILL_AT_STEP)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (tmp_path / "adapter").exists()
    (run_dir,) = (tmp_path / "work" / "checkpoints").iterdir()
    assert sorted(p.name for p in run_dir.iterdir()) == ["step-00000004"]
    # A checkpoint being written when the kill came: a hidden temporary, to be ignored.
    (run_dir / ".step-00000006.abcd.tmp").mkdir()
    (run_dir / ".step-00000006.abcd.tmp" / "progress.json").write_text("{broken")

    resumed = _run(tiny_model_dir, toy_data, tmp_path)

    assert resumed.resumed_from_step == 4 and resumed.summary["resumed_from_step"] == 4
    assert (tmp_path / "adapter/adapter_model.safetensors").read_bytes() == (
        root / "adapter/adapter_model.safetensors"
    ).read_bytes()
    assert resumed.holdout_loss_adapter == uninterrupted.holdout_loss_adapter
    assert resumed.summary["tokens_trained"] == uninterrupted.summary["tokens_trained"]
    # The curves are complete: the history before the kill was restored from the checkpoint.
    for name in ("train/loss.tsv", "train/lr.tsv", "eval/holdout_loss.tsv"):
        assert (tmp_path / "reports/live/plots/metrics" / name).read_text() == (
            root / "reports/live/plots/metrics" / name
        ).read_text(), name


def test_plain_lora_without_quantization_trains(tiny_model_dir, toy_data, tmp_path):
    params = {**PARAMS, "quantization": "none", "max_steps": 4, "eval_every": 0, "checkpoint_every": 0}
    result = _run(tiny_model_dir, toy_data, tmp_path, params)
    assert result.summary["quantization"] == "none"
    assert result.holdout_loss_adapter < result.holdout_loss_base
    import torch
    from safetensors.torch import load_file

    tensors = load_file(str(tmp_path / "adapter/adapter_model.safetensors"))
    assert tensors and all(t.dtype == torch.float32 for t in tensors.values())


def test_unknown_params_key_is_a_clear_error(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  learning_rat: 0.001\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"train\.learning_rat': unknown key"):
        load_params("train", TrainParams, params)
    params.write_text("train:\n  max_steps: 5\n  warmup_steps: 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="warmup_steps .5. must be below max_steps"):
        load_params("train", TrainParams, params)
    params.write_text("train:\n  quantization: int3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"train\.quantization"):
        load_params("train", TrainParams, params)


def test_empty_data_dir_is_a_clear_error(tiny_model_dir, tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(InputError, match=r"train\.jsonl: missing.*mahrem anonymize"):
        _run(tiny_model_dir, tmp_path / "data", tmp_path)
    assert not (tmp_path / "adapter").exists()


def test_default_params_describe_the_shipped_recipe():
    config = TrainParams()
    assert (config.quantization, config.double_quant, config.compute_dtype) == ("nf4", True, "auto")
    assert config.threads == "auto"
    assert config.lora.target_modules == "all-linear"
    # One full epoch (max_steps 0): every record and canary is seen, as the privacy evaluation needs.
    assert config.max_steps == 0 and config.epochs == 1


def test_params_yaml_ships_the_documented_defaults():
    """params.yaml `train:` holds exactly the defaults documented in pipeline/train/config.py."""
    shipped = load_params("train", TrainParams, REPO_ROOT / "params.yaml")
    differing = {k: (v, getattr(TrainParams(), k)) for k, v in shipped if v != getattr(TrainParams(), k)}
    assert not differing, f"params.yaml train: differs from the code defaults (shipped, documented): {differing}"


@pytest.fixture(scope="module")
def default_inputs(tmp_path_factory):
    """The real default base (SmolLM2-135M from its wheel) and the real anonymized sample, built here.

    Built by the stages' own functions, never taken from an earlier run's outputs: on a clean
    checkout (CI) there are none, and a test that skipped there would prove nothing.
    """
    from pipeline.base import build_base
    from pipeline.config import BaseParams, SampleParams
    from pipeline.keys import PseudonymKey
    from pipeline.scan.analyzer import get_analyzer
    from pipeline.anonymize.stage import AnonymizeInput, anonymize_dataset
    from pipeline.policy import load_policy
    from pipeline.scan.stage import InputFile, ScanConfig, scan_files
    from pipeline.sample import SampleConfig, write_sample

    root = tmp_path_factory.mktemp("defaults")
    params = REPO_ROOT / "params.yaml"
    build_base(root / "base", load_params("base", BaseParams, params))
    sample = load_params("sample", SampleParams, params)
    raw = root / "raw" / "sample.jsonl"
    raw.parent.mkdir()
    write_sample(raw, root / "raw" / "sample.labels.jsonl", SampleConfig(seed=sample.seed, n_records=sample.n_records))
    key = PseudonymKey(b"3c5e7092b4d6f5b0c3e9a7f1d2468ace013579bdf2468a1c3e5f70b2d4f6081a")
    recognizers = REPO_ROOT / "policies" / "recognizers"
    scan_files([InputFile(raw, "sample")], root / "scan", ScanConfig(workers=1, recognizer_dir=recognizers), key)
    anonymize_dataset([AnonymizeInput(raw, "sample", False)], root / "scan" / "findings.jsonl", root / "data",
                      root / "report", load_policy(REPO_ROOT / "policies" / "kvkk.yaml"), key,
                      get_analyzer(str(recognizers), 0.5).analyze)  # fmt: skip
    return root / "base", root / "data"


@pytest.mark.slow
def test_smollm2_trains_a_few_steps_in_4bit(default_inputs, tmp_path):
    """The real base on the real anonymized data, in NF4."""
    base, data = default_inputs
    params = {"max_steps": 3, "warmup_steps": 0, "max_seq_len": 96, "eval_batch_size": 25, "checkpoint_every": 0}
    result = train_adapter(base, data, tmp_path / "adapter", tmp_path / "reports",
                           TrainParams.model_validate(params), work_dir=tmp_path / "work")  # fmt: skip
    assert result.summary["steps"] == 3 and result.summary["quantization"] == "nf4"
    assert result.summary["trainable_share"] < 0.05
    assert result.holdout_loss_adapter < result.holdout_loss_base
    assert (tmp_path / "adapter/adapter_model.safetensors").stat().st_size > 1_000_000


def test_auto_dtype_follows_the_cpu_flags_through_the_stage(tiny_model_dir, toy_data, tmp_path, monkeypatch):
    """Mocked capability flags (never a timing) decide the dtype the real stage trains in."""
    from pipeline import hardware

    amx = hardware.CpuFeatures("x86_64", frozenset({"avx2", "avx512f", "avx512_bf16", "amx_bf16"}))
    monkeypatch.setattr(hardware, "this_cpu", lambda: amx)
    params = {**PARAMS, "max_steps": 2, "checkpoint_every": 0, "eval_every": 0}
    summary = _run(tiny_model_dir, toy_data, tmp_path, params).summary
    assert summary["compute_dtype"] == "bfloat16"
    assert "avx512_bf16" in summary["machine"]["compute_dtype"]["reason"]

    avx2 = hardware.CpuFeatures("x86_64", frozenset({"avx2", "fma"}))
    monkeypatch.setattr(hardware, "this_cpu", lambda: avx2)
    summary = _run(tiny_model_dir, toy_data, tmp_path / "again", params).summary
    assert summary["compute_dtype"] == "float32"
    assert summary["machine"]["compute_dtype"]["cpu_flags"] == ["avx2", "fma"]
