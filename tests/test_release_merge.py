"""merge and generate: only verified adapters, only on the base they were trained on."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.keys import load_signing_key
from pipeline.release import ReleaseRefused
from pipeline.release.generate import Request, generate
from pipeline.release.merge import merge_bundle
from test_release_helpers import sha256, signed_bundle


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, tiny_model_dir):
    """Two bundles from "two runs" (different adapter weights), one signing key, and their repo's holdout."""
    root = tmp_path_factory.mktemp("merge")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MAHREM_SIGNING_KEY", raising=False)
        key = load_signing_key(root / "keys", quiet=True)
    repo, first = signed_bundle(root / "a", tiny_model_dir, key, seed=0)
    _, second = signed_bundle(root / "b", tiny_model_dir, key, seed=1)
    return Bundles(first.bundle, second.bundle, root / "keys/signing.pub.pem", key,
                   repo / "data/anonymized/holdout.jsonl")


@dataclass(frozen=True)
class Bundles:
    first: Path
    second: Path
    public: Path
    key: object
    holdout: Path

    def __iter__(self):  # first, second, public: what the generate tests unpack
        return iter((self.first, self.second, self.public))

    def merge(self, out: Path, base: Path, bundle: Path | None = None, **kwargs):
        kwargs.setdefault("holdout", self.holdout)
        kwargs.setdefault("n", 8)
        return merge_bundle(bundle or self.first, self.public, out, base, key=self.key, **kwargs)


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
    result = bundles.merge(tmp_path / "merged", tiny_model_dir, dtype="float32", target="original")
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
        bundles.merge(tmp_path / "merged", tiny_model_dir, bundle=copy)
    assert not (tmp_path / "merged").exists()


def test_merge_refuses_a_base_the_adapter_was_not_trained_on(bundles, tiny_model_dir, tmp_path):
    bundle, _, public = bundles
    other_base = tmp_path / "base"
    shutil.copytree(tiny_model_dir, other_base)
    config = json.loads((other_base / "config.json").read_text())
    config["rms_norm_eps"] = 1e-5
    (other_base / "config.json").write_text(json.dumps(config))
    with pytest.raises(ReleaseRefused, match="config.json: differs from the base the adapter was trained on"):
        bundles.merge(tmp_path / "merged", other_base)


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
    result = bundles.merge(tmp_path / "merged", tiny_model_dir, bundle=published, dtype="float32")
    assert torch.allclose(logits(result.out_dir, result.out_dir),
                          logits(bundles.merge(tmp_path / "again", tiny_model_dir, dtype="float32").out_dir,
                                 tiny_model_dir))  # fmt: skip
    assert generate([Request("Merhaba", "a")], {"a": published}, public, tiny_model_dir, max_new_tokens=3)


def test_merge_records_the_dtype_auto_chose(bundles, tiny_model_dir, tmp_path):
    from pipeline.hardware import choose_compute_dtype

    bundle, _, public = bundles
    result = bundles.merge(tmp_path / "merged", tiny_model_dir)
    digest = json.loads((result.out_dir / "digest.json").read_text())
    assert digest["dtype"] == choose_compute_dtype("auto", "cpu").dtype


# --- targets, figures and chain of custody (issue #17) ------------------------------------------


@pytest.fixture(scope="module")
def targets(bundles, tiny_model_dir, tmp_path_factory):
    """One float32 merge per target, measured on 16 holdout records."""
    root = tmp_path_factory.mktemp("targets")
    return {target: bundles.merge(root / target, tiny_model_dir, dtype="float32", target=target, n=16)
            for target in ("dequantized", "original")}  # fmt: skip


