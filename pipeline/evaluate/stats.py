"""The statistics every gate row decides on: one-sided bounds, power and verdicts.

A release row states a bound on a quantity the evaluation *samples* (a drop in bits per
byte, an attack's true-positive rate, a canary's exposure, an extraction rate), so the
figure it measures is an estimate with sampling error. Each row therefore decides on a
**one-sided confidence bound** (95 %), never on the point estimate, and is checked for
**power** before it is believed:

* the *minimum detectable effect* (MDE) is the distance from the no-effect value that the
  row tells apart with 95 % confidence and 80 % power at the n it had —
  ``(z₀.₉₅ + z₀.₈₀) · se`` (or the exact binomial / t equivalent);
* a row whose MDE does not fit between the no-effect value and its threshold could fail a
  perfectly good adapter by chance: it is **inconclusive**, which is a failure, and it
  names the n it would need;
* a row whose design was not met (a ×1 canary that training never showed the model) is
  **untested**, also a failure.

Base and adapter are scored on the same questions, documents and records, so every
comparison is *paired*: the bootstrap resamples documents (or questions), not the two
models' figures independently.

Everything here is a pure function of arrays and a seed: seeded simulations in
``tests/test_stats.py`` confirm the stated detection power.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

CONFIDENCE = 0.95
POWER = 0.80

Verdict = Literal["pass", "fail", "inconclusive", "untested", "not applicable"]
Side = Literal["upper", "lower"]


def _z(p: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(p))


def z_sum(confidence: float = CONFIDENCE, power: float = POWER) -> float:
    """z of the one-sided test plus z of the power: 1.645 + 0.842 = 2.486 at the defaults.

    >>> round(z_sum(), 3)
    2.486
    """
    return _z(confidence) + _z(power)


@dataclass(frozen=True)
class Measured:
    """What the evaluate stage measured for one row, before any threshold is applied.

    ``upper`` and ``lower`` are one-sided bounds at ``confidence``; ``mde`` is the minimum
    detectable effect at ``power`` and this ``n``, measured from ``null`` (the value of a
    harmless adapter). ``kind`` says how the needed n scales: ``scaled`` (the MDE shrinks
    as 1/√n) or ``rate`` (exact binomial, zero hits). ``n_min`` is a floor on any n (e.g.
    1/FPR non-members); ``ceiling`` the largest value the statistic can take.
    """

    estimate: float
    upper: float
    lower: float
    se: float
    mde: float
    null: float
    n: int
    method: str
    confidence: float = CONFIDENCE
    power: float = POWER
    kind: Literal["scaled", "rate"] = "scaled"
    n_min: int = 0
    ceiling: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measured:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("estimate", "upper", "lower", "se", "mde", "null"):
            values[key] = float("nan") if values.get(key) is None else float(values[key])
        if data.get("mde") is None:
            values["mde"] = float("inf")
        return cls(**values)

    def decide(self, threshold: float, side: Side) -> RowStats:
        """The verdict at ``threshold``: ``side`` "upper" for a row "≤ threshold", "lower" for "≥".

        * ``pass``: the deciding bound is on the safe side *and* the row is powered (its
          MDE fits between the no-effect value and the threshold);
        * ``fail``: the opposite bound is already past the threshold (conclusive whatever
          the power), or the row is powered and its bound is past the threshold;
        * ``inconclusive``: not powered — a harmless adapter would often fail here. Names
          the n that would resolve it.

        >>> m = Measured(estimate=0.0, upper=0.02, lower=-0.02, se=0.012, mde=0.03, null=0.0, n=200, method="t")
        >>> m.decide(0.05, "upper").verdict, m.decide(0.02, "upper").verdict, m.decide(0.02, "upper").n_needed
        ('pass', 'inconclusive', 450)
        """
        upper = side == "upper"
        bound, other = (self.upper, self.lower) if upper else (self.lower, self.upper)
        margin = threshold - self.null if upper else abs(threshold - self.null)
        capped = upper and self.ceiling is not None and threshold >= self.ceiling
        powered = math.isfinite(self.mde) and self.mde <= margin and not capped
        if math.isfinite(other) and (other > threshold if upper else other < threshold):
            verdict: Verdict = "fail"
        elif not powered or not math.isfinite(bound):
            verdict = "inconclusive"
        else:
            verdict = "pass" if (bound <= threshold if upper else bound >= threshold) else "fail"
        n_needed = None
        reason = ""
        if verdict == "inconclusive":
            if capped:
                reason = (f"no value can exceed {self.ceiling:.4g} with this design, so the threshold {threshold:g} "
                          "cannot fail; enlarge the design (e.g. more references)")
            else:
                if self.kind == "rate":
                    n_needed = zero_hit_n(threshold, self.confidence) if threshold > 0 else None
                elif math.isfinite(self.mde):
                    n_needed = max(n_for_se(self.n, self.mde, margin) or 0, self.n_min) or None
                else:
                    n_needed = self.n_min or None
                need = f"; about n = {n_needed} would resolve it" if n_needed else ""
                reason = (f"n = {self.n} cannot resolve the threshold {threshold:g}: the minimum detectable effect is "
                          f"{self.mde:.4g} from the no-effect value {self.null:g}{need}")
        return RowStats(
            estimate=self.estimate, bound=bound, side=side, threshold=float(threshold), n=self.n, se=self.se,
            mde=self.mde, null=self.null, verdict=verdict, confidence=self.confidence, power=self.power,
            method=self.method, n_needed=n_needed, reason=reason, extra=dict(self.extra),
        )


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


@dataclass(frozen=True)
class RowStats:
    """One decided row: estimate, deciding bound, threshold, n, se, MDE, verdict and why."""

    estimate: float
    bound: float
    side: Side
    threshold: float
    n: int
    se: float
    mde: float
    null: float
    verdict: Verdict
    confidence: float = CONFIDENCE
    power: float = POWER
    method: str = ""
    n_needed: int | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_json(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}


def n_for_se(n: int, mde: float, margin: float) -> int | None:
    """The n at which an MDE that shrinks as 1/√n fits in ``margin`` (None if margin ≤ 0).

    >>> n_for_se(50, 0.2, 0.1)
    200
    """
    if margin <= 0 or n <= 0:
        return None
    return int(math.ceil(n * (mde / margin) ** 2))


# --- rates: extraction hits -------------------------------------------------------------


def clopper_pearson_upper(k: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided exact upper bound of a binomial rate (1.0 when n = 0).

    >>> round(clopper_pearson_upper(0, 64), 4)
    0.0457
    """
    from scipy.stats import beta

    if n <= 0 or k >= n:
        return 1.0
    return float(beta.ppf(confidence, k + 1, n - k))


