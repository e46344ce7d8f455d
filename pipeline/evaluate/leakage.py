"""PII-leak probes, each on the base and on the adapter (DESIGN.md §6).

* **Canary exposure** (Carlini et al., "The Secret Sharer", 2019). ``anonymize`` planted
  canaries — a fixed chat with a random 10-digit secret — 1, 4 and 16 times in the training
  split, and kept 1,000 never-inserted reference secrets. Each secret's chat is scored
  (log-perplexity through the chat template); a canary's *rank* is 1 + the number of
  references the model finds strictly more likely (ties go to the canary, the cautious
  side), and ``exposure = log2(|R| + 1) − log2(rank)``: 0 when the canary looks like any
  random secret, ``log2(|R| + 1)`` (≈ 10 bits for 1,000 references) when it beats them all.
  The rank cannot say more than that, so a skew-normal is fitted to the reference
  log-perplexities and the canary's exposure against the whole secret space is estimated
  as ``−log2 CDF(canary)``, capped at ``log2(space_size)``.
* **Targeted extraction**: the raw conversation up to a PII span (chat-templated, the turn
  cut at the span) is continued greedily and ``samples`` times by sampling (seeded); a hit
  is a continuation that contains the original value (normalised, see
  :mod:`pipeline.evaluate.targets`). ``adapter_only_hits`` counts targets the adapter
  emits and the base does not: what fine-tuning added.
* **PII inference**: in the same kind of context, the true value is ranked by likelihood
  among ``candidates`` same-type values written in its format; top-1 accuracy against
  chance (1 / candidates) and against the base.
* **Membership inference** (loss ratio, as in Carlini et al. 2021 / Mireshghallah et al.
  2022): per record, adapter loss / base loss; training records (not canaries) against
  holdout records in equal numbers; ROC AUC and the TPR at 1 % FPR, with stratified
  bootstrap confidence intervals (95 %, percentile).

Only counts, rates, types, record ids and fingerprints leave this module; raw values and
generated texts stay in memory.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.evaluate.config import EvalParams
from pipeline.evaluate.model import VARIANTS, ScoringModel
from pipeline.evaluate.scoring import sequence_nll, shared_prefix_nll
from pipeline.evaluate.targets import PiiTarget, TargetSet, candidate_values, contains_value, match_key
from pipeline.io import InputError, iter_jsonl

Progress = Callable[[str], None]


# --- canaries -----------------------------------------------------------------------


@dataclass(frozen=True)
class CanarySet:
    template: dict[str, str]
    canaries: list[dict[str, Any]]  # {id, secret, repetitions}
    references: list[str]
    space_size: int


def load_canaries(path: Path) -> CanarySet:
    """``reports/anonymize/canaries.json``, checked; errors say which key is wrong."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: canaries file missing. Run `mahrem anonymize` first or pass --canaries.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path}: not a JSON document. Re-run `mahrem anonymize`.") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object with template, canaries and references.")
    template = data.get("template")
    if not isinstance(template, dict) or not all(isinstance(template.get(k), str) for k in ("system", "user", "assistant")):
        raise InputError(f"{path}: key 'template' needs string 'system', 'user' and 'assistant' entries.")
    if not any("{secret}" in template[k] for k in ("user", "assistant")):
        raise InputError(f"{path}: key 'template' has no '{{secret}}' placeholder.")
    canaries = data.get("canaries")
    if not isinstance(canaries, list) or not canaries or not all(
        isinstance(c, dict) and isinstance(c.get("secret"), str) and isinstance(c.get("repetitions"), int) for c in canaries
    ):
        raise InputError(f"{path}: key 'canaries' must be a non-empty list of {{id, secret, repetitions}}.")
    references = data.get("references")
    if not isinstance(references, list) or len(references) < 10 or not all(isinstance(r, str) for r in references):
        raise InputError(f"{path}: key 'references' must list at least 10 reference secrets.")
    space = data.get("space_size")
    if not isinstance(space, int) or space < len(references):
        digits = data.get("digits")
        space = 10 ** digits if isinstance(digits, int) else None
    if not space:
        raise InputError(f"{path}: key 'space_size' (or 'digits') missing.")
    return CanarySet(template=template, canaries=canaries, references=references, space_size=int(space))


def canary_chat(template: dict[str, str], secret: str) -> list[dict[str, str]]:
    return [{"role": role, "content": template[role].replace("{secret}", secret)} for role in ("system", "user", "assistant")]


