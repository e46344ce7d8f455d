"""The anonymization page (``reports/anonymize/report.html``): what was done to what.

For a data-protection officer: every input line accounted for (kept, transformed, dropped,
quarantined), the actions the policy took per entity type, why records were dropped, the
residual re-scan, the splits and the canaries. It is rendered from the anonymize
``summary.json`` and the *counts* of ``residual.json`` only — never a value, a record id or
a line of text: the residual report's record ids are not even passed to the template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline import html as H
from pipeline.io import atomic_write, write_json
from pipeline.metrics import METRICS_FILE, anonymize_metrics

REPORT_FILE = "report.html"

OUTCOME_COLORS = {"kept": "#2f80ed", "transformed": "#27ae60", "dropped": "#f2994a", "quarantined": "#eb5757"}
SPLIT_COLORS = {"train": "#2f80ed", "holdout": "#9b51e0", "canary copies (train)": "#f2c94c"}
ACTION_ORDER = ("pseudonymize", "replace", "mask", "generalize", "redact", "mask_sentence", "keep")
ACTION_COLORS = {
    "pseudonymize": "#2f80ed", "replace": "#9b51e0", "mask": "#f2994a", "generalize": "#56ccf2",
    "redact": "#eb5757", "mask_sentence": "#bb6bd9", "keep": "#bcccdc",
}  # fmt: skip
REASONS = {
    "special_category": "a special category (KVKK Art. 6 / GDPR Art. 9) the policy drops",
    "special_category_without_consent": "a special category kept only with consent, and the source has none",
    "erasure_request": "a value matched an erasure request (`mahrem forget`)",
    "empty_assistant_turn": "an empty assistant turn (nothing to learn; a broken export)",
    "duplicate": "the same text as an earlier record (after normalisation)",
    "near_duplicate": "nearly the same text as an earlier record (MinHash)",
}

_TEMPLATE = """
{{ cards(headline) }}

<section>
<h2>Every input line, accounted for</h2>
{{ share_bar(outcomes, colors=OUTCOME_COLORS, label="input lines by outcome") }}
{{ table(["outcome", "lines", "share", "meaning"], outcome_rows, numeric=(1, 2)) }}
<p class="note">
{% if accounted %}
<span class="pass">The counts add up:</span> kept + transformed + dropped + quarantined = {{ lines | fmt }} input lines.
{% else %}
<span class="fail">The counts do not add up</span> to the {{ lines | fmt }} input lines.
{% endif %}
Quarantined lines (not valid JSON, not UTF-8, not a record) are listed by file and line in the scan's quarantine.jsonl.
</p>
</section>

<section>
<h2>What was done, by entity type</h2>
{{ stacked_bars(actions, order=ACTION_ORDER, colors=ACTION_COLORS, label="actions by entity type") }}
{{ table(action_headers, action_rows, numeric=action_numeric) }}
<p class="note">Detected spans per entity type in the records written (kept or transformed), by the action of policy
<code>{{ policy }}</code>: pseudonymize = a keyed, consistent surrogate of the same format; replace = a typed
placeholder such as &lt;TCKN&gt;; mask = all but the last characters hidden; generalize = a coarser value (a date of
birth to its year); redact = removed; mask_sentence = the sentence holding a special-category cue removed; keep = left
as is by the policy. {{ spans_changed | fmt }} span(s) changed, {{ spans_kept | fmt }} kept.</p>
</section>

<section>
<h2>Dropped records, by reason</h2>
{{ bar_chart(reasons, color=OUTCOME_COLORS.dropped, label="dropped records by reason") }}
{{ table(["reason", "records", "why"], reason_rows, numeric=(1,)) }}
<p class="note">{{ special_records | fmt }} record(s) held special-category data (dropped, masked or kept with
consent). Erasure requests on file: {{ erasure.requests | fmt }}; records they removed: {{ erasure.records_dropped | fmt }}.</p>
</section>

