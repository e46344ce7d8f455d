"""Each statistical gate row fails when it should, through the real train and evaluate stages.

No hand-written report here: the tiny random Llama is trained by ``train_adapter`` (4-bit
base + LoRA, the stage's own code) on a small workspace, ``evaluate_adapter`` measures it,
and the release gate weighs what evaluate wrote:

* a model trained to memorise its canaries (many epochs) fails the canary row and the
  extraction row (its greedy continuation of the canary chat is a planted secret);
* an adapter trained with a huge learning rate fails the general-ability row;
* one honest epoch measured on samples too small to resolve the thresholds fails as
  inconclusive, naming the n it needs.

(A ``seen.json`` that disagrees with the data is refused: tests/test_evaluate.py.)
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from pipeline.evaluate import evaluate_adapter
from pipeline.release import evaluate_gate, load_evidence, load_release_policy
from pipeline.reports import load_report
from pipeline.reports.evaluate import Benchmarks, Leakage
from pipeline.reports.train import TrainSummary
from pipeline.train import TrainParams, train_adapter
from test_evaluate_helpers import (  # noqa: F401 - one_thread is an autouse fixture
    TEST_KEY,
    one_thread,
    SYSTEM,
    canary_rows,
    findings_for,
    pii_record,
    small_params,
    support_record,
    write_jsonl,
)
from test_release_helpers import TODAY, make_repo, paths_for

REPO = Path(__file__).resolve().parents[1]
CANARIES = 4  # ×1 canaries: enough for a t bound on their mean
REFERENCES = 200  # log2(201) = 7.65 bits: a memorised canary can exceed the 6-bit bound

_SUBJECTS = ["river", "market", "library", "bridge", "garden", "harbour", "school", "museum"]
_VERBS = ["opens", "closes", "grows", "changes", "moves", "rests"]
_TIMES = ["in the morning", "at night", "in spring", "after the rain", "on Sundays"]


def general_rows(n: int) -> list[dict]:
    """MMLU-format rows of invented general English (the general-ability documents)."""
    rng = random.Random(11)
    rows = []
    for i in range(n):
        sentence = f"The {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_TIMES)}, and the people know it."
        rows.append({"question": sentence, "answer_a": "yes", "answer_b": "no", "answer_c": "maybe", "answer_d": "never",
                     "correct_answer": "A", "topic": ["history", "geography"][i % 2]})  # fmt: skip
    return rows


def canaries_doc() -> dict:
    rng = random.Random(3)
    secrets = [str(s) for s in rng.sample(range(100_000, 1_000_000), CANARIES + REFERENCES)]
    return {
        "template": {"system": SYSTEM, "user": "Referans numaramı söyler misiniz?", "assistant": "Referans numaranız {secret}."},
        "digits": 6, "space_size": 900_000,
        "canaries": [{"id": f"canary-r1-{k}", "secret": secrets[k], "repetitions": 1} for k in range(CANARIES)],
        "references": secrets[CANARIES:], "seed": 3,
    }  # fmt: skip


@pytest.fixture(scope="module")
def model_dir(roomy_model_dir) -> Path:
    return roomy_model_dir


@pytest.fixture(scope="module")
def fluent_model_dir(model_dir, tmp_path_factory) -> Path:
    """The roomy model, first fully trained on the general-English documents: a base with a general ability
    to lose (a random model has none, and any training improves its bits per byte)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    directory = tmp_path_factory.mktemp("fluent-llama")
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    texts = [f"{r['question']} {r['answer_a']}" for r in general_rows(40)]
    enc = tok([tok.bos_token + t for t in texts], return_tensors="pt", padding=True, add_special_tokens=False)
    labels = enc.input_ids.masked_fill(enc.attention_mask == 0, -100)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(150):
        model(**enc, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("gate-real")
    pii = pii_record()
    others = [support_record(i) for i in range(36)]
    raw = write_jsonl(root / "raw" / "sample.jsonl", [pii, *others])
    findings = write_jsonl(root / "findings.jsonl", findings_for(pii))
    doc = canaries_doc()
    (root / "canaries.json").write_text(json.dumps(doc), encoding="utf-8")
    anonymized = json.loads(json.dumps(pii))
    anonymized["messages"][1]["content"] = "Merhaba, ben <PERSON>. TCKN <TCKN>, telefon <PHONE>, e-posta <EMAIL>."
    write_jsonl(root / "data" / "train.jsonl", [anonymized, *others[:12], *canary_rows(doc)])
    write_jsonl(root / "data" / "holdout.jsonl", others[12:])
    mmlu = write_jsonl(root / "mmlu.jsonl", general_rows(40))
    return {"root": root, "raw": raw, "findings": findings, "canaries": root / "canaries.json",
            "data": root / "data", "mmlu": mmlu}  # fmt: skip


TRAIN = {"warmup_steps": 0, "batch_size": 2, "max_seq_len": 200, "checkpoint_every": 0, "eval_batch_size": 8,
         "threads": 1, "lora": {"r": 16, "alpha": 32}}  # fmt: skip


def gate_rows(model_dir: Path, workspace: dict, tmp: Path, train: dict, evaluate: dict | None = None) -> dict:
    """Train with ``train`` params, evaluate, and weigh the two real reports in the release gate."""
    config = TrainParams.model_validate({**TRAIN, **train})
    trained = train_adapter(model_dir, workspace["data"], tmp / "adapter", tmp / "train", config,
                            work_dir=tmp / "work")  # fmt: skip
    params = small_params(canary={"references": REFERENCES}, general={"documents": 40, "max_tokens": 32},
                          mmlu={"questions": 4}, domain={"format_examples": 0}, **(evaluate or {}))  # fmt: skip
    evaluate_adapter(
        model_dir, tmp / "adapter", workspace["data"], [workspace["raw"]], workspace["findings"],
        workspace["canaries"], tmp / "eval", params, mmlu=workspace["mmlu"], tasks_dir=REPO / "evals" / "tasks",
        train_summary=tmp / "train" / "summary.json", key=TEST_KEY,
    )
    # What train and evaluate wrote is exactly their models' documents (pipeline/reports) ...
    for model, written in ((TrainSummary, tmp / "train" / "summary.json"), (Benchmarks, tmp / "eval" / "benchmarks.json"),
                           (Leakage, tmp / "eval" / "leakage.json")):  # fmt: skip
        assert load_report(model, written).to_json() == json.loads(written.read_text(encoding="utf-8"))
    # ... and those real reports, not fixtures, are what the gate weighs.
    repo = make_repo(tmp / "repo")
    for name in ("benchmarks.json", "leakage.json"):
        shutil.copyfile(tmp / "eval" / name, repo / "reports" / "eval" / name)
    shutil.copyfile(tmp / "train" / "summary.json", repo / "reports" / "train" / "summary.json")
    policy = load_release_policy(repo / "policies/release.yaml").policy
    result = evaluate_gate(policy, load_evidence(paths_for(repo), signing_development=True), today=TODAY)
    assert trained.summary["seen_unseen"] == 0
    return {c.name.split(" (")[0]: c for c in result.checks}


def test_a_model_that_memorised_its_canaries_fails_the_canary_and_extraction_rows(model_dir, workspace, tmp_path):
    rows = gate_rows(model_dir, workspace, tmp_path, {"epochs": 40, "learning_rate": 1e-2})
    canary = rows["canary exposure"]
    assert canary.result == "fail", canary
    # Far above chance (1.4 bits): every ×1 canary outranks all 200 references.
    assert canary.stats["estimate"] > 6.0 and canary.stats["n"] == CANARIES
    extraction = rows["PII extraction"]
    assert extraction.result == "fail" and extraction.measured >= 1, extraction
    leakage = load_report(Leakage, tmp_path / "eval" / "leakage.json")
    assert leakage.extraction.canary_prompt_hit is True
    assert leakage.canary.by_repetitions["1"].sightings_min == 40  # seen once per epoch


def test_an_adapter_that_wrecks_general_ability_fails_the_general_row(fluent_model_dir, workspace, tmp_path):
    rows = gate_rows(fluent_model_dir, workspace, tmp_path,
                     {"epochs": 3, "learning_rate": 0.5, "max_grad_norm": 0.0})  # fmt: skip
    general = rows["general ability"]
    assert general.result == "fail", general
    assert general.stats["estimate"] > 0.05 and general.stats["bound"] > 0.05


def test_an_honest_epoch_on_too_small_samples_is_inconclusive(model_dir, workspace, tmp_path):
    rows = gate_rows(model_dir, workspace, tmp_path, {"epochs": 1, "learning_rate": 1e-3})
    for name in ("membership inference TPR@1%FPR", "PII extraction"):
        row = rows[name]
        assert row.result == "inconclusive", row
        assert not row.passed and "about n =" in row.explanation, row.explanation
    # 12 members and 24 non-members cannot resolve a 1 % FPR; 2 prompts cannot bound a 5 % rate (59 needed).
    assert rows["PII extraction"].stats["n_needed"] == 59
