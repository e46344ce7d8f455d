"""The PII audit page (``report.html``) of a scan, for a data-protection officer.

It is rendered from the value-free ``summary.json`` and the quarantine entries alone, so
it cannot contain a raw value: counts, types, offsets, line numbers and digests only.
"""

from __future__ import annotations

from typing import Any

from pipeline import html as H

_SCORE_BINS = [f"{i / 10:.1f}" for i in range(10)]


_TEMPLATE = """
{{ cards(headline) }}

<section>
<h2>Personal data by type</h2>
{{ bar_chart(summary.by_entity_type, label="findings by entity type") }}
<p class="note">Number of detected spans per entity type (Presidio names; TR_* are Turkish identifiers).</p>
</section>

<section>
<h2>Special categories (KVKK Art. 6 / GDPR Art. 9)</h2>
{{ bar_chart(summary.special_records_by_category, color=PALETTE[4], label="records by special category") }}
<p class="note">Records per category in which a person's special-category data was found (general talk about a topic is not counted).</p>
</section>

<section>
<h2>By source</h2>
{{ table(["source", "records", "with personal data", "findings"], by_source_rows, numeric=(1, 2, 3)) }}
</section>

<section>
<h2>By conversation role</h2>
{{ bar_chart(summary.by_role, color=PALETTE[1], label="findings by conversation role") }}
</section>

<section>
<h2>Detection scores</h2>
{{ stacked_histograms(summary.score_histogram, score_bins, label="detection scores by entity type") }}
<p class="note">Distribution of recognizer scores per type (0.0–1.0). Low scores are weak evidence; the anonymization policy sets a minimum score per type.</p>
</section>

<section>
<h2>Input files</h2>
{{ table(["file", "source", "lines", "records", "quarantined", "sha256"], files_rows, numeric=(2, 3, 4)) }}
</section>

<section>
<h2>Quarantined lines</h2>
{{ table(["file", "line", "byte offset", "reason"], quarantine_rows, numeric=(1, 2)) }}
<p class="note">{{ summary.quarantined }} of {{ summary.lines }} lines ({{ summary.quarantine_ratio | pct(2) }}); limit {{ summary.max_quarantine_ratio | pct(2) }}. Content is never shown.
{% if summary.quarantined > quarantine_rows | length %} Only the first 200 are listed; see quarantine.jsonl.{% endif %}</p>
</section>

<section>
<h2>Evidence</h2>
{{ table(["what", "SHA-256 / id"], digests) }}
<p class="note">
{% if summary.development_key %}Fingerprints were made with the DEVELOPMENT pseudonym key — not for production data.
{% else %}Fingerprints were made with the pseudonym key from MAHREM_PSEUDONYM_KEY.{% endif %}
</p>
</section>
"""


def render_scan_report(summary: dict[str, Any], quarantine: list[dict[str, Any]]) -> str:
    """The page, from the summary's counts and the quarantine's file/line/reason entries."""
    records = summary["records"]
    share = (summary["records_with_pii"] / records) if records else 0.0
    headline = [
        ("records scanned", records, None),
        ("records with personal data", f"{summary['records_with_pii']:,} ({share:.0%})", None),
        ("records with special categories", summary["records_with_special"], "bad" if summary["records_with_special"] else "good"),
        ("findings", summary["findings"], None),
        ("quarantined lines", summary["quarantined"], "bad" if summary["quarantined"] else "good"),
    ]
    by_source_rows = [
        (name, s["records"], s["records_with_pii"], sum(s["findings"].values()))
        for name, s in summary["by_source"].items()
    ]
    files_rows = [
        (H.RawHtml(f"<code>{H.escape(path)}</code>"), info["source"] or "(from records)", info["lines"], info["records"],
         info["quarantined"], H.RawHtml(f"<code>{info['sha256'][:16]}…</code>"))
        for path, info in summary["files"].items()
    ]
    digests = [("catalog (policies/sources.yaml)", summary.get("catalog_sha256") or "—")]
    digests += [(name, sha) for name, sha in summary.get("policy_sha256", {}).items()]
    digests.append(("pseudonym key id", summary["pseudonym_key_id"]))
    return H.render(
        _TEMPLATE,
        title="Mahrem — personal-data audit",
        subtitle=f"{records:,} records, {summary['fields_scanned']:,} text fields, scanned {summary['scanned_at']}",
        summary=summary,
        headline=headline,
        by_source_rows=by_source_rows,
        files_rows=files_rows,
        quarantine_rows=[(q["file"], q["line"], q["byte_offset"], q["reason"]) for q in quarantine],
        score_bins=_SCORE_BINS,
        digests=digests,
    )
