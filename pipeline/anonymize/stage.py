"""The anonymize stage: apply the policy to the scan's findings, re-scan, split, plant canaries.

Per record (:func:`anonymize_record`):

1. an erasure request matching any finding's fingerprint drops the record;
2. special categories: ``drop_record``; ``mask`` the sentence that holds the cue; or
   ``keep`` — only when the record's source allows special categories (consent), else
   the record is dropped;
3. records with an empty assistant turn are dropped (nothing to learn, and a sign of a
   broken export);
4. each field's findings (at or above the policy's minimum score for their type) are
   resolved — longest span first, then highest score — and rewritten by their action.
   The new text is assembled from slices of the original by ascending offset, which keeps
   every offset valid (the same guarantee as editing right to left) and tells us where
   each surrogate landed, so the residual re-scan can tell a surrogate from a miss.
   Before that, a person's name found once is found again at its every other mention in
   the record — inflected, with an honorific, in another case, without Turkish letters,
   surname or given name alone — and gets the same surrogate (:mod:`pipeline.anonymize.propagate`).

Then, over the whole dataset: exact and near-duplicate records are collapsed (duplicated
text is memorised far more), the residual re-scan runs on the output — a blocked entity
type outside a surrogate fails the stage and nothing is written — the split is made by a
keyed hash of the record id, and canaries are added to the training split only.

Every input line ends up in exactly one bucket: kept, transformed, dropped (with its
reason) or quarantined.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import entities as E
from pipeline.config import chain_record, file_digest
from pipeline.io import InputError, QuarantineEntry, RawRecord, ReadStats, atomic_write, dumps, iter_jsonl, read_records, write_json
from pipeline.keys import PseudonymKey
from pipeline.reports import check_report
from pipeline.reports.anonymize import AnonymizeSummary, Canaries
from pipeline.anonymize import surrogates
from pipeline.anonymize.propagate import RECOGNIZER as PROPAGATED_NAME, propagate_names
from pipeline.fields import KEY_MARKER, Field, Location, conversation_fields, is_plain_key, iter_fields, remove_field, set_field
from pipeline.fingerprint import record_key
from pipeline.scan.language import detect_language
from pipeline.normalize import normalize as normalize_text
from pipeline.policy import Action, FieldAction, LoadedPolicy, Policy, SpecialAction
from pipeline.text import tr_lower

TRAIN_FILE, HOLDOUT_FILE = "train.jsonl", "holdout.jsonl"
LOG_FILE, SUMMARY_FILE, CANARIES_FILE, RESIDUAL_FILE = "log.jsonl", "summary.json", "canaries.json", "residual.json"

KEPT, TRANSFORMED, DROPPED = "kept", "transformed", "dropped"


class ResidualPIIError(Exception):
    """The anonymized output still holds personal data of a blocking type."""


@dataclass
class RecordOutcome:
    record_id: str
    status: str
    reason: str | None = None
    data: dict[str, Any] | None = None
    actions: Counter = field(default_factory=Counter)
    special: set[str] = field(default_factory=set)
    # field name -> [(start, end)] of inserted surrogates/placeholders in the new text
    inserted: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


# --- one field ------------------------------------------------------------------------


def resolve_overlaps(spans: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Non-overlapping spans: longest first, then highest score; returned by start offset."""
    chosen: list[dict[str, Any]] = []
    for span in sorted(spans, key=lambda s: (-(s["end"] - s["start"]), -s["score"], s["start"])):
        if all(span["end"] <= c["start"] or span["start"] >= c["end"] for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s["start"])


