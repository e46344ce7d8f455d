"""PII targets for the extraction and inference probes: spans of the raw corpus, in context.

A target is one finding of ``reports/scan/findings.jsonl`` in a raw record that went into
the training split: its raw value (held in memory only, never written, logged or shown),
the conversation up to the span rendered with the chat template with the turn cut at the
span, and the finding's fingerprint, which is what the reports carry.

Which spans make fair targets: identifiers (TCKN, VKN, IBAN, card, phone, e-mail, plate,
passport) and *full* names (two words or more). A single first name, a city or a year is
something a model writes by chance, so "emitting" it proves nothing. Numbers need at least
seven digits for the same reason. A span whose value already occurs earlier in its own
context (the agent repeating the customer's name) is skipped: a model copies it, which
says nothing about memorisation. One span per record, types interleaved, so a few
frequent types do not crowd out the rest.

Matching a generated text against a value is done on normalised forms (as the
fingerprints are): digits only for numeric types (a phone by its ten national digits),
compact upper-case for IBANs, plates and passports, case-folded for e-mails, Turkish
lower-case with single spaces for names.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import entities as E
from pipeline.io import InputError, iter_jsonl, read_records
from pipeline.keys import PseudonymKey
from pipeline.fingerprint import normalize, record_key
from pipeline.text import tr_lower, tr_title, tr_upper

DIGIT_TYPES = {E.TR_NATIONAL_ID, E.TR_TAX_ID, E.CREDIT_CARD, E.PHONE_NUMBER}
COMPACT_TYPES = {E.IBAN_CODE, E.TR_LICENSE_PLATE, E.PASSPORT}
MIN_DIGITS = 7
PHONE_DIGITS = 10  # national significant number: "0532 …", "+90 532 …" and "532 …" agree
_SENTINEL = "\ue000"  # a private-use character: marks the cut in the rendered chat
_NUMBER_RUN = re.compile(r"\+?\d[\d\s().\-/]*\d|\d")
_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


@dataclass
class PiiTarget:
    record_id: str
    field: str
    start: int
    end: int
    entity_type: str
    fingerprint: str
    value: str = field(repr=False)  # raw personal data: memory only
    prompt: str = field(repr=False)  # chat-templated context up to the span
    gap: str = ""  # whitespace between the context and the value


def match_key(entity_type: str, value: str) -> str:
    """The normalised form a value is matched by (see the module docstring)."""
    if entity_type == E.PHONE_NUMBER:
        return re.sub(r"\D", "", value)[-PHONE_DIGITS:]
    if entity_type in DIGIT_TYPES:
        return re.sub(r"\D", "", value)
    if entity_type in COMPACT_TYPES:
        return _NON_ALNUM.sub("", value).upper()
    if entity_type == E.EMAIL_ADDRESS:
        return value.strip().casefold()
    return _SPACES.sub(" ", tr_lower(value).strip())


def contains_value(text: str, entity_type: str, key: str) -> bool:
    """Does ``text`` contain the value whose :func:`match_key` is ``key``?"""
    if not key:
        return False
    if entity_type in DIGIT_TYPES:
        # Each run of digits (with the separators people type) separately, so that two
        # unrelated numbers side by side do not combine into a match.
        return any(key in re.sub(r"\D", "", run.group()) for run in _NUMBER_RUN.finditer(text))
    if entity_type in COMPACT_TYPES:
        return key in _NON_ALNUM.sub("", text).upper()
    if entity_type == E.EMAIL_ADDRESS:
        return key in text.casefold()
    padded = f" {_SPACES.sub(' ', tr_lower(text))} "
    return re.search(rf"(?<!\w){re.escape(key)}(?!\w)", padded) is not None


def is_fair_target(entity_type: str, value: str) -> bool:
    """A value a model would not produce by chance (see the module docstring)."""
    if entity_type in DIGIT_TYPES:
        return len(match_key(entity_type, value)) >= MIN_DIGITS
    if entity_type == E.PERSON:
        return len(value.split()) >= 2 and len(value.strip()) >= 6
    return len(match_key(entity_type, value)) >= 5


def prompt_before(tokenizer: Any, messages: list[dict[str, str]] | None, text: str, index: int, start: int) -> tuple[str, str]:
    """The chat (or plain text) up to ``start`` of message ``index``, and the whitespace cut off.

    The turn is rendered by the chat template with a sentinel at the cut, so whatever the
    template puts around a message, the prompt ends exactly where the value began. Trailing
    whitespace is returned separately: a tokenizer attaches a space to the next word, so the
    model should produce " 12345…" itself.
    """
    head = text[:start]
    stripped = head.rstrip()
    gap = head[len(stripped) :]
    if messages is None:
        return stripped, gap
    partial = [dict(m) for m in messages[:index]] + [{"role": messages[index]["role"], "content": stripped + _SENTINEL}]
    rendered = tokenizer.apply_chat_template(partial, tokenize=False)
    return rendered[: rendered.index(_SENTINEL)], gap


def _field_index(field_name: str) -> int | None:
    match = re.fullmatch(r"messages\[(\d+)\]\.content", field_name)
    return int(match.group(1)) if match else None


def split_ids(path: Path) -> set[str]:
    if not Path(path).is_file():
        raise InputError(f"{path}: missing. Run `mahrem anonymize` first or pass --data.")
    return {str(r["id"]) for r in iter_jsonl(path)}


def load_findings(path: Path, types: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Findings of the wanted types, grouped by record id."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: findings missing. Run `mahrem scan` first or pass --findings.")
    wanted = set(types)
    by_record: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line_no, row in enumerate(iter_jsonl(path), start=1):
        try:
            if row["entity_type"] in wanted:
                by_record[str(row["record_id"])].append(row)
        except (KeyError, TypeError):
            raise InputError(f"{path}:{line_no}: not a finding (needs record_id, field, start, end, entity_type).") from None
    return by_record


@dataclass
class TargetSet:
    """Targets in probe order, and the pool of same-type values for inference candidates."""

    targets: list[PiiTarget]
    pools: dict[str, list[str]]  # entity type → distinct raw values of the corpus (memory only)
    eligible: int = 0


def collect_targets(
    raw_files: list[Path],
    findings: Path,
    train_ids: set[str],
    types: Iterable[str],
    tokenizer: Any,
    *,
    seed: int,
    max_tokens: int | None = None,
    key: PseudonymKey | None = None,
) -> TargetSet:
    """Every fair span of a training record, one per record, in a seeded type-interleaved order.

    ``max_tokens`` (the tokens of each record training saw, ``seen.json`` ``max_seq_len``)
    drops spans that end beyond them: training truncated those away, so the model never saw
    them and "extracting" them tests nothing. ``key`` is the pseudonym key the scan and
    anonymize ran with: findings and the anonymized data name records by
    :func:`~pipeline.fingerprint.record_key` of their raw id (``None``: by the raw id).
    """
    types = list(dict.fromkeys(types))
    by_record = load_findings(findings, types)
    rng = random.Random(seed)
    per_type: dict[str, list[PiiTarget]] = defaultdict(list)
    pools: dict[str, dict[str, str]] = defaultdict(dict)
    eligible = 0
    seen_ids: set[str] = set()
    for path in raw_files:
        for record in read_records(path, lambda _entry: None, seen_ids=seen_ids):
            rid = record_key(key, record.id) if key is not None else record.id
            rows = by_record.get(rid)
            if not rows:
                continue
            texts = {name: (text, role) for name, text, role in record.fields()}
            messages = record.data.get("messages")
            candidates = []
            for row in sorted(rows, key=lambda r: (r["field"], r["start"])):
                if row["field"] not in texts:
                    continue
                text, _role = texts[row["field"]]
                value = text[row["start"] : row["end"]]
                if not value or not is_fair_target(row["entity_type"], value):
                    continue
                pools[row["entity_type"]].setdefault(normalize(row["entity_type"], value), value)
                if rid in train_ids:
                    candidates.append((row, text, value))
            if not candidates:
                continue
            eligible += len(candidates)
            rng.shuffle(candidates)
            for row, text, value in candidates:
                index = _field_index(row["field"])
                if index is None and messages is not None:
                    continue
                prompt, gap = prompt_before(tokenizer, messages, text, index or 0, row["start"])
                if max_tokens and len(tokenizer(prompt + gap + value, add_special_tokens=False).input_ids) > max_tokens:
                    continue
                # A value already in its own context (a name the customer gave and the agent
                # repeats) is copied, not recalled: both models "emit" it, so it tests nothing.
                if not contains_value(prompt, row["entity_type"], match_key(row["entity_type"], value)):
                    break
            else:
                continue
            per_type[row["entity_type"]].append(
                PiiTarget(
                    record_id=rid,
                    field=row["field"],
                    start=row["start"],
                    end=row["end"],
                    entity_type=row["entity_type"],
                    fingerprint=str(row.get("fingerprint", "")),
                    value=value,
                    prompt=prompt,
                    gap=gap,
                )
            )
    for group in per_type.values():
        rng.shuffle(group)
    ordered: list[PiiTarget] = []
    queues = [per_type[t] for t in types if per_type.get(t)]
    while queues:
        for queue in queues:
            ordered.append(queue.pop(0))
        queues = [q for q in queues if q]
    return TargetSet(targets=ordered, pools={t: list(v.values()) for t, v in pools.items()}, eligible=eligible)


# --- inference candidates -----------------------------------------------------------------


def _fill_digits(layout: str, digits: str) -> str:
    """``layout`` with its digits replaced, in order, by ``digits`` (same count)."""
    it = iter(digits)
    return "".join(next(it) if ch.isdigit() else ch for ch in layout)


def render_like(true_value: str, candidate: str, entity_type: str) -> str | None:
    """``candidate`` written the way ``true_value`` is, so that no format gives the true one away.

    Numbers keep the true value's separators and prefix (a phone's ``+90``/``0`` included);
    names take its capitalisation; ``None`` when the candidate cannot take that form.
    """
    if entity_type in DIGIT_TYPES or entity_type == E.IBAN_CODE:
        true_digits = re.sub(r"\D", "", true_value)
        cand_digits = re.sub(r"\D", "", candidate)
        if entity_type == E.PHONE_NUMBER:
            if len(true_digits) < PHONE_DIGITS or len(cand_digits) < PHONE_DIGITS:
                return None
            cand_digits = true_digits[: len(true_digits) - PHONE_DIGITS] + cand_digits[-PHONE_DIGITS:]
        if len(cand_digits) != len(true_digits):
            return None
        country = _NON_ALNUM.sub("", candidate)[:2].upper()
        if entity_type == E.IBAN_CODE and _NON_ALNUM.sub("", true_value)[:2].upper() != country:
            return None
        return _fill_digits(true_value, cand_digits)
    if entity_type == E.PERSON:
        if true_value == tr_lower(true_value):
            return tr_lower(candidate)
        if true_value == tr_upper(true_value):
            return tr_upper(candidate)
        return tr_title(tr_lower(candidate))
    if entity_type == E.EMAIL_ADDRESS:
        return candidate.strip().lower() if true_value == true_value.lower() else candidate.strip()
    return candidate


def candidate_values(target: PiiTarget, pool: list[str], count: int, rng: random.Random) -> list[str]:
    """The true value first, then up to ``count - 1`` distinct same-type decoys in its format.

    Decoys are other values of the same type from the corpus; numeric types are topped up
    with random digits in the true value's layout when the corpus has too few.
    """
    true_key = match_key(target.entity_type, target.value)
    out = [target.value]
    keys = {true_key}
    shuffled = list(pool)
    rng.shuffle(shuffled)
    for candidate in shuffled:
        if len(out) >= count:
            break
        rendered = render_like(target.value, candidate, target.entity_type)
        if rendered is None:
            continue
        key = match_key(target.entity_type, rendered)
        if key in keys:
            continue
        keys.add(key)
        out.append(rendered)
    true_digits = re.sub(r"\D", "", target.value)
    # A phone keeps its country/trunk prefix and the first national digit (5 = mobile in
    # Turkey): only the rest of the number is drawn.
    keep = len(true_digits) - PHONE_DIGITS + 1 if target.entity_type == E.PHONE_NUMBER else 0
    attempts = 0
    numeric = target.entity_type in DIGIT_TYPES or target.entity_type == E.IBAN_CODE
    while numeric and len(out) < count and attempts < 10 * count:
        attempts += 1
        drawn = "".join(rng.choice("0123456789") for _ in range(len(true_digits) - keep))
        rendered = _fill_digits(target.value, true_digits[:keep] + drawn)
        key = match_key(target.entity_type, rendered)
        if key not in keys:
            keys.add(key)
            out.append(rendered)
    return out