<section>
<h2>Residual re-scan</h2>
{% if residual_known %}
<p>{{ status(residual_blocked == 0) }}
{{ residual_blocked | fmt }} value(s) of a blocking type found in the anonymized output
(outside the surrogates this stage put there){% if residual_fields %}, in {{ residual_fields | fmt }} text fields re-scanned{% endif %}.</p>
{{ table(["blocking entity type", "found"], residual_rows, numeric=(1,)) }}
<p class="note">The whole output is scanned again with the same recognizers; any value of a blocking type
(policy <code>{{ policy }}</code>, residual.block) stops the stage before anything is written.
Which records they were is in residual.json (record ids only), never here.</p>
{% else %}
<p>{{ status(residual_blocked == 0) }} {{ residual_blocked | fmt }} value(s) of a blocking type found
in the anonymized output.</p>
{% endif %}
</section>

<section>
<h2>Training data: splits and canaries</h2>
{{ share_bar(splits, colors=SPLIT_COLORS, label="records by split") }}
{{ table(["", "records"], split_rows, numeric=(1,)) }}
<p class="note">The split is a keyed hash of each record id (stable, independent of order). Canaries are synthetic
secrets — random numbers that identify no one: {{ canaries | fmt }} of them, planted {{ canary_copies | fmt }} times in all
(each a set number of times, from once upwards; canaries.json), in the training split only, so the evaluate stage can
measure memorisation.</p>
{% if languages %}
<h3>Language</h3>
{{ bar_chart(languages, color=PALETTE[5], label="records by language") }}
{% endif %}
{% if lengths %}
<h3>Length in characters</h3>
{{ bar_chart(lengths, color=PALETTE[3], sort=False, label="records by length in characters") }}
<p class="note">Records written (train and holdout, without canaries) by their total length in characters.{% if length_stats %}
Median {{ length_stats.p50 | fmt }}, 90th percentile {{ length_stats.p90 | fmt }}, longest {{ length_stats.max | fmt }}.{% endif %}</p>
{% endif %}
</section>

