"""``reports/train/seen.json``: which records of ``train.jsonl`` the adapter trained on, how often.

The ground truth for membership tests: a record that was never in a trained micro-batch
(because ``max_steps`` stopped the run early, or because it had no assistant token left
after truncation) is not a member, whatever file it sits in. The file holds record ids
as they appear in the anonymized ``train.jsonl`` and counts — never content.

**How the counts are made.** Training order is a pure function of the data's lengths and
the params (:func:`pipeline.train.data.epoch_batches`), and the loop's position after the
run is ``Progress.micro_batch`` (micro-batches ``0 … micro_batch-1`` were trained). So the
counts are recomputed from that order at the end of the run (:func:`tally_seen`), never
counted during the loop: a run resumed from a checkpoint writes the same file as an
uninterrupted one.

**Canaries.** The anonymize stage plants each canary ``canary-r<repetitions>-<index>`` as
copies ``<canary id>-copy<k>`` (``"source": "canary"``). They are not listed under
``records`` but summed per canary under ``canaries``: the copies planted in the file and
how many times any copy was trained on.

Schema (``schema_version`` 1)::

    {
      "schema_version": 1,
      "train_sha256": "<SHA-256 of the train.jsonl described>",
      "records_in_file": 491,           # every record of train.jsonl, canary copies included
      "steps": 36, "micro_batches": 36, "epochs": 0.2975,   # micro_batches / batches per epoch
      "max_seq_len": 256,               # tokens of each record training saw
      "records": {"sample-00001": 1, "sample-00002": 0, …},  # every non-canary id → times trained
      "without_labels": ["…"],          # ids skipped for having no label token (count 0)
      "canaries": {"canary-r4-0": {"repetitions": 4, "sightings": 2}, …}
    }
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from pipeline.config import file_digest
from pipeline.io import InputError, QuarantineEntry, RawRecord, read_records, write_json
# The model of seen.json lives with the other report models (pipeline/reports); re-exported here.
from pipeline.reports.base import describe_errors
from pipeline.reports.train import SEEN_SCHEMA_VERSION, CanarySightings, SeenRecords  # noqa: F401
from pipeline.train.data import epoch_batches

CANARY_SOURCE = "canary"
# "<canary id>-copy<k>", the canary id being "canary-r<repetitions>-<index>" (pipeline/anonymize/stage.py).
_CANARY_COPY = re.compile(r"^(?P<canary>canary-.+)-copy(?P<copy>\d+)$")
_RERUN = "Re-run `mahrem train` (`dvc repro train`) so that it is written again for the current data."


class SeenMismatchError(InputError):
    """``seen.json`` does not describe the ``train.jsonl`` it is checked against."""


# --- counting -----------------------------------------------------------------------------


def tally_seen(
    record_ids: Sequence[str],
    lengths: Sequence[int],
    *,
    batch_size: int,
    seed: int,
    group_by_length: bool,
    batches_per_epoch: int,
    micro_batches: int,
) -> dict[str, int]:
    """Times each record (by id, in dataset order) was in micro-batches ``0 … micro_batches-1``.

    ``record_ids`` and ``lengths`` are the tokenized training rows in dataset order (the
    indices :func:`~pipeline.train.data.epoch_batches` returns point into them); the
    other arguments are those the training loop used. Pure: same inputs, same counts.
    """
    if len(record_ids) != len(lengths):
        raise ValueError(f"{len(record_ids)} record ids for {len(lengths)} lengths")
    if len(set(record_ids)) != len(record_ids):
        raise ValueError("record ids are not unique")
    if micro_batches < 0 or batches_per_epoch < 1:
        raise ValueError(
            f"micro_batches ({micro_batches}) must be ≥ 0 and batches_per_epoch ({batches_per_epoch}) ≥ 1"
        )
    hits = np.zeros(len(record_ids), dtype=np.int64)
    for epoch in range(math.ceil(micro_batches / batches_per_epoch)):
        batches = epoch_batches(lengths, batch_size, seed, epoch, group_by_length=group_by_length)
        if len(batches) != batches_per_epoch:
            raise ValueError(f"epoch {epoch} has {len(batches)} micro-batches, not {batches_per_epoch}")
        trained = batches[: micro_batches - epoch * batches_per_epoch]
        np.add.at(hits, np.asarray([i for batch in trained for i in batch], dtype=np.int64), 1)
    return {rid: int(count) for rid, count in zip(record_ids, hits, strict=True)}


# --- the file's records -------------------------------------------------------------------


def canary_of(record: RawRecord) -> str | None:
    """The canary id a planted copy belongs to, or ``None`` for an ordinary record."""
    match = _CANARY_COPY.match(record.id)
    if match:
        return match.group("canary")
    return record.id if record.source == CANARY_SOURCE else None


@dataclass(frozen=True)
class _FileIds:
    records: list[str]  # non-canary ids, file order
    copies: dict[str, str]  # canary copy id → canary id, file order
    total: int

    def planted(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for canary in self.copies.values():
            counts[canary] = counts.get(canary, 0) + 1
        return counts


def _file_ids(train_jsonl: Path) -> _FileIds:
    """The ids of ``train_jsonl`` (read as the train stage reads it), split into records and canary copies."""
    bad: list[QuarantineEntry] = []
    records: list[str] = []
    copies: dict[str, str] = {}
    total = 0
    for record in read_records(train_jsonl, bad.append):
        total += 1
        canary = canary_of(record)
        if canary is None:
            records.append(record.id)
        else:
            copies[record.id] = canary
    if bad:
        first = bad[0]
        raise InputError(
            f"{first.file}:{first.line}: {first.reason} ({len(bad)} bad line(s) in all). The anonymized data is "
            "written by `mahrem anonymize` and must be clean; re-run that stage."
        )
    return _FileIds(records, copies, total)


def build_seen(
    train_jsonl: Path,
    counts: Mapping[str, int],
    *,
    steps: int,
    micro_batches: int,
    batches_per_epoch: int,
    train_sha256: str | None = None,
    max_seq_len: int | None = None,
) -> SeenRecords:
    """:class:`SeenRecords` for ``train_jsonl`` from :func:`tally_seen`'s ``counts`` (trainable rows only).

    Records of the file that are not in ``counts`` were skipped for having no label token:
    count 0 and listed in ``without_labels``. ``train_sha256``, when given, is the digest
    the run tokenized; the file must still have it.
    """
    train_jsonl = Path(train_jsonl)
    digest = file_digest(train_jsonl)
    if train_sha256 is not None and digest != train_sha256:
        raise SeenMismatchError(
            f"{train_jsonl}: changed while the train stage ran (SHA-256 {digest[:12]}… instead of the "
            f"{train_sha256[:12]}… it tokenized). Leave the data alone during training and re-run `mahrem train`."
        )
    ids = _file_ids(train_jsonl)
    known = set(ids.records) | set(ids.copies)
    stray = next((rid for rid in counts if rid not in known), None)
    if stray is not None:
        raise SeenMismatchError(
            f"{train_jsonl}: record id {stray!r} was trained on but is not in the file. Re-run `mahrem train`."
        )
    sightings = {canary: 0 for canary in dict.fromkeys(ids.copies.values())}
    for copy, canary in ids.copies.items():
        sightings[canary] += counts.get(copy, 0)
    planted = ids.planted()
    return SeenRecords(
        train_sha256=digest,
        records_in_file=ids.total,
        steps=steps,
        micro_batches=micro_batches,
        epochs=micro_batches / batches_per_epoch,
        max_seq_len=max_seq_len,
        records={rid: counts.get(rid, 0) for rid in ids.records},
        without_labels=[rid for rid in [*ids.records, *ids.copies] if rid not in counts],
        canaries={c: CanarySightings(repetitions=planted[c], sightings=n) for c, n in sightings.items()},
    )


# --- the file -----------------------------------------------------------------------------


def write_seen(path: Path | str, seen: SeenRecords) -> None:
    write_json(path, seen.model_dump(mode="json"))


def load_seen(path: Path | str) -> SeenRecords:
    """Read and validate ``seen.json``; every problem is an :class:`InputError` naming the file and key."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: missing. It is written by the train stage next to summary.json. {_RERUN}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text. {_RERUN}") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}). {_RERUN}"
        ) from None
    try:
        return SeenRecords.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path}: not a seen-records file of this version.\n{describe_errors(exc)}\n{_RERUN}") from None


