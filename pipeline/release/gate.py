"""The release gate: one row per check, measured against ``policies/release.yaml``.

Each check reads numbers the earlier stages measured (never recomputes them) and says,
when it fails, what the number means and what to do about it. The rows go into the
bundle's provenance.json as they are, so a reader sees exactly what was accepted.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.release.evidence import Evidence, EvidenceError
from pipeline.release.policy import HOLDOUT_LOSS, ReleasePolicy


# The rows every gate table has (by name prefix), in order. verify refuses a bundle whose
# table lacks one, and re-checks the floors (release.policy.FLOORS) on the first two.
RESIDUAL_ROW = "residual blocked PII"
EXTRACTION_ROW = "PII extraction (adapter hits)"
REQUIRED_ROWS = (
    RESIDUAL_ROW, EXTRACTION_ROW, "canary exposure", "membership inference", "general benchmarks present",
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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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
        rows = [("check", "measured", "threshold", "result")] + [
            (c.name, _show(c.measured), c.threshold, "pass" if c.passed else "FAIL") for c in self.checks
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
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
    passed = found <= bound
    why = "" if passed else (
        f"the anonymize stage's re-scan still finds {found} value(s) of blocked entity types in the training "
        f"data ({_types(ev.residual.get('by_entity_type'))}). Fix the policy or the recognizers and re-run anonymize."
    )
    return [GateCheck(RESIDUAL_ROW, found, f"≤ {bound}", passed, why)]


def _extraction(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    bound = policy.gate.extraction_hits_max
    hits = int(ev.leakage.number("extraction.adapter_hits"))
    passed = hits <= bound
    why = "" if passed else (
        f"prompted with the raw text that preceded a personal-data value, the adapter produced the original "
        f"value {hits} time(s) ({_types(ev.leakage.get('extraction.adapter_hits_by_type'))}): it has learnt "
        "personal data the anonymization missed. Find the records (reports/eval) and fix detection, then retrain."
    )
    return [GateCheck(EXTRACTION_ROW, hits, f"≤ {bound}", passed, why)]


def _canary(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    rule = policy.gate.canary
    key = f"canary.by_repetitions.{rule.repetitions}.adapter_exposure_max"
    exposure = ev.leakage.number(key)
    passed = exposure <= rule.exposure_max_bits
    why = "" if passed else (
        f"a canary inserted {rule.repetitions} time(s) reaches {exposure:.2f} bits of exposure with the adapter "
        f"(bound {rule.exposure_max_bits}): the model ranks the planted secret far above random candidates, i.e. "
        "it memorises rare strings after few sightings. Train fewer epochs, lower the LoRA rank or learning rate."
    )
    return [GateCheck(f"canary exposure (×{rule.repetitions})", exposure, f"≤ {rule.exposure_max_bits} bits", passed, why)]


def _membership(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    bound = policy.gate.membership.tpr_at_1pct_fpr_max
    tpr = ev.leakage.number("membership.tpr_at_1pct_fpr")
    passed = tpr <= bound
    why = "" if passed else (
        f"the membership attack identifies {tpr:.1%} of training records at a 1% false-positive rate (bound "
        f"{bound:.1%}; chance is 1%): the adapter over-fits its training conversations. Train fewer steps or regularise."
    )
    return [GateCheck("membership inference TPR@1%FPR", tpr, f"≤ {bound}", passed, why)]


def _benchmarks(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    rule = policy.gate.benchmarks
    checks: list[GateCheck] = []
    general = {n: t for n, t in sorted(ev.tasks().items()) if t.get(f"tasks.{n}.kind") == "general"}
    enough = len(general) >= rule.min_general_tasks
    checks.append(GateCheck(
        "general benchmarks present", len(general), f"≥ {rule.min_general_tasks}", enough,
        "" if enough else (
            f"{ev.benchmarks.path} has {len(general)} task(s) of kind 'general'; without them nothing shows the "
            "adapter kept the base model's general ability. Configure the evaluate stage's general tasks."
        ),
    ))
    for name, task in general.items():
        base = task.number(f"tasks.{name}.base")
        adapter = task.number(f"tasks.{name}.adapter")
        se_b = task.number(f"tasks.{name}.base_stderr", optional=True) or 0.0
        se_a = task.number(f"tasks.{name}.adapter_stderr", optional=True) or 0.0
        higher_is_better = task.get(f"tasks.{name}.higher_is_better")
        if not isinstance(higher_is_better, bool):
            raise EvidenceError(f"{ev.benchmarks.path}: key 'tasks.{name}.higher_is_better' is not true/false "
                                "(written by the evaluate stage).")
        drop = (base - adapter) if higher_is_better else (adapter - base)
        noise = rule.stderr_multiplier * math.hypot(se_b, se_a)
        allowed = max(rule.tolerance, noise)
        passed = drop <= allowed
        metric = task.get(f"tasks.{name}.metric")
        why = "" if passed else (
            f"{metric} went from {base:.4g} (base) to {adapter:.4g} (adapter): a drop of {drop:.4g}, more than the "
            f"tolerance {rule.tolerance} and {rule.stderr_multiplier:g}× the combined standard error ({noise:.4g}). "
            "The adapter damages general ability: train less, lower the learning rate, or mix in general data."
        )
        threshold = f"drop ≤ {allowed:.4g} (max(tol {rule.tolerance:g}, {rule.stderr_multiplier:g}×se {noise:.4g}))"
        checks.append(GateCheck(f"benchmark {name}: drop vs base", round(drop, 6), threshold, passed, why))
    return checks


def _domain(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    rule = policy.gate.domain
    if rule.source == HOLDOUT_LOSS:
        base = ev.train.number("holdout_loss_base")
        adapter = ev.train.number("holdout_loss_adapter")
        what, higher_is_better = "holdout loss", False
    else:
        tasks = ev.tasks()
        if rule.source not in tasks:
            raise EvidenceError(
                f"{ev.benchmarks.path}: no task '{rule.source}' (policies/release.yaml gate.domain.source names it; "
                f"tasks present: {', '.join(sorted(tasks)) or 'none'}). Fix the name or run the evaluate stage."
            )
        task = tasks[rule.source]
        base = task.number(f"tasks.{rule.source}.base")
        adapter = task.number(f"tasks.{rule.source}.adapter")
        higher_is_better = bool(task.get(f"tasks.{rule.source}.higher_is_better"))
        what = f"{rule.source} ({task.get(f'tasks.{rule.source}.metric')})"
    if base == 0:
        raise EvidenceError(f"domain improvement: the base value of {what} is 0, so no relative change exists.")
    gain = (adapter - base) if higher_is_better else (base - adapter)
    relative = gain / abs(base)
    passed = relative >= rule.min_relative_improvement
    why = "" if passed else (
        f"{what} moved from {base:.4g} (base) to {adapter:.4g} (adapter), a relative improvement of {relative:.2%}, "
        f"below the required {rule.min_relative_improvement:.2%}: the adapter does not learn the domain well enough "
        "to be worth releasing. Check the training data and the learning rate."
    )
    return [GateCheck(f"domain improvement ({what})", round(relative, 6), f"≥ {rule.min_relative_improvement}", passed, why)]


def _quarantine(policy: ReleasePolicy, ev: Evidence) -> list[GateCheck]:
    bound = policy.gate.quarantine_ratio_max
    ratio = ev.scan.number("quarantine_ratio")
    passed = ratio <= bound
    why = "" if passed else (
        f"{ratio:.2%} of the raw lines could not be read and were quarantined (bound {bound:.2%}): the training "
        "data is not what the sources declare. See reports/scan/quarantine.jsonl (file, line, reason)."
    )
    return [GateCheck("quarantined share", ratio, f"≤ {bound}", passed, why)]


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


def evaluate_gate(policy: ReleasePolicy, evidence: Evidence, *, today: dt.date | None = None) -> GateResult:
    """Every check of the gate, in a fixed order; raises :class:`EvidenceError` on missing evidence."""
    today = today or dt.date.today()
    checks: list[GateCheck] = [
        *_residual(policy, evidence),
        *_extraction(policy, evidence),
        *_canary(policy, evidence),
        *_membership(policy, evidence),
        *_benchmarks(policy, evidence),
        *_domain(policy, evidence),
        *_quarantine(policy, evidence),
        *_legal_basis(policy, evidence, today),
        *_current(policy, evidence),
        *_keys(policy, evidence),
    ]
    return GateResult(tuple(checks))