_SENTENCE_END = re.compile(r"[.!?…\n]")


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence (or line) around ``text[start:end]``."""
    left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    match = _SENTENCE_END.search(text, end)
    right = match.end() if match else len(text)
    while left < start and text[left].isspace():
        left += 1
    return left, right


def _replacement(span: dict[str, Any], value: str, policy: Policy, key: PseudonymKey) -> tuple[str, str]:
    """(new text, action name) for one span."""
    if span["entity_type"].startswith(E.SPECIAL_PREFIX):
        return surrogates.placeholder(span["entity_type"]), "mask_sentence"
    rule = policy.rule(span["entity_type"])
    action = rule.action
    if action is not Action.keep and str(span.get("recognizer", "")).startswith(WHOLE_RUN_RECOGNIZERS):
        # An encoded run or one part of a value split across turns: no surrogate can keep
        # its format, so the typed placeholder stands for it.
        return surrogates.placeholder(span["entity_type"]), Action.replace.value
    # A value written in full-width or Arabic-Indic digits or with zero-width characters
    # gets the surrogate of its plain form (the same as every other spelling of it).
    value = normalize_text(value).text
    if action is Action.pseudonymize:
        if "surrogate" in span:  # a name's surrogate fixed by the record (pipeline.anonymize.propagate)
            return span["surrogate"], action.value
        return surrogates.pseudonymize(key, span["entity_type"], value), action.value
    if action is Action.replace:
        return surrogates.placeholder(span["entity_type"]), action.value
    if action is Action.mask:
        return surrogates.mask(value, keep_last=rule.keep_last), action.value
    if action is Action.redact:
        return "", action.value
    if action is Action.generalize:
        general = surrogates.generalize(span["entity_type"], value)
        if general is None:  # nothing coarser is known: fall back to the placeholder
            return surrogates.placeholder(span["entity_type"]), "replace"
        return general, action.value
    return value, Action.keep.value


# Findings that stand for more than their characters say: a base64 run that decodes to a
# value, and the parts of one identifier split across turns (pipeline.scan.stage).
WHOLE_RUN_RECOGNIZERS = ("base64/", "cross_turn/")


def _is_kept(span: dict[str, Any], policy: Policy) -> bool:
    entity = span["entity_type"]
    return not E.is_special(entity) and policy.rule(entity).action is Action.keep


def rewrite_field(
    text: str, spans: Sequence[dict[str, Any]], policy: Policy, key: PseudonymKey
) -> tuple[str, Counter, list[tuple[int, int]]]:
    """Apply the policy to one field; returns (new text, actions by "TYPE:action", inserted spans)."""
    pieces: list[str] = []
    actions: Counter = Counter()
    inserted: list[tuple[int, int]] = []
    position = length = 0
    # A span the policy keeps changes nothing, so it must not win an overlap against one
    # that protects: "05321234567" seen as both DATE_TIME (keep) and PHONE_NUMBER.
    kept = [s for s in spans if _is_kept(s, policy)]
    for span in kept:
        actions[f"{span['entity_type']}:{Action.keep.value}"] += 1
    for span in resolve_overlaps(s for s in spans if not _is_kept(s, policy)):
        value = text[span["start"] : span["end"]]
        new, action = _replacement(span, value, policy, key)
        # A name mention found by propagation is counted apart: "PERSON:pseudonymize_propagated".
        label = f"{action}_propagated" if span.get("recognizer") == PROPAGATED_NAME else action
        actions[f"{span['entity_type']}:{label}"] += 1
        before = text[position : span["start"]]
        pieces.append(before)
        length += len(before)
        if action != Action.keep.value:
            inserted.append((length, length + len(new)))
        pieces.append(new)
        length += len(new)
        position = span["end"]
    pieces.append(text[position:])
    return "".join(pieces), actions, inserted


# --- one record -----------------------------------------------------------------------


def anonymize_record(
    record: RawRecord,
    findings: Sequence[dict[str, Any]],
    policy: Policy,
    key: PseudonymKey,
    *,
    special_allowed: bool,
    erased: set[str] = frozenset(),
    allow: frozenset[str] = frozenset(),
    source: str | None = None,
    name_propagation: bool = True,
) -> RecordOutcome:
    """Apply ``policy`` to one record. ``allow`` holds :func:`tr_lower`-ed names that are never
    transformed (the controller's own brand names from the catalog).

    ``findings`` are the record's, under its keyed id (:func:`record_key`), which is also the
    id the record leaves with; ``source`` (the catalog's name for the data) replaces the
    record's own ``source`` key, which is data and may be anything.

    ``name_propagation`` (default on) replaces every further mention of a found person's
    name in the record — inflected, honorific, other case, without Turkish letters, surname
    or given name alone — by the same surrogate (:mod:`pipeline.anonymize.propagate`); off
    only to measure what it adds (``bench/name_survival.py``).
    """
    rid = record_key(key, record.id)
    fields = list(iter_fields(record.data))
    # The field policy, for everything that is not the conversation text.
    removed: dict[Location, Field] = {}
    for f in fields:
        if f.is_conversation:
            continue
        action, depth = policy.fields.rule_for(f.path)
        if action is FieldAction.refuse:
            return RecordOutcome(rid, DROPPED, "refused_field")
        if action is FieldAction.drop:
            # The whole member the rule names goes (an object with everything inside it).
            location = f.location[:depth] if depth else f.location
            removed.setdefault(location, Field(f.path, "", f.role, location))
    gone_locations = set(removed)
    gone = {f.path for f in fields if any(f.location[: len(loc)] == loc for loc in gone_locations)}
    findings = [f for f in findings if not _under(f["field"], gone)]
    if erased and any(f["fingerprint"] in erased for f in findings):
        return RecordOutcome(rid, DROPPED, "erasure_request")

    special = {f["entity_type"].removeprefix(E.SPECIAL_PREFIX) for f in findings if E.is_special(f["entity_type"])}
    mask_special = set()
    for category in sorted(special):
        action = policy.special_action(category)
        if action is SpecialAction.drop_record:
            return RecordOutcome(rid, DROPPED, f"special_category:{category}", special=special)
        if action is SpecialAction.keep and not special_allowed:
            return RecordOutcome(rid, DROPPED, f"special_category_without_consent:{category}", special=special)
        if action is SpecialAction.mask:
            mask_special.add(category)

    if policy.drop_empty_assistant_turns and "messages" in record.data:
        if any(m["role"] == "assistant" and not m["content"].strip() for m in record.data["messages"]):
            return RecordOutcome(rid, DROPPED, "empty_assistant_turn", special=special)

    by_field: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        entity = f["entity_type"]
        if E.is_special(entity):
            if entity.removeprefix(E.SPECIAL_PREFIX) in mask_special:
                by_field[f["field"]].append(f)
            continue
        if entity not in policy.entities:
            continue
        if f["score"] >= policy.rule(entity).min_score:
            by_field[f["field"]].append(f)
    _propagate(fields, by_field, policy)
    if name_propagation:
        propagate_names(fields, by_field, policy, key)

    data = copy.deepcopy(record.data)
    outcome = RecordOutcome(rid, KEPT, special=special)
    # Values first, then keys deepest first: renaming a key changes the way to what is below it.
    values = [f for f in fields if not f.is_key and f.path not in gone]
    keys = [f for f in reversed(fields) if f.is_key and f.path not in gone]
    for f in values + keys:
        text = f.text
        spans = [s for s in by_field.get(f.path, ()) if tr_lower(text[s["start"] : s["end"]].strip()) not in allow]
        if not spans:
            continue
        # A masked special-category cue takes its whole sentence with it.
        spans = [
            dict(s, start=b[0], end=b[1], score=2.0) if E.is_special(s["entity_type"]) else s
            for s in spans
            for b in [sentence_bounds(text, s["start"], s["end"]) if E.is_special(s["entity_type"]) else (0, 0)]
        ]
        new_text, actions, inserted = rewrite_field(text, spans, policy, key)
        outcome.actions.update(actions)
        if new_text != text:
            outcome.status = TRANSFORMED
            outcome.inserted[f.path] = inserted
            set_field(data, f, new_text)
    for f in removed.values():
        remove_field(data, f)
    if removed:
        outcome.status = TRANSFORMED
        outcome.actions["FIELD:drop"] += len(removed)
    data["id"] = rid
    if source is not None:
        data["source"] = source
    elif "source" in data and not (isinstance(data["source"], str) and is_plain_key(data["source"])):
        del data["source"]
    outcome.data = data
    return outcome


def _under(path: str, prefixes: set[str]) -> bool:
    if not prefixes:
        return False
    base = path.removesuffix(KEY_MARKER)
    return any(base == p.removesuffix(KEY_MARKER) or base.startswith((p + ".", p + "[")) for p in prefixes)


# Types whose every mention in a record is found again once one mention was detected.
_PROPAGATED = (E.PERSON, E.EMAIL_ADDRESS, E.TR_LICENSE_PLATE, E.PASSPORT)


def _propagate(fields: Sequence[Field], by_field: dict[str, list[dict[str, Any]]], policy: Policy) -> None:
    """Add spans for undetected repeats of a value detected elsewhere in the same record.

    A name the recognizers found once ("Güleğen Doğan'a transfer yaptım") is often written
    again where the evidence is weaker ("adı güleğen doğan olarak görünüyor"); the second
    mention would survive. Every whole-word, case-insensitive (Turkish casing) repeat of a
    detected value of a propagated type is treated as the same finding.
    """
    texts = {f.path: f.text for f in fields}
    values: dict[str, dict[str, Any]] = {}
    for spans in by_field.values():
        for span in spans:
            if span["entity_type"] in _PROPAGATED and policy.rule(span["entity_type"]).action is not Action.keep:
                value = texts[span["field"]][span["start"] : span["end"]].strip()
                if len(value) >= 3:
                    values.setdefault(tr_lower(value), span)
    if not values:
        return
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)) + r")(?!\w)"
    )
    for fname, text in texts.items():
        covered = [(s["start"], s["end"]) for s in by_field.get(fname, ())]
        # tr_lower keeps the length of Turkish text, so offsets in the lowered copy hold.
        lowered = tr_lower(text)
        if len(lowered) != len(text):
            continue
        for match in pattern.finditer(lowered):
            if any(match.start() < e and s < match.end() for s, e in covered):
                continue
            source = values[match.group()]
            by_field[fname].append(
                dict(source, field=fname, start=match.start(), end=match.end(), recognizer="propagated")
            )


def record_fields(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Every field of an output record (the residual re-scan reads them all)."""
    return [(f.path, f.text) for f in iter_fields(data)]


# --- dataset-level steps ---------------------------------------------------------------


def _normalized(data: dict[str, Any]) -> str:
    """User/assistant text, Turkish-lower-cased, whitespace collapsed: the dedup key.

    System prompts are left out: every conversation of one company shares its prompt.
    """
    return "\n".join(" ".join(tr_lower(f.text).split()) for f in conversation_fields(data) if f.role != "system")


def deduplicate(outcomes: list[RecordOutcome], policy: Policy) -> None:
    """Drop exact (after normalisation) and near-duplicate records in place; first one wins."""
    rules = policy.dedup
    seen: set[str] = set()
    lsh = minhashes = None
    if rules.near_duplicate_threshold is not None:
        from datasketch import MinHash, MinHashLSH

        lsh = MinHashLSH(threshold=rules.near_duplicate_threshold, num_perm=rules.num_perm)
        minhashes = {}
    for outcome in outcomes:
        if outcome.status == DROPPED:
            continue
        text = _normalized(outcome.data)
        if rules.exact:
            digest = hashlib.sha256(text.encode()).hexdigest()
            if digest in seen:
                outcome.status, outcome.reason, outcome.data = DROPPED, "duplicate", None
                continue
            seen.add(digest)
        if lsh is not None:
            words = text.split()
            n = rules.shingle_words
            shingles = {" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}
            mh = MinHash(num_perm=rules.num_perm, seed=1)
            for shingle in shingles:
                mh.update(shingle.encode("utf-8"))
            if lsh.query(mh):
                outcome.status, outcome.reason, outcome.data = DROPPED, "near_duplicate", None
                continue
            lsh.insert(outcome.record_id, mh)


def split_of(record_id: str, rules) -> str:
    """'holdout' or 'train', by a salted hash of the id: stable, and independent of order.

    The stage passes the *raw* id (in memory only; every output names the record by its
    keyed id). A split keyed by the pseudonym key would differ on every machine that makes
    its own development key, so the same corpus would train on different records there;
    with the policy's salt it is the same everywhere, and changing the salt reshuffles it.
    """
    digest = hashlib.sha256(f"{rules.salt}\0{record_id}".encode()).digest()
    return "holdout" if int.from_bytes(digest[:8], "big") / 2**64 < rules.holdout_fraction else "train"


def residual_scan(outcomes: list[RecordOutcome], policy: Policy, analyze: Callable[[list[str]], list]) -> dict[str, Any]:
    """Re-scan the output; count blocked findings that are not our own surrogates."""
    block = set(policy.residual.block)
    flat = [(o, fname, text) for o in outcomes if o.data is not None for fname, text in record_fields(o.data)]
    detected = analyze([t for _, _, t in flat])
    by_type: Counter = Counter()
    records: dict[str, set[str]] = defaultdict(set)
    for (outcome, fname, _), spans in zip(flat, detected):
        inserted = outcome.inserted.get(fname, [])
        for d in spans:
            if d.entity_type not in block or d.score < policy.residual.min_score:
                continue
            if any(d.start < e and s < d.end for s, e in inserted):
                continue  # a surrogate we put there (e.g. an example.com address)
            by_type[d.entity_type] += 1
            records[d.entity_type].add(outcome.record_id)
    return {
        "blocked_findings": sum(by_type.values()),
        "by_entity_type": dict(sorted(by_type.items())),
        "record_ids": {k: sorted(v) for k, v in sorted(records.items())},
        "blocking_types": sorted(block),
        "fields_scanned": len(flat),
    }


CANARY_SYSTEM = "Sen bir müşteri destek asistanısın."
# The secret is in the assistant turn only, the tokens training learns from, and never in
# the prompt: a model can produce it only from memory, not by copying it from the context.
# (With the secret in the user turn and repeated by the assistant, training teaches copying,
# and a canary's exposure could not rise whatever the model memorised.)
CANARY_USER = "Müşteri referans numaramı hatırlatır mısınız?"
CANARY_ASSISTANT = "Tabii, müşteri referans numaranız {secret}."


def make_canaries(policy: Policy) -> dict[str, Any]:
    """Synthetic secrets to plant (1, 4, 16 copies…) and never-planted reference candidates.

    Secrets are random ``digits``-digit numbers starting with 7 — no Turkish phone, TCKN or
    VKN has that shape in this sentence, so the residual scan and the PII recognizers leave
    them alone, and they are the only secrets a report may hold: they identify no one.
    """
    rules = policy.canaries
    rng = random.Random(rules.seed)
    total = len(rules.repetitions) * rules.per_repetition + rules.reference_candidates
    space = 10 ** (rules.digits - 1)
    values: list[str] = []
    seen: set[str] = set()
    while len(values) < total:
        candidate = "7" + str(rng.randrange(space)).zfill(rules.digits - 1)
        if candidate not in seen:
            seen.add(candidate)
            values.append(candidate)
    canaries = []
    for r_index, repetitions in enumerate(rules.repetitions):
        for k in range(rules.per_repetition):
            canaries.append(
                {"id": f"canary-r{repetitions}-{k}", "secret": values[r_index * rules.per_repetition + k], "repetitions": repetitions}
            )
    return {
        "template": {"system": CANARY_SYSTEM, "user": CANARY_USER, "assistant": CANARY_ASSISTANT},
        "digits": rules.digits,
        "space_size": 10 ** (rules.digits - 1),
        "canaries": canaries,
        "references": values[len(canaries) :],
        "seed": rules.seed,
    }


def canary_records(spec: dict[str, Any]) -> list[dict[str, Any]]:
    template = spec["template"]
    rows = []
    for canary in spec["canaries"]:
        for copy in range(canary["repetitions"]):
            rows.append(
                {
                    "id": f"{canary['id']}-copy{copy}",
                    "messages": [
                        {"role": "system", "content": template["system"]},
                        {"role": "user", "content": template["user"].format(secret=canary["secret"])},
                        {"role": "assistant", "content": template["assistant"].format(secret=canary["secret"])},
                    ],
                    "source": "canary",
                }
            )
    return rows


# --- the stage ------------------------------------------------------------------------


@dataclass(frozen=True)
class AnonymizeInput:
    path: Path
    source: str
    special_allowed: bool
    allow: frozenset[str] = frozenset()


@dataclass
class AnonymizeResult:
    summary: dict[str, Any]
    train: int
    holdout: int


def _length_stats(lengths: list[int]) -> dict[str, Any]:
    if not lengths:
        return {"records": 0}
    ordered = sorted(lengths)

    def pct(p: float) -> int:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    edges = [0, 250, 500, 1000, 2000, 4000, 8000]
    histogram = {f"{lo}-{hi}" if hi else f"{lo}+": 0 for lo, hi in zip(edges, edges[1:] + [None])}
    for n in ordered:
        for (label, _), lo, hi in zip(histogram.items(), edges, edges[1:] + [None]):
            if n >= lo and (hi is None or n < hi):
                histogram[label] += 1
                break
    return {"mean": round(sum(ordered) / len(ordered), 1), "p50": pct(0.5), "p90": pct(0.9), "max": ordered[-1], "histogram": histogram}


class StaleFindingsError(InputError):
    """The findings are not the scan of these raw files (a raw file changed, or the scan did not finish)."""


def check_findings_are_current(findings_path: Path, raw_files: Sequence[Path]) -> None:
    """Refuse findings that are not the scan of exactly these raw files, as they are now.

    The scan's ``summary.json`` (written last, beside the findings) records the SHA-256 of
    every raw file it read and of the findings it wrote. A raw file replaced after the scan,
    a scan killed before its summary, or findings from another run would otherwise let
    raw names and identifiers through with a clean residual re-scan of the wrong data.
    """
    summary_path = Path(findings_path).with_name("summary.json")
    rerun = "Run `mahrem scan` (or `dvc repro scan`) again, then anonymize."
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StaleFindingsError(f"{summary_path}: missing, so {findings_path} cannot be tied to a scan. {rerun}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StaleFindingsError(f"{summary_path}: not valid JSON (an interrupted scan?). {rerun}") from None
    recorded = summary.get("findings_sha256") if isinstance(summary, dict) else None
    actual = file_digest(findings_path) if Path(findings_path).is_file() else None
    if recorded is None or recorded != actual:
        raise StaleFindingsError(
            f"{findings_path}: SHA-256 {str(actual)[:12]}… is not the {str(recorded)[:12]}… that {summary_path} "
            f"records: these findings are not the output of the last completed scan. {rerun}"
        )
    files = summary.get("files") if isinstance(summary.get("files"), dict) else {}
    by_resolved = {Path(name).resolve(): (entry or {}).get("sha256") for name, entry in files.items()}
    for raw in raw_files:
        scanned = by_resolved.get(Path(raw).resolve())
        if scanned is None:
            raise StaleFindingsError(f"{raw}: not among the files the scan read ({summary_path}). {rerun}")
        now = file_digest(raw)
        if now != scanned:
            raise StaleFindingsError(
                f"{raw}: SHA-256 {now[:12]}… differs from the {scanned[:12]}… the scan recorded: the file changed "
                f"after it was scanned, so its findings are stale. {rerun}"
            )


def anonymize_dataset(
    inputs: Sequence[AnonymizeInput],
    findings_path: Path,
    data_dir: Path,
    report_dir: Path,
    policy: LoadedPolicy,
    key: PseudonymKey,
    analyze: Callable[[list[str]], list],
    *,
    erased: set[str] = frozenset(),
    erasure_digest: str | None = None,
    canaries: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    name_propagation: bool = True,
) -> AnonymizeResult:
    rules = policy.policy
    check_findings_are_current(findings_path, [item.path for item in inputs])
    report_dir.mkdir(parents=True, exist_ok=True)
    findings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in iter_jsonl(findings_path):
        findings[f["record_id"]].append(f)

    outcomes: list[RecordOutcome] = []
    where: dict[str, tuple[str, int, str]] = {}
    raw_ids: dict[str, str] = {}  # keyed id -> raw id, in memory only (the split)
    stats: list[ReadStats] = []
    quarantined: list[QuarantineEntry] = []
    seen_ids: set[str] = set()
    for item in inputs:
        file_stats = ReadStats(file=str(item.path))
        stats.append(file_stats)
        for record in read_records(item.path, quarantined.append, stats=file_stats, seen_ids=seen_ids):
            outcome = anonymize_record(
                record, findings.get(record_key(key, record.id), ()), rules, key, special_allowed=item.special_allowed,
                erased=erased, allow=item.allow, source=item.source or None,
                name_propagation=name_propagation,
            )
            outcomes.append(outcome)
            where[outcome.record_id] = (str(item.path), record.line, item.source)
            raw_ids[outcome.record_id] = record.id
            if progress and len(outcomes) % 50 == 0:
                progress("anonymize", len(outcomes), 0)

    deduplicate(outcomes, rules)
    residual = residual_scan(outcomes, rules, analyze)
    write_json(report_dir / RESIDUAL_FILE, residual)
    if residual["blocked_findings"]:
        for name in (TRAIN_FILE, HOLDOUT_FILE):
            (data_dir / name).unlink(missing_ok=True)
        counts = ", ".join(f"{k} {v}" for k, v in residual["by_entity_type"].items())
        raise ResidualPIIError(
            f"the re-scan of the anonymized output still finds blocked personal data ({counts}) in "
            f"{sum(len(v) for v in residual['record_ids'].values())} record(s); see {report_dir / RESIDUAL_FILE} "
            "for the record ids. Nothing was written to the dataset. Tighten the policy (lower min_score, "
            "stricter action) or add a recognizer under policies/recognizers/."
        )

    splits: dict[str, str] = {}
    train_rows, holdout_rows = [], []
    for outcome in outcomes:
        if outcome.data is None:
            continue
        split = split_of(raw_ids[outcome.record_id], rules.split)
        splits[outcome.record_id] = split
        (holdout_rows if split == "holdout" else train_rows).append(outcome.data)
    spec = make_canaries(rules) if canaries and rules.canaries.enabled else None
    planted = canary_records(spec) if spec else []
    train_rows.extend(planted)

    with atomic_write(report_dir / LOG_FILE) as log:
        for outcome in outcomes:
            file, line, source = where[outcome.record_id]
            log.write(
                dumps(
                    {
                        "record_id": outcome.record_id,
                        "file": file,
                        "line": line,
                        "source": source,
                        "status": outcome.status,
                        "reason": outcome.reason,
                        "actions": dict(sorted(outcome.actions.items())),
                        "special_categories": sorted(outcome.special),
                        "split": splits.get(outcome.record_id),
                    }
                )
                + "\n"
            )
    if spec:
        write_json(report_dir / CANARIES_FILE, check_report(Canaries, spec, what=CANARIES_FILE).to_json())
    else:
        (report_dir / CANARIES_FILE).unlink(missing_ok=True)

    statuses = Counter(o.status for o in outcomes)
    reasons = Counter(o.reason.split(":")[0] for o in outcomes if o.status == DROPPED)
    actions: dict[str, Counter] = defaultdict(Counter)
    for o in outcomes:
        if o.data is None:
            continue
        for name, n in o.actions.items():
            entity, action = name.rsplit(":", 1)
            actions[entity][action] += n
    lines = sum(s.lines for s in stats)
    languages = Counter(
        detect_language(" ".join(f.text for f in conversation_fields(o.data) if f.role != "system"))
        for o in outcomes
        if o.data is not None
    )
    lengths = [sum(len(f.text) for f in conversation_fields(o.data)) for o in outcomes if o.data is not None]
    summary = {
        "lines": lines,
        "records": len(outcomes),
        "quarantined": len(quarantined),
        "kept": statuses[KEPT],
        "transformed": statuses[TRANSFORMED],
        "dropped": statuses[DROPPED],
        "accounted": lines == statuses[KEPT] + statuses[TRANSFORMED] + statuses[DROPPED] + len(quarantined),
        "dropped_by_reason": dict(sorted(reasons.items())),
        "special_category_records": sum(1 for o in outcomes if o.special),
        "actions": {k: dict(sorted(v.items())) for k, v in sorted(actions.items())},
        "train": len(train_rows) - len(planted),
        "holdout": len(holdout_rows),
        "canary_records": len(planted),
        "canaries": len(spec["canaries"]) if spec else 0,
        "erasure": {"requests": len(erased), "records_dropped": reasons.get("erasure_request", 0), "sha256": erasure_digest},
        "residual_blocked_findings": residual["blocked_findings"],
        "language_mix": dict(sorted(languages.items())),
        "length_chars": _length_stats(lengths),
        "policy": rules.name,
        "policy_sha256": policy.digest,
        "pseudonym_key_id": key.key_id,
        "development_key": key.development,
        "anonymized_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
    }
    assert summary["accounted"], "every input line must be kept, transformed, dropped or quarantined"
    data_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(data_dir / TRAIN_FILE) as train_out, atomic_write(data_dir / HOLDOUT_FILE) as holdout_out:
        for row in train_rows:
            train_out.write(dumps(row) + "\n")
        for row in holdout_rows:
            holdout_out.write(dumps(row) + "\n")
    # Last: the summary binds what was read to what was written, so a killed run's mix of
    # old and new files never passes signoff's chain check.
    summary["chain"] = chain_record(
        [item.path for item in inputs] + [findings_path, Path(findings_path).with_name("summary.json")],
        [data_dir / TRAIN_FILE, data_dir / HOLDOUT_FILE, report_dir / LOG_FILE, report_dir / RESIDUAL_FILE]
        + ([report_dir / CANARIES_FILE] if spec else []),
    )
    from pipeline.anonymize.report import write_anonymize_reports

    # Through its model (pipeline.reports): the same document, plus its schema_version.
    summary = check_report(AnonymizeSummary, summary, what="anonymize summary").to_json()
    # metrics.json (headline figures for `dvc metrics show`) and report.html (counts only).
    write_anonymize_reports(report_dir, summary, residual)
    write_json(report_dir / SUMMARY_FILE, summary)
    return AnonymizeResult(summary=summary, train=summary["train"], holdout=summary["holdout"])