def check_seen(seen: SeenRecords, train_jsonl: Path | str, *, seen_path: Path | str = "seen.json") -> None:
    """Refuse (:class:`SeenMismatchError`) a ``seen`` that does not describe ``train_jsonl``.

    Checked: the file's digest; every id on both sides (records and canaries); the planted
    copies of each canary; ``without_labels``; every count between 0 and once per started
    epoch (``repetitions`` times that for a canary). ``seen_path`` names the seen file in
    messages.
    """
    train_jsonl = Path(train_jsonl)
    where = f"{seen_path} (describing {train_jsonl})"

    def refuse(problem: str) -> SeenMismatchError:
        return SeenMismatchError(f"{where}: {problem}. {_RERUN}")

    if not train_jsonl.is_file():
        raise InputError(f"{train_jsonl}: missing; cannot check {seen_path} against it. Run `mahrem anonymize`.")
    digest = file_digest(train_jsonl)
    if digest != seen.train_sha256:
        raise refuse(
            f"records the SHA-256 {seen.train_sha256[:12]}… but the file's is {digest[:12]}…: the data changed "
            "after training"
        )
    ids = _file_ids(train_jsonl)
    if seen.records_in_file != ids.total:
        raise refuse(f"says the file holds {seen.records_in_file} records, it holds {ids.total}")
    in_file = set(ids.records)
    unknown = next((rid for rid in seen.records if rid not in in_file), None)
    if unknown is not None:
        raise refuse(f"record id {unknown!r} is not a (non-canary) record of the file")
    missing = next((rid for rid in ids.records if rid not in seen.records), None)
    if missing is not None:
        raise refuse(f"record id {missing!r} of the file is missing")
    planted = ids.planted()
    unknown = next((c for c in seen.canaries if c not in planted), None)
    if unknown is not None:
        raise refuse(f"canary {unknown!r} is not planted in the file")
    missing = next((c for c in planted if c not in seen.canaries), None)
    if missing is not None:
        raise refuse(f"canary {missing!r} planted in the file is missing")
    for canary, copies in planted.items():
        if seen.canaries[canary].repetitions != copies:
            raise refuse(
                f"canary {canary!r} has {seen.canaries[canary].repetitions} repetitions, "
                f"the file plants {copies} copies"
            )
    for rid in seen.without_labels:
        if rid not in in_file and rid not in ids.copies:
            raise refuse(f"record id {rid!r} in without_labels is not in the file")
        if rid in in_file and seen.records[rid] != 0:
            raise refuse(f"record id {rid!r} is listed without labels yet counted {seen.records[rid]} times")
    if seen.micro_batches == 0 and seen.epochs != 0:
        raise refuse(f"epochs is {seen.epochs} after 0 micro-batches")
    limit = seen.max_sightings_per_copy()
    for rid, count in seen.records.items():
        if not 0 <= count <= limit:
            raise refuse(f"record id {rid!r} counted {count} times, outside 0…{limit} for {seen.epochs:g} epoch(s)")
    for canary, entry in seen.canaries.items():
        if not 0 <= entry.sightings <= entry.repetitions * limit:
            raise refuse(
                f"canary {canary!r} seen {entry.sightings} times, outside 0…{entry.repetitions * limit} for "
                f"{entry.repetitions} copies and {seen.epochs:g} epoch(s)"
            )