def test_the_tiny_models_linear_layers_really_are_quantized_by_bitsandbytes(tiny_model_dir):
    """Otherwise the two targets would coincide and the comparison below would prove nothing."""
    import bitsandbytes as bnb
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    quantized = AutoModelForCausalLM.from_pretrained(
        tiny_model_dir, dtype=torch.float32, device_map={"": "cpu"},
        quantization_config=BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                               bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.float32),
    )  # fmt: skip
    linear = {n for n, m in plain.named_modules() if isinstance(m, torch.nn.Linear)}
    layers = {n: m for n, m in quantized.named_modules() if isinstance(m, bnb.nn.Linear4bit)}
    assert set(layers) == linear - {"lm_head"} and len(layers) == 14  # every projection; the tied head stays
    plain_modules = dict(plain.named_modules())
    for name, layer in layers.items():
        state = layer.weight.quant_state
        assert state.quant_type == "nf4" and state.nested and state.blocksize == 64
        assert layer.in_features % state.blocksize == 0 and layer.in_features * layer.out_features % state.blocksize == 0
        error = (bnb.functional.dequantize_4bit(layer.weight.data, state) - plain_modules[name].weight).abs().max()
        assert error > 1e-4  # 4-bit really lost precision


def test_dequantized_merge_reproduces_the_4bit_model_far_better_than_original(targets):
    deq, orig = targets["dequantized"].figures, targets["original"].figures
    for figures in (deq, orig):
        assert figures["n"] == 16 and figures["tokens_scored"] > 0
        assert all(math.isfinite(figures[k]) for k in ("max_abs_logit_diff", "loss_merged", "loss_unmerged",
                                                       "loss_diff"))  # fmt: skip
        assert figures["loss_diff"] == pytest.approx(figures["loss_merged"] - figures["loss_unmerged"])
    assert deq["loss_unmerged"] == orig["loss_unmerged"]  # one reference for both
    assert deq["max_abs_logit_diff"] < 1e-4  # float rounding only
    assert orig["max_abs_logit_diff"] > 1e-3
    assert deq["max_abs_logit_diff"] * 100 < orig["max_abs_logit_diff"]
    assert abs(deq["loss_diff"]) * 100 < abs(orig["loss_diff"])


def test_the_dequantized_target_is_bitsandbytes_round_trip_plus_the_lora_update(targets, bundles):
    """Recomputed independently: quantize_4bit / dequantize_4bit of each base weight, plus scale · B A."""
    import bitsandbytes as bnb
    import torch
    from safetensors.torch import load_file

    merged = load_file(targets["dequantized"].out_dir / "model.safetensors")
    original = load_file(targets["original"].out_dir / "model.safetensors")
    adapter = load_file(bundles.first / "adapter_model.safetensors")
    config = json.loads((bundles.first / "adapter_config.json").read_text())
    scale = config["lora_alpha"] / config["r"]
    checked = 0
    for key, a in adapter.items():
        if ".lora_A." not in key:
            continue
        name = key.removeprefix("base_model.model.").replace(".lora_A.weight", ".weight")
        delta = scale * adapter[key.replace(".lora_A.", ".lora_B.")] @ a
        base_weight = original[name] - delta  # the original target is W + delta
        packed, state = bnb.functional.quantize_4bit(base_weight, blocksize=64, compress_statistics=True,
                                                     quant_type="nf4")  # fmt: skip
        expected = bnb.functional.dequantize_4bit(packed, state) + delta
        assert torch.allclose(merged[name], expected, atol=1e-6), name
        checked += 1
    assert checked == 14


def test_digest_records_target_figures_n_and_the_holdout_digest(targets, bundles):
    for target, result in targets.items():
        digest = json.loads((result.out_dir / "digest.json").read_text())
        assert digest["target"] == target
        assert digest["measured"]["n"] == 16
        assert digest["measured"]["holdout"]["sha256"] == sha256(bundles.holdout)
        assert digest["measured"]["max_abs_logit_diff"] == result.figures["max_abs_logit_diff"]
        assert digest["measured"]["loss_diff"] == result.figures["loss_diff"]
        assert digest["bundle_statement_sha256"] == sha256(bundles.first / "provenance.json")
        quant = digest["quantization"]
        assert (quant["quant_type"], quant["double_quant"], quant["blocksize"], quant["layers_quantized"]) == (
            "nf4", True, 64, 14)
        assert quant["applied"] is (target == "dequantized")
        # The test repository's params.yaml has no train: section; training's summary recorded the quant type.
        assert quant["sources"]["quant_type"] == "provenance: training.quantization"
        assert quant["sources"]["double_quant"].startswith("train default")


