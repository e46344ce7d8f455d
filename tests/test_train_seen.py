"""seen.json: which records of train.jsonl the train stage trained on, and how often.

Real tiny-model runs (one full epoch, one cut by max_steps, one interrupted and resumed)
against the order recomputed by hand; the file's round trip and every refusal of
``check_seen`` / ``load_seen``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pipeline.config import file_digest
from pipeline.io import InputError, RawRecord
from pipeline.train import TrainParams, train_adapter
from pipeline.train.data import epoch_batches, load_tokenized
from pipeline.train.recipe import SEEN_FILE, SUMMARY_FILE
from pipeline.train.seen import (
    CanarySightings,
    SeenMismatchError,
    SeenRecords,
    build_seen,
    canary_of,
    check_seen,
    load_seen,
    tally_seen,
    write_seen,
)

ANSWERS = ["Kargo takip numarası nedir?", "Merhaba, kartım çalındı.", "Randevumu ertelemek istiyorum."]
SECRET = "7123456789"

# One epoch = 16 trainable rows in micro-batches of 3 (the last one short): 6 micro-batches,
# 3 optimizer steps of 2. A checkpoint after every step, for the resume test.
FULL = {
    "epochs": 1,
    "max_steps": 0,
    "warmup_steps": 1,
    "batch_size": 3,
    "grad_accum": 2,
    "max_seq_len": 64,
    "learning_rate": 1e-2,
    "checkpoint_every": 1,
    "eval_every": 0,
    "eval_batch_size": 4,
    "eval_records": 2,
    "threads": 1,
    "lora": {"r": 4, "alpha": 8},
}
CUT = {**FULL, "max_steps": 2, "grad_accum": 1, "checkpoint_every": 0, "eval_records": 0}
TRAINABLE = 16


def _record(rid: str, i: int) -> dict:
    return {
        "id": rid,
        "messages": [
            {"role": "user", "content": "Siparişim nerede? " * (1 + i % 3)},
            {"role": "assistant", "content": ANSWERS[i % 3]},
        ],
        "source": "test",
    }


def _canary(rid: str) -> dict:
    return {
        "id": rid,
        "messages": [
            {"role": "user", "content": f"Kod {SECRET}?"},
            {"role": "assistant", "content": f"Kodunuz {SECRET}."},
        ],
        "source": "canary",
    }


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


TRAIN_RECORDS = [
    *(_record(f"r{i}", i) for i in range(6)),
    _canary("canary-r2-0-copy0"),
    {"id": "t", "text": "Merhaba, kartım çalındı.", "source": "test"},
    # Only a user turn: nothing to learn, skipped by the tokenizer stage (without_labels).
    {"id": "nolab", "messages": [{"role": "user", "content": "Merhaba"}], "source": "test"},
    _canary("canary-r1-0-copy0"),
    *(_record(f"r{i}", i) for i in range(6, 12)),
    _canary("canary-r2-0-copy1"),
]
NON_CANARY = [f"r{i}" for i in range(12)] + ["t", "nolab"]


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("seen-data")
    _write(data / "train.jsonl", TRAIN_RECORDS)
    _write(data / "holdout.jsonl", [_record(f"h{i}", i) for i in range(4)])
    return data


def _run(tiny_model_dir: Path, data: Path, root: Path, params: dict, **kwargs):
    return train_adapter(
        tiny_model_dir, data, root / "adapter", root / "reports", TrainParams.model_validate(params),
        work_dir=root / "work", **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def full_run(tiny_model_dir, toy_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("seen-full")
    return root, _run(tiny_model_dir, toy_data, root, FULL)


@pytest.fixture(scope="module")
def cut_run(tiny_model_dir, toy_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("seen-cut")
    return root, _run(tiny_model_dir, toy_data, root, CUT)


@pytest.fixture(scope="module")
def train_rows(tiny_model_dir, toy_data, full_run):
    """(record ids, lengths) of the tokenized training rows, from the full run's cache."""
    from transformers import AutoTokenizer

    root, _ = full_run
    data = load_tokenized(AutoTokenizer.from_pretrained(tiny_model_dir), toy_data, root / "work", 64)
    assert data.cache_hit
    return list(data.train["record_id"]), list(data.train["length"])


def _sightings(seen: SeenRecords) -> int:
    return sum(seen.records.values()) + sum(c.sightings for c in seen.canaries.values())


# --- real runs ----------------------------------------------------------------------------


def test_rows_carry_their_record_id_in_file_order(train_rows):
    ids, lengths = train_rows
    assert ids == [r["id"] for r in TRAIN_RECORDS if r["id"] != "nolab"]
    assert len(lengths) == TRAINABLE


