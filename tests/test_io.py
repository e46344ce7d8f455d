"""pipeline.io: every input line is accounted for; bad lines are quarantined without content."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.io import (
    InputError,
    QuarantineEntry,
    ReadStats,
    atomic_dir,
    atomic_write,
    read_records,
    validate_record,
    write_jsonl,
)

SECRET = "Ayşe Yılmaz 10000000146"


def _read(path: Path, **kwargs) -> tuple[list, list[QuarantineEntry], ReadStats]:
    quarantined: list[QuarantineEntry] = []
    stats = ReadStats(file=str(path))
    records = list(read_records(path, quarantined.append, stats=stats, **kwargs))
    assert stats.balanced(), stats
    assert stats.lines == len(records) + len(quarantined)
    return records, quarantined, stats


def _chat(rid: str, content: str = "merhaba") -> dict:
    return {"id": rid, "messages": [{"role": "user", "content": content}], "source": "s"}


def _write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def test_valid_messages_and_text_records_are_read(tmp_path):
    path = _write_lines(
        tmp_path / "ok.jsonl",
        [(json.dumps(_chat("a")) + "\n").encode(), (json.dumps({"id": "b", "text": "x", "source": "s"}) + "\n").encode()],
    )
    records, quarantined, stats = _read(path)
    assert [r.id for r in records] == ["a", "b"]
    assert quarantined == []
    assert [f for f, _, _ in records[0].fields()] == ["messages[0].content"]
    assert [f for f, _, _ in records[1].fields()] == ["text"]
    assert records[1].line == 2


def test_invalid_json_is_quarantined_with_line_number_and_no_content(tmp_path):
    path = _write_lines(
        tmp_path / "bad.jsonl",
        [(json.dumps(_chat("a")) + "\n").encode(), b'{"id": "b", "text": "' + SECRET.encode() + b"\n"],
    )
    records, quarantined, _ = _read(path)
    assert len(records) == 1
    (entry,) = quarantined
    assert entry.line == 2 and entry.file == str(path)
    assert entry.reason.startswith("invalid JSON")
    assert "Ayşe" not in json.dumps(entry.to_json(), ensure_ascii=False)
    assert "10000000146" not in entry.reason


def test_non_utf8_line_is_quarantined_and_the_rest_is_read(tmp_path):
    latin1 = json.dumps(_chat("b", "kartım çalındı"), ensure_ascii=False).encode("latin-1", errors="replace")
    latin1 = latin1.replace(b"?", "ı".encode("cp1254"))
    path = _write_lines(
        tmp_path / "enc.jsonl",
        [(json.dumps(_chat("a")) + "\n").encode(), latin1 + b"\n", (json.dumps(_chat("c")) + "\n").encode()],
    )
    records, quarantined, _ = _read(path)
    assert [r.id for r in records] == ["a", "c"]
    assert quarantined[0].line == 2 and quarantined[0].reason.startswith("not valid UTF-8")


def test_bom_at_start_of_file_is_tolerated(tmp_path):
    path = _write_lines(tmp_path / "bom.jsonl", [b"\xef\xbb\xbf" + (json.dumps(_chat("a")) + "\n").encode()])
    records, quarantined, stats = _read(path)
    assert [r.id for r in records] == ["a"] and quarantined == [] and stats.bom


@pytest.mark.parametrize(
    ("obj", "reason_part"),
    [
        ([1, 2], "not a JSON object"),
        ({"text": "x"}, "'id'"),
        ({"id": "", "text": "x"}, "empty 'id'"),
        ({"id": "a"}, "exactly one of"),
        ({"id": "a", "text": "x", "messages": []}, "exactly one of"),
        ({"id": "a", "text": 3}, "'text' is not a string"),
        ({"id": "a", "messages": []}, "non-empty list"),
        ({"id": "a", "messages": ["hi"]}, "messages[0] is not an object"),
        ({"id": "a", "messages": [{"role": "bot", "content": "x"}]}, "messages[0].role"),
        ({"id": "a", "messages": [{"role": "user"}]}, "messages[0].content"),
        ({"id": "a", "text": "x", "source": 5}, "'source'"),
        ({"id": True, "text": "x"}, "'id'"),
    ],
)
def test_wrong_shapes_are_named(obj, reason_part):
    reason = validate_record(obj)
    assert reason is not None and reason_part in reason


def test_wrong_shape_lines_are_quarantined_and_counted(tmp_path):
    lines = [
        (json.dumps(_chat("a")) + "\n").encode(),
        (json.dumps({"id": "b", "messages": [{"role": "robot", "content": SECRET}]}) + "\n").encode(),
        b"\n",
        b"   \n",
        (json.dumps(_chat("a")) + "\n").encode(),  # duplicate id
        (json.dumps({"id": 7, "text": "int ids are fine"}) + "\n").encode(),
    ]
    records, quarantined, stats = _read(_write_lines(tmp_path / "shape.jsonl", lines))
    assert [r.id for r in records] == ["a", "7"]
    assert [q.line for q in quarantined] == [2, 3, 4, 5]
    assert stats.by_reason["wrong shape"] == 1
    assert stats.by_reason["empty line"] == 2
    assert stats.by_reason["duplicate id"] == 1
    assert all(SECRET not in q.reason for q in quarantined)


def test_last_line_without_newline_is_read(tmp_path):
    path = _write_lines(tmp_path / "nonl.jsonl", [(json.dumps(_chat("a")) + "\n").encode(), json.dumps(_chat("b")).encode()])
    records, _, stats = _read(path)
    assert [r.id for r in records] == ["a", "b"] and stats.lines == 2


def test_very_long_line_is_quarantined_in_bounded_memory(tmp_path):
    long_line = json.dumps({"id": "big", "text": "x" * 300_000}).encode() + b"\n"
    path = _write_lines(
        tmp_path / "long.jsonl", [(json.dumps(_chat("a")) + "\n").encode(), long_line, (json.dumps(_chat("c")) + "\n").encode()]
    )
    records, quarantined, _ = _read(path, max_line_bytes=100_000)
    assert [r.id for r in records] == ["a", "c"]
    assert quarantined[0].line == 2 and "longer than" in quarantined[0].reason
    assert quarantined[0].byte_offset == len(json.dumps(_chat("a"))) + 1


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(read_records(tmp_path / "nope.jsonl", lambda e: None))


def test_directory_instead_of_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        list(read_records(tmp_path, lambda e: None))


def test_atomic_write_leaves_nothing_when_interrupted(tmp_path):
    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("partial\n")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_old_file_until_complete(tmp_path):
    target = tmp_path / "out.jsonl"
    write_jsonl(target, [{"a": 1}])
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("new\n")
            raise RuntimeError("killed")
    assert target.read_text() == '{"a":1}\n'
    assert oct(os.stat(target).st_mode & 0o777) == oct(0o644)


def test_atomic_dir_replaces_whole_directory_only_on_success(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("1")
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "b.txt").write_text("2")
            raise RuntimeError("killed")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_write_jsonl_keeps_turkish_characters_readable(tmp_path):
    target = tmp_path / "tr.jsonl"
    assert write_jsonl(target, [{"t": "İğüşöç"}]) == 1
    assert target.read_text(encoding="utf-8") == '{"t":"İğüşöç"}\n'


def test_a_killed_writers_temporary_is_removed_by_the_next_write_and_a_live_ones_is_kept(tmp_path):
    """`kill -9` during a write leaves `.name.<pid>.*.tmp`; the next write of that file sweeps it."""
    import os
    import signal
    import subprocess
    import sys
    import textwrap

    target = tmp_path / "findings.jsonl"
    child = textwrap.dedent(f"""
        import os, signal
        from pipeline.io import atomic_write
        with atomic_write({str(target)!r}) as handle:
            handle.write("partial")
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True)
    assert done.returncode == -signal.SIGKILL
    debris = [p for p in tmp_path.iterdir() if p.name.startswith(".findings.jsonl.")]
    assert len(debris) == 1 and not target.exists()
    live = tmp_path / f".findings.jsonl.{os.getpid()}.abc.tmp"  # this process is alive: never swept
    live.write_text("mine")
    with atomic_write(target) as handle:
        handle.write("complete\n")
    assert target.read_text() == "complete\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["findings.jsonl", live.name])
    (tmp_path / "adapter").mkdir()
    stale_dir = tmp_path / ".adapter.999999999.xyz.tmp"  # no such process
    stale_dir.mkdir()
    with atomic_dir(tmp_path / "adapter") as building:
        (building / "w.bin").write_bytes(b"1")
    assert not stale_dir.exists() and (tmp_path / "adapter/w.bin").is_file()