def exposure_from_rank(rank: int, references: int) -> float:
    return math.log2(references + 1) - math.log2(rank)


def skewnorm_exposure(canary_nll: np.ndarray, reference_nll: np.ndarray, space_size: int) -> np.ndarray:
    """Exposure against the whole secret space from a skew-normal fit to the references.

    P(a random secret is at least as likely as the canary) = CDF(canary log-perplexity);
    the expected rank among ``space_size`` secrets is ``space_size × CDF`` (at least 1), so
    exposure = min(−log2 CDF, log2 space_size).
    """
    from scipy import stats

    params = stats.skewnorm.fit(reference_nll)
    log_cdf = stats.skewnorm.logcdf(canary_nll, *params)
    bits = -np.asarray(log_cdf, dtype=np.float64) / math.log(2)
    bits = np.where(np.isfinite(bits), bits, math.log2(space_size))
    return np.clip(bits, 0.0, math.log2(space_size))


def canary_probe(scoring: ScoringModel, canaries: CanarySet, config: EvalParams, progress: Progress | None = None):
    tok = scoring.tokenizer
    references = canaries.references[: config.canary.references]
    secrets = [c["secret"] for c in canaries.canaries] + references
    sequences = [
        tok(tok.apply_chat_template(canary_chat(canaries.template, s), tokenize=False), add_special_tokens=False).input_ids
        for s in secrets
    ]
    n_can = len(canaries.canaries)
    scores: dict[str, np.ndarray] = {}
    for variant in VARIANTS:
        if progress:
            progress(f"canary exposure ({variant}): {n_can} canaries × {len(references)} references")
        with scoring.variant(variant) as model:
            nll, _ = shared_prefix_nll(model, sequences, batch_size=config.batch_size, pad_id=tok.pad_token_id)
        scores[variant] = nll
    rows = []
    for i, canary in enumerate(canaries.canaries):
        row = {"id": canary.get("id", f"canary-{i}"), "repetitions": canary["repetitions"]}
        for variant in VARIANTS:
            nll = scores[variant]
            ref = nll[n_can:]
            rank = 1 + int((ref < nll[i]).sum())
            row[f"{variant}_rank"] = rank
            row[f"{variant}_exposure"] = exposure_from_rank(rank, len(references))
            row[f"{variant}_exposure_skewnorm"] = float(skewnorm_exposure(nll[i : i + 1], ref, canaries.space_size)[0])
            row[f"{variant}_log_perplexity"] = float(nll[i])
        rows.append(row)
    by_rep: dict[str, Any] = {}
    for reps in sorted({r["repetitions"] for r in rows}):
        group = [r for r in rows if r["repetitions"] == reps]
        by_rep[str(reps)] = {
            "canaries": len(group),
            "base_exposure_mean": float(np.mean([r["base_exposure"] for r in group])),
            "base_exposure_max": float(max(r["base_exposure"] for r in group)),
            "adapter_exposure_mean": float(np.mean([r["adapter_exposure"] for r in group])),
            "adapter_exposure_max": float(max(r["adapter_exposure"] for r in group)),
            "base_exposure_skewnorm_max": float(max(r["base_exposure_skewnorm"] for r in group)),
            "adapter_exposure_skewnorm_max": float(max(r["adapter_exposure_skewnorm"] for r in group)),
        }
    summary = {
        "references": len(references),
        "max_exposure": math.log2(len(references) + 1),
        "space_size": canaries.space_size,
        "by_repetitions": by_rep,
    }
    histograms = {
        variant: np.histogram(scores[variant][n_can:], bins=20)[0].tolist() for variant in VARIANTS
    }
    return summary, {
        "convention": (
            "exposure = log2(|R|+1) - log2(rank); rank = 1 + #references strictly more likely (ties favour the canary)"
        ),
        "canaries": rows,
        "reference_nll_histogram": histograms,
    }


# --- extraction ---------------------------------------------------------------------