def test_one_full_epoch_sees_every_record_once(full_run, toy_data, train_rows):
    root, result = full_run
    seen = load_seen(root / "reports" / SEEN_FILE)
    assert seen.schema_version == 1
    assert seen.train_sha256 == file_digest(toy_data / "train.jsonl")
    assert (seen.records_in_file, seen.steps, seen.micro_batches, seen.epochs) == (len(TRAIN_RECORDS), 3, 6, 1.0)
    assert list(seen.records) == [rid for rid in (r["id"] for r in TRAIN_RECORDS) if rid in NON_CANARY]
    assert seen.records == {rid: 0 if rid == "nolab" else 1 for rid in NON_CANARY}
    assert seen.without_labels == ["nolab"]
    assert seen.canaries == {
        "canary-r2-0": CanarySightings(repetitions=2, sightings=2),
        "canary-r1-0": CanarySightings(repetitions=1, sightings=1),
    }
    assert seen.unseen() == ["nolab"] and seen.members() == sorted(set(NON_CANARY) - {"nolab"})
    assert seen.members(min_sightings=2) == []
    # Counts add up to the micro-batches actually trained (the last one holds a single record).
    _, lengths = train_rows
    sizes = [len(b) for b in epoch_batches(lengths, 3, TrainParams().seed, 0)]
    assert len(sizes) == 6 and _sightings(seen) == sum(sizes) == TRAINABLE
    check_seen(seen, toy_data / "train.jsonl")

    summary = json.loads((root / "reports" / SUMMARY_FILE).read_text())
    assert summary == result.summary
    assert (summary["seen_records"], summary["seen_unseen"]) == (13, 1)
    assert summary["chain"]["outputs"][(root / "reports" / SEEN_FILE).as_posix()] == file_digest(
        root / "reports" / SEEN_FILE
    )
    # Ids and counts only: no content of any record.
    text = (root / "reports" / SEEN_FILE).read_text()
    assert not any(answer in text for answer in ANSWERS) and SECRET not in text and "Siparişim" not in text
    html = (root / "reports" / "report.html").read_text()
    assert "seen.json" in html and "canary-r" not in html and "r11" not in html


def test_holdout_loss_uses_the_first_eval_records(full_run, cut_run):
    _, full = full_run
    _, cut = cut_run
    assert full.summary["holdout_eval_records"] == 2 and full.summary["records_holdout"] == 4
    assert cut.summary["holdout_eval_records"] == 4  # eval_records 0 = all
    assert 0 < full.summary["holdout_tokens_scored"] < cut.summary["holdout_tokens_scored"]


def test_a_run_cut_by_max_steps_leaves_records_unseen(cut_run, toy_data, train_rows):
    root, result = cut_run
    seen = load_seen(root / "reports" / SEEN_FILE)
    check_seen(seen, toy_data / "train.jsonl")
    ids, lengths = train_rows
    first_two = epoch_batches(lengths, 3, TrainParams().seed, 0)[:2]
    trained = {ids[i] for batch in first_two for i in batch}
    assert (seen.steps, seen.micro_batches) == (2, 2) and seen.epochs == pytest.approx(2 / 6)
    assert _sightings(seen) == sum(len(b) for b in first_two)
    assert set(seen.members()) == trained & set(NON_CANARY)
    assert set(seen.unseen()) == set(NON_CANARY) - trained
    assert len(seen.unseen()) >= TRAINABLE - 6
    for canary, entry in seen.canaries.items():
        copies = {rid for rid in trained if rid.startswith(f"{canary}-copy")}
        assert entry.sightings == len(copies)
    assert result.summary["seen_unseen"] == len(seen.unseen())


def test_a_resumed_run_writes_the_same_seen_json(full_run, tiny_model_dir, toy_data, tmp_path):
    root, _ = full_run

    class Stop(Exception):
        pass

    def stop_at_two(step, total, metrics):
        if step == 2:
            raise Stop

    with pytest.raises(Stop):
        _run(tiny_model_dir, toy_data, tmp_path, FULL, progress=stop_at_two)
    assert not (tmp_path / "reports" / SEEN_FILE).exists()
    resumed = _run(tiny_model_dir, toy_data, tmp_path, FULL)
    assert resumed.resumed_from_step == 2
    assert (tmp_path / "reports" / SEEN_FILE).read_bytes() == (root / "reports" / SEEN_FILE).read_bytes()


# --- the file -----------------------------------------------------------------------------