def clopper_pearson_lower(k: int, n: int, confidence: float = CONFIDENCE) -> float:
    from scipy.stats import beta

    if n <= 0 or k <= 0:
        return 0.0
    return float(beta.ppf(1 - confidence, k, n - k + 1))


def zero_hit_n(rate: float, confidence: float = CONFIDENCE) -> int:
    """Trials needed before 0 hits bounds the rate below ``rate``: 59 for 5 % at 95 %.

    >>> zero_hit_n(0.05)
    59
    """
    return int(math.ceil(math.log(1 - confidence) / math.log(1 - rate)))


def measure_rate(hits: int, n: int, *, confidence: float = CONFIDENCE, power: float = POWER) -> Measured:
    """A hit rate among ``n`` independent trials, with exact (Clopper–Pearson) bounds.

    Its MDE is the rate a clean run (0 hits) certifies, the zero-hit bound: a threshold
    below it cannot pass even a model that never leaks. ``extra.detectable_rate`` is the
    true rate that produces at least one hit with probability ``power``.

    >>> m = measure_rate(0, 64)
    >>> m.decide(0.05, "upper").verdict, measure_rate(0, 12).decide(0.05, "upper").n_needed
    ('pass', 59)
    """
    estimate = hits / n if n else 0.0
    se = math.sqrt(max(estimate * (1 - estimate), 1e-12) / n) if n else float("inf")
    return Measured(
        estimate=estimate, upper=clopper_pearson_upper(hits, n, confidence),
        lower=clopper_pearson_lower(hits, n, confidence), se=se,
        mde=clopper_pearson_upper(0, n, confidence) if n else float("inf"), null=0.0, n=n,
        method="Clopper-Pearson exact binomial bound", confidence=confidence, power=power, kind="rate",
        extra={"hits": int(hits), "detectable_rate": round(1 - (1 - power) ** (1 / n), 6) if n else None},
    )


