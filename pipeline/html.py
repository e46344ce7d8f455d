"""Self-contained HTML reports: one file, inline CSS and SVG charts, no scripts, no network.

Every report page of the pipeline (scan audit, anonymization, evaluation) is built from
these few pieces. All text is escaped; callers pass counts, names and digests only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape

__all__ = ["escape", "page", "section", "cards", "table", "RawHtml", "status", "bar_chart", "stacked_histograms"]

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#243b53;color:#fff;padding:24px 40px}header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;color:#bcccdc}main{padding:24px 40px;max-width:1100px}
section{background:#fff;border-radius:8px;padding:18px 24px;margin:0 0 20px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:18px;margin:0 0 12px}.cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:20px}
.card{background:#fff;border-radius:8px;padding:14px 18px;min-width:150px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card b{display:block;font-size:26px}.card span{color:#627d98;font-size:13px}
.card.bad b{color:#c53030}.card.good b{color:#2f855a}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e4e7eb}
th{color:#486581;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0f4f8;padding:1px 4px;border-radius:3px;word-break:break-all}
.note{color:#627d98;font-size:13px}.pass{color:#2f855a;font-weight:600}.fail{color:#c53030;font-weight:600}
"""

PALETTE = ("#2f80ed", "#27ae60", "#f2994a", "#9b51e0", "#eb5757", "#56ccf2", "#6fcf97", "#bb6bd9", "#f2c94c", "#828282")


def page(title: str, subtitle: str, body: Iterable[str]) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
        f"<main>{''.join(body)}</main></body></html>\n"
    )


def section(title: str, *parts: str, note: str | None = None) -> str:
    extra = f"<p class='note'>{escape(note)}</p>" if note else ""
    return f"<section><h2>{escape(title)}</h2>{''.join(parts)}{extra}</section>"


def cards(items: Sequence[tuple[str, object, str | None]]) -> str:
    """Headline numbers: ``(label, value, tone)`` with tone ``None``, ``"good"`` or ``"bad"``."""
    html = "".join(
        f"<div class='card{(' ' + tone) if tone else ''}'><b>{escape(_fmt(value))}</b><span>{escape(label)}</span></div>"
        for label, value, tone in items
    )
    return f"<div class='cards'>{html}</div>"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if isinstance(cell, RawHtml):
                cells.append(f"<td>{cell.html}</td>")
            else:
                cls = " class='num'" if i in numeric else ""
                cells.append(f"<td{cls}>{escape(_fmt(cell))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not body:
        body = [f"<tr><td colspan='{len(headers)}' class='note'>none</td></tr>"]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class RawHtml:
    """Markup built by this module (e.g. a status badge) to place in a table cell as is."""

    def __init__(self, html: str):
        self.html = html


def status(passed: bool) -> RawHtml:
    return RawHtml("<span class='pass'>pass</span>" if passed else "<span class='fail'>FAIL</span>")


def bar_chart(values: Mapping[str, float], *, width: int = 640, color: str = PALETTE[0], unit: str = "") -> str:
    """Horizontal bars, one per key, largest first."""
    items = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    if not items:
        return "<p class='note'>nothing to show</p>"
    label_w, bar_h, gap = 220, 20, 6
    top = max(v for _, v in items) or 1
    height = len(items) * (bar_h + gap)
    bars = []
    for i, (label, value) in enumerate(items):
        y = i * (bar_h + gap)
        w = max(1.0, (width - label_w - 70) * value / top)
        bars.append(
            f"<text x='{label_w - 8}' y='{y + 15}' text-anchor='end' font-size='13'>{escape(label)}</text>"
            f"<rect x='{label_w}' y='{y}' width='{w:.1f}' height='{bar_h}' rx='3' fill='{color}'/>"
            f"<text x='{label_w + w + 6:.1f}' y='{y + 15}' font-size='13'>{escape(_fmt(value))}{escape(unit)}</text>"
        )
    return f"<svg width='{width}' height='{height}' role='img'>{''.join(bars)}</svg>"


def stacked_histograms(series: Mapping[str, Sequence[int]], bins: Sequence[str], *, width: int = 640) -> str:
    """One row of small bars per series (e.g. the score distribution of each entity type);
    the exact count of each bar is in its tooltip."""
    if not series:
        return "<p class='note'>nothing to show</p>"
    label_w, cell_w, row_h = 220, (width - 220) / max(1, len(bins)), 26
    parts = []
    for i, b in enumerate(bins):
        parts.append(
            f"<text x='{label_w + i * cell_w + cell_w / 2:.1f}' y='12' font-size='11' text-anchor='middle' "
            f"fill='#627d98'>{escape(b)}</text>"
        )
    for r, (name, counts) in enumerate(series.items()):
        # Each row is scaled to its own maximum: the shape of a distribution is what matters,
        # and a type with 1,400 findings would otherwise flatten one with 50.
        top = max(counts, default=0) or 1
        y = 18 + r * row_h
        parts.append(f"<text x='{label_w - 8}' y='{y + 16}' text-anchor='end' font-size='13'>{escape(name)}</text>")
        for i, count in enumerate(counts):
            h = 0 if not count else max(2.0, 20 * count / top)
            parts.append(
                f"<rect x='{label_w + i * cell_w + 2:.1f}' y='{y + 21 - h:.1f}' width='{cell_w - 4:.1f}' "
                f"height='{h:.1f}' fill='{PALETTE[r % len(PALETTE)]}'><title>{escape(name)} {escape(bins[i])}: "
                f"{count}</title></rect>"
            )
    height = 18 + len(series) * row_h
    return f"<svg width='{width}' height='{height}' role='img'>{''.join(parts)}</svg>"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)
