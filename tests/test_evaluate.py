"""The evaluate stage: lm-eval benchmarks base vs adapter, the reports, configuration, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import ConfigError, parse_model
from pipeline.evaluate import EvalParams, evaluate_adapter
from pipeline.fingerprint import record_key
from pipeline.evaluate.benchmarks import MMLU_LETTER, prepare_tasks, read_mmlu, run_benchmarks, stratified_subset
from pipeline.evaluate.model import read_quantization
from pipeline.evaluate.scoring import sequence_nll
from pipeline.io import InputError
from pipeline.reports import load_report
from pipeline.reports.evaluate import Benchmarks, Leakage
from test_evaluate_helpers import (  # noqa: F401 - one_thread is an autouse fixture
    TEST_KEY,
    one_thread,
    MMLU_ROWS,
    PLANTED_EMAIL,
    PLANTED_NAME,
    PLANTED_PHONE,
    PLANTED_TCKN,
    load_scoring,
    make_workspace,
    small_params,
    train_adapter,
    write_jsonl,
)

REPO = Path(__file__).resolve().parents[1]
TASKS_DIR = REPO / "evals" / "tasks"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return make_workspace(tmp_path_factory.mktemp("eval-ws"))


@pytest.fixture(scope="module")
def adapter(tiny_model_dir, tmp_path_factory):
    """A randomly perturbed adapter: it changes every score without having learnt anything."""
    return train_adapter(tiny_model_dir, tmp_path_factory.mktemp("adapter"), [], steps=0)


def _stage(tiny_model_dir, adapter, workspace, out, config=None, **kwargs):
    return evaluate_adapter(
        tiny_model_dir,
        adapter,
        workspace["data"],
        [workspace["raw_dir"]],
        workspace["findings"],
        workspace["canaries"],
        out,
        config or small_params(),
        mmlu=workspace["mmlu"],
        tasks_dir=TASKS_DIR,
        train_summary=workspace["train_summary"],
        key=TEST_KEY,
        **kwargs,
    )


# --- configuration ------------------------------------------------------------------


def test_params_defaults_are_the_shipped_defaults_and_unknown_keys_fail():
    defaults = EvalParams()
    assert defaults.mmlu.forms == ["letter"]
    assert defaults.canary.references == 1000 and defaults.extraction.prompts == 64
    assert defaults.membership.nonmembers == 200 and defaults.extraction.samples == 0
    assert defaults.membership.fpr == 0.01 and defaults.general.documents == 100
    assert defaults.inference.candidates == 100
    assert set(defaults.canary.model_dump()) == {"references"}
    with pytest.raises(ConfigError, match="evaluate.mmlu.questionz"):
        parse_model(EvalParams, {"mmlu": {"questionz": 3}}, "params.yaml", prefix="evaluate")


def test_quantization_comes_from_the_train_summary(tmp_path):
    assert read_quantization(None) == "nf4"
    assert read_quantization(tmp_path / "absent.json") == "nf4"
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"quantization": "fp4"}))
    assert read_quantization(summary) == "fp4"
    summary.write_text(json.dumps({"quantization": "int3"}))
    with pytest.raises(ConfigError, match="quantization"):
        read_quantization(summary)


# --- MMLU subset ----------------------------------------------------------------------


def test_mmlu_subset_is_seeded_and_stratified_by_subject(tmp_path):
    rows = [dict(MMLU_ROWS[0], question=f"q{i}", topic=t) for t, n in (("a", 60), ("b", 30), ("c", 10)) for i in range(n)]
    path = write_jsonl(tmp_path / "mmlu.jsonl", rows + [dict(MMLU_ROWS[0], correct_answer="answer")])  # a stray header row
    by_topic = read_mmlu(path)
    assert sum(len(v) for v in by_topic.values()) == 100  # the header row is skipped
    subset = stratified_subset(by_topic, 20, seed=1)
    assert [sum(r["topic"] == t for r in subset) for t in "abc"] == [12, 6, 2]
    assert subset == stratified_subset(by_topic, 20, seed=1)
    assert subset != stratified_subset(by_topic, 20, seed=2)
    assert len(stratified_subset(by_topic, 0, seed=1)) == 100  # 0 = all


def test_missing_mmlu_file_says_how_to_get_it(tmp_path):
    with pytest.raises(InputError, match="make install"):
        read_mmlu(tmp_path / "mmlu.jsonl")


# --- base vs adapter ------------------------------------------------------------------


def test_disabled_adapter_scores_exactly_like_the_bare_base(tiny_model_dir, adapter):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    sequences = [tok(t).input_ids for t in ("Merhaba, kartım çalındı.", "Hello, I would like to change my address.")]
    bare = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    expected, _ = sequence_nll(bare, sequences, batch_size=2)
    scoring = load_scoring(tiny_model_dir, adapter)
    with scoring.variant("base") as model:
        as_base, _ = sequence_nll(model, sequences, batch_size=2)
    with scoring.variant("adapter") as model:
        as_adapter, _ = sequence_nll(model, sequences, batch_size=2)
    assert np.allclose(as_base, expected, atol=1e-5)
    assert not np.allclose(as_adapter, expected, atol=1e-3)


def test_nf4_weights_dequantized_once_score_exactly_like_bitsandbytes(tiny_model_dir, adapter):
    """The CPU speed-up (dequantize once) changes no number: base and adapter logits equal
    those of bitsandbytes' own dequantize-and-matmul path, the one training runs."""
    import bitsandbytes as bnb
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.evaluate.model import base_config, bnb_config

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = torch.tensor([tok("Merhaba, kartım çalındı. Hello, my card was stolen.").input_ids])
    reference = AutoModelForCausalLM.from_pretrained(
        tiny_model_dir, config=base_config(tiny_model_dir), quantization_config=bnb_config("nf4"), device_map={"": "cpu"}
    )
    layers = [m for m in reference.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers
    for layer in layers:
        layer.support_avx512bf16_for_cpu = False  # bitsandbytes' training path on CPU
    reference = PeftModel.from_pretrained(reference, adapter).eval()
    scoring = load_scoring(tiny_model_dir, adapter, "nf4")
    assert not any(isinstance(m, bnb.nn.Linear4bit) for m in scoring.model.modules())
    with torch.inference_mode():
        with reference.disable_adapter():
            expected_base = reference(ids).logits
        expected_adapter = reference(ids).logits
        with scoring.variant("base") as model:
            assert torch.equal(model(ids).logits, expected_base)
        with scoring.variant("adapter") as model:
            assert torch.equal(model(ids).logits, expected_adapter)
    assert not torch.equal(expected_base, expected_adapter)


@pytest.mark.parametrize("quantization", ["none", "nf4"])
def test_lm_eval_scores_base_and_adapter_on_local_tasks(
    tiny_model_dir, adapter, workspace, tmp_path, quantization, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the task files must not depend on the working directory
    scoring = load_scoring(tiny_model_dir, adapter, quantization)
    config = small_params(domain={"format_examples": 0}) if quantization == "nf4" else small_params()
    tasks = prepare_tasks(
        tmp_path / "work", tasks_dir=TASKS_DIR, mmlu=workspace["mmlu"], holdout=workspace["data"] / "holdout.jsonl",
        tokenizer=scoring.tokenizer, config=config,
    )
    if quantization == "none":
        config = small_params(mmlu={"forms": ["letter", "cloze"]})
        tasks = prepare_tasks(
            tmp_path / "work", tasks_dir=TASKS_DIR, mmlu=workspace["mmlu"], holdout=workspace["data"] / "holdout.jsonl",
            tokenizer=scoring.tokenizer, config=config,
        )
    result = run_benchmarks(scoring, tasks, tmp_path / "work", config)["tasks"]
    letter = result[MMLU_LETTER.name]
    assert letter["n"] == 5 and letter["metric"] == "acc" and letter["kind"] == "general"
    assert 0.0 <= letter["base"] <= 1.0 and letter["base_stderr"] is not None
    # Per-question results, paired: the drop is base − adapter on the same questions.
    paired = letter["paired"]
    assert paired["n"] == 5 and paired["chance"] == 0.25
    assert paired["drop"]["estimate"] == pytest.approx(letter["base"] - letter["adapter"])
    assert paired["only_base_correct"] - paired["only_adapter_correct"] == round(5 * paired["drop"]["estimate"])
    assert paired["resolvable"] is False  # 5 questions cannot put any base 3 standard errors above chance
    if quantization == "none":
        assert set(result) == {"mahrem_mmlu_letter", "mahrem_mmlu_cloze", "mahrem_support_format"}
        assert result["mahrem_mmlu_cloze"]["n"] == 3 and result["mahrem_support_format"]["n"] == 2


def test_support_format_check_accepts_agent_replies_and_rejects_others():
    sys.path.insert(0, str(TASKS_DIR))
    try:
        from mahrem_support import check_reply
    finally:
        sys.path.remove(str(TASKS_DIR))
    reference = "Merhaba Ayşe Hanım, kartınızı kapattık."
    assert check_reply("Merhaba, siparişinizi kontrol ettik.", reference)["format_ok"] == 1
    assert check_reply("The capital of France is Paris.", reference)["format_ok"] == 0  # wrong language, no register
    assert check_reply("Tamam.", reference)["non_empty"] == 0
    assert check_reply("Teşekkürler.\n<|im_start|>user\nBir sorum daha var", reference)["stays_in_turn"] == 0
    assert check_reply("Hello, we updated your address.", "Hello, your card is ready.")["format_ok"] == 1


# --- the stage --------------------------------------------------------------------------


def test_stage_writes_the_contract_reports_without_raw_pii(tiny_model_dir, adapter, workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "reports" / "eval"
    messages = []
    result = _stage(tiny_model_dir, adapter, workspace, out, progress=messages.append)

    bench = json.loads((out / "benchmarks.json").read_text())
    assert load_report(Benchmarks, out / "benchmarks.json").to_json() == bench  # exactly its model (pipeline/reports)
    assert set(bench) >= {"tasks", "quantization", "lm_eval_version", "wall_s"} and bench["quantization"] == "none"
    # The dtype and threads chosen for this machine, and why, in both reports and the result.
    from pipeline.hardware import choose_compute_dtype, choose_threads

    assert bench["compute_dtype"] == result.compute_dtype == choose_compute_dtype("auto", "cpu").dtype
    assert bench["threads"] == result.threads == choose_threads("auto").threads
    assert bench["machine"]["compute_dtype"]["requested"] == "auto" and bench["machine"]["threads"]["reason"]
    assert any(result.compute_dtype in m and "threads" in m for m in messages)
    # The chain of custody: which adapter and data these figures describe.
    from pipeline.config import file_digest

    scored = {Path(k).name: v for k, v in bench["chain"]["inputs"].items()}
    assert scored["adapter_model.safetensors"] == file_digest(Path(adapter) / "adapter_model.safetensors")
    assert {"train.jsonl", "holdout.jsonl", "findings.jsonl"} <= set(scored)
    for row in bench["tasks"].values():
        assert set(row) - {"paired"} == {
            "kind", "metric", "higher_is_better", "n", "base", "base_stderr", "adapter", "adapter_stderr", "delta"
        }
    general, domain = bench["utility"]["general"], bench["utility"]["domain"]
    assert general["documents"] == 5 and general["increase"]["n"] == 5 and general["bytes"] > 0
    assert general["difference"] == pytest.approx(general["adapter_bpb"] - general["base_bpb"])
    assert domain["documents"] == 24 and domain["gain"]["n"] == 24
    assert domain["gain"]["lower"] <= domain["relative_gain"] <= domain["gain"]["upper"]

    leak = json.loads((out / "leakage.json").read_text())
    assert load_report(Leakage, out / "leakage.json").to_json() == leak
    assert leak["canary"]["references"] == 60
    assert set(leak["canary"]["by_repetitions"]) == {"1", "4", "16"}
    assert set(leak["canary"]["by_repetitions"]["16"]) >= {
        "canaries", "seen", "unseen", "base_exposure_mean", "base_exposure_max", "adapter_exposure_mean",
        "adapter_exposure_max", "adapter_exposure_skewnorm_max", "exposure",
    }
    assert leak["canary"]["by_repetitions"]["16"]["seen"] == 1
    assert set(leak["extraction"]) >= {
        "prompts", "samples_per_prompt", "base_hits", "adapter_hits", "adapter_only_hits", "adapter_hits_by_type",
        "rate", "canary_prompt_hit",
    }
    assert set(leak["inference"]) >= {"trials", "candidates", "chance", "base_top1", "adapter_top1"}
    assert set(leak["membership"]) >= {"members", "nonmembers", "fpr", "attack", "tpr_at_fpr", "tpr", "auc"}
    assert set(leak["membership"]["auc"]) == {"loss_ratio", "min_k_pp"}
    # One PII prompt (the planted record) plus the canary prompt; members: the 25 seen non-canary records.
    assert leak["extraction"]["prompts"] == 2 and leak["extraction"]["rate"]["n"] == 2
    assert leak["membership"]["members"] == 25 and leak["membership"]["nonmembers"] == 24
    assert isinstance(leak["wall_s"], float)
    roc = json.loads((out / "mia_roc.json").read_text())["roc"]
    assert roc[-1] == {"fpr": 1.0, "tpr": 1.0}
    html = (out / "report.html").read_text()
    assert "<svg" in html and "<script" not in html and "http" not in html
    assert result.quantization == "none" and result.device == "cpu"

    written = "".join(p.read_text(encoding="utf-8") for p in out.iterdir()) + "\n".join(messages)
    for value in (PLANTED_TCKN, PLANTED_NAME, PLANTED_PHONE, PLANTED_EMAIL, "Ayşe", "ayse.yilmaz"):
        assert value not in written


def test_missing_adapter_fails_before_any_model_is_loaded(tiny_model_dir, workspace, tmp_path):
    with pytest.raises(InputError, match="no adapter directory.*mahrem train"):
        _stage(tiny_model_dir, tmp_path / "models" / "adapter", workspace, tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="adapter_config.json missing"):
        _stage(tiny_model_dir, tmp_path / "empty", workspace, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_canaries_file_is_a_clear_error(tiny_model_dir, adapter, workspace, tmp_path):
    broken = dict(workspace, canaries=tmp_path / "canaries.json")
    with pytest.raises(InputError, match="canaries file missing.*mahrem anonymize"):
        _stage(tiny_model_dir, adapter, broken, tmp_path / "out")


def test_members_come_only_from_records_training_saw(tiny_model_dir, adapter, workspace, tmp_path):
    from test_evaluate_helpers import write_full_epoch_seen

    seen = write_full_epoch_seen(workspace["data"] / "train.jsonl", tmp_path / "seen.json",
                                 unseen=tuple(record_key(TEST_KEY, r) for r in ("rec-0000", "rec-0001", "rec-0002", "rec-pii")))
    result = _stage(tiny_model_dir, adapter, workspace, tmp_path / "out", seen=seen,
                    config=small_params(mmlu={"questions": 2}, domain={"format_examples": 0}))
    assert result.leakage["membership"]["members"] == 21
    # The planted record was never trained on, so it is no extraction target either: the canary prompt remains.
    assert result.leakage["extraction"]["prompts"] == 1


def test_a_seen_file_that_disagrees_with_the_data_is_refused(tiny_model_dir, adapter, workspace, tmp_path):
    from pipeline.train.seen import SeenMismatchError
    from test_evaluate_helpers import write_full_epoch_seen

    other = write_jsonl(tmp_path / "other.jsonl", [{"id": "rec-9999", "text": "x", "source": "test"}])
    seen = write_full_epoch_seen(other, tmp_path / "seen.json")
    with pytest.raises(SeenMismatchError, match="seen.json"):
        _stage(tiny_model_dir, adapter, workspace, tmp_path / "out", seen=seen)
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="mahrem train"):
        _stage(tiny_model_dir, adapter, workspace, tmp_path / "out", seen=tmp_path / "absent.json")


def test_a_base_score_cache_changes_no_figure(tiny_model_dir, adapter, workspace, tmp_path):
    """Two runs with evaluate.base_cache: the second reuses the base's scores, the reports are the same."""
    config = small_params(mmlu={"questions": 2}, domain={"format_examples": 0},
                          base_cache=str(tmp_path / "base-scores"))  # fmt: skip
    messages: list[str] = []
    first = _stage(tiny_model_dir, adapter, workspace, tmp_path / "one", config=config, progress=messages.append)
    # canary, one inference span, membership + domain, general: each a base-side entry
    assert messages[-1].endswith("0 hits, 4 misses"), messages
    messages.clear()
    second = _stage(tiny_model_dir, adapter, workspace, tmp_path / "two", config=config, progress=messages.append)
    assert messages[-1].endswith("4 hits, 0 misses"), messages

    def figures(report):
        return {k: v for k, v in report.items() if k not in {"wall_s", "wall_s_total", "wall_s_by_probe", "wall_s_by_task"}}

    assert figures(first.leakage) == figures(second.leakage)
    assert figures(first.benchmarks) == figures(second.benchmarks)
