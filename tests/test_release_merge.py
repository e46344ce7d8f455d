"""merge and generate: only verified adapters, only on the base they were trained on."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.keys import load_signing_key
from pipeline.release import ReleaseRefused
from pipeline.release.generate import Request, generate
from pipeline.release.merge import merge_bundle
from test_release_helpers import sha256, signed_bundle


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, tiny_model_dir):
    """Two bundles from "two runs" (different adapter weights), one signing key."""
    root = tmp_path_factory.mktemp("merge")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MAHREM_SIGNING_KEY", raising=False)
        key = load_signing_key(root / "keys", quiet=True)
    _, first = signed_bundle(root / "a", tiny_model_dir, key, seed=0)
    _, second = signed_bundle(root / "b", tiny_model_dir, key, seed=1)
    return first.bundle, second.bundle, root / "keys/signing.pub.pem"


def logits(model_dir_or_model, tokenizer_dir, text="Merhaba, kartım çalındı."):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    model = model_dir_or_model
    if not hasattr(model, "forward"):
        model = AutoModelForCausalLM.from_pretrained(model_dir_or_model, dtype=torch.float32)
    with torch.no_grad():
        return model(**tok(text, return_tensors="pt")).logits


def test_merge_equals_base_plus_adapter_and_records_digests(bundles, tiny_model_dir, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    bundle, _, public = bundles
    result = merge_bundle(bundle, public, tmp_path / "merged", tiny_model_dir, dtype="float32")
    merged = logits(result.out_dir, result.out_dir)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    base_logits = logits(base, tiny_model_dir)
    with_adapter = logits(PeftModel.from_pretrained(base, bundle), tiny_model_dir)
    assert torch.allclose(merged, with_adapter, atol=1e-4)
    assert not torch.allclose(merged, base_logits, atol=1e-3)  # the adapter did change the model
    digest = json.loads((result.out_dir / "digest.json").read_text())
    assert digest["bundle"] == "mahrem-smollm2-135m-support-0.1.0"
    assert digest["adapter_sha256"]["adapter_model.safetensors"] == sha256(bundle / "adapter_model.safetensors")
    assert all(digest["files"][name] == sha256(result.out_dir / name) for name in digest["files"])


def test_merge_refuses_a_tampered_bundle(bundles, tiny_model_dir, tmp_path):
    bundle, _, public = bundles
    copy = tmp_path / bundle.name
    shutil.copytree(bundle, copy)
    (copy / "extra.bin").write_bytes(b"x")
    with pytest.raises(ReleaseRefused, match="does not verify"):
        merge_bundle(copy, public, tmp_path / "merged", tiny_model_dir)
    assert not (tmp_path / "merged").exists()


def test_merge_refuses_a_base_the_adapter_was_not_trained_on(bundles, tiny_model_dir, tmp_path):
    bundle, _, public = bundles
    other_base = tmp_path / "base"
    shutil.copytree(tiny_model_dir, other_base)
    config = json.loads((other_base / "config.json").read_text())
    config["rms_norm_eps"] = 1e-5
    (other_base / "config.json").write_text(json.dumps(config))
    with pytest.raises(ReleaseRefused, match="config.json: differs from the base the adapter was trained on"):
        merge_bundle(bundle, public, tmp_path / "merged", other_base)


def test_generate_swaps_verified_adapters_per_request(bundles, tiny_model_dir):
    first, second, public = bundles
    requests = [Request("Merhaba", "first"), Request("Merhaba", "second"), Request("Merhaba", None),
                Request("Merhaba", "first")]
    out = generate(requests, {"first": first, "second": second}, public, tiny_model_dir, max_new_tokens=6,
                   dtype="float32")
    base_only = generate([Request("Merhaba")], {}, public, tiny_model_dir, max_new_tokens=6, dtype="float32")
    assert out[0] == out[3]  # the same adapter gives the same greedy answer after a swap
    assert out[2] == base_only[0]  # None runs the plain base
    assert len({out[0], out[1], out[2]}) == 3  # each adapter really changes the model


def test_generate_refuses_an_unknown_adapter_name(bundles, tiny_model_dir):
    first, _, public = bundles
    with pytest.raises(ValueError, match=r"adapter\(s\) \['third'\]"):
        generate([Request("hi", "third")], {"first": first}, public, tiny_model_dir)


def test_merge_and_generate_accept_a_bundle_from_a_release_registry(bundles, tiny_model_dir, tmp_path):
    """A registry keeps bundles as <name>/<version>/; the verified private copy must still verify."""
    import torch

    from pipeline.release import release_bundle

    bundle, _, public = bundles
    published = release_bundle(bundle, tmp_path / "registry", public)
    assert published.parent.name == "mahrem-smollm2-135m-support" and published.name == "0.1.0"
    result = merge_bundle(published, public, tmp_path / "merged", tiny_model_dir, dtype="float32")
    assert torch.allclose(logits(result.out_dir, result.out_dir),
                          logits(merge_bundle(bundle, public, tmp_path / "again", tiny_model_dir,
                                              dtype="float32").out_dir, tiny_model_dir))  # fmt: skip
    assert generate([Request("Merhaba", "a")], {"a": published}, public, tiny_model_dir, max_new_tokens=3)


def test_merge_records_the_dtype_auto_chose(bundles, tiny_model_dir, tmp_path):
    from pipeline.hardware import choose_compute_dtype

    bundle, _, public = bundles
    result = merge_bundle(bundle, public, tmp_path / "merged", tiny_model_dir)
    digest = json.loads((result.out_dir / "digest.json").read_text())
    assert digest["dtype"] == choose_compute_dtype("auto", "cpu").dtype
