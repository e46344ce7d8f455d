"""The bundle's ``README.md``: a Hugging Face model card written from the provenance.

The YAML metadata is built with huggingface_hub's ``ModelCardData`` and ``EvalResult``
(``base_model``, ``library_name: peft``, ``license``, ``tags``, ``model-index`` with the
adapter's benchmark results) plus a ``mahrem`` block — bundle name, version, signing key
id, sharing scope — that ``mahrem verify`` compares with provenance.json. The body is
rendered from the same provenance object, so the card cannot say something the signed
manifest does not. It holds counts, entity types and policy citations only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.release.policy import ReleasePolicy

CARD_FILE = "README.md"


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _stat_cells(stats: dict[str, Any] | None) -> list[Any]:
    if not stats:
        return ["", "", "", ""]
    side = "≤" if stats.get("side") == "upper" else "≥"
    bound = stats.get("bound")
    return [stats.get("n"), f"{side} {bound:.4g}" if isinstance(bound, float) else "–", stats.get("mde"),
            stats.get("method", "")]  # fmt: skip


def _utility_row(label: str, block: dict[str, Any], key: str) -> list[Any]:
    measured = block.get(key) or {}
    return [label, block.get("documents"), block.get("base_bpb"), block.get("adapter_bpb"), measured.get("estimate"),
            measured.get("upper") if key == "increase" else measured.get("lower"), measured.get("mde")]


def card_metadata(policy: ReleasePolicy, predicate: dict[str, Any]):
    """The card's YAML metadata as a ``ModelCardData``."""
    from huggingface_hub import EvalResult, ModelCardData

    bundle, signer, gov = predicate["mahrem_bundle"], predicate["mahrem_signer"], predicate["mahrem_governance"]
    results = [
        EvalResult(
            task_type="text-generation",
            dataset_type=name,
            dataset_name=name,
            metric_type=task["metric"],
            metric_value=task["adapter"],
        )
        for name, task in sorted(predicate["mahrem_evaluation"]["benchmarks"].items())
    ]
    return ModelCardData(
        base_model=bundle["base_model"],
        library_name="peft",
        license=bundle["license"],
        language=list(policy.language) or None,
        tags=list(policy.tags),
        pipeline_tag="text-generation",
        model_name=f"{bundle['name']}-{bundle['version']}",
        eval_results=results or None,
        mahrem={
            "bundle": bundle["name"],
            "version": bundle["version"],
            "signing_key_id": signer["key_id"],
            "development_key": signer["development_key"],
            "sharing_scope": gov["sharing_scope"],
            "cross_border_transfer": gov["cross_border_transfer"],
            "gate": "passed" if predicate["mahrem_gate"]["passed"] else "failed",
            "provenance": "provenance.json",
        },
    )


