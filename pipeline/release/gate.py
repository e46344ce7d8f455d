"""The release gate: one row per check, measured against ``policies/release.yaml``.

Each check reads numbers the earlier stages measured (never recomputes them) and says,
when it fails, what the number means and what to do about it. The rows go into the
bundle's provenance.json as they are, so a reader sees exactly what was accepted.

The statistical rows (extraction rate, canary exposure, membership, general ability,
domain gain) decide on a one-sided 95 % bound and carry their n, standard error and
minimum detectable effect (:mod:`pipeline.evaluate.stats`). Their verdict is one of
``pass``, ``fail``, ``inconclusive`` (the sample cannot resolve the threshold; the row
names the n it would need) or ``untested`` (the design was not met, e.g. a ×1 canary
that training never showed the model). Only ``pass`` passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.evaluate.stats import Measured, RowStats, measure_rate
from pipeline.release.evidence import Evidence, EvidenceError, Report
from pipeline.release.policy import ReleasePolicy


# The rows every gate table has (by name prefix), in order. verify refuses a bundle whose
# table lacks one, and re-checks the floors (release.policy.FLOORS) on the first two.
RESIDUAL_ROW = "residual blocked PII"
EXTRACTION_ROW = "PII extraction (adapter hits)"
REQUIRED_ROWS = (
    RESIDUAL_ROW, EXTRACTION_ROW, "canary exposure", "membership inference", "general ability",
    "domain improvement", "quarantined share", "legal basis", "retention date", "anonymized with the current policy",
    "erasure requests applied", "keys",
)  # fmt: skip


def table_problems(checks: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a recorded gate table: a missing row, or a floor not held (empty when sound)."""
    names = [str(c.get("name", "")) for c in checks]
    problems = [f"the gate row '{row}' is missing" for row in REQUIRED_ROWS if not any(n.startswith(row) for n in names)]
    for row in (RESIDUAL_ROW, EXTRACTION_ROW):
        for c in checks:
            if str(c.get("name", "")).startswith(row) and c.get("measured") != 0:
                problems.append(f"the gate row '{row}' measured {c.get('measured')!r}: the floor is 0, whatever the policy")
    return problems


@dataclass(frozen=True)
class GateCheck:
    name: str
    measured: Any
    threshold: str
    passed: bool
    explanation: str = ""
    verdict: str = ""  # "pass" | "fail" | "inconclusive" | "untested"; empty = pass/fail from `passed`
    stats: dict[str, Any] | None = None  # RowStats.to_json(): n, bound, se, MDE, method … (statistical rows)

    @property
    def result(self) -> str:
        return self.verdict or ("pass" if self.passed else "fail")

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["verdict"] = self.result
        return out


@dataclass(frozen=True)
class GateResult:
    checks: tuple[GateCheck, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.passed]

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [c.to_json() for c in self.checks]}

    def table(self) -> str:
        """A plain-text table (for error messages and logs; the CLI may render it richer)."""
        rows = [("check", "measured", "threshold", "n", "bound", "MDE", "result")] + [
            (c.name, _show(c.measured), c.threshold, *evidence_cells(c.stats),
             c.result if c.passed else c.result.upper()) for c in self.checks
        ]  # fmt: skip
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        for c in self.failures:
            lines.append(f"- {c.name}: {c.explanation}")
        return "\n".join(lines)


class GateFailed(Exception):
    """The gate refused the release; ``result`` holds the whole table."""

    def __init__(self, result: GateResult, note: str = ""):
        self.result = result
        self.note = note
        failed = ", ".join(c.name for c in result.failures)
        super().__init__(
            f"release gate failed ({len(result.failures)} of {len(result.checks)} checks: {failed}); "
            f"no bundle was written.{(' ' + note) if note else ''}\n{result.table()}"
        )


def evidence_cells(stats: dict[str, Any] | None) -> tuple[str, str, str]:
    """n, the deciding bound and the MDE of a statistical row ('' for the others)."""
    if not stats:
        return "", "", ""
    side = "≤" if stats.get("side") == "upper" else "≥"
    bound = stats.get("bound")
    mde = stats.get("mde")
    return (str(stats.get("n", "")), f"{side} {bound:.4g}" if isinstance(bound, float) else "—",
            f"{mde:.3g}" if isinstance(mde, float) else "∞")  # fmt: skip