def test_write_load_check_round_trip(full_run, toy_data, tmp_path):
    root, _ = full_run
    seen = load_seen(root / "reports" / SEEN_FILE)
    write_seen(tmp_path / "seen.json", seen)
    again = load_seen(tmp_path / "seen.json")
    assert again == seen
    check_seen(again, toy_data / "train.jsonl", seen_path=tmp_path / "seen.json")


def _with_records(seen: SeenRecords, **changes: int) -> SeenRecords:
    return seen.model_copy(update={"records": {**seen.records, **changes}})


def _with_canary(seen: SeenRecords, canary: str, repetitions: int, sightings: int) -> SeenRecords:
    entry = CanarySightings(repetitions=repetitions, sightings=sightings)
    return seen.model_copy(update={"canaries": {**seen.canaries, canary: entry}})


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda s: s.model_copy(update={"train_sha256": "0" * 64}), r"SHA-256 000000000000… but the file's is"),
        (lambda s: _with_records(s, stranger=0), r"record id 'stranger' is not a \(non-canary\) record of the file"),
        (
            lambda s: s.model_copy(update={"records": {k: v for k, v in s.records.items() if k != "r3"}}),
            r"record id 'r3' of the file is missing",
        ),
        (lambda s: s.model_copy(update={"records_in_file": 99}), r"holds 99 records, it holds 17"),
        (
            lambda s: _with_canary(s, "canary-r2-0", repetitions=3, sightings=2),
            r"canary 'canary-r2-0' has 3 repetitions, the file plants 2 copies",
        ),
        (
            lambda s: s.model_copy(update={"canaries": {k: v for k, v in s.canaries.items() if k != "canary-r1-0"}}),
            r"canary 'canary-r1-0' planted in the file is missing",
        ),
        (lambda s: _with_records(s, r5=2), r"record id 'r5' counted 2 times, outside 0…1 for 1 epoch"),
        (lambda s: _with_records(s, r5=-1), r"record id 'r5' counted -1 times"),
        (
            lambda s: _with_canary(s, "canary-r2-0", repetitions=2, sightings=3),
            r"canary 'canary-r2-0' seen 3 times, outside 0…2",
        ),
        (lambda s: _with_records(s, nolab=1), r"record id 'nolab' is listed without labels yet counted 1 times"),
    ],
    ids=["digest", "unknown-id", "missing-id", "record-count", "repetitions", "missing-canary", "too-often",
         "negative", "canary-too-often", "without-labels"],
)  # fmt: skip
def test_check_seen_refuses_a_seen_file_that_disagrees(full_run, toy_data, tamper, message):
    root, _ = full_run
    seen = load_seen(root / "reports" / SEEN_FILE)
    with pytest.raises(SeenMismatchError, match=message) as caught:
        check_seen(tamper(seen), toy_data / "train.jsonl", seen_path="reports/train/seen.json")
    assert isinstance(caught.value, InputError)
    assert str(caught.value).startswith(f"reports/train/seen.json (describing {toy_data / 'train.jsonl'}): ")
    assert "mahrem train" in str(caught.value)


def test_check_seen_refuses_changed_data(full_run, toy_data, tmp_path):
    root, _ = full_run
    seen = load_seen(root / "reports" / SEEN_FILE)
    _write(tmp_path / "train.jsonl", TRAIN_RECORDS[:-1])
    with pytest.raises(SeenMismatchError, match="the data changed after training"):
        check_seen(seen, tmp_path / "train.jsonl")
    # Same ids, digest patched: the missing canary copy is still found.
    with pytest.raises(SeenMismatchError, match="holds 17 records, it holds 16"):
        patched = seen.model_copy(update={"train_sha256": file_digest(tmp_path / "train.jsonl")})
        check_seen(patched, tmp_path / "train.jsonl")


def test_multi_epoch_bounds_allow_once_per_started_epoch(full_run, toy_data):
    root, _ = full_run
    seen = load_seen(root / "reports" / SEEN_FILE)
    longer = _with_records(seen.model_copy(update={"micro_batches": 9, "epochs": 1.5}), r5=2)
    check_seen(longer, toy_data / "train.jsonl")
    with pytest.raises(SeenMismatchError, match="counted 3 times, outside 0…2 for 1.5 epoch"):
        check_seen(_with_records(longer, r5=3), toy_data / "train.jsonl")
    canaries = {**seen.canaries, "canary-r2-0": CanarySightings(repetitions=2, sightings=4)}
    check_seen(longer.model_copy(update={"canaries": canaries}), toy_data / "train.jsonl")