def test_the_merged_model_is_signed_and_model_signing_verifies_it(targets, bundles, tmp_path):
    from model_signing import hashing, verifying

    def official_verify(directory):
        (
            verifying.Config()
            .use_elliptic_key_verifier(public_key=bundles.public)
            .set_hashing_config(hashing.Config().set_ignored_paths(paths=["model.sig"], ignore_git_paths=True))
            .verify(directory, directory / "model.sig")
        )

    out = targets["dequantized"].out_dir
    official_verify(out)  # raises if it does not verify
    for name in ("config.json", "model.safetensors", "provenance.json"):
        altered = tmp_path / name
        shutil.copytree(out, altered)
        data = bytearray((altered / name).read_bytes())
        data[len(data) // 2] ^= 1
        (altered / name).write_bytes(bytes(data))
        with pytest.raises(ValueError):
            official_verify(altered)


def test_the_merged_models_statement_names_the_bundle_and_the_figures(targets, bundles):
    from pipeline.release.merge import validate_merge_statement

    result = targets["original"]
    statement = json.loads((result.out_dir / "provenance.json").read_text())
    validate_merge_statement(statement)
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    on_disk = {p.name for p in result.out_dir.iterdir()} - {"provenance.json", "model.sig"}
    assert set(subjects) == on_disk and "model.safetensors" in subjects and "digest.json" in subjects
    assert all(subjects[name] == sha256(result.out_dir / name) for name in subjects)
    inputs = {d["annotations"]["role"]: d for d in statement["predicate"]["buildDefinition"]["resolvedDependencies"]}
    assert inputs["bundle-statement"]["digest"]["sha256"] == sha256(bundles.first / "provenance.json")
    assert inputs["bundle-signature"]["digest"]["sha256"] == sha256(bundles.first / "model.sig")
    assert inputs["holdout"]["digest"]["sha256"] == sha256(bundles.holdout)
    merge = statement["predicate"]["mahrem_merge"]
    assert merge["target"] == "original" and merge["figures"] == result.figures
    assert merge["bundle_statement_sha256"] == sha256(bundles.first / "provenance.json")
    assert merge["signer"]["key_id"] == bundles.key.key_id


def test_a_missing_or_broken_holdout_is_refused_naming_the_file(bundles, tiny_model_dir, tmp_path):
    from pipeline.io import InputError

    missing = tmp_path / "nowhere.jsonl"
    with pytest.raises(InputError, match=rf"--holdout {missing}: no such file.*mahrem anonymize"):
        bundles.merge(tmp_path / "merged", tiny_model_dir, holdout=missing)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "r1", "text": "ok"}\nnot json\n')
    with pytest.raises(InputError, match=rf"--holdout {broken}:2: "):
        bundles.merge(tmp_path / "merged", tiny_model_dir, holdout=broken)
    assert not (tmp_path / "merged").exists()