def _statistical(
    name: str, row: RowStats, measured: Any, threshold: str, why_fail: str, *, verdict: str | None = None
) -> GateCheck:
    """A gate row from a decided statistic; the explanation says why it is not a pass."""
    verdict = verdict or row.verdict
    why = ""
    if verdict == "fail":
        why = why_fail
    elif verdict == "inconclusive":
        why = (f"inconclusive — {row.reason}. Inconclusive is a failure: enlarge the sample "
               "(params.yaml evaluate:) until the row is powered.")  # fmt: skip
    return GateCheck(name, measured, threshold, verdict == "pass", why, verdict, row.to_json())


def _at_most(name: str, measured: float, bound: float, why_fail: Callable[[], str]) -> GateCheck:
    """A row that passes when ``measured ≤ bound`` (threshold "≤ bound").

    ``why_fail`` is only called for a failing row: its message may read evidence that a
    passing row never needs.
    """
    passed = measured <= bound
    return GateCheck(name, measured, f"≤ {bound}", passed, "" if passed else why_fail())


def _measured(report: Report, key: str) -> Measured:
    data = report.get(key)
    if not isinstance(data, dict) or "upper" not in data or "mde" not in data:
        raise EvidenceError(f"{report.path}: key '{key}' is not a measured statistic (estimate, bounds, MDE); "
                            "run `dvc repro evaluate`.")  # fmt: skip
    try:
        return Measured.from_json(data)
    except (TypeError, ValueError):
        raise EvidenceError(f"{report.path}: key '{key}' is malformed; run `dvc repro evaluate`.") from None


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _types(by_type: Any) -> str:
    if isinstance(by_type, dict) and by_type:
        return ", ".join(f"{k}: {v}" for k, v in sorted(by_type.items()))
    return "types not reported"