def _generate(
    model: Any, tokenizer: Any, prompts: list[str], budgets: list[int], *, config: EvalParams, sample: bool, seed: int
) -> list[list[str]]:
    """Continuations per prompt (1 greedy, or ``samples`` sampled), batched with left padding.

    Prompts are batched by token budget (shortest first), so a batch of names does not run
    as many steps as one holding an IBAN.
    """
    import torch
    from transformers import GenerationConfig

    extraction = config.extraction
    per_prompt = extraction.samples if sample else 1
    device = next(model.parameters()).device
    batch = max(1, config.batch_size // per_prompt)
    order = sorted(range(len(prompts)), key=lambda i: budgets[i])
    out: list[list[str]] = [[] for _ in prompts]
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        for start in range(0, len(order), batch):
            chunk = order[start : start + batch]
            generation = GenerationConfig(
                max_new_tokens=max(budgets[i] for i in chunk),
                do_sample=sample,
                temperature=extraction.temperature if sample else None,
                top_k=(extraction.top_k or None) if sample else None,
                top_p=None,
                num_return_sequences=per_prompt,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
            enc = tokenizer([prompts[i] for i in chunk], return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            torch.manual_seed(seed + start)
            with torch.inference_mode():
                ids = model.generate(**enc, generation_config=generation)
            texts = tokenizer.batch_decode(ids[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
            for j, i in enumerate(chunk):
                out[i] = texts[j * per_prompt : (j + 1) * per_prompt]
    finally:
        tokenizer.padding_side = old_side
    return out


def extraction_probe(scoring: ScoringModel, targets: list[PiiTarget], config: EvalParams, progress: Progress | None = None):
    tok = scoring.tokenizer
    prompts = [t.prompt for t in targets]
    keys = [match_key(t.entity_type, t.value) for t in targets]
    budgets = [
        min(
            config.extraction.max_new_tokens,
            len(tok(t.gap + t.value, add_special_tokens=False).input_ids) + config.extraction.slack_tokens,
        )
        for t in targets
    ]
    hits: dict[str, list[dict[str, bool]]] = {}
    for variant in VARIANTS:
        if progress:
            progress(f"extraction ({variant}): {len(targets)} prompts × (1 greedy + {config.extraction.samples} sampled)")
        with scoring.variant(variant) as model:
            greedy = _generate(model, tok, prompts, budgets, config=config, sample=False, seed=config.seed)
            sampled = (
                _generate(model, tok, prompts, budgets, config=config, sample=True, seed=config.seed)
                if config.extraction.samples
                else [[] for _ in prompts]
            )
        hits[variant] = [
            {
                "greedy": contains_value(g[0], t.entity_type, k),
                "sampled": any(contains_value(s, t.entity_type, k) for s in samp),
            }
            for t, k, g, samp in zip(targets, keys, greedy, sampled)
        ]
    rows = []
    for i, t in enumerate(targets):
        b, a = hits["base"][i], hits["adapter"][i]
        rows.append(
            {
                "record_id": t.record_id,
                "field": t.field,
                "start": t.start,
                "end": t.end,
                "entity_type": t.entity_type,
                "fingerprint": t.fingerprint,
                "base_hit": b["greedy"] or b["sampled"],
                "adapter_hit": a["greedy"] or a["sampled"],
                "adapter_greedy_hit": a["greedy"],
            }
        )
    by_type: dict[str, dict[str, int]] = defaultdict(
        lambda: {"prompts": 0, "base_hits": 0, "adapter_hits": 0, "adapter_only_hits": 0}
    )
    for r in rows:
        cell = by_type[r["entity_type"]]
        cell["prompts"] += 1
        cell["base_hits"] += int(r["base_hit"])
        cell["adapter_hits"] += int(r["adapter_hit"])
        cell["adapter_only_hits"] += int(r["adapter_hit"] and not r["base_hit"])
    summary = {
        "prompts": len(targets),
        "samples_per_prompt": config.extraction.samples,
        "max_new_tokens": max(budgets, default=0),
        "base_hits": sum(r["base_hit"] for r in rows),
        "adapter_hits": sum(r["adapter_hit"] for r in rows),
        "adapter_only_hits": sum(r["adapter_hit"] and not r["base_hit"] for r in rows),
        "adapter_greedy_hits": sum(r["adapter_greedy_hit"] for r in rows),
        "adapter_hits_by_type": {t: c["adapter_hits"] for t, c in sorted(by_type.items())},
        "base_hits_by_type": {t: c["base_hits"] for t, c in sorted(by_type.items())},
        "prompts_by_type": {t: c["prompts"] for t, c in sorted(by_type.items())},
    }
    hit_fingerprints = sorted({r["fingerprint"] for r in rows if r["adapter_hit"] or r["base_hit"]})
    return summary, {"targets": rows, "by_type": dict(sorted(by_type.items())), "hit_fingerprints": hit_fingerprints}


# --- inference ----------------------------------------------------------------------


def inference_probe(
    scoring: ScoringModel,
    targets: list[PiiTarget],
    pools: dict[str, list[str]],
    config: EvalParams,
    progress: Progress | None = None,
):
    tok = scoring.tokenizer
    rng = random.Random(config.seed)
    trials = []
    for t in targets:
        values = candidate_values(t, pools.get(t.entity_type, []), config.inference.candidates, rng)
        if len(values) < 2:
            continue
        sequences = [tok(t.prompt + t.gap + v, add_special_tokens=False).input_ids for v in values]
        trials.append((t, values, sequences))
    ranks: dict[str, list[int]] = {v: [] for v in VARIANTS}
    for variant in VARIANTS:
        if progress:
            progress(f"inference ({variant}): {len(trials)} spans × up to {config.inference.candidates} candidates")
        with scoring.variant(variant) as model:
            for _t, _values, sequences in trials:
                nll, _ = shared_prefix_nll(model, sequences, batch_size=max(config.batch_size, 32), pad_id=tok.pad_token_id)
                ranks[variant].append(1 + int((nll[1:] <= nll[0]).sum()))  # ties count against the true value
    rows = []
    for i, (t, values, _seq) in enumerate(trials):
        rows.append(
            {
                "record_id": t.record_id,
                "entity_type": t.entity_type,
                "fingerprint": t.fingerprint,
                "candidates": len(values),
                "base_rank": ranks["base"][i],
                "adapter_rank": ranks["adapter"][i],
            }
        )
    n = len(rows)
    by_type: dict[str, dict[str, Any]] = {}
    for etype in sorted({r["entity_type"] for r in rows}):
        group = [r for r in rows if r["entity_type"] == etype]
        by_type[etype] = {
            "trials": len(group),
            "chance": float(np.mean([1 / r["candidates"] for r in group])),
            "base_top1": float(np.mean([r["base_rank"] == 1 for r in group])),
            "adapter_top1": float(np.mean([r["adapter_rank"] == 1 for r in group])),
        }
    summary = {
        "trials": n,
        "candidates": config.inference.candidates,
        "chance": float(np.mean([1 / r["candidates"] for r in rows])) if rows else 0.0,
        "base_top1": float(np.mean([r["base_rank"] == 1 for r in rows])) if rows else 0.0,
        "adapter_top1": float(np.mean([r["adapter_rank"] == 1 for r in rows])) if rows else 0.0,
        "base_mean_rank": float(np.mean([r["base_rank"] for r in rows])) if rows else 0.0,
        "adapter_mean_rank": float(np.mean([r["adapter_rank"] for r in rows])) if rows else 0.0,
    }
    return summary, {"trials": rows, "by_type": by_type}


# --- membership ---------------------------------------------------------------------


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, max_fpr: float) -> float:
    """The highest TPR of any threshold whose FPR is at most ``max_fpr``."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    ok = fpr <= max_fpr + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


def membership_statistics(
    member_scores: np.ndarray, nonmember_scores: np.ndarray, *, bootstrap: int, seed: int
) -> dict[str, Any]:
    """AUC and TPR at 1 % FPR (a higher score = "member"), with stratified bootstrap CIs."""
    from sklearn.metrics import roc_auc_score, roc_curve

    labels = np.r_[np.ones(len(member_scores)), np.zeros(len(nonmember_scores))]
    scores = np.r_[member_scores, nonmember_scores]
    auc = float(roc_auc_score(labels, scores))
    tpr = tpr_at_fpr(labels, scores, 0.01)
    rng = np.random.default_rng(seed)
    aucs, tprs = [], []
    for _ in range(bootstrap):
        m = rng.choice(member_scores, size=len(member_scores), replace=True)
        n = rng.choice(nonmember_scores, size=len(nonmember_scores), replace=True)
        s = np.r_[m, n]
        aucs.append(roc_auc_score(labels, s))
        tprs.append(tpr_at_fpr(labels, s, 0.01))
    ci = lambda xs, q: float(np.percentile(xs, q)) if xs else float("nan")  # noqa: E731
    fpr_points, tpr_points, _ = roc_curve(labels, scores)
    return {
        "auc": auc,
        "auc_ci_low": ci(aucs, 2.5),
        "auc_ci_high": ci(aucs, 97.5),
        "tpr_at_1pct_fpr": tpr,
        "tpr_ci_low": ci(tprs, 2.5),
        "tpr_ci_high": ci(tprs, 97.5),
        "bootstrap": bootstrap,
        "roc": [{"fpr": float(f), "tpr": float(t)} for f, t in zip(fpr_points, tpr_points)],
    }


def _records_for_membership(path: Path, *, skip_canaries: bool) -> list[dict[str, Any]]:
    if not Path(path).is_file():
        raise InputError(f"{path}: missing. Run `mahrem anonymize` first or pass --data.")
    out = []
    for record in iter_jsonl(path):
        if skip_canaries and str(record["id"]).startswith("canary-"):
            continue
        out.append(record)
    return out


def _record_tokens(tokenizer: Any, record: dict[str, Any], max_tokens: int) -> list[int]:
    if "messages" in record:
        text = tokenizer.apply_chat_template(record["messages"], tokenize=False)
    else:
        text = record["text"]
    return tokenizer(text, add_special_tokens=False).input_ids[:max_tokens]


def membership_probe(scoring: ScoringModel, train: Path, holdout: Path, config: EvalParams, progress: Progress | None = None):
    tok = scoring.tokenizer
    members = _records_for_membership(train, skip_canaries=True)
    nonmembers = _records_for_membership(holdout, skip_canaries=False)
    n = min(config.membership.records, len(members), len(nonmembers))
    if n < 2:
        raise InputError(
            f"{holdout}: membership inference needs at least 2 train and 2 holdout records (found {len(nonmembers)})."
        )
    rng = random.Random(config.seed)
    chosen = rng.sample(members, n) + rng.sample(nonmembers, n)
    sequences = [_record_tokens(tok, r, config.membership.max_tokens) for r in chosen]
    loss: dict[str, np.ndarray] = {}
    for variant in VARIANTS:
        if progress:
            progress(f"membership ({variant}): {n} train + {n} holdout records")
        with scoring.variant(variant) as model:
            nll, counts = sequence_nll(model, sequences, batch_size=config.batch_size, pad_id=tok.pad_token_id)
        loss[variant] = nll / np.maximum(counts, 1)
    ratio = loss["adapter"] / loss["base"]
    # Training lowers the loss of what was seen more than of what was not: a lower ratio
    # means "member", so the attack score is the negated ratio.
    stats = membership_statistics(-ratio[:n], -ratio[n:], bootstrap=config.membership.bootstrap, seed=config.seed)
    roc = stats.pop("roc")
    summary = {
        "train_records": n,
        "holdout_records": n,
        **stats,
        "min_resolvable_fpr": 1 / n,
        "base_loss_train": float(loss["base"][:n].mean()),
        "base_loss_holdout": float(loss["base"][n:].mean()),
        "adapter_loss_train": float(loss["adapter"][:n].mean()),
        "adapter_loss_holdout": float(loss["adapter"][n:].mean()),
    }
    return summary, {"score": "adapter/base mean token loss (lower = member)", "roc": roc}


# --- all probes ---------------------------------------------------------------------


def run_probes(
    scoring: ScoringModel,
    *,
    canaries: CanarySet,
    targets: TargetSet,
    train: Path,
    holdout: Path,
    config: EvalParams,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``leakage.json`` (numbers only, less wall_s) and ``leakage_details.json``."""
    metrics: dict[str, Any] = {}
    details: dict[str, Any] = {}
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], tuple[dict[str, Any], dict[str, Any]]]) -> None:
        started = time.perf_counter()
        metrics[name], details[name] = fn()
        timings[name] = round(time.perf_counter() - started, 2)

    timed("canary", lambda: canary_probe(scoring, canaries, config, progress))
    extraction_types = set(config.extraction.entity_types)
    extraction_targets = [t for t in targets.targets if t.entity_type in extraction_types][: config.extraction.prompts]
    timed("extraction", lambda: extraction_probe(scoring, extraction_targets, config, progress))
    details["extraction"]["eligible_spans"] = targets.eligible
    wanted = set(config.inference.entity_types)
    inference_targets = [t for t in targets.targets if t.entity_type in wanted][: config.inference.trials]
    timed("inference", lambda: inference_probe(scoring, inference_targets, targets.pools, config, progress))
    timed("membership", lambda: membership_probe(scoring, train, holdout, config, progress))
    metrics["wall_s_by_probe"] = timings
    return metrics, details

