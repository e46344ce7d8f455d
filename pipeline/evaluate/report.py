"""``report.html`` of the evaluate stage: base vs adapter, for a reviewer.

Built from the numbers of ``benchmarks.json``, ``leakage.json`` and
``leakage_details.json`` only — counts, rates, types, record ids and fingerprints; no
value or generated text is ever passed in, so none can come out.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from pipeline import html as H
from pipeline.html import PALETTE, escape, grouped_bars


def _pm(value: float | None, stderr: float | None) -> str:
    if value is None:
        return ""
    text = f"{value:,.4g}" if abs(value) >= 100 else f"{value:.3f}"
    if stderr is not None:
        text += f" ± {stderr:,.3g}" if abs(stderr) >= 100 else f" ± {stderr:.3f}"
    return text


def roc_svg(points: list[dict[str, float]], *, size: int = 320, auc: float | None = None) -> str:
    """The ROC curve as an inline SVG line chart, with the chance diagonal."""
    pad = 40
    inner = size - 2 * pad

    def xy(fpr: float, tpr: float) -> str:
        return f"{pad + fpr * inner:.1f},{pad + (1 - tpr) * inner:.1f}"

    path = " ".join(xy(p["fpr"], p["tpr"]) for p in points) if points else ""
    ticks = []
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        ticks.append(
            f"<text x='{pad + v * inner:.1f}' y='{size - pad + 16}' font-size='11' text-anchor='middle' fill='#627d98'>{v:g}</text>"
            f"<text x='{pad - 6}' y='{pad + (1 - v) * inner + 4:.1f}' font-size='11' text-anchor='end' fill='#627d98'>{v:g}</text>"
        )
    label = f"AUC {auc:.3f}" if auc is not None else ""
    return (
        f"<svg class='chart' width='{size}' height='{size}' viewBox='0 0 {size} {size}' role='img' aria-label='ROC curve'>"
        f"<rect x='{pad}' y='{pad}' width='{inner}' height='{inner}' fill='none' stroke='#d9e2ec'/>"
        f"<line x1='{pad}' y1='{pad + inner}' x2='{pad + inner}' y2='{pad}' stroke='#bcccdc' stroke-dasharray='4 4'/>"
        f"<polyline points='{path}' fill='none' stroke='{PALETTE[0]}' stroke-width='2'/>"
        f"{''.join(ticks)}"
        f"<text x='{size / 2}' y='{size - 6}' font-size='12' text-anchor='middle'>false positive rate</text>"
        f"<text x='12' y='{size / 2}' font-size='12' text-anchor='middle' transform='rotate(-90 12 {size / 2})'>true positive rate</text>"
        f"<text x='{pad + inner - 4}' y='{pad + inner - 8}' font-size='12' text-anchor='end'>{escape(label)}</text>"
        "</svg>"
    )


_TEMPLATE = """
{{ cards(headline) }}

<section>
<h2>Evidence for the gate</h2>
{{ table(["row", "n", "estimate", "one-sided 95 % bounds [lower, upper]", "se", "MDE (80 % power)"], evidence_rows, numeric=(1, 2, 4, 5)) }}
<p class="note">{{ evidence_note }}</p>
</section>

<section>
<h2>Benchmarks (lm-eval)</h2>
{{ table(["task", "kind", "metric", "n", "base ± stderr", "adapter ± stderr", "delta"], bench_rows, numeric=(3, 4, 5, 6)) }}
<p class="note">{{ bench_note }}</p>
</section>

<section>
<h2>Canary exposure</h2>
{{ exposure_chart }}
{{ table(["insertions", "canaries", "seen in training", "base mean / max", "adapter mean / max", "base skew-normal max", "adapter skew-normal max"], exp_rows, numeric=(0, 1, 2, 3, 4, 5, 6)) }}
<h3>Per canary</h3>
{{ table(["canary", "insertions", "sightings", "base rank", "adapter rank", "base exposure", "adapter exposure"], per_canary, numeric=(1, 2, 3, 4, 5, 6)) }}
<p class="note">{{ canary_note }}</p>
</section>

<section>
<h2>Targeted extraction</h2>
{{ table(["entity type", "prompts", "base hits", "adapter hits", "adapter-only hits"], ex_rows, numeric=(1, 2, 3, 4)) }}
<p class="note">{{ extraction_note }}</p>
</section>

<section>
<h2>PII inference</h2>
{{ table(["entity type", "trials", "chance", "base top-1", "adapter top-1"], inf_rows, numeric=(1, 2, 3, 4)) }}
<p class="note">{{ inference_note }}</p>
</section>

