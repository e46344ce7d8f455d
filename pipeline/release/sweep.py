"""`mahrem sweep-report`: choose LoRA rank, alpha and quantization by evidence.

A sweep is a set of DVC experiments (queued ``dvc exp run evaluate -S train.lora.r=4,8,16,32 …``);
this module reads them through DVC's own machine-readable listing (``dvc exp show --json``)
and draws the trade-off as one self-contained page: utility (bits per byte on the anonymized
holdout), privacy (×1 canary exposure, membership TPR), general ability and adapter size.

Which configurations pass is decided by the release gate's own rows and thresholds
(:mod:`pipeline.release.gate`, ``policies/release.yaml``), run on each experiment's full
evaluate reports (``benchmarks.json``, ``leakage.json``, read at the experiment's commit
through :class:`dvc.api.DVCFileSystem`), never on restated numbers or on the flat metrics
(a bound alone cannot say *inconclusive* or *untested*). Those are the rows training can
change. The other rows (residual PII, quarantine, legal basis, retention, policy and
erasure currency, keys) depend on the data, the catalog and the keys, which a rank sweep
does not vary: they are listed as not judged, and `mahrem signoff` judges them on the run
that is finally chosen. Counts, figures and parameter values only: no record content.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pydantic import ValidationError

from pipeline import html as H
from pipeline.html import PALETTE, escape
from pipeline.io import InputError
from pipeline.release.evidence import Evidence, EvidenceError, EvidencePaths, Report
from pipeline.release.gate import REQUIRED_ROWS, GateCheck
from pipeline.release.policy import ReleasePolicy
from pipeline.reports.base import describe_errors
from pipeline.reports.evaluate import Benchmarks, Leakage

TRAIN_METRICS = "reports/train/metrics.json"
EVAL_METRICS = "reports/eval/metrics.json"
# The parameters a sweep varies (always shown); any other parameter that differs between the
# experiments is shown too.
AXES = ("train.lora.r", "train.lora.alpha", "train.quantization")


@dataclass(frozen=True)
class Column:
    key: str  # the metric's name in its metrics.json
    file: str  # which metrics.json
    label: str
    better: str  # "lower" | "higher"
    unit: str = ""


# The figures a sweep is chosen on (pipeline/metrics.py writes them).
COLUMNS = (
    Column("holdout_bpb_adapter", EVAL_METRICS, "holdout bits per byte", "lower"),
    Column("general_bpb_increase", EVAL_METRICS, "general ability Δ bits per byte", "lower"),
    Column("canary_exposure_1x", EVAL_METRICS, "×1 canary exposure, bits", "lower"),
    Column("mia_tpr_at_fpr", EVAL_METRICS, "membership TPR at the gate's FPR", "lower"),
    Column("adapter_bytes", TRAIN_METRICS, "adapter size, bytes", "lower"),
    Column("holdout_loss_adapter", TRAIN_METRICS, "holdout loss (train stage)", "lower"),
    Column("wall_s", TRAIN_METRICS, "training wall time, s", "lower"),
    Column("peak_rss_mb", TRAIN_METRICS, "training peak RSS, MB", "lower"),
)
_COLUMN = {c.key: c for c in COLUMNS}


def _gate_row_functions() -> tuple[Callable[[ReleasePolicy, Any], list[GateCheck]], ...]:
    """The gate's rows that read the evaluate reports only: the ones training parameters move.

    They are the gate's own functions (same thresholds, bounds, power and explanations as
    `mahrem signoff`), applied to each experiment's reports.
    """
    from pipeline.release.gate import MODEL_ROWS

    return MODEL_ROWS


NOT_JUDGED_REASON = (
    "they depend on the data, the source catalog, the policies and the keys, which a training sweep does not "
    "vary; `mahrem signoff` judges them on the run you choose"
)


class SweepError(InputError):
    """The experiments cannot be listed (not a DVC repository, DVC failed)."""


@dataclass
class SweepPoint:
    """One experiment (or baseline commit) of the sweep."""

    name: str
    rev: str
    kind: str  # "baseline" | "experiment"
    state: str  # "success", "failed", "queued", "running", …
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    not_judged: str = ""  # why no gate row could be judged ('' when they were)

    @property
    def judged(self) -> bool:
        return bool(self.checks)

    @property
    def passed(self) -> bool | None:
        """All judged rows pass; None when none was judged."""
        return all(c["verdict"] == "pass" for c in self.checks) if self.checks else None

    @property
    def failed_rows(self) -> list[str]:
        return [c["name"] for c in self.checks if c["verdict"] != "pass"]

    def label(self) -> str:
        p = self.params
        parts = [f"r={_short(p.get('train.lora.r'))}", f"α={_short(p.get('train.lora.alpha'))}"]
        if p.get("train.quantization") is not None:
            parts.append(str(p["train.quantization"]))
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "rev": self.rev, "kind": self.kind, "state": self.state, "params": self.params,
            "metrics": self.metrics, "passes_judged_rows": self.passed, "failed_rows": self.failed_rows,
            "checks": self.checks, "not_judged": self.not_judged or None,
        }  # fmt: skip


def _short(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "?" if value is None else str(value)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


# --- reading the experiments -------------------------------------------------------------


def exp_show(root: Path, *, all_commits: bool = False) -> list[dict[str, Any]]:
    """``dvc exp show --json`` of the repository at ``root`` (DVC's own listing of experiments)."""
    command = [sys.executable, "-m", "dvc", "exp", "show", "--json"]
    if all_commits:
        command.append("--all-commits")
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=600,
                              env=_dvc_env())  # fmt: skip
    except subprocess.TimeoutExpired:
        raise SweepError(f"{root}: `dvc exp show --json` did not answer within 10 minutes.") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise SweepError(
            f"{root}: `dvc exp show --json` failed ({last}). Run sweep-report in the project (a git + DVC "
            "repository) whose experiments you ran."
        )
    try:
        listing = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise SweepError(f"{root}: `dvc exp show --json` printed something that is not JSON.") from None
    if not isinstance(listing, list):
        raise SweepError(f"{root}: `dvc exp show --json` printed an unexpected document (not a list).")
    return listing