def test_the_merge_command_measures_prints_and_signs(bundles, tiny_model_dir, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app

    monkeypatch.setenv("MAHREM_SIGNING_KEY", str(bundles.key.private_key_path))

    def run(*args):
        return CliRunner().invoke(app, ["merge", str(bundles.first), "--public-key", str(bundles.public),
                                        "--base", str(tiny_model_dir), *args], terminal_width=200)  # fmt: skip

    out = tmp_path / "merged"
    result = run("--out", str(out), "--holdout", str(bundles.holdout), "--n", "4", "--dtype", "float32")
    assert result.exit_code == 0, result.output
    assert "target dequantized" in result.output and "4 holdout records" in result.output
    assert "max |logit difference|" in result.output and "(difference " in result.output
    assert "Loading weights" not in result.output  # transformers' own bar is kept off the merge's status line
    digest = json.loads((out / "digest.json").read_text())
    assert digest["measured"]["n"] == 4 and (out / "model.sig").is_file()
    assert digest["erasure_warnings"] == []
    result = run("--out", str(tmp_path / "other"), "--target", "int8")
    assert result.exit_code != 0 and "--target 'int8': use one of dequantized, original" in result.output
    result = run("--out", str(tmp_path / "other"), "--holdout", str(tmp_path / "none.jsonl"))
    assert result.exit_code != 0 and "none.jsonl: no such file" in result.output
    assert not (tmp_path / "other").exists()


# --- --out may not destroy what the merge reads; erasure warnings (review findings) -----------------------


def test_merge_refuses_an_out_that_is_holds_or_lies_inside_the_bundle_or_the_base(bundles, tiny_model_dir, tmp_path,
                                                                                   monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.config import ConfigError
    from pipeline.release.merge import check_merge_out

    bundle = bundles.first
    before = {p.name: sha256(p) for p in bundle.iterdir()}
    base_before = {p.name: sha256(p) for p in tiny_model_dir.iterdir() if p.is_file()}
    cases = [(bundle, "is the bundle"), (bundle.parent, "contains the bundle"), (bundle / "merged", "lies inside the bundle"),
             (tiny_model_dir, "is --base"), (tiny_model_dir / "sub", "lies inside --base")]
    for out, what in cases:
        with pytest.raises(ConfigError, match=rf"^--out {out}: {what} .*Choose a new directory"):
            bundles.merge(out, tiny_model_dir)
    (tmp_path / "models/base").mkdir(parents=True)
    with pytest.raises(ConfigError, match=rf"^--out {tmp_path / 'models'}: contains --base"):
        check_merge_out(tmp_path / "models", bundle, tmp_path / "models/base")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"not empty and not the output of an earlier merge \(no merge digest.json"):
        bundles.merge(notes, tiny_model_dir)
    assert (notes / "keep.txt").read_text() == "mine"
    (notes / "digest.json").write_text('{"not": "a merge"}')
    with pytest.raises(ConfigError, match="not the output of an earlier merge"):
        check_merge_out(notes, bundle, tiny_model_dir)
    earlier = tmp_path / "earlier"  # an earlier merge's output may be replaced; so may an empty directory
    earlier.mkdir()
    (earlier / "digest.json").write_text(json.dumps({"bundle": "x-0.1.0", "target": "dequantized", "measured": {},
                                                     "files": {}}))
    check_merge_out(earlier, bundle, tiny_model_dir)
    (tmp_path / "empty").mkdir()
    check_merge_out(tmp_path / "empty", bundle, tiny_model_dir)

    monkeypatch.setenv("MAHREM_SIGNING_KEY", str(bundles.key.private_key_path))
    monkeypatch.chdir(tmp_path)
    for out in (".", "..", str(bundle)):
        result = CliRunner().invoke(app, ["merge", str(bundle), "--out", out, "--public-key", str(bundles.public),
                                          "--base", str(tiny_model_dir)], terminal_width=300)
        assert result.exit_code == 1, result.output
        assert "error:" in result.output and f"--out {out}:" in " ".join(result.output.split())
    assert {p.name: sha256(p) for p in bundle.iterdir()} == before
    assert {p.name: sha256(p) for p in tiny_model_dir.iterdir() if p.is_file()} == base_before


def test_merge_prints_and_records_the_bundles_erasure_warnings(bundles, tiny_model_dir, tmp_path, monkeypatch):
    import datetime as dt

    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.release import release_bundle
    from pipeline.release.holdings import ErasureMark, append_marks

    monkeypatch.chdir(tmp_path)  # no controller files here: the registry's marks only
    monkeypatch.setenv("MAHREM_SIGNING_KEY", str(bundles.key.private_key_path))
    published = release_bundle(bundles.first, tmp_path / "registry", bundles.public)
    append_marks(published.parent, [ErasureMark(event="affected", version=published.name, reference="DSR-77",
                                                date=dt.date(2026, 3, 1))])
    out = tmp_path / "merged"
    result = CliRunner().invoke(app, ["merge", str(published), "--out", str(out), "--public-key", str(bundles.public),
                                      "--base", str(tiny_model_dir), "--holdout", str(bundles.holdout), "--n", "2",
                                      "--dtype", "float32"], terminal_width=300)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "warning:" in text and "holds data that erasure request DSR-77" in text
    assert "1 erasure warning(s) recorded in digest.json" in text
    digest = json.loads((out / "digest.json").read_text())
    [warning] = digest["erasure_warnings"]
    assert "erasure request DSR-77 (recorded 2026-03-01)" in warning and "withdraw this one" in warning