def render_card(policy: ReleasePolicy, predicate: dict[str, Any], anonymization_actions: dict[str, str]) -> str:
    """The whole README.md: metadata block and Markdown body."""
    data = card_metadata(policy, predicate)
    bundle, signer = predicate["mahrem_bundle"], predicate["mahrem_signer"]
    gov, privacy = predicate["mahrem_governance"], predicate["mahrem_privacy"]
    evaluation, gate = predicate["mahrem_evaluation"], predicate["mahrem_gate"]
    scan, anon, erasure, probes = privacy["scan"], privacy["anonymization"], privacy["erasure"], privacy["probes"]
    full = f"{bundle['name']}-{bundle['version']}"
    parts = [f"# {full}", ""]
    parts.append(
        f"A LoRA adapter (PEFT) for [{bundle['base_model']}](https://huggingface.co/{bundle['base_model']}), "
        "fine-tuned by the Mahrem pipeline on anonymized conversations, released after a gate on personal-data "
        "leakage and benchmark regressions. Every figure below is also in the signed `provenance.json`."
    )
    if signer["development_key"]:
        parts += ["", "> **Warning:** this bundle is signed with a DEVELOPMENT key. It is fit for trying Mahrem, "
                      "not for distribution."]
    parts += ["", "## Intended use", "", policy.card.intended_use, "", "**Out of scope:** " + policy.card.out_of_scope]

    parts += ["", "## Training data and its governance", ""]
    rows = [
        [name, s["controller"], s["legal_basis"]["kvkk"], s["legal_basis"]["gdpr"], s["special_categories_allowed"],
         s["sharing_scope"], s["cross_border_transfer"], s["retention_until"]]
        for name, s in sorted(gov["sources"].items())
    ]
    parts.append(_table(["source", "controller", "KVKK basis", "GDPR basis", "special categories", "sharing scope",
                         "transfer abroad", "retention until"], rows))
    parts += [
        "",
        f"- **Sharing scope:** `{gov['sharing_scope']}` (set by source(s) {', '.join(gov['sharing_scope_set_by'])}: "
        "the narrowest of the sources that fed the run).",
        "- **Transfer abroad (KVKK Art. 9):** "
        + ("allowed by every source." if gov["cross_border_transfer"]
           else f"not allowed (forbidden by {', '.join(gov['cross_border_forbidden_by'])})."),
        f"- **Anonymization policy:** `{anon['policy']}` — "
        + ", ".join(f"{t}: {a}" for t, a in sorted(anonymization_actions.items())) + ".",
        f"- **Records:** {anon['records']} read, {anon['transformed']} transformed, {anon['kept']} kept unchanged, "
        f"{anon['dropped']} dropped ({', '.join(f'{k}: {v}' for k, v in sorted(anon['dropped_by_reason'].items())) or 'none'}), "
        f"{anon['quarantined']} quarantined; {anon['train']} train (+{anon['canary_records']} canary records) and "
        f"{anon['holdout']} holdout.",
        f"- **Erasure requests applied:** {erasure['requests']} ({erasure['records_dropped']} record(s) dropped).",
        f"- **Residual re-scan:** {anon['residual_blocked_findings']} blocked value(s) left.",
        "",
        "Personal data found by the scan (counts of detected values by type, before anonymization):",
        "",
        _table(["entity type", "count"], [[k, v] for k, v in sorted(scan["by_entity_type"].items())]),
        "",
        "Special categories (KVKK Art. 6 / GDPR Art. 9) detected: "
        + (", ".join(f"{k}: {v}" for k, v in sorted(scan["special_categories"].items())) or "none")
        + ". Records holding them are handled as the anonymization policy above says.",
    ]

    train = evaluation["training"]
    parts += [
        "", "## Training", "",
        f"{train['steps']} steps, {train['epochs']} epoch(s), {train['tokens_seen']} tokens, quantization "
        f"`{train['quantization']}`, device `{train['device']}`, compute dtype `{train.get('compute_dtype', 'n/a')}`, "
        f"seed {train['seed']}; "
        f"{train['trainable_params']} trainable of {train['total_params']} parameters. "
        f"Holdout loss {_cell(train['holdout_loss_base'])} (base) → {_cell(train['holdout_loss_adapter'])} (adapter).",
        "", "## Evaluation", "",
        "Utility in bits per byte (lower is better), base and adapter on the same documents; the bound is one-sided "
        "95 % from a paired bootstrap, the MDE is what the sample resolves with 80 % power:", "",
        _table(["measure", "documents", "base bpb", "adapter bpb", "estimate", "bound", "MDE"],
               [_utility_row("general English (adapter − base)", evaluation["utility"]["general"], "increase"),
                _utility_row("domain holdout (relative gain)", evaluation["utility"]["domain"], "gain")]),
        "", "Benchmarks (lm-eval); an accuracy counts in the gate only where the base is above chance by 3 standard "
        "errors:", "",
        _table(["task", "kind", "metric", "base", "adapter", "n"], [
            [name, t["kind"], t["metric"] + (" ↑" if t["higher_is_better"] else " ↓"), t["base"], t["adapter"], t["n"]]
            for name, t in sorted(evaluation["benchmarks"].items())
        ]),
    ]

    canary_rows = [[reps, g["canaries"], g["seen"], g["base_exposure_max"], g["adapter_exposure_mean"],
                    (g.get("exposure") or {}).get("upper"), (g.get("exposure") or {}).get("mde"), g["adapter_exposure_max"]]
                   for reps, g in sorted(probes["canary"].items(), key=lambda kv: int(kv[0]))]  # fmt: skip
    ext, inf, mia = probes["extraction"], probes["inference"], probes["membership"]
    parts += [
        "", "## Privacy evaluation", "",
        "The release gate (`policies/release.yaml`); every check passed. A statistical row decides on its one-sided "
        "95 % bound, and only where its minimum detectable effect (80 % power, at the n it had) fits between the "
        "no-effect value and the threshold; otherwise it is inconclusive, which fails:", "",
        _table(["check", "measured", "threshold", "n", "bound", "MDE", "method", "result"],
               [[c["name"], c["measured"], c["threshold"], *_stat_cells(c.get("stats")), c.get("verdict", "pass")]
                for c in gate["checks"]]),
        "", "Canary exposure in bits (log2 |R| − log2 rank; ~1.4 bits is chance), against "
        f"{probes['canary_references']} references; 'seen' counts canaries training really showed the model:", "",
        _table(["insertions", "canaries", "seen", "base max", "adapter mean", "mean bound", "MDE", "adapter max"],
               canary_rows),
        "",
        f"- **Targeted extraction:** {ext['prompts']} prompts (PII of seen records, and the canary chat); the adapter "
        f"emitted {ext['adapter_hits']} original value(s) ({ext['adapter_only_hits']} that the base model did not); "
        f"rate bound {_cell((ext.get('rate') or {}).get('upper'))} (exact one-sided 95 %).",
        f"- **PII inference:** top-1 {_cell(inf['adapter_top1'])} (adapter) vs {_cell(inf['base_top1'])} (base); "
        f"chance {_cell(inf['chance'])} over {inf['trials']} trials.",
        f"- **Membership inference:** strongest attack `{mia['attack']}`, TPR at {mia['fpr']:.0%} FPR "
        f"{_cell(mia['tpr_at_fpr'])} (bound {_cell(mia['tpr'].get('upper'))}, MDE {_cell(mia['tpr'].get('mde'))}); AUC "
        + ", ".join(f"{k} {_cell(v)}" for k, v in sorted(mia["auc"].items()))
        + f" ({mia['members']} seen training records vs {mia['nonmembers']} holdout records).",
    ]
    parts += ["", "## Limitations", ""] + [f"- {item}" for item in policy.card.limitations]
    parts += [
        "", "## How to verify", "",
        f"Signed with OpenSSF model signing (elliptic-curve key, offline). Signing key id `{signer['key_id']}`"
        + (" (development key)." if signer["development_key"] else "."),
        "", "```bash",
        f"mahrem verify release/{full} --public-key SIGNER.pub.pem",
        f"model_signing verify key release/{full} --signature release/{full}/model.sig --public_key SIGNER.pub.pem",
        "```", "",
        "`mahrem verify` also checks every file against `provenance.json`, the gate results and this card's metadata.",
        "",
    ]
    return f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(parts)


def read_card_metadata(path: Path) -> dict[str, Any]:
    """The card's metadata as a dict, parsed by huggingface_hub (``ValueError`` if unreadable)."""
    import yaml
    from huggingface_hub import ModelCard

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name}: not a readable model card ({type(exc).__name__})") from None
    try:
        card = ModelCard(text)  # nothing but the library in this block: its errors are about the text
    except ValueError as exc:  # huggingface_hub's own parse errors ("metadata block should be a dict", …)
        raise ValueError(f"{path.name}: not a readable model card ({type(exc).__name__})") from None
    except (yaml.YAMLError, RecursionError, TypeError) as exc:
        # A tampered metadata block: PyYAML's errors, its recursion on deep nesting, and the
        # TypeError huggingface_hub's card data raises for a wrongly typed field (`tags: 5`).
        raise ValueError(f"{path.name}: metadata block does not parse ({type(exc).__name__})") from None
    return card.data.to_dict()
