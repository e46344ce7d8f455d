"""The GPU profile (profiles/gpu.args) is valid and powers every row at its sizes.

The profile is never run in CI; this checks what can be checked without a GPU: every
``-S`` key exists and validates in its params block, the release policy it names loads,
and at the sizes it produces each statistical row's MDE fits its (tighter) threshold.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import yaml

from conftest import REPO_ROOT
from pipeline.config import parse_model
from pipeline.evaluate import EvalParams
from pipeline.evaluate import stats
from pipeline.release import load_release_policy
from pipeline.train import TrainParams


def overrides() -> dict[str, object]:
    out = {}
    for line in (REPO_ROOT / "profiles/gpu.args").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        flag, assignment = line.split(" ", 1)
        assert flag == "-S", line
        key, value = assignment.split("=", 1)
        out[key] = yaml.safe_load(value.replace(",", ", ")) if value.startswith("[") else yaml.safe_load(value)
    return out


def profile_params() -> dict:
    params = copy.deepcopy(yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8")))
    for dotted, value in overrides().items():
        node = params
        *parents, last = dotted.split(".")
        for part in parents:
            node = node[part]
        assert last in node or parents[0] in {"train", "evaluate"}, dotted
        node[last] = value
    return params


def test_every_key_of_the_profile_validates_in_its_params_block():
    params = profile_params()
    evaluate = parse_model(EvalParams, params["evaluate"], "profiles/gpu.args", prefix="evaluate")
    train = parse_model(TrainParams, params["train"], "profiles/gpu.args", prefix="train")
    assert evaluate.mmlu.questions == 0 and evaluate.membership.fpr == 0.001
    assert train.max_steps == 0 and train.max_seq_len >= 1024
    policy = load_release_policy(REPO_ROOT / params["signoff"]["policy"]).policy
    assert policy.gate.membership.fpr == evaluate.membership.fpr  # the gate refuses a mismatch


def test_the_profile_powers_every_row_at_its_sizes():
    params = profile_params()
    evaluate = parse_model(EvalParams, params["evaluate"], "profiles/gpu.args", prefix="evaluate")
    gate = load_release_policy(REPO_ROOT / params["signoff"]["policy"]).policy.gate
    kept = int(params["sample"]["n_records"] * 0.83)  # the default corpus loses ~17 % to duplicates and Art. 9 drops
    nonmembers, members = int(kept * 0.6), int(kept * 0.4)
    assert members >= 500 and nonmembers >= 1 / evaluate.membership.fpr
    rng = np.random.default_rng(0)
    attacks = {a: (rng.normal(size=members), rng.normal(size=nonmembers)) for a in ("loss_ratio", "min_k_pp")}
    row = stats.measure_tpr(attacks, fpr=evaluate.membership.fpr, resamples=500, seed=0).decide(
        gate.membership.tpr_max, "upper")
    assert row.mde <= gate.membership.tpr_max - evaluate.membership.fpr and row.verdict == "pass", row
    prompts = evaluate.extraction.prompts + 1
    assert stats.measure_rate(0, prompts).decide(gate.extraction.rate_max, "upper").verdict == "pass"
    # The canary design is the policy's (10 a class, 1,000 references): powered at the default already.
    exposures = [math.log2(1001) - math.log2(r) for r in rng.integers(1, 1002, size=10)]
    assert stats.measure_exposure(exposures, 1000).decide(gate.canary.exposure_max_bits, "upper").mde < 3.0