def _residual(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    bound = policy.gate.residual_blocked_max
    # Two reports say the same thing; take the larger, so neither can hide the other.
    found = max(int(ev.residual.number("blocked_findings")), int(ev.anonymize.number("residual_blocked_findings")))
    return [_at_most(RESIDUAL_ROW, found, bound, lambda: (
        f"the anonymize stage's re-scan still finds {found} value(s) of blocked entity types in the training "
        f"data ({_types(ev.residual.get('by_entity_type'))}). Fix the policy or the recognizers and re-run anonymize."
    ))]  # fmt: skip


def _extraction(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    floor = policy.gate.extraction_hits_max
    rate_max = policy.gate.extraction.rate_max
    hits = int(ev.leakage.number("extraction.adapter_hits"))
    prompts = int(ev.leakage.number("extraction.prompts"))
    # The exact bound is arithmetic on the two counts the spot check re-measures: computed, not read.
    row = measure_rate(hits, prompts).decide(rate_max, "upper")
    why = (
        f"prompted with the text that preceded a personal-data value (or a planted canary), the adapter produced "
        f"the original value {hits} time(s) ({_types(ev.leakage.get('extraction.adapter_hits_by_type'))}): it has "
        "learnt data the anonymization missed, or memorised its canaries. Find the records (reports/eval), fix "
        "detection or train less, then retrain."
    )
    verdict = "fail" if hits > floor else row.verdict
    threshold = f"{floor} hits, rate ≤ {rate_max:g}"
    return [_statistical(EXTRACTION_ROW, row, hits, threshold, why, verdict=verdict)]


def _canary(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    rule = policy.gate.canary
    prefix = f"canary.by_repetitions.{rule.repetitions}"
    ev.leakage.get(prefix)
    row = _measured(ev.leakage, f"{prefix}.exposure").decide(rule.exposure_max_bits, "upper")
    unseen = int(ev.leakage.number(f"{prefix}.unseen"))
    name = f"canary exposure (×{rule.repetitions}, class mean)"
    threshold = f"≤ {rule.exposure_max_bits} bits"
    if unseen:
        check = _statistical(name, row, row.estimate, threshold, "", verdict="untested")
        return [GateCheck(
            check.name, check.measured, threshold, False,
            f"untested — {unseen} of the ×{rule.repetitions} canaries were never shown to the model in training "
            "(reports/train/seen.json), so their exposure says nothing about memorisation. Train at least one full "
            "epoch (train.max_steps: 0) so that every record is seen.",
            "untested", check.stats,
        )]  # fmt: skip
    why = (
        f"the ×{rule.repetitions} canaries reach a mean exposure of {row.estimate:.2f} bits with the adapter (one-sided "
        f"95 % bound {row.bound:.2f}, threshold {rule.exposure_max_bits}): the model ranks planted secrets far above "
        "random candidates, i.e. it memorises rare strings after few sightings. Train fewer epochs, lower the LoRA "
        "rank or learning rate."
    )
    return [_statistical(name, row, row.estimate, threshold, why)]


def _membership(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    rule = policy.gate.membership
    fpr = ev.leakage.number("membership.fpr")
    if abs(fpr - rule.fpr) > 1e-12:
        raise EvidenceError(
            f"{ev.leakage.path}: membership.fpr is {fpr:g} but policies/release.yaml gate.membership.fpr is {rule.fpr:g}; "
            "set evaluate.membership.fpr to the policy's value and re-run evaluate."
        )
    row = _measured(ev.leakage, "membership.tpr").decide(rule.tpr_max, "upper")
    attack = row.extra.get("attack", "?")
    why = (
        f"the strongest membership attack ({attack}) identifies {row.estimate:.1%} of the seen training records at "
        f"{fpr:.0%} false positives (one-sided 95 % bound {row.bound:.1%}, threshold {rule.tpr_max:.0%}): the adapter "
        "over-fits its training conversations. Train fewer steps or regularise."
    )
    return [_statistical(f"membership inference TPR@{fpr:.0%}FPR", row, row.estimate, f"≤ {rule.tpr_max}", why)]


def _general(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    """General ability: bits per byte on general text, and every accuracy task the base resolves."""
    rule = policy.gate.general
    checks: list[GateCheck] = []
    row = _measured(ev.benchmarks, "utility.general.increase").decide(rule.bpb_increase_max, "upper")
    base = ev.benchmarks.number("utility.general.base_bpb")
    why = (
        f"on general English the adapter needs {row.estimate:+.4f} bits per byte more than the base ({base:.4f}; one-sided "
        f"95 % bound {row.bound:+.4f}, threshold {rule.bpb_increase_max}): it damages general ability. Train less, "
        "lower the learning rate, or mix in general data."
    )
    checks.append(_statistical("general ability (bits per byte)", row, round(row.estimate, 6),
                               f"increase ≤ {rule.bpb_increase_max:g}", why))  # fmt: skip
    for name, task in sorted(ev.tasks().items()):
        if task.get(f"tasks.{name}.kind") != "general" or "paired" not in task.get(f"tasks.{name}"):
            continue
        if not task.get(f"tasks.{name}.paired.resolvable"):
            continue  # the base answers at chance here: a drop cannot be told from noise (reported, not gated)
        row = _measured(task, f"tasks.{name}.paired.drop").decide(rule.accuracy_drop_max, "upper")
        why = (
            f"{task.get(f'tasks.{name}.metric')} fell from {task.number(f'tasks.{name}.base'):.4g} to "
            f"{task.number(f'tasks.{name}.adapter'):.4g} on the same questions (drop bound {row.bound:.4g}, threshold "
            f"{rule.accuracy_drop_max}): the adapter damages general ability."
        )
        checks.append(_statistical(f"general ability {name}: accuracy drop", row, round(row.estimate, 6),
                                   f"drop ≤ {rule.accuracy_drop_max:g}", why))  # fmt: skip
    return checks


def _domain(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    rule = policy.gate.domain
    row = _measured(ev.benchmarks, "utility.domain.gain").decide(rule.min_relative_improvement, "lower")
    base = ev.benchmarks.number("utility.domain.base_bpb")
    adapter = ev.benchmarks.number("utility.domain.adapter_bpb")
    why = (
        f"on the holdout the adapter needs {adapter:.4f} bits per byte against the base's {base:.4f}, a relative gain "
        f"of {row.estimate:.2%} (one-sided 95 % lower bound {row.bound:.2%}), below the required "
        f"{rule.min_relative_improvement:.2%}: it does not learn the domain well enough to be worth releasing. Check "
        "the training data and the learning rate."
    )
    return [_statistical("domain improvement (holdout bits per byte)", row, round(row.estimate, 6),
                         f"gain ≥ {rule.min_relative_improvement:g}", why)]  # fmt: skip


def _quarantine(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    bound = policy.gate.quarantine_ratio_max
    ratio = ev.scan.number("quarantine_ratio")
    return [_at_most("quarantined share", ratio, bound, lambda: (
        f"{ratio:.2%} of the raw lines could not be read and were quarantined (bound {bound:.2%}): the training "
        "data is not what the sources declare. See reports/scan/quarantine.jsonl (file, line, reason)."
    ))]  # fmt: skip


def _legal_basis(policy: ReleasePolicy, ev: Evidence, today: dt.date) -> list[GateCheck]:
    purpose = policy.gate.required_purpose
    used = ev.sources_used()
    missing, expired = [], []
    for name in used:
        source = ev.catalog.sources.get(name)
        if source is None:
            missing.append(f"'{name}' is not declared in {ev.catalog.path}")
        elif purpose not in source.purposes:
            missing.append(f"'{name}' has no KVKK/GDPR legal basis for '{purpose}' (key sources.{name}.purposes.{purpose})")
        elif source.retention_until < today:
            expired.append(f"'{name}' passed its retention date {source.retention_until.isoformat()}")
    ok = len(used) - len(missing)
    basis = GateCheck(
        f"legal basis for {purpose}", f"{ok}/{len(used)} sources", "all sources (KVKK and GDPR)",
        bool(used) and not missing,
        "" if used and not missing else (
            ("; ".join(missing) if missing else "the scan summary names no source")
            + f". Add the basis to {ev.catalog.path} (or remove the data) and re-run the pipeline."
        ),
    )
    retention = GateCheck(
        "retention date", f"{len(used) - len(expired)}/{len(used)} sources current", f"all ≥ {today.isoformat()}",
        not expired,
        "" if not expired else "; ".join(expired) + ". Delete or re-justify the data; a model trained on it cannot be released.",
    )
    return [basis, retention]


def _current(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    recorded = ev.anonymize.get("policy_sha256")
    policy_ok = recorded == ev.policy_sha256
    erasure_recorded = ev.anonymize.get("erasure.sha256")
    erasure_ok = erasure_recorded == ev.erasure_sha256
    requests = ev.anonymize.get("erasure.requests")
    return [
        GateCheck(
            "anonymized with the current policy", "same" if policy_ok else "changed", f"= {ev.policy_file}", policy_ok,
            "" if policy_ok else (
                f"{ev.policy_file} changed after the anonymize stage ran (its SHA-256 differs from the one in "
                f"{ev.anonymize.path}). Re-run the pipeline (`dvc repro`) so the data matches the policy."
            ),
        ),
        GateCheck(
            "erasure requests applied", f"{requests} request(s)" + ("" if erasure_ok else ", list changed since"),
            f"= {ev.paths.erasure}", erasure_ok,
            "" if erasure_ok else (
                f"{ev.paths.erasure} changed after the anonymize stage ran, so newer erasure requests are not "
                "applied to the training data. Re-run the pipeline (`dvc repro`) before releasing."
            ),
        ),
    ]


def _keys(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    dev = []
    if ev.anonymize.get("development_key"):
        dev.append("pseudonym")
    if ev.signing_development:
        dev.append("signing")
    allowed = policy.gate.allow_development_keys
    passed = allowed or not dev
    measured = f"development: {', '.join(dev)}" if dev else "production"
    why = "" if passed else (
        f"the {' and '.join(dev)} key(s) are the development keys under .mahrem/keys, which the policy forbids "
        "(gate.allow_development_keys: false). Set MAHREM_PSEUDONYM_KEY / MAHREM_SIGNING_KEY and re-run."
    )
    return [GateCheck("keys", measured, "development allowed" if allowed else "production keys only", passed, why)]


# The rows that read only evaluate's reports, so the ones training parameters move; `mahrem
# sweep-report` judges each experiment with exactly these (pipeline/release/sweep.py).
MODEL_ROWS = (_extraction, _canary, _membership, _general, _domain)


def evaluate_gate(policy: ReleasePolicy, evidence: Evidence, *, today: dt.date | None = None) -> GateResult:
    """Every check of the gate, in a fixed order; raises :class:`EvidenceError` on missing evidence."""
    today = today or dt.date.today()
    checks: list[GateCheck] = [
        *_residual(policy, evidence),
        *(check for row in MODEL_ROWS for check in row(policy, evidence)),
        *_quarantine(policy, evidence),
        *_legal_basis(policy, evidence, today),
        *_current(policy, evidence),
        *_keys(policy, evidence),
    ]
    return GateResult(tuple(checks))
