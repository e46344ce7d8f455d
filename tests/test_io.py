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
