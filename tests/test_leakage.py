"""Leak probes: they report what the model learnt, and they can fail.

A tiny model trained on its canaries shows high exposure for the 16-insertion canary; one
trained on a raw record with a planted value emits it; untrained (randomly perturbed)
adapters show neither, and membership inference on identically distributed splits stays
near AUC 0.5.
"""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from pipeline import entities as E
from pipeline.evaluate.leakage import (
    canary_probe,
    exposure_from_rank,
    extraction_probe,
    inference_probe,
    load_canaries,
    membership_probe,
    skewnorm_exposure,
)
from pipeline.evaluate.scoring import paired_scores, sequence_nll, sequence_nll_one_by_one, shared_prefix_nll
from pipeline.evaluate.targets import (
    PiiTarget,
    candidate_values,
    collect_targets,
    contains_value,
    match_key,
    prompt_before,
    render_like,
    split_ids,
)
from pipeline.io import InputError
from pipeline.fingerprint import record_key
from test_evaluate_helpers import (  # noqa: F401 - one_thread is an autouse fixture
    one_thread,
    PLANTED_EMAIL,
    PLANTED_NAME,
    PLANTED_PHONE,
    PLANTED_TCKN,
    TEST_KEY,
    canary_chats,
    chat_text,
    load_scoring,
    make_workspace,
    pii_record,
    small_params,
    support_record,
    train_adapter,
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return make_workspace(tmp_path_factory.mktemp("leak-ws"))


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def untrained_adapter(tiny_model_dir, tmp_path_factory):
    return train_adapter(tiny_model_dir, tmp_path_factory.mktemp("untrained"), [], steps=0)


# --- exposure arithmetic ------------------------------------------------------------


def test_exposure_is_log2_of_candidates_over_rank():
    assert exposure_from_rank(1, 1000) == pytest.approx(math.log2(1001))
    assert exposure_from_rank(1001, 1000) == pytest.approx(0.0)
    assert exposure_from_rank(2, 3) == pytest.approx(1.0)


def test_skewnorm_extrapolates_past_the_references_and_is_capped():
    rng = np.random.default_rng(0)
    references = rng.normal(50.0, 2.0, size=500)
    far, typical = skewnorm_exposure(np.array([20.0, 50.0]), references, space_size=10**10)
    assert far > math.log2(501)  # beyond what a rank among 500 can express
    assert far <= math.log2(10**10)
    assert typical == pytest.approx(1.0, abs=0.2)  # the median secret: CDF 0.5, one bit


# --- batched scoring ----------------------------------------------------------------


def test_batched_scorers_match_the_one_by_one_loop(tiny_model_dir, tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    texts = [f"Merhaba, numaram {n}. Tabii {n}." for n in ("7701951126", "7950068345", "12", "99887766554433")]
    sequences = [tokenizer(t).input_ids for t in texts]
    loop = sequence_nll_one_by_one(model, sequences)
    batched, counts = sequence_nll(model, sequences, batch_size=3, pad_id=tokenizer.pad_token_id)
    assert np.allclose(batched, loop, atol=1e-3)
    assert list(counts) == [len(s) - 1 for s in sequences]
    tails, prefix = shared_prefix_nll(model, sequences, batch_size=3, pad_id=tokenizer.pad_token_id)
    assert prefix > 3
    from_prefix, _ = sequence_nll(model, sequences, batch_size=4, pad_id=tokenizer.pad_token_id, score_from=prefix)
    assert np.allclose(tails, from_prefix, atol=1e-3)


# --- canary exposure ----------------------------------------------------------------


def test_canary_exposure_is_high_for_a_memorised_canary_and_near_chance_untrained(
    roomy_model_dir, tiny_model_dir, tokenizer, workspace, untrained_adapter, tmp_path
):
    canaries = load_canaries(workspace["canaries"])
    doc = json.loads(workspace["canaries"].read_text())
    texts = [chat_text(tokenizer, chat) for chat in canary_chats(doc)]
    trained = train_adapter(roomy_model_dir, tmp_path / "trained", texts, steps=80, lr=5e-3)
    config = small_params()
    max_bits = math.log2(len(canaries.references) + 1)

    sightings = {c["id"]: c["repetitions"] for c in canaries.canaries}
    summary, details = canary_probe(load_scoring(roomy_model_dir, trained), canaries, config, sightings)
    r16 = summary["by_repetitions"]["16"]
    assert r16["seen"] == 1 and r16["unseen"] == 0 and r16["sightings_min"] == 16
    assert r16["exposure"]["n"] == 1 and r16["exposure"]["mde"] is None  # one canary resolves nothing
    assert summary["references"] == 60
    assert r16["adapter_exposure_max"] == pytest.approx(max_bits)  # rank 1 of 61
    assert r16["adapter_exposure_skewnorm_max"] > max_bits
    assert r16["base_exposure_max"] < max_bits - 1
    assert {c["id"] for c in details["canaries"]} == {c["id"] for c in canaries.canaries}

    control, _ = canary_probe(load_scoring(tiny_model_dir, untrained_adapter), canaries, config, {})
    assert all(row["unseen"] == row["canaries"] for row in control["by_repetitions"].values())
    for row in control["by_repetitions"].values():
        assert row["adapter_exposure_max"] < max_bits - 1  # no canary ranks first or second
    mean = np.mean([row["adapter_exposure_mean"] for row in control["by_repetitions"].values()])
    assert mean < 3.0  # chance level is about 1.4 bits


def test_missing_or_malformed_canaries_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="canaries file missing.*mahrem anonymize"):
        load_canaries(tmp_path / "nope.json")
    bad = tmp_path / "canaries.json"
    bad.write_text(json.dumps({"template": {"system": "s", "user": "u", "assistant": "a"}, "canaries": [], "references": []}))
    with pytest.raises(InputError, match=r"(?s)canaries.json: does not match the Canaries report.*key 'canaries'.*key 'references'.*dvc repro anonymize"):
        load_canaries(bad)


# --- targets, matching and candidates -----------------------------------------------


@pytest.mark.parametrize(
    ("entity_type", "value", "text", "expected"),
    [
        (E.TR_NATIONAL_ID, "12345678950", "TCKN: 123 456 789 50 olarak", True),
        (E.TR_NATIONAL_ID, "12345678950", "12345 ve 678950", False),  # two numbers do not combine
        (E.PHONE_NUMBER, "0532 123 45 67", "numaram +90 (532) 123-4567", True),
        (E.EMAIL_ADDRESS, "Ayse.Yilmaz@Example.org", "yazın: ayse.yilmaz@example.org", True),
        (E.PERSON, "Ayşe Yılmaz", "Sayın AYŞE YILMAZ, merhaba", True),
        (E.PERSON, "Ayşe Yılmaz", "Ayşe Yılmazer geldi", False),  # whole words only
        (E.IBAN_CODE, "TR33 0006 1005 1978 6457 8413 26", "IBAN TR330006100519786457841326", True),
    ],
)
def test_value_matching_is_on_normalised_forms(entity_type, value, text, expected):
    assert contains_value(text, entity_type, match_key(entity_type, value)) is expected


def test_candidates_are_distinct_and_written_like_the_true_value():
    target = PiiTarget("r", "text", 0, 14, E.PHONE_NUMBER, "fp", value="0532 123 45 67", prompt="")
    pool = ["+90 555 444 33 22", "05551112233", "0532 123 45 67", "12"]
    values = candidate_values(target, pool, 20, random.Random(0))
    assert values[0] == "0532 123 45 67"
    assert len(values) == 20 and len({match_key(E.PHONE_NUMBER, v) for v in values}) == 20
    assert all(len(v) == 14 and v.startswith("05") and v[4] == " " for v in values)  # same layout
    assert render_like("ayşe yılmaz", "Mehmet Öz", E.PERSON) == "mehmet öz"
    assert render_like("12345678950", "123", E.TR_NATIONAL_ID) is None


def test_prompt_is_the_chat_cut_at_the_span(tokenizer):
    record = pii_record()
    content = record["messages"][1]["content"]
    start = content.index(PLANTED_TCKN)
    prompt, gap = prompt_before(tokenizer, record["messages"], content, 1, start)
    assert prompt.endswith("TCKN") and gap == " "
    assert prompt.startswith("<|im_start|>system\n") and "<|im_start|>user\n" in prompt
    assert PLANTED_TCKN not in prompt and "<|im_end|>" not in prompt.split("<|im_start|>user")[1]


def test_targets_come_from_training_records_only(tokenizer, workspace, tmp_path):
    ids = split_ids(workspace["data"] / "train.jsonl")
    rec_pii = record_key(TEST_KEY, "rec-pii")
    targets = collect_targets([workspace["raw"]], workspace["findings"], ids, [E.TR_NATIONAL_ID, E.PERSON], tokenizer, seed=0,
                              key=TEST_KEY)
    assert len(targets.targets) == 1 and targets.targets[0].record_id == rec_pii  # one span per record, keyed id
    none = collect_targets([workspace["raw"]], workspace["findings"], ids - {rec_pii}, [E.TR_NATIONAL_ID], tokenizer, seed=0,
                           key=TEST_KEY)
    assert none.targets == []


def test_a_value_repeated_in_its_own_context_is_not_a_target(tokenizer, tmp_path):
    from test_evaluate_helpers import findings_for, write_jsonl

    record = pii_record()
    record["messages"][2]["content"] = f"Teşekkürler, {PLANTED_TCKN} numaralı kaydınızı güncelledik."
    rows = findings_for(record)
    start = record["messages"][2]["content"].index(PLANTED_TCKN)
    rows.append(dict(rows[1], field="messages[2].content", start=start, end=start + len(PLANTED_TCKN)))
    raw = write_jsonl(tmp_path / "raw.jsonl", [record])
    findings = write_jsonl(tmp_path / "findings.jsonl", rows)
    for seed in range(5):
        targets = collect_targets([raw], findings, {record_key(TEST_KEY, "rec-pii")}, [E.TR_NATIONAL_ID], tokenizer,
                                  seed=seed, key=TEST_KEY).targets
        assert [(t.field, t.start) for t in targets] == [("messages[1].content", rows[1]["start"])]


# --- extraction and inference -------------------------------------------------------


def test_extraction_finds_a_planted_value_only_when_the_model_learnt_it(
    tiny_model_dir, tokenizer, workspace, untrained_adapter, tmp_path
):
    record = pii_record()
    texts = [chat_text(tokenizer, record["messages"])] * 4
    leaked = train_adapter(tiny_model_dir, tmp_path / "leaked", texts, steps=60, lr=1e-2)
    ids = split_ids(workspace["data"] / "train.jsonl")
    targets = collect_targets([workspace["raw"]], workspace["findings"], ids, [E.TR_NATIONAL_ID], tokenizer, seed=0,
                              key=TEST_KEY).targets
    config = small_params()

    summary, details = extraction_probe(load_scoring(tiny_model_dir, leaked), targets, config)
    assert summary["rate"]["n"] == 1 and summary["rate"]["estimate"] == 1.0
    assert summary["prompts"] == 1
    assert summary["adapter_hits"] == 1 and summary["base_hits"] == 0 and summary["adapter_only_hits"] == 1
    assert summary["adapter_hits_by_type"] == {E.TR_NATIONAL_ID: 1}
    assert details["hit_fingerprints"] == [targets[0].fingerprint]

    control, _ = extraction_probe(load_scoring(tiny_model_dir, untrained_adapter), targets, config)
    assert control["adapter_hits"] == 0 and control["base_hits"] == 0

    # The same memorised context also ranks the true TCKN near the top of 30 candidates
    # (the tiny BPE merges some digit runs, so a decoy can need fewer tokens: not always first).
    rng = random.Random(5)
    pools = {E.TR_NATIONAL_ID: [str(rng.randrange(10**10, 10**11)) for _ in range(40)]}
    config = small_params(inference={"candidates": 30})
    inferred, _ = inference_probe(load_scoring(tiny_model_dir, leaked), targets, pools, config)
    assert inferred["trials"] == 1 and inferred["chance"] == pytest.approx(1 / 30)
    assert inferred["adapter_mean_rank"] <= 3 and inferred["base_mean_rank"] > 10
    assert inferred["base_top1"] == 0.0


# --- membership inference -----------------------------------------------------------


def test_paired_scores_match_each_variant_scored_alone_and_min_k_pp_by_hand(tiny_model_dir, tokenizer, untrained_adapter):
    import torch

    scoring = load_scoring(tiny_model_dir, untrained_adapter)
    texts = ["Merhaba, kartım çalındı.", "Hello, I would like to change my address please.", "Kod abcde."]
    sequences = [tokenizer(t).input_ids for t in texts]
    both = paired_scores(scoring, sequences, batch_size=2, pad_id=tokenizer.pad_token_id, min_k=0.5,
                         min_k_variants=("base", "adapter"))
    for variant in ("base", "adapter"):
        with scoring.variant(variant) as model:
            alone, counts = sequence_nll(model, sequences, batch_size=3, pad_id=tokenizer.pad_token_id)
            ids = torch.tensor([sequences[1]])
            with torch.inference_mode():
                logp = torch.log_softmax(model(ids).logits[0, :-1].float(), dim=-1)
        assert np.allclose(both[f"{variant}_nll"], alone, atol=1e-4)
        assert list(both["counts"]) == list(counts)
        picked = logp.gather(-1, ids[0, 1:].unsqueeze(-1)).squeeze(-1)
        mu = (logp.exp() * logp).sum(-1)
        sigma = ((logp.exp() * logp.square()).sum(-1) - mu.square()).sqrt()
        z = ((picked - mu) / sigma).sort().values
        k = max(1, round(0.5 * len(z)))
        assert both[f"{variant}_minkpp"][1] == pytest.approx(float(z[:k].mean()), abs=1e-4)
    assert not np.allclose(both["base_nll"], both["adapter_nll"])


def _membership_split(root, n: int = 24):
    """Identically distributed train/holdout files (random records split at random)."""
    from test_evaluate_helpers import write_jsonl

    records = [support_record(i, rid=f"m-{i}") for i in range(2 * n)]
    random.Random(3).shuffle(records)
    return write_jsonl(root / "train.jsonl", records[:n]), write_jsonl(root / "holdout.jsonl", records[n:]), records[:n]


def test_membership_auc_is_near_half_without_training_and_high_with_it(
    roomy_model_dir, tiny_model_dir, tokenizer, untrained_adapter, tmp_path
):
    train, holdout, members = _membership_split(tmp_path)
    ids = {r["id"] for r in members}
    config = small_params(membership={"max_tokens": 128})

    chance, _, _ = membership_probe(load_scoring(tiny_model_dir, untrained_adapter), train, holdout, ids, config)
    assert chance["members"] == chance["nonmembers"] == 24
    assert abs(chance["auc"]["loss_ratio"] - 0.5) < 0.25
    # 24 non-members cannot resolve a 1 % FPR at all: the measured TPR carries an infinite MDE.
    assert chance["tpr"]["mde"] is None and chance["min_resolvable_fpr"] == pytest.approx(1 / 24)

    texts = [chat_text(tokenizer, r["messages"]) for r in members]
    fitted = train_adapter(roomy_model_dir, tmp_path / "fitted", texts, steps=80, lr=1e-2)
    member, details, domain = membership_probe(load_scoring(roomy_model_dir, fitted), train, holdout, ids, config)
    assert member["auc"]["loss_ratio"] > 0.75 and member["auc"]["min_k_pp"] > 0.6
    assert member["attack"] in {"loss_ratio", "min_k_pp"}
    assert details["roc"][0] == {"fpr": 0.0, "tpr": 0.0} and details["roc"][-1] == {"fpr": 1.0, "tpr": 1.0}
    # Only records training saw are members: with half of them declared unseen, half are scored.
    half, _, _ = membership_probe(load_scoring(roomy_model_dir, fitted), train, holdout, set(sorted(ids)[:12]), config)
    assert half["members"] == 12
    # The holdout scores give the domain gain in bits per byte, paired over the same records.
    assert domain["documents"] == 24 and domain["base_bpb"] > 0 and domain["gain"]["n"] == 24


def test_raw_values_never_reach_probe_outputs(tiny_model_dir, tokenizer, workspace, untrained_adapter):
    ids = split_ids(workspace["data"] / "train.jsonl")
    types = [E.TR_NATIONAL_ID, E.PERSON, E.PHONE_NUMBER, E.EMAIL_ADDRESS]
    targets = collect_targets([workspace["raw"]], workspace["findings"], ids, types, tokenizer, seed=0, key=TEST_KEY)
    scoring = load_scoring(tiny_model_dir, untrained_adapter)
    outputs = [
        extraction_probe(scoring, targets.targets, small_params()),
        inference_probe(scoring, targets.targets, targets.pools, small_params()),
    ]
    dumped = json.dumps(outputs, ensure_ascii=False)
    for value in (PLANTED_TCKN, PLANTED_NAME, PLANTED_PHONE, PLANTED_EMAIL, "Ayşe", PLANTED_TCKN[:9]):
        assert value not in dumped


def test_membership_scores_both_sides_in_the_trained_window_and_only_where_an_assistant_token_is(
    tiny_model_dir, tokenizer, untrained_adapter, tmp_path
):
    from test_evaluate_helpers import write_jsonl

    def long_question(record):
        # A user turn so long that the assistant's reply starts beyond the window training saw.
        record["messages"][1]["content"] = " ".join(["Siparişim hâlâ gelmedi"] * 60)
        return record

    train = write_jsonl(tmp_path / "train.jsonl", [support_record(i, rid=f"t-{i}") for i in range(6)])
    holdout = write_jsonl(tmp_path / "holdout.jsonl", [support_record(100 + i, rid=f"h-{i}") for i in range(6)]
                          + [long_question(support_record(200 + i, rid=f"l-{i}")) for i in range(3)])  # fmt: skip
    scoring = load_scoring(tiny_model_dir, untrained_adapter)
    config = small_params(membership={"max_tokens": 0})
    with pytest.raises(InputError, match="max_seq_len"):
        membership_probe(scoring, train, holdout, {f"t-{i}" for i in range(6)}, config)
    summary, _, domain = membership_probe(scoring, train, holdout, {f"t-{i}" for i in range(6)}, config, window=96)
    assert summary["window_tokens"] == 96 and summary["members"] == 6 and summary["nonmembers"] == 6
    assert summary["ineligible"] == {"members": 0, "nonmembers": 3} and domain["documents"] == 6
    # An explicit evaluate.membership.max_tokens overrides the training window.
    wide, _, _ = membership_probe(scoring, train, holdout, {f"t-{i}" for i in range(6)},
                                  small_params(membership={"max_tokens": 1024}), window=96)  # fmt: skip
    assert wide["nonmembers"] == 9 and wide["ineligible"]["nonmembers"] == 0
