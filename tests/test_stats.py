"""The gate's statistics: exact values, and seeded simulations of each row's stated power.

Every default row must (a) pass a harmless adapter and (b) fail at the effect the README
says it detects, each in at least 80 % of seeded simulated runs at the sizes the default
pipeline really produces (64 + 1 extraction prompts; 10 canaries a class against 1,000
references; ~200 seen members and 200 non-members; 100 general documents).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.evaluate import stats

SIMS = 200
# The sizes of the default run (params.yaml evaluate:, policies canaries).
EXTRACTION_PROMPTS = 65
CANARIES = 10
REFERENCES = 1000
MEMBERS, NONMEMBERS = 200, 200
GENERAL_DOCS = 100


def share(verdicts, wanted):
    return sum(v == wanted for v in verdicts) / len(verdicts)


def test_clopper_pearson_matches_the_closed_form_for_zero_hits():
    for n in (10, 59, 64, 300):
        assert stats.clopper_pearson_upper(0, n) == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-9)
    assert stats.clopper_pearson_upper(3, 3) == 1.0
    assert stats.clopper_pearson_lower(0, 10) == 0.0


def test_extraction_row_detects_a_5_percent_rate_and_passes_a_clean_model():
    rng = np.random.default_rng(1)
    detected = [stats.measure_rate(int(rng.binomial(EXTRACTION_PROMPTS, 0.05)), EXTRACTION_PROMPTS).decide(0.05, "upper").verdict
                for _ in range(SIMS)]
    assert share(detected, "fail") >= 0.8
    assert stats.measure_rate(0, EXTRACTION_PROMPTS).decide(0.05, "upper").verdict == "pass"


def test_extraction_row_with_too_few_prompts_is_inconclusive_and_names_n():
    row = stats.measure_rate(0, 12).decide(0.05, "upper")
    assert row.verdict == "inconclusive"
    assert row.n_needed == 59
    assert "n = 12" in row.reason and "59" in row.reason
    # A hit in a tiny sample is still a conclusive failure, not an excuse.
    assert stats.measure_rate(5, 12).decide(0.05, "upper").verdict == "fail"


def _exposures(rng, max_rank, n):
    ranks = rng.integers(1, max_rank + 1, size=n)
    return math.log2(REFERENCES + 1) - np.log2(ranks)


def test_canary_row_passes_unlearnt_canaries_and_detects_6_bits():
    rng = np.random.default_rng(2)
    null = [stats.measure_exposure(_exposures(rng, REFERENCES + 1, CANARIES), REFERENCES).decide(6.0, "upper").verdict for _ in range(SIMS)]
    assert share(null, "pass") >= 0.8
    # Ranks uniform on 1..42 give a mean exposure of 6 bits.
    effect = [_exposures(rng, 42, CANARIES) for _ in range(SIMS)]
    assert np.mean([e.mean() for e in effect]) == pytest.approx(6.0, abs=0.15)
    verdicts = [stats.measure_exposure(e, REFERENCES).decide(6.0, "upper").verdict for e in effect]
    assert share(verdicts, "fail") >= 0.8


def test_canary_row_with_two_canaries_or_few_references_is_inconclusive():
    rng = np.random.default_rng(3)
    assert stats.measure_exposure(_exposures(rng, REFERENCES + 1, 2), REFERENCES).decide(6.0, "upper").verdict == "inconclusive"
    # 40 references: no canary can exceed log2(41) = 5.36 bits, so a 6-bit bound cannot fail.
    row = stats.measure_exposure(_exposures(rng, 41, 10) * 0 + 1.0, 40).decide(6.0, "upper")
    assert row.verdict == "inconclusive"


def _attack_scores(rng, tpr_excess):
    nonmembers = rng.normal(size=NONMEMBERS)
    members = rng.normal(size=MEMBERS)
    leaked = rng.random(MEMBERS) < tpr_excess
    members[leaked] += 10.0  # these members stand out far above every non-member
    return members, nonmembers


def test_membership_row_passes_chance_and_detects_tpr_010_at_1pct_fpr():
    rng = np.random.default_rng(4)
    null = []
    for i in range(SIMS):
        m, n = _attack_scores(rng, 0.0)
        m2, n2 = _attack_scores(rng, 0.0)
        null.append(stats.measure_tpr({"a": (m, n), "b": (m2, n2)}, fpr=0.01, resamples=300, seed=i).decide(0.10, "upper").verdict)
    assert share(null, "pass") >= 0.8
    effect = []
    for i in range(SIMS):
        m, n = _attack_scores(rng, 0.091)  # TPR ≈ 0.091 + 0.909 × 0.01 = 0.10
        m2, n2 = _attack_scores(rng, 0.0)
        effect.append(stats.measure_tpr({"a": (m, n), "b": (m2, n2)}, fpr=0.01, resamples=300, seed=i).decide(0.10, "upper").verdict)
    assert share(effect, "fail") >= 0.8


def test_membership_row_with_32_a_side_is_inconclusive():
    rng = np.random.default_rng(5)
    row = stats.measure_tpr({"loss_ratio": (rng.normal(size=32), rng.normal(size=32))}, fpr=0.01,
                            resamples=200, seed=0).decide(0.10, "upper")
    assert row.verdict == "inconclusive"
    assert row.n_needed and row.n_needed >= 100


def _docs(rng, n, drop_bpb):
    nbytes = rng.integers(200, 600, size=n)
    base_bpb = rng.normal(1.2, 0.25, size=n).clip(0.3)
    # the adapter's per-document change: a shared shift plus document-level noise
    adapter_bpb = base_bpb + drop_bpb + rng.normal(0, 0.08, size=n)
    return base_bpb * nbytes, adapter_bpb * nbytes, nbytes


def test_general_row_passes_no_change_and_detects_a_005_bpb_drop():
    rng = np.random.default_rng(6)
    verdicts = {0.0: [], 0.05: []}
    for drop in verdicts:
        for i in range(SIMS):
            b, a, w = _docs(rng, GENERAL_DOCS, drop)
            p = stats.paired_bpb(b, a, w, resamples=400, seed=i)
            m = stats.measure_bootstrap(p["diff"], p["diff_draws"], null=0.0, n=p["n"], method="paired bootstrap")
            verdicts[drop].append(m.decide(0.05, "upper").verdict)
    assert share(verdicts[0.0], "pass") >= 0.8
    assert share(verdicts[0.05], "fail") >= 0.8


def test_paired_bootstrap_is_tighter_than_treating_the_models_as_independent():
    rng = np.random.default_rng(7)
    b, a, w = _docs(rng, GENERAL_DOCS, 0.0)
    p = stats.paired_bpb(b, a, w, resamples=500, seed=0)
    paired_se = float(np.std(p["diff_draws"]))
    independent_se = math.hypot(np.std(b / w) / math.sqrt(len(w)), np.std(a / w) / math.sqrt(len(w)))
    assert paired_se < independent_se / 2


def test_domain_row_requires_the_lower_bound_of_the_gain():
    rng = np.random.default_rng(8)
    b, a, w = _docs(rng, 100, -0.5)  # the adapter is much better on its domain
    p = stats.paired_bpb(b, a, w, resamples=500, seed=0)
    row = stats.measure_bootstrap(p["gain"], p["gain_draws"], null=0.0, n=p["n"], method="paired bootstrap").decide(
        0.05, "lower"
    )
    assert row.verdict == "pass" and row.bound < row.estimate
    b, a, w = _docs(rng, 100, -0.03)  # a 2–3 % gain cannot show 5 %
    p = stats.paired_bpb(b, a, w, resamples=500, seed=0)
    row = stats.measure_bootstrap(p["gain"], p["gain_draws"], null=0.0, n=p["n"], method="paired bootstrap").decide(
        0.05, "lower"
    )
    assert row.verdict == "fail"


def test_paired_accuracy_mcnemar_and_chance_rule():
    base = [True] * 60 + [False] * 40
    adapter = [True] * 40 + [False] * 60
    p = stats.paired_accuracy(base, adapter, resamples=300, seed=0)
    assert p["only_base_correct"] == 20 and p["only_adapter_correct"] == 0
    assert p["mcnemar_p"] < 1e-4
    assert p["drop"] == pytest.approx(0.2)
    assert not stats.above_chance(0.3, 40, 0.25)
    assert stats.above_chance(0.5, 100, 0.25)


def test_measured_round_trips_through_json_and_decides_the_same():
    m = stats.measure_rate(0, 64)
    back = stats.Measured.from_json(m.to_json())
    assert back.decide(0.05, "upper") == m.decide(0.05, "upper")
    inf = stats.measure_exposure([1.0], 1000)
    assert stats.Measured.from_json(inf.to_json()).decide(6.0, "upper").verdict == "inconclusive"
