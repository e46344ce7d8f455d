"""The base stage: checkpoint round-trip, digests, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.base.checkpoint import BaseModelError, build_base, greedy_tokens, locate_default_gguf
from pipeline.config import BaseParams, file_digest


def test_local_hf_directory_round_trips_with_digests(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "base"
    result = build_base(out, BaseParams(source=str(tiny_model_dir), check_new_tokens=8))
    digest = json.loads((out / "digest.json").read_text())
    assert digest["roundtrip"]["identical"] is True
    assert set(digest["files"]) >= {"model.safetensors", "config.json", "tokenizer.json"}
    for name, sha in digest["files"].items():
        assert file_digest(out / name) == sha
    assert digest["source_sha256"]  # the source directory's files are digested too
    # Tied embeddings: the head is not stored, and the reloaded model still matches.
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), "pt") as handle:
        assert "lm_head.weight" not in handle.keys()
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.chat_template
    assert greedy_tokens(model, tokenizer, "merhaba", 8) == result.generated_tokens


def test_base_is_not_written_when_source_is_missing(tmp_path):
    with pytest.raises(BaseModelError, match="neither 'smollm2-gguf' nor a local"):
        build_base(tmp_path / "base", BaseParams(source=str(tmp_path / "missing")))
    assert not (tmp_path / "base").exists()


def test_default_gguf_is_located_from_installed_distribution():
    path = locate_default_gguf()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


@pytest.mark.slow
def test_smollm2_gguf_round_trips_to_safetensors(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "base"
    result = build_base(out, BaseParams())
    assert result.parameters > 100_000_000
    digest = json.loads((out / "digest.json").read_text())
    assert list(digest["source_sha256"]) == [locate_default_gguf().name]
    # Independently of the stage's own check: reload and compare with the GGUF model.
    gguf = locate_default_gguf()
    source = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(out)
    reloaded = AutoModelForCausalLM.from_pretrained(out)
    prompt = "Merhaba, siparişim nerede?"
    assert greedy_tokens(reloaded, tokenizer, prompt, 12) == greedy_tokens(source, tokenizer, prompt, 12)


PIN = Path(__file__).parent / "pins" / "smollm2_base_sha256.json"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("capability", "threads"),
    [("default", "1"), ("default", "2"), ("avx2", "1"), ("avx2", "2")],
)
def test_default_base_is_byte_identical_on_every_machine(tmp_path, capability, threads):
    """The SHA-256 of every file of the default base is pinned: bundles pin it, merge refuses a mismatch.

    Run under another ATen CPU kernel set and thread count, the de-quantised weights and the
    canonical JSON files must not change by one byte. ``default`` also switches numpy's
    dispatched SIMD kernels off, as on a CPU without AVX2.
    """
    env = {**os.environ, "ATEN_CPU_CAPABILITY": capability, "OMP_NUM_THREADS": threads, "HF_HUB_OFFLINE": "1"}
    if capability == "default":
        env["NPY_DISABLE_CPU_FEATURES"] = "AVX2 FMA3 AVX512F AVX512CD AVX512_SKX"
    out = tmp_path / "base"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "base", "--out", str(out)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pinned = json.loads(PIN.read_text())
    digest = json.loads((out / "digest.json").read_text())
    assert digest["files"] == pinned["files"]
    assert file_digest(out / "digest.json") == pinned["digest.json"]
    assert {p.name for p in out.iterdir()} == {*pinned["files"], "digest.json"}