<section>
<h2>Evidence</h2>
{{ table(["what", "value"], evidence_rows) }}
<p class="note">{{ key_note }}</p>
</section>
"""


def render_anonymize_report(summary: dict[str, Any], residual: dict[str, Any] | None = None) -> str:
    """The page, from the anonymize summary and (optionally) the residual re-scan's counts."""
    s = summary
    outcomes = {name: s.get(name, 0) for name in ("kept", "transformed", "dropped", "quarantined")}
    lines = s.get("lines") or 0
    meanings = {
        "kept": "no personal data the policy acts on: written unchanged",
        "transformed": "written with its personal data pseudonymized, replaced, masked, generalized or removed",
        "dropped": "not written (see the reasons below)",
        "quarantined": "unreadable line: not a record",
    }
    outcome_rows = [(name, n, f"{n / lines:.1%}" if lines else "–", meanings[name]) for name, n in outcomes.items()]

    actions: dict[str, dict[str, int]] = s.get("actions") or {}
    columns = [a for a in ACTION_ORDER if any(a in v for v in actions.values())]
    columns += sorted({a for v in actions.values() for a in v} - set(columns))
    action_rows = [
        (entity, *(by.get(a, 0) for a in columns), sum(by.values()))
        for entity, by in sorted(actions.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    ]
    spans_kept = sum(by.get("keep", 0) for by in actions.values())
    spans_changed = sum(sum(by.values()) for by in actions.values()) - spans_kept

    reasons: dict[str, int] = s.get("dropped_by_reason") or {}
    reason_rows = [(r, n, REASONS.get(r, "")) for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))]

    residual_known = residual is not None
    residual = residual or {}
    found = residual.get("by_entity_type") or {}
    blocking = sorted(set(residual.get("blocking_types") or []) | set(found))
    residual_rows = [(t, found.get(t, 0)) for t in blocking]

    canary_copies = s.get("canary_records", 0)
    splits = {"train": s.get("train", 0), "holdout": s.get("holdout", 0), "canary copies (train)": canary_copies}
    split_rows = [
        ("train (anonymized records)", s.get("train", 0)),
        ("holdout (anonymized records)", s.get("holdout", 0)),
        ("canaries (distinct secrets)", s.get("canaries", 0)),
        ("canary copies added to train", canary_copies),
    ]
    canaries = s.get("canaries", 0)
    lengths = (s.get("length_chars") or {}).get("histogram") or {}
    length_stats = {k: v for k, v in (s.get("length_chars") or {}).items() if k in ("p50", "p90", "max")}

    erasure = s.get("erasure") or {}
    evidence_rows = [
        ("policy", s.get("policy", "")),
        ("policy SHA-256", H.RawHtml(f"<code>{H.escape(str(s.get('policy_sha256') or '—'))}</code>")),
        ("erasure requests SHA-256", H.RawHtml(f"<code>{H.escape(str(erasure.get('sha256') or '—'))}</code>")),
        ("pseudonym key id", H.RawHtml(f"<code>{H.escape(str(s.get('pseudonym_key_id', '')))}</code>")),
        ("anonymized at", s.get("anonymized_at", "")),
    ]
    key_note = (
        "Surrogates were made with the DEVELOPMENT pseudonym key — not for production data."
        if s.get("development_key")
        else "Surrogates were made with the pseudonym key from MAHREM_PSEUDONYM_KEY."
    )
    residual_tone = "bad" if s.get("residual_blocked_findings") else "good"
    headline = [
        ("input lines", lines, None),
        ("transformed", outcomes["transformed"], None),
        ("kept unchanged", outcomes["kept"], None),
        ("dropped", outcomes["dropped"], None),
        ("quarantined", outcomes["quarantined"], "bad" if outcomes["quarantined"] else None),
        ("train / holdout", f"{s.get('train', 0):,} / {s.get('holdout', 0):,}", None),
        ("residual blocked values", s.get("residual_blocked_findings", 0), residual_tone),
        ("canaries planted", canaries, None),
    ]
    return H.render(
        _TEMPLATE,
        title="Mahrem — anonymization",
        subtitle=f"policy {s.get('policy', '?')}: {lines:,} input lines, anonymized {s.get('anonymized_at', '')}",
        lines=lines,
        policy=s.get("policy", "?"),
        accounted=bool(s.get("accounted")),
        special_records=s.get("special_category_records", 0),
        residual_blocked=s.get("residual_blocked_findings", 0),
        reasons=reasons,
        headline=headline,
        outcomes=outcomes,
        outcome_rows=outcome_rows,
        actions=actions,
        action_headers=["entity type", *columns, "total"],
        action_rows=action_rows,
        action_numeric=tuple(range(1, len(columns) + 2)),
        spans_changed=spans_changed,
        spans_kept=spans_kept,
        reason_rows=reason_rows,
        erasure={"requests": erasure.get("requests", 0), "records_dropped": erasure.get("records_dropped", 0)},
        residual_known=residual_known,
        residual_fields=residual.get("fields_scanned"),
        residual_rows=residual_rows,
        splits=splits,
        split_rows=split_rows,
        canaries=canaries,
        canary_copies=canary_copies,
        languages=s.get("language_mix") or {},
        lengths=lengths,
        length_stats=length_stats,
        evidence_rows=evidence_rows,
        key_note=key_note,
        OUTCOME_COLORS=OUTCOME_COLORS,
        SPLIT_COLORS=SPLIT_COLORS,
        ACTION_ORDER=ACTION_ORDER,
        ACTION_COLORS=ACTION_COLORS,
    )


def write_anonymize_reports(report_dir: Path, summary: dict[str, Any], residual: dict[str, Any] | None) -> None:
    """``metrics.json`` (the headline figures DVC shows) and ``report.html`` beside the summary."""
    write_json(report_dir / METRICS_FILE, anonymize_metrics(summary))
    with atomic_write(report_dir / REPORT_FILE) as handle:
        handle.write(render_anonymize_report(summary, residual))
