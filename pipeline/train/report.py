"""``reports/train/report.html``: the run at a glance — loss curves, throughput, settings.

Counts, losses and settings only; no record content ever reaches the training report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from pipeline import html as H
from pipeline.html import PALETTE, escape
from pipeline.train.config import TrainParams


def line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]], *, width: int = 720, height: int = 280, x_label: str = "step"
) -> str:
    """An inline SVG line chart; each series is ``[(x, y), …]``, drawn with dots at its points."""
    points = [p for values in series.values() for p in values]
    if not points:
        return "<p class='note'>nothing to show</p>"
    left, right, top, bottom = 56, 150, 12, 34
    x_min, x_max = min(p[0] for p in points), max(p[0] for p in points)
    y_min, y_max = min(p[1] for p in points), max(p[1] for p in points)
    pad = (y_max - y_min) * 0.05 or 0.5
    y_min, y_max = y_min - pad, y_max + pad
    x_span = (x_max - x_min) or 1
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + plot_w * (x - x_min) / x_span

    def sy(y: float) -> float:
        return top + plot_h * (1 - (y - y_min) / (y_max - y_min))

    parts = [
        f"<line x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}' stroke='#9fb3c8'/>",
        f"<line x1='{left}' y1='{top}' x2='{left}' y2='{top + plot_h}' stroke='#9fb3c8'/>",
    ]
    for i in range(5):
        value = y_min + (y_max - y_min) * i / 4
        parts.append(
            f"<text x='{left - 6}' y='{sy(value) + 4:.1f}' font-size='11' text-anchor='end' fill='#627d98'>"
            f"{value:.2f}</text>"
        )
    for value in sorted({x_min, x_max, x_min + (x_max - x_min) // 2}):
        parts.append(
            f"<text x='{sx(value):.1f}' y='{top + plot_h + 16}' font-size='11' text-anchor='middle' "
            f"fill='#627d98'>{value:g}</text>"
        )
    parts.append(
        f"<text x='{left + plot_w / 2:.1f}' y='{height - 4}' font-size='12' text-anchor='middle' "
        f"fill='#486581'>{escape(x_label)}</text>"
    )
    for i, (name, values) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
        if len(values) > 1:
            parts.append(f"<polyline points='{coords}' fill='none' stroke='{color}' stroke-width='2'/>")
        for x, y in values:
            parts.append(
                f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='3' fill='{color}'>"
                f"<title>{escape(name)} @ {x:g}: {y:.4f}</title></circle>"
            )
        parts.append(
            f"<rect x='{width - right + 12}' y='{top + 18 * i}' width='12' height='12' fill='{color}'/>"
            f"<text x='{width - right + 30}' y='{top + 18 * i + 11}' font-size='12'>{escape(name)}</text>"
        )
    return f"<svg width='{width}' height='{height}' role='img'>{''.join(parts)}</svg>"


_TEMPLATE = """
{{ cards(headline) }}

<section>
<h2>Loss</h2>
{{ curves }}
<p class="note">Train loss: mean over the assistant tokens of each optimizer step. Holdout loss: the same on the holdout split, before training (step 0), every eval_every steps and at the end.</p>
</section>

<section>
<h2>Run</h2>
{{ table(["", "value"], run_rows) }}
</section>

<section>
<h2>Parameters (params.yaml train:)</h2>
{{ table(["key", "value"], params_rows) }}
</section>
"""


def render_report(summary: dict[str, Any], history: list[dict[str, float]], config: TrainParams) -> str:
    base, adapter = summary["holdout_loss_base"], summary["holdout_loss_adapter"]
    improved = adapter < base
    headline = [
        ("holdout loss, base", f"{base:.3f}", None),
        ("holdout loss, adapter", f"{adapter:.3f}", "good" if improved else "bad"),
        ("optimizer steps", summary["steps"], None),
        ("epochs", summary["epochs"], None),
        ("tokens trained (assistant)", summary["tokens_trained"], None),
        ("tokens/s (non-pad)", summary["tokens_per_s"], None),
        ("wall time, s", summary["wall_s"], None),
    ]
    curves = line_chart(
        {
            "train loss": [(r["step"], r["loss"]) for r in history if "loss" in r],
            "holdout loss": [(r["step"], r["holdout_loss"]) for r in history if "holdout_loss" in r],
        }
    )
    run_rows = [
        ("device", summary["device"]),
        ("threads", summary["threads"]),
        ("quantization", summary["quantization"]),
        ("trainable parameters", f"{summary['trainable_params']:,} of {summary['total_params']:,} "
         f"({100 * summary['trainable_share']:.2f}%)"),
        ("records (train / holdout)", f"{summary['records_train']} / {summary['records_holdout']}"),
        ("train records trained on at least once / never (seen.json)",
         f"{summary['seen_records']} / {summary['seen_unseen']}"),
        ("holdout records scored for the holdout loss (eval_records)", summary["holdout_eval_records"]),
        ("records truncated to max_seq_len (train / holdout)",
         f"{summary['truncated_records']} / {summary['truncated_records_holdout']}"),
        ("tokens seen / non-pad / trained", f"{summary['tokens_seen']:,} / {summary['tokens_nonpad']:,} / "
         f"{summary['tokens_trained']:,}"),
        ("peak RSS, MB", summary["peak_rss_mb"]),
        ("peak GPU memory, MB", "n/a (CPU)" if summary["peak_gpu_mb"] is None else summary["peak_gpu_mb"]),
        ("resumed from step", "no" if summary["resumed_from_step"] is None else summary["resumed_from_step"]),
        *((f"{name} version", version) for name, version in summary["versions"].items()),
    ]
    return H.render(
        _TEMPLATE,
        title="Mahrem — adapter training",
        subtitle=f"{config.quantization} base + LoRA r={config.lora.r}, seed {config.seed}",
        headline=headline,
        curves=Markup(curves),  # built above from numbers only, every label escaped
        run_rows=run_rows,
        params_rows=sorted(_flatten(config.model_dump(mode="json")).items()),
    )


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = ", ".join(value) if isinstance(value, list) else value
    return flat