<section>
<h2>Membership inference</h2>
{{ table(mia_headers, mia_rows, numeric=(1, 2)) }}
{{ roc }}
<p class="note">{{ membership_note }}</p>
</section>

<section>
<h2>Time</h2>
{{ table(["step", "base s", "adapter s (probes: both)"], timing_rows, numeric=(1, 2)) }}
<p class="note">{{ timing_note }}</p>
</section>
"""


def render_report(benchmarks: dict[str, Any], leakage: dict[str, Any], details: dict[str, Any]) -> str:
    tasks = benchmarks["tasks"]
    canary = leakage["canary"]
    extraction = leakage["extraction"]
    inference = leakage["inference"]
    membership = leakage["membership"]
    single = canary["by_repetitions"].get("1", {})

    utility = benchmarks.get("utility", {})
    general, domain = utility.get("general", {}), utility.get("domain", {})
    headline = [
        ("base quantization", benchmarks["quantization"], None),
        ("general bits per byte, adapter − base", general.get("difference", float("nan")), None),
        ("domain gain in bits per byte", domain.get("relative_gain", float("nan")), None),
        ("adapter exposure, 1 insertion (mean, bits)", single.get("adapter_exposure_mean", 0.0), None),
        ("original values emitted by the adapter", extraction["adapter_hits"], "bad" if extraction["adapter_hits"] else "good"),
        (f"TPR at {membership['fpr']:.0%} FPR ({membership['attack']})", membership["tpr_at_fpr"], None),
    ]

    def stat_cells(m: dict[str, Any] | None) -> list[Any]:
        m = m or {}
        fmt = lambda v: "–" if v is None else f"{v:.4g}"  # noqa: E731
        return [m.get("n", ""), fmt(m.get("estimate")), f"[{fmt(m.get('lower'))}, {fmt(m.get('upper'))}]",
                fmt(m.get("se")), fmt(m.get("mde"))]  # fmt: skip

    evidence_rows = [
        ["general ability: adapter − base bpb", *stat_cells(general.get("increase"))],
        ["domain: relative bpb gain", *stat_cells(domain.get("gain"))],
        ["extraction: adapter hit rate", *stat_cells(extraction.get("rate"))],
        ["canary ×1: mean exposure (bits)", *stat_cells(single.get("exposure"))],
        [f"membership: TPR at {membership['fpr']:.0%} FPR", *stat_cells(membership.get("tpr"))],
    ]
    evidence_note = (
        (
            "Each release-gate row decides on one of these one-sided bounds, and only where the minimum detectable "
            "effect fits between the no-effect value and its threshold (policies/release.yaml). Bits per byte: "
            f"{general.get('documents', 0)} general-English documents and {domain.get('documents', 0)} holdout records, "
            "base and adapter on the same documents, paired bootstrap."
        )
    )

    bench_rows = []
    for name, row in tasks.items():
        arrow = "↑" if row["higher_is_better"] else "↓"
        bench_rows.append(
            [
                name,
                row["kind"],
                f"{row['metric']} {arrow}",
                row["n"],
                _pm(row["base"], row["base_stderr"]),
                _pm(row["adapter"], row["adapter_stderr"]),
                _pm(row["delta"], None),
            ]
        )
    bench_note = (
        (
            f"lm-eval {benchmarks['lm_eval_version']}, zero-shot; both variants from one {benchmarks['quantization']} base load "
            "(the base is the adapter switched off). MMLU: a seeded subject-stratified subset (paired per question; "
            "gated only where the base is above chance by 3 standard errors); support format: greedy replies checked "
            "for language, register and turn-taking."
        )
    )

    exp_rows = []
    for reps, row in canary["by_repetitions"].items():
        exp_rows.append(
            [
                reps,
                row["canaries"],
                row.get("seen", ""),
                f"{row['base_exposure_mean']:.2f} / {row['base_exposure_max']:.2f}",
                f"{row['adapter_exposure_mean']:.2f} / {row['adapter_exposure_max']:.2f}",
                f"{row.get('base_exposure_skewnorm_max', 0.0):.1f}",
                f"{row['adapter_exposure_skewnorm_max']:.1f}",
            ]
        )
    per_canary = [
        [c["id"], c["repetitions"], c.get("sightings", ""), c["base_rank"], c["adapter_rank"], f"{c['base_exposure']:.2f}",
         f"{c['adapter_exposure']:.2f}"]
        for c in details.get("canary", {}).get("canaries", [])
    ]
    exposure_chart = grouped_bars(
        {
            f"{reps} insertion{'s' if reps != '1' else ''}": {
                "base": row["base_exposure_mean"],
                "adapter": row["adapter_exposure_mean"],
            }
            for reps, row in canary["by_repetitions"].items()
        },
        order=("base", "adapter"),
        colors={"base": "#9fb3c8", "adapter": PALETTE[0]},
        unit=" bits",
        label="mean canary exposure, base vs adapter, by insertions",
    )
    canary_note = (
        f"Exposure in bits = log2(|R|+1) − log2(rank) against {canary['references']} never-inserted references "
        f"(at most {canary['max_exposure']:.2f}); rank 1 = the canary is more likely than every reference. The "
        f"skew-normal column extrapolates to the whole space of {canary['space_size']:,} secrets "
        "(−log2 of the fitted CDF at the canary)."
    )

    ex_rows = [
        [etype, cell["prompts"], cell["base_hits"], cell["adapter_hits"], cell["adapter_only_hits"]]
        for etype, cell in details.get("extraction", {}).get("by_type", {}).items()
    ]
    extraction_note = (
        (
            f"{extraction['prompts']} prompts: prefixes of raw records training saw, cut at a PII span, and the canary "
            "chat cut before its secret (a hit there = any planted secret); a hit = the original value "
            f"(normalised) appears in the greedy or one of {extraction['samples_per_prompt']} sampled continuations of "
            f"up to {extraction['max_new_tokens']} tokens (the value's length plus a few). Hit values are identified by "
            "fingerprint in leakage_details.json only."
        )
    )

    inf_rows = [
        [etype, cell["trials"], f"{cell['chance']:.3f}", f"{cell['base_top1']:.3f}", f"{cell['adapter_top1']:.3f}"]
        for etype, cell in details.get("inference", {}).get("by_type", {}).items()
    ]
    inf_rows.append(
        ["all", inference["trials"], f"{inference['chance']:.3f}", f"{inference['base_top1']:.3f}", f"{inference['adapter_top1']:.3f}"]
    )
    inference_note = (
        (
            f"The true value ranked by likelihood in its context among up to {inference['candidates']} same-type "
            "candidates written in its format (other values of the corpus, random digits where too few)."
        )
    )

    mia = membership
    attacks = mia["tpr"].get("extra", {}).get("attacks", {})
    mia_headers = ["attack", "AUC", f"TPR at {mia['fpr']:.0%} FPR", "bounds (Bonferroni)"]
    mia_rows = [
        [name, f"{mia['auc'].get(name, float('nan')):.3f}", f"{a['tpr']:.3f}", f"[{a['lower']:.3f}, {a['upper']:.3f}]"]
        for name, a in sorted(attacks.items())
    ]  # fmt: skip
    roc = roc_svg(details.get("membership", {}).get("roc", []), auc=mia["auc"].get(mia["attack"]))
    membership_note = (
        (
            f"Members: {mia['members']} records training really saw (reports/train/seen.json); non-members: "
            f"{mia['nonmembers']} holdout records; both scored on their assistant tokens within the first "
            f"{mia.get('window_tokens', '?')} tokens (the window training saw), records with none there left out "
            f"({mia.get('ineligible', {}).get('nonmembers', 0)} holdout records). "
            "loss_ratio = adapter loss / base loss (the base as reference); "
            "min_k_pp = Min-K%++ of the adapter (reference-free). The stronger attack decides; the curve is its ROC. "
            f"Smallest resolvable FPR: {mia['min_resolvable_fpr']:.4f}."
        )
    )

    timing_rows = [[name, t.get("base", ""), t.get("adapter", t.get("base+adapter", ""))]
                   for name, t in benchmarks.get("wall_s_by_task", {}).items()]
    timing_rows += [[f"probe: {name}", "", seconds] for name, seconds in leakage.get("wall_s_by_probe", {}).items()]
    return H.render(
        _TEMPLATE,
        title="Mahrem — evaluation: base vs adapter",
        subtitle="lm-eval benchmarks and PII-leak probes. Counts, rates and fingerprints only; no personal data.",
        headline=headline,
        evidence_rows=evidence_rows, evidence_note=evidence_note,
        bench_rows=bench_rows, bench_note=bench_note,
        exposure_chart=Markup(exposure_chart), exp_rows=exp_rows, per_canary=per_canary, canary_note=canary_note,
        ex_rows=ex_rows, extraction_note=extraction_note,
        inf_rows=inf_rows, inference_note=inference_note,
        mia_headers=mia_headers, mia_rows=mia_rows, roc=Markup(roc), membership_note=membership_note,
        timing_rows=timing_rows,
        timing_note=f"benchmarks {benchmarks['wall_s']:.1f} s, probes {leakage['wall_s']:.1f} s.",
    )