# --- hostile lines: every one is quarantined with a value-free reason -----------------------


def _hostile_lines() -> list[tuple[bytes, str]]:
    """(line, expected reason start) for lines that parse as JSON but would break a later step."""
    deep_list = b"[" * 100_000 + b"]" * 100_000  # json.loads: RecursionError
    deep_object = ('{"id": "d", "text": "x", "meta": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}").encode()  # parses
    huge_int = b'{"id": "h", "text": "x", "n": ' + b"7" * 5000 + b"}"  # int(): ValueError, over 4300 digits
    return [
        (deep_list, "nesting deeper than 64 levels"),
        (deep_object, "nesting deeper than 64 levels"),
        (huge_int, "integer literal longer than"),
        (b'{"id": "s1", "text": "Ay\\ud800\\u015fe 10000000146"}', "lone surrogate in a string"),
        (b'{"id": "s2", "messages": [{"role": "user", "content": "\\udc00"}]}', "lone surrogate in a string"),
        (b'{"id": "s3", "text": "x", "\\ud83d": 1}', "lone surrogate in a key"),
        (b'{"id": "n1", "text": "x", "score": NaN}', "non-finite number"),
        (b'{"id": "n2", "text": "x", "score": 1e999}', "non-finite number"),
    ]


def test_hostile_lines_are_quarantined_with_a_reason_and_nothing_is_lost(tmp_path):
    lines = [(json.dumps(_chat("a")) + "\n").encode()]
    lines += [line + b"\n" for line, _ in _hostile_lines()]
    lines += [(json.dumps(_chat("z", "emoji \U0001F600 is a valid pair")) + "\n").encode()]
    records, quarantined, stats = _read(_write_lines(tmp_path / "hostile.jsonl", lines))
    assert [r.id for r in records] == ["a", "z"]
    assert [q.line for q in quarantined] == list(range(2, 2 + len(_hostile_lines())))
    for entry, (_, expected) in zip(quarantined, _hostile_lines()):
        assert entry.reason.startswith(expected), entry.reason
        assert "10000000146" not in entry.reason and "Ay" not in entry.reason and "777" not in entry.reason
    assert stats.lines == 2 + len(_hostile_lines()) and stats.balanced()
    assert stats.by_reason["lone surrogate in a string"] == 2
    # Every record that did get through can be written back as UTF-8 JSON.
    assert write_jsonl(tmp_path / "out.jsonl", [r.data for r in records]) == 2


def test_an_escaped_surrogate_pair_is_one_valid_character(tmp_path):
    path = _write_lines(tmp_path / "pair.jsonl", [b'{"id": "p", "text": "\\ud83d\\ude00"}\n'])
    (record,), quarantined, _ = _read(path)
    assert quarantined == [] and record.data["text"] == "\U0001F600"


def test_nesting_up_to_the_limit_is_accepted(tmp_path):
    from pipeline.io import MAX_DEPTH

    lists = MAX_DEPTH - 1  # the record object is level 1, so its lists fill levels 2..MAX_DEPTH
    nested = '{"id": "ok", "text": "x", "meta": ' + "[" * lists + "1" + "]" * lists + "}"
    (record,), quarantined, _ = _read(_write_lines(tmp_path / "n.jsonl", [nested.encode() + b"\n"]))
    assert record.id == "ok" and quarantined == []
    too_deep = nested.replace('"meta": [', '"meta": [[', 1).replace("]}", "]]}")
    _, (entry,), _ = _read(_write_lines(tmp_path / "m.jsonl", [too_deep.encode() + b"\n"]))
    assert entry.reason == f"nesting deeper than {MAX_DEPTH} levels"


def test_parse_json_raises_value_error_with_the_same_reasons():
    from pipeline.io import parse_json

    assert parse_json('{"a": [1, 2]}') == {"a": [1, 2]}
    for line, expected in _hostile_lines():
        with pytest.raises(ValueError, match=expected.split(" (")[0]):
            parse_json(line.decode("ascii") if line.isascii() else line.decode("utf-8"))
    with pytest.raises(ValueError, match="invalid JSON"):
        parse_json("{")


# --- only regular files are read; nothing blocks ---------------------------------------------


def _finishes(fn, seconds: float = 20.0):
    """Run ``fn`` in a daemon thread: return its result, or fail the test if it blocks."""
    import threading

    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"blocked for more than {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_directly_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"pipe.jsonl: is a FIFO \(named pipe\), not a regular file"):
        _finishes(lambda: list(read_records(fifo, lambda e: None)))


def test_a_device_named_directly_is_refused(tmp_path):
    with pytest.raises(InputError, match="is a device, not a regular file"):
        _finishes(lambda: list(read_records(Path("/dev/zero"), lambda e: None)))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_discover_skips_non_regular_files_in_a_directory_and_says_so(tmp_path):
    from pipeline.io import discover_inputs

    (tmp_path / "a.jsonl").write_text(json.dumps(_chat("a")) + "\n", encoding="utf-8")
    os.mkfifo(tmp_path / "b.jsonl")
    (tmp_path / "c.jsonl").mkdir()  # a directory that merely looks like a JSONL file
    skipped: list[tuple[Path, str]] = []
    found = _finishes(lambda: discover_inputs([tmp_path], on_skip=lambda p, r: skipped.append((p, r))))
    assert found == [tmp_path / "a.jsonl"]
    assert skipped == [(tmp_path / "b.jsonl", "is a FIFO (named pipe), not a regular file"),
                       (tmp_path / "c.jsonl", "is a directory, not a regular file")]
    with pytest.raises(InputError, match="b.jsonl: is a FIFO"):
        discover_inputs([tmp_path / "b.jsonl"])
    assert discover_inputs([tmp_path / "missing.jsonl"]) == [tmp_path / "missing.jsonl"]  # reported by the reader


def test_output_checks_name_the_file_in_the_way(tmp_path):
    from pipeline.io import check_output_dir, check_output_file

    blocker = tmp_path / "report.html"
    blocker.write_text("x")
    check_output_dir(tmp_path / "new" / "dir")  # missing is fine: it is created
    with pytest.raises(InputError, match=r"--out .*report.html: is a file, not a directory"):
        check_output_dir(blocker, "--out")
    with pytest.raises(InputError, match=r"report.html is a file, so no directory can be created under it"):
        check_output_dir(blocker / "sub" / "dir", "--to")
    check_output_file(tmp_path / "new" / "out.jsonl")
    with pytest.raises(InputError, match="is a directory; name a file"):
        check_output_file(tmp_path, "--out")
    with pytest.raises(InputError, match="report.html is not a directory"):
        check_output_file(blocker / "out.jsonl", "--out")