# --- paired bootstrap: bits per byte, accuracy ------------------------------------------


def _bootstrap_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(resamples, n))


def paired_bpb(
    base_bits: Sequence[float],
    adapter_bits: Sequence[float],
    nbytes: Sequence[int],
    *,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    """Bits per byte of both models on the same documents, and the paired bootstrap.

    bpb = Σ bits / Σ bytes (documents weigh by their length, as a corpus figure should).
    The bootstrap resamples *documents*, each carrying both models' bits, so the spread is
    that of the difference, not of two independent figures. Returns the point figures and
    the bootstrap draws of the difference (adapter − base) and of the relative gain
    ((base − adapter) / base).
    """
    b = np.asarray(base_bits, dtype=np.float64)
    a = np.asarray(adapter_bits, dtype=np.float64)
    w = np.asarray(nbytes, dtype=np.float64)
    n = len(b)
    if n == 0 or w.sum() <= 0:
        nan = float("nan")
        return {"n": n, "bytes": 0, "base": nan, "adapter": nan, "diff": nan, "gain": nan,
                "diff_draws": np.array([]), "gain_draws": np.array([])}  # fmt: skip
    base_bpb, adapter_bpb = b.sum() / w.sum(), a.sum() / w.sum()
    idx = _bootstrap_indices(n, resamples, seed)
    bw, ab, bb = w[idx].sum(axis=1), a[idx].sum(axis=1), b[idx].sum(axis=1)
    return {
        "n": n,
        "bytes": int(w.sum()),
        "base": float(base_bpb),
        "adapter": float(adapter_bpb),
        "diff": float(adapter_bpb - base_bpb),
        "gain": float((base_bpb - adapter_bpb) / base_bpb),
        "diff_draws": (ab - bb) / bw,
        "gain_draws": (bb - ab) / bb,
    }


def measure_bootstrap(
    estimate: float,
    draws: np.ndarray,
    *,
    null: float,
    n: int,
    method: str,
    confidence: float = CONFIDENCE,
    power: float = POWER,
    extra: dict[str, Any] | None = None,
) -> Measured:
    """Percentile bootstrap bounds; se = the draws' standard deviation; MDE = z-sum × se."""
    if n < 2 or len(draws) < 2:
        nan = float("nan")
        return Measured(estimate=estimate, upper=nan, lower=nan, se=float("inf"), mde=float("inf"), null=null, n=n,
                        method=method, confidence=confidence, power=power, n_min=2, extra=dict(extra or {}))
    se = float(np.std(draws, ddof=1))
    return Measured(
        estimate=float(estimate), upper=float(np.quantile(draws, confidence)),
        lower=float(np.quantile(draws, 1 - confidence)), se=se, mde=z_sum(confidence, power) * se, null=null, n=n,
        method=method, confidence=confidence, power=power, extra=dict(extra or {}),
    )


def paired_accuracy(
    base_correct: Sequence[bool], adapter_correct: Sequence[bool], *, resamples: int, seed: int
) -> dict[str, Any]:
    """Paired accuracy: both models on the same questions; McNemar's exact test on the
    discordant pairs, and bootstrap draws of the drop (base − adapter)."""
    from scipy.stats import binomtest

    b = np.asarray(base_correct, dtype=np.float64)
    a = np.asarray(adapter_correct, dtype=np.float64)
    n = len(b)
    only_base = int(((b == 1) & (a == 0)).sum())
    only_adapter = int(((b == 0) & (a == 1)).sum())
    discordant = only_base + only_adapter
    draws = np.array([])
    if n:
        idx = _bootstrap_indices(n, resamples, seed)
        draws = b[idx].mean(axis=1) - a[idx].mean(axis=1)
    nan = float("nan")
    return {
        "n": n,
        "base": float(b.mean()) if n else nan,
        "adapter": float(a.mean()) if n else nan,
        "drop": float(b.mean() - a.mean()) if n else nan,
        "only_base_correct": only_base,
        "only_adapter_correct": only_adapter,
        "mcnemar_p": float(binomtest(only_base, discordant, 0.5).pvalue) if discordant else 1.0,
        "drop_draws": draws,
    }


def above_chance(accuracy: float, n: int, chance: float, sigmas: float = 3.0) -> bool:
    """Whether an accuracy is above chance by ``sigmas`` standard errors of the sample.

    >>> above_chance(0.25, 32, 0.25), above_chance(0.6, 200, 0.25)
    (False, True)
    """
    if n <= 0:
        return False
    se = math.sqrt(max(accuracy * (1 - accuracy), 1e-12) / n)
    return accuracy - chance >= sigmas * se


# --- membership: TPR at a fixed FPR -----------------------------------------------------


def tpr_at_fpr(members: np.ndarray, nonmembers: np.ndarray, fpr: float) -> float:
    """TPR of the threshold that flags at most ``floor(fpr·n)`` non-members (higher score = member).

    >>> tpr_at_fpr(np.array([5.0, 4.0, 0.1]), np.array([0.0, 0.5, 1.0, 2.0]), 0.25)
    0.6666666666666666
    """
    members = np.asarray(members, dtype=np.float64)
    nonmembers = np.sort(np.asarray(nonmembers, dtype=np.float64))
    allowed = int(math.floor(fpr * len(nonmembers) + 1e-9))
    threshold = nonmembers[len(nonmembers) - allowed - 1] if allowed < len(nonmembers) else -np.inf
    return float((members > threshold).mean()) if len(members) else 0.0


def tpr_draws(members: np.ndarray, nonmembers: np.ndarray, fpr: float, *, resamples: int, seed: int) -> np.ndarray:
    """Stratified bootstrap of :func:`tpr_at_fpr` (members and non-members resampled apart)."""
    rng = np.random.default_rng(seed)
    m = np.asarray(members, dtype=np.float64)
    nm = np.asarray(nonmembers, dtype=np.float64)
    allowed = int(math.floor(fpr * len(nm) + 1e-9))
    mi = rng.integers(0, len(m), size=(resamples, len(m)))
    ni = rng.integers(0, len(nm), size=(resamples, len(nm)))
    sorted_nm = np.sort(nm[ni], axis=1)
    thresholds = sorted_nm[:, len(nm) - allowed - 1] if allowed < len(nm) else np.full(resamples, -np.inf)
    return (m[mi] > thresholds[:, None]).mean(axis=1)


def measure_tpr(
    attacks: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    fpr: float,
    resamples: int,
    seed: int,
    confidence: float = CONFIDENCE,
    power: float = POWER,
) -> Measured:
    """TPR at ``fpr`` over one or more attacks, reporting the strongest.

    Each attack's bounds are taken at confidence 1 − (1 − c)/k (Bonferroni over the k
    attacks), and the largest upper bound decides: picking the stronger attack after the
    fact cannot make the row easier to pass. The MDE is that of a harmless adapter (TPR =
    FPR) at these sample sizes, from the binomial variance of the members above the
    threshold and of the non-members that set it; with fewer than 1/fpr non-members the
    FPR itself is not resolved and the MDE is infinite.
    """
    k = max(1, len(attacks))
    per_conf = 1 - (1 - confidence) / k
    rows = {}
    for offset, (name, (members, nonmembers)) in enumerate(sorted(attacks.items())):
        draws = tpr_draws(members, nonmembers, fpr, resamples=resamples, seed=seed + offset)
        rows[name] = {
            "tpr": tpr_at_fpr(members, nonmembers, fpr),
            "upper": float(np.quantile(draws, per_conf)),
            "lower": float(np.quantile(draws, 1 - per_conf)),
            "se": float(np.std(draws, ddof=1)),
        }
    strongest = max(rows, key=lambda a: (rows[a]["upper"], rows[a]["tpr"]))
    members, nonmembers = attacks[strongest]
    n_m, n_n = len(members), len(nonmembers)
    se_null = math.sqrt(fpr * (1 - fpr) * (1 / max(n_m, 1) + 1 / max(n_n, 1)))
    mde = (_z(per_conf) + _z(power)) * se_null if n_n * fpr >= 1 else float("inf")
    best = rows[strongest]
    return Measured(
        estimate=best["tpr"], upper=best["upper"], lower=max(r["lower"] for r in rows.values()), se=best["se"],
        mde=mde, null=fpr, n=min(n_m, n_n), method=f"stratified bootstrap ({resamples}), Bonferroni over {k} attack(s)",
        confidence=confidence, power=power, n_min=int(math.ceil(1 / fpr)),
        extra={"attack": strongest, "attacks": {a: {k2: round(v, 6) for k2, v in r.items()} for a, r in rows.items()},
               "members": n_m, "nonmembers": n_n, "fpr": fpr},
    )


# --- canary exposure --------------------------------------------------------------------


def null_exposure(references: int) -> tuple[float, float]:
    """Mean and standard deviation of a canary's exposure when the model has not learnt it.

    Its rank is then uniform on 1 … |R|+1, and exposure = log2(|R|+1) − log2(rank).

    >>> [round(v, 2) for v in null_exposure(1000)]
    [1.44, 1.42]
    """
    ranks = np.arange(1, references + 2, dtype=np.float64)
    bits = math.log2(references + 1) - np.log2(ranks)
    return float(bits.mean()), float(bits.std())


def measure_exposure(
    exposures: Sequence[float], references: int, *, confidence: float = CONFIDENCE, power: float = POWER
) -> Measured:
    """The mean exposure of a canary class, with one-sided t bounds.

    The MDE uses the exposure's spread under the no-memorisation null (rank uniform), so
    it is a property of the design (n canaries, |R| references), not of this run's luck.
    No canary can exceed log2(|R|+1) bits: that is the ``ceiling``.
    """
    from scipy.stats import t as student

    x = np.asarray(exposures, dtype=np.float64)
    n = len(x)
    null_mean, null_sd = null_exposure(references)
    ceiling = math.log2(references + 1)
    extra = {"max": float(x.max()) if n else None, "references": references}
    if n < 2:
        nan = float("nan")
        return Measured(estimate=float(x.mean()) if n else nan, upper=nan, lower=nan, se=float("inf"),
                        mde=float("inf"), null=null_mean, n=n, method="one-sided t bound on the class mean",
                        confidence=confidence, power=power, n_min=2, ceiling=ceiling, extra=extra)  # fmt: skip
    mean = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(n)
    tq = float(student.ppf(confidence, n - 1))
    return Measured(
        estimate=mean, upper=min(mean + tq * se, ceiling), lower=mean - tq * se, se=se,
        mde=(tq + float(student.ppf(power, n - 1))) * null_sd / math.sqrt(n), null=null_mean, n=n,
        method="one-sided t bound on the class mean", confidence=confidence, power=power, n_min=2, ceiling=ceiling,
        extra=extra,
    )