def _dvc_env() -> dict[str, str]:
    import os

    return {**os.environ, "DVC_NO_ANALYTICS": "1"}


def _point(entry: Mapping[str, Any], kind: str, state: str) -> SweepPoint | None:
    data = entry.get("data") or {}
    rev = str(entry.get("rev") or data.get("rev") or "")
    if not rev or rev == "workspace":
        return None
    params = {}
    for file_entry in (data.get("params") or {}).values():
        params.update(_flatten((file_entry or {}).get("data") or {}))
    metrics = {}
    for path, file_entry in (data.get("metrics") or {}).items():
        figures = (file_entry or {}).get("data")
        if isinstance(figures, Mapping) and path in (TRAIN_METRICS, EVAL_METRICS):
            metrics.update({k: v for k, v in figures.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    return SweepPoint(name=str(entry.get("name") or rev[:7]), rev=rev, kind=kind, state=state, params=params,
                      metrics=metrics)  # fmt: skip


def list_points(listing: Sequence[Mapping[str, Any]]) -> list[SweepPoint]:
    """Every baseline commit and experiment of a ``dvc exp show --json`` document (the workspace row is skipped:
    it repeats a baseline or an applied experiment)."""
    points: list[SweepPoint] = []
    for baseline in listing:
        point = _point(baseline, "baseline", "success" if not baseline.get("error") else "failed")
        if point is not None and point.metrics:
            points.append(point)
        for experiment in baseline.get("experiments") or []:
            state = str(((experiment.get("executor") or {}).get("state")) or "success")
            for rev_entry in experiment.get("revs") or []:
                point = _point(rev_entry, "experiment", "failed" if rev_entry.get("error") else state)
                if point is not None:
                    points.append(point)
    return points


# --- judging each experiment with the gate's rows -----------------------------------------


class _ExperimentEvidence:
    """What the gate's model rows read (``leakage``, ``benchmarks``, ``tasks()``), from one experiment."""

    tasks = Evidence.tasks

    def __init__(self, leakage: Report[Leakage], benchmarks: Report[Benchmarks]):
        self.leakage = leakage
        self.benchmarks = benchmarks


def _read_report(fs: Any, path: Path, model: type, where: str) -> Report[Any]:
    shown = Path(f"{where}:{path.as_posix()}")
    try:
        text = fs.read_text(path.as_posix(), encoding="utf-8")
    except FileNotFoundError:
        raise EvidenceError(
            f"{shown}: not at this commit — the evaluate stage did not run in this experiment (queue it with the "
            "evaluate target), or its reports were not committed."
        ) from None
    try:
        return Report.of(shown, "evaluate", model.model_validate_json(text))
    except ValidationError as exc:
        raise EvidenceError(f"{shown}: does not match the {model.__name__} report:\n{describe_errors(exc)}") from None


def judge(policy: ReleasePolicy, leakage: Report[Leakage], benchmarks: Report[Benchmarks]) -> list[GateCheck]:
    """The gate's model rows on one experiment's evaluate reports."""
    evidence = _ExperimentEvidence(leakage, benchmarks)
    return [check for row in _gate_row_functions() for check in row(policy, evidence)]


def judge_point(root: Path, point: SweepPoint, policy: ReleasePolicy, paths: EvidencePaths = EvidencePaths()) -> None:
    """Fill ``point.checks`` from the reports at its commit, or say in ``point.not_judged`` why not."""
    if point.state != "success":
        point.not_judged = f"the experiment is {point.state}"
        return
    from dvc.api import DVCFileSystem

    fs = DVCFileSystem(str(root), rev=point.rev)
    try:
        leakage = _read_report(fs, paths.leakage, Leakage, point.name)
        benchmarks = _read_report(fs, paths.benchmarks, Benchmarks, point.name)
        point.checks = [c.to_json() for c in judge(policy, leakage, benchmarks)]
    except EvidenceError as exc:
        point.checks = []
        point.not_judged = str(exc)


def not_judged_rows(points: Sequence[SweepPoint]) -> list[str]:
    """The gate's required rows no experiment's reports can decide (derived from the gate, not listed here)."""
    names = {c["name"] for p in points for c in p.checks}
    return [row for row in REQUIRED_ROWS if not any(name.startswith(row) for name in names)]


# --- the sweep ----------------------------------------------------------------------------


@dataclass
class Sweep:
    points: list[SweepPoint]
    policy_file: Path
    policy_sha256: str
    not_judged_rows: list[str]
    changed_params: list[str]

    def completed(self) -> list[SweepPoint]:
        return [p for p in self.points if p.state == "success"]

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy_file.as_posix(), "policy_sha256": self.policy_sha256,
            "axes": list(AXES), "changed_params": self.changed_params,
            "columns": {c.key: {"file": c.file, "label": c.label, "better": c.better} for c in COLUMNS},
            "rows_not_judged": {row: NOT_JUDGED_REASON for row in self.not_judged_rows},
            "points": [p.to_json() for p in self.points],
        }  # fmt: skip


def build_sweep(root: Path, policy_file: Path, *, all_commits: bool = False) -> Sweep:
    """Read every experiment of the repository at ``root`` and judge it with the policy's gate rows."""
    from pipeline.release.policy import load_release_policy

    loaded = load_release_policy(policy_file)
    points = list_points(exp_show(root, all_commits=all_commits))
    for point in points:
        judge_point(root, point, loaded.policy)
    keys = sorted({k for p in points for k in p.params})
    changed = [k for k in keys if len({json.dumps(p.params.get(k), sort_keys=True) for p in points}) > 1]
    changed = [*AXES, *(k for k in changed if k not in AXES)]
    return Sweep(points, loaded.path, loaded.digest, not_judged_rows(points), changed)


# --- the page ------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


_TONE = {True: PALETTE[1], False: PALETTE[4], None: "#829ab1"}


def scatter(points: Sequence[SweepPoint], x: Column, y: Column, *, width: int = 490, height: int = 300) -> str:
    """An inline SVG scatter of two figures, one dot per experiment, coloured by its gate verdict
    (green: every judged row passes; red: one fails; grey: not judged), labelled with its settings."""
    drawn = [(p, p.metrics.get(x.key), p.metrics.get(y.key)) for p in points]
    drawn = [(p, float(a), float(b)) for p, a, b in drawn if a is not None and b is not None
             and math.isfinite(a) and math.isfinite(b)]  # fmt: skip
    if not drawn:
        return f"<p class='note'>no experiment has both {escape(x.label)} and {escape(y.label)}</p>"
    left, right, top, bottom = 84, 24, 16, 44
    xs, ys = [a for _, a, _ in drawn], [b for _, _, b in drawn]

    def span(values: list[float]) -> tuple[float, float]:
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.08 or (abs(hi) * 0.05 or 0.5)
        return lo - pad, hi + pad

    (x0, x1), (y0, y1) = span(xs), span(ys)
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + plot_w * (v - x0) / (x1 - x0)

    def sy(v: float) -> float:
        return top + plot_h * (1 - (v - y0) / (y1 - y0))

    parts = [
        f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='#f8fafc' stroke='#d9e2ec'/>",
    ]
    for i in range(5):
        vx, vy = x0 + (x1 - x0) * i / 4, y0 + (y1 - y0) * i / 4
        parts.append(f"<text x='{sx(vx):.1f}' y='{top + plot_h + 14}' font-size='10' text-anchor='middle' "
                     f"fill='#627d98'>{escape(_fmt(vx))}</text>")  # fmt: skip
        parts.append(f"<text x='{left - 5}' y='{sy(vy) + 3:.1f}' font-size='10' text-anchor='end' "
                     f"fill='#627d98'>{escape(_fmt(vy))}</text>")  # fmt: skip
    parts.append(f"<text x='{left + plot_w / 2:.1f}' y='{height - 6}' font-size='12' text-anchor='middle' "
                 f"fill='#486581'>{escape(x.label)} ({x.better} is better)</text>")  # fmt: skip
    parts.append(f"<text x='12' y='{top + plot_h / 2:.1f}' font-size='12' text-anchor='middle' fill='#486581' "
                 f"transform='rotate(-90 12 {top + plot_h / 2:.1f})'>{escape(y.label)}</text>")  # fmt: skip
    for p, a, b in drawn:
        verdict = "passes the judged gate rows" if p.passed else ("not judged" if p.passed is None else
                                                                   "fails: " + ", ".join(p.failed_rows))
        parts.append(
            f"<circle cx='{sx(a):.1f}' cy='{sy(b):.1f}' r='6' fill='{_TONE[p.passed]}' fill-opacity='0.85' "
            f"stroke='#243b53' stroke-width='{2 if p.passed else 0.5}'><title>{escape(p.name)} ({escape(p.label())}): "
            f"{escape(x.label)} {escape(_fmt(a))}, {escape(y.label)} {escape(_fmt(b))}; {escape(verdict)}</title></circle>"
            # the label on the side with room: right of the dot in the plot's left half, else left of it
            f"<text x='{sx(a) + (8 if sx(a) < left + plot_w / 2 else -8):.1f}' y='{sy(b) - 8:.1f}' font-size='10' "
            f"fill='#334e68' text-anchor='{'start' if sx(a) < left + plot_w / 2 else 'end'}'>{escape(p.label())}</text>"
        )
    return (f"<svg class='chart' width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img' "
            f"aria-label='{escape(y.label)} against {escape(x.label)}'>{''.join(parts)}</svg>")  # fmt: skip


# (x, y) of each panel: utility against privacy, general ability and size.
PANELS = (
    ("holdout_bpb_adapter", "canary_exposure_1x"),
    ("holdout_bpb_adapter", "mia_tpr_at_fpr"),
    ("holdout_bpb_adapter", "general_bpb_increase"),
    ("adapter_bytes", "holdout_bpb_adapter"),
)

_TEMPLATE = """
{{ cards(headline) }}

<section>
<h2>Trade-off</h2>
<p class="note">One dot per experiment, labelled with its rank, alpha and quantization.
<span class="pass">Green</span>: every gate row judged here passes;
<span class="fail">red</span>: one fails (hover a dot for which); grey: not judged (no evaluate reports).
Lower is better on every axis. The gate decides on one-sided 95 % bounds, not on these point estimates.</p>
<div style="display:flex;flex-wrap:wrap;gap:8px 16px">{% for chart in charts %}<div>{{ chart }}</div>{% endfor %}</div>
</section>

<section>
<h2>Experiments</h2>
{{ table(headers, rows, numeric) }}
</section>

<section>
<h2>Gate rows per experiment</h2>
<p class="note">The rows of the release gate that read the evaluate reports, run by the gate's own code with the
thresholds of <code>{{ policy }}</code> (SHA-256 <code>{{ policy_sha[:16] }}…</code>) on each experiment's
<code>reports/eval/benchmarks.json</code> and <code>leakage.json</code> at its commit.</p>
{{ table(gate_headers, gate_rows) }}
</section>

<section>
<h2>Not judged here</h2>
<p class="note">These rows of the gate are not judged here: {{ not_judged_reason }}.</p>
{{ table(["gate row"], not_judged) }}
{% if unjudged %}
<h3>Experiments without a verdict</h3>
{{ table(["experiment", "why"], unjudged) }}
{% endif %}
</section>

<section>
<h2>Reproduce</h2>
<p><code>dvc exp show</code> lists the same figures when it drops every column (<code>.*</code>) but these:
<code>{{ keep }}</code> (README: choosing rank, alpha and quantization). <code>mahrem sweep-report</code> rebuilds this page.</p>
</section>
"""

# The columns to keep (all others dropped) for the same figures in `dvc exp show`'s own table ($: not the
# _upper bounds); the README gives the whole command.
SHOW_KEEP = "Experiment|" + "|".join(a.replace(".", r"\.") for a in AXES) + "|" + "|".join(f"{c.key}$" for c in COLUMNS[:5])


def _verdict_cell(point: SweepPoint) -> Any:
    if point.passed is None:
        return "not judged"
    return H.status(bool(point.passed))


def render_sweep(sweep: Sweep) -> str:
    points = sweep.points
    done = sweep.completed()
    passing = [p for p in done if p.passed]
    best = min(passing, key=lambda p: p.metrics.get("holdout_bpb_adapter", math.inf), default=None)
    headline = [
        ("experiments", len(points), None),
        ("completed", len(done), None),
        ("pass the judged gate rows", len(passing), "good" if passing else "bad"),
        ("best passing (holdout bits per byte)", best.label() if best else "none", None),
    ]
    charts = [Markup(scatter(done, _COLUMN[x], _COLUMN[y])) for x, y in PANELS]  # numbers, labels escaped
    params = list(sweep.changed_params)
    headers = ["experiment", "state", *params, *(c.label for c in COLUMNS), "gate (judged rows)"]
    rows = []
    for p in points:
        rows.append([p.name, p.state, *(_fmt(p.params.get(k)) for k in params),
                     *(_fmt(p.metrics.get(c.key)) for c in COLUMNS), _verdict_cell(p)])  # fmt: skip
    numeric = list(range(2 + len(params), 2 + len(params) + len(COLUMNS)))
    row_names = list(dict.fromkeys(c["name"] for p in points for c in p.checks))
    gate_headers = ["experiment", *row_names]
    gate_rows = []
    for p in points:
        if not p.checks:
            continue
        verdicts = {c["name"]: c for c in p.checks}
        gate_rows.append([p.name, *(_gate_cell(verdicts.get(name)) for name in row_names)])
    unjudged = [(p.name, p.not_judged) for p in points if not p.checks]
    return H.render(
        _TEMPLATE,
        title="Mahrem — rank / alpha sweep",
        subtitle=f"{len(points)} experiment(s) from `dvc exp show`; gate rows of {sweep.policy_file.as_posix()}",
        headline=headline, charts=charts, headers=headers, rows=rows, numeric=numeric,
        gate_headers=gate_headers, gate_rows=gate_rows, policy=sweep.policy_file.as_posix(),
        policy_sha=sweep.policy_sha256, not_judged=[(r,) for r in sweep.not_judged_rows],
        not_judged_reason=NOT_JUDGED_REASON, unjudged=unjudged, keep=SHOW_KEEP,
    )  # fmt: skip


def _gate_cell(check: Mapping[str, Any] | None) -> Any:
    if check is None:
        return "–"
    verdict = check["verdict"]
    css = "pass" if verdict == "pass" else "fail"
    measured = check.get("measured")
    shown = f"{measured:.4g}" if isinstance(measured, float) else str(measured)
    return H.RawHtml(f"<span class='{css}' title='{escape(check.get('threshold', ''))}'>{escape(verdict)}</span> "
                     f"{escape(shown)}")  # fmt: skip


def write_sweep_report(sweep: Sweep, out: Path, json_out: Path) -> None:
    from pipeline.io import atomic_write, write_json

    with atomic_write(out) as handle:
        handle.write(render_sweep(sweep))
    write_json(json_out, sweep.to_json())