def test_load_seen_refuses_bad_json_missing_file_and_schema_errors(full_run, tmp_path):
    root, _ = full_run
    path = tmp_path / "seen.json"
    where = re.escape(str(path))
    with pytest.raises(InputError, match=rf"{where}: missing\..*mahrem train"):
        load_seen(path)
    path.write_text('{"schema_version": 1,', encoding="utf-8")
    with pytest.raises(InputError, match=rf"{where}: not valid JSON \(.* at line 1, column \d+\)\..*mahrem train"):
        load_seen(path)
    data = json.loads((root / "reports" / SEEN_FILE).read_text())
    for broken, key in [
        ({**data, "records": {**data["records"], "r1": "often"}}, "records.r1"),
        ({**data, "schema_version": 2}, "schema_version"),
        ({k: v for k, v in data.items() if k != "train_sha256"}, "train_sha256"),
        ({**data, "extra": 1}, "extra"),
        ({**data, "canaries": {"canary-r1-0": {"repetitions": 1}}}, "canaries.canary-r1-0.sightings"),
    ]:
        path.write_text(json.dumps(broken), encoding="utf-8")
        with pytest.raises(InputError, match=rf"(?s){where}: .*\n  - key '{key}': .*mahrem train") as caught:
            load_seen(path)
        assert not isinstance(caught.value, SeenMismatchError)


def test_build_seen_refuses_data_changed_during_training(toy_data, tmp_path):
    train = tmp_path / "train.jsonl"
    shutil.copy(toy_data / "train.jsonl", train)
    counts = {r["id"]: 1 for r in TRAIN_RECORDS if r["id"] != "nolab"}
    run = {"steps": 3, "micro_batches": 6, "batches_per_epoch": 6}
    seen = build_seen(train, counts, **run, train_sha256=file_digest(train))
    assert seen.without_labels == ["nolab"] and seen.canaries["canary-r2-0"].sightings == 2
    check_seen(seen, train)
    with pytest.raises(SeenMismatchError, match="changed while the train stage ran"):
        build_seen(train, counts, **run, train_sha256="0" * 64)
    with pytest.raises(SeenMismatchError, match="record id 'ghost' was trained on but is not in the file"):
        build_seen(train, {**counts, "ghost": 1}, **run)


# --- the order, as a pure function --------------------------------------------------------


def _by_hand(ids, lengths, batch_size, seed, group, micro_batches):
    per_epoch = len(epoch_batches(lengths, batch_size, seed, 0, group_by_length=group))
    counts = dict.fromkeys(ids, 0)
    for index in range(micro_batches):  # exactly the loop's micro_batch(index)
        epoch, position = divmod(index, per_epoch)
        for i in epoch_batches(lengths, batch_size, seed, epoch, group_by_length=group)[position]:
            counts[ids[i]] += 1
    return per_epoch, counts


@pytest.mark.parametrize("group", [True, False])
def test_tally_seen_follows_the_training_order_over_epochs(group):
    lengths = [5 + (i * 37) % 200 for i in range(23)]
    ids = [f"x{i}" for i in range(23)]
    per_epoch = len(epoch_batches(lengths, 4, 7, 0, group_by_length=group))
    micro = 2 * per_epoch + 3  # two and a bit epochs
    order = {"batch_size": 4, "seed": 7, "group_by_length": group, "batches_per_epoch": per_epoch}
    counts = tally_seen(ids, lengths, **order, micro_batches=micro)
    assert (per_epoch, counts) == _by_hand(ids, lengths, 4, 7, group, micro)
    assert set(counts.values()) == {2, 3} and sum(counts.values()) == 2 * 23 + sum(
        len(b) for b in epoch_batches(lengths, 4, 7, 2, group_by_length=group)[:3]
    )
    zero = tally_seen(ids, lengths, **order, micro_batches=0)
    assert set(zero.values()) == {0}
    with pytest.raises(ValueError, match="not 99"):
        tally_seen(ids, lengths, **{**order, "batches_per_epoch": 99}, micro_batches=1)


def test_canary_copies_are_recognised_by_id_or_source():
    def raw(rid, source):
        return RawRecord({"id": rid, "text": "x", "source": source}, "f", 1)

    assert canary_of(raw("canary-r4-3-copy2", "canary")) == "canary-r4-3"
    assert canary_of(raw("canary-r1-0-copy0", "other")) == "canary-r1-0"
    assert canary_of(raw("planted-once", "canary")) == "planted-once"
    assert canary_of(raw("sample-00001", "sample")) is None


def test_eval_records_param():
    assert TrainParams().eval_records == 64
    assert TrainParams.model_validate({"eval_records": 0}).eval_records == 0
    with pytest.raises(ValueError, match="eval_records"):
        TrainParams.model_validate({"eval_records": -1})
