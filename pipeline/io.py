"""JSONL in and out: streaming reads with schema validation and quarantine, atomic writes.

The raw record contract (DESIGN.md §3)::

    {"id": "…", "messages": [{"role": "system|user|assistant", "content": "…"}], "source": "…"}
    {"id": "…", "text": "…", "source": "…"}

A line that is not UTF-8, not JSON, or not of this shape is *quarantined*: it becomes a
:class:`QuarantineEntry` holding the file, the 1-based line number, a byte offset and a
reason — never the line's content, which may hold personal data. Every physical line of
an input is accounted for as exactly one record or one quarantine entry, so
``lines == records + quarantined`` always holds (:class:`ReadStats`).

Writes go to a temporary file beside the target and are renamed into place only when
complete, so a killed stage never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROLES = ("system", "user", "assistant")
BOM = b"\xef\xbb\xbf"
# A chat record of a few hundred KB is plausible; tens of MB on one line is a broken export
# (or an attack on memory). Over-long lines are skipped in bounded memory and quarantined.
DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024
# mkstemp creates 0600 files; outputs are ordinary files (keys are written elsewhere).
_FILE_MODE = 0o644


class InputError(Exception):
    """An input file is missing or unreadable as a whole (as opposed to one bad line)."""


@dataclass(frozen=True)
class QuarantineEntry:
    file: str
    line: int
    byte_offset: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "byte_offset": self.byte_offset, "reason": self.reason}


@dataclass
class ReadStats:
    """Per-file accounting: every physical line is either a record or quarantined."""

    file: str
    lines: int = 0
    records: int = 0
    quarantined: int = 0
    by_reason: Counter = field(default_factory=Counter)
    bom: bool = False

    def balanced(self) -> bool:
        return self.lines == self.records + self.quarantined

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "lines": self.lines,
            "records": self.records,
            "quarantined": self.quarantined,
            "quarantine_reasons": dict(sorted(self.by_reason.items())),
            "bom": self.bom,
        }


@dataclass(frozen=True)
class RawRecord:
    """One validated input record, remembering where it came from."""

    data: dict[str, Any]
    file: str
    line: int

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def source(self) -> str | None:
        return self.data.get("source")

    def fields(self) -> Iterator[tuple[str, str, str | None]]:
        """``(field, text, role)`` for every text-bearing field, in order.

        ``field`` is ``"text"`` or ``"messages[i].content"`` — the names findings use.
        """
        if "text" in self.data:
            yield "text", self.data["text"], None
        else:
            for i, message in enumerate(self.data["messages"]):
                yield f"messages[{i}].content", message["content"], message["role"]


def validate_record(obj: Any) -> str | None:
    """Return why ``obj`` is not a raw record, or ``None`` when it is one.

    Reasons name keys and types only, never values. An integer ``id`` is accepted (many
    exports use one) and normalised to a string by :func:`read_records`.
    """
    if not isinstance(obj, dict):
        return f"not a JSON object (got {type(obj).__name__})"
    rid = obj.get("id")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)):
        return "missing or non-string 'id'"
    if isinstance(rid, str) and not rid.strip():
        return "empty 'id'"
    if "source" in obj and not isinstance(obj["source"], str):
        return "'source' is not a string"
    has_text, has_messages = "text" in obj, "messages" in obj
    if has_text == has_messages:
        return "needs exactly one of 'text' or 'messages'"
    if has_text:
        if not isinstance(obj["text"], str):
            return "'text' is not a string"
        return None
    messages = obj["messages"]
    if not isinstance(messages, list) or not messages:
        return "'messages' is not a non-empty list"
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"messages[{i}] is not an object"
        role = message.get("role")
        if role not in ROLES:
            return f"messages[{i}].role is not one of {'/'.join(ROLES)}"
        if not isinstance(message.get("content"), str):
            return f"messages[{i}].content is missing or not a string"
    return None


def _iter_lines(handle: IO[bytes], max_line_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(byte_offset, line)``; ``line`` is ``None`` for a line over the limit.

    Lines are read with a size limit so an enormous line never sits in memory whole.
    """
    offset = 0
    while True:
        line = handle.readline(max_line_bytes + 1)
        if not line:
            return
        start = offset
        offset += len(line)
        if len(line) > max_line_bytes and not line.endswith(b"\n"):
            # Skip the rest of the over-long line in chunks.
            while True:
                rest = handle.readline(_CHUNK)
                offset += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            yield start, None
            continue
        yield start, line


def read_records(
    path: str | os.PathLike[str],
    on_quarantine: Callable[[QuarantineEntry], None],
    *,
    stats: ReadStats | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    display_name: str | None = None,
    seen_ids: set[str] | None = None,
) -> Iterator[RawRecord]:
    """Stream the valid raw records of one JSONL file; report every other line.

    ``on_quarantine`` receives one entry per bad line. ``stats`` (optional) is updated as
    lines are read. A UTF-8 byte-order mark at the start of the file is tolerated. An id
    seen twice quarantines the later line ("duplicate id"), since findings and logs are
    keyed by id; pass one ``seen_ids`` set to several calls to make ids unique across files.
    """
    path = Path(path)
    name = display_name or str(path)
    if not path.exists():
        raise InputError(f"{name}: no such file. Check the path (or the `path` glob in policies/sources.yaml).")
    if path.is_dir():
        raise InputError(f"{name}: is a directory, expected a JSONL file.")
    stats = stats if stats is not None else ReadStats(file=name)
    seen_ids = seen_ids if seen_ids is not None else set()

    def quarantine(line_no: int, offset: int, reason: str) -> None:
        stats.quarantined += 1
        stats.by_reason[reason.split(" (")[0]] += 1
        on_quarantine(QuarantineEntry(file=name, line=line_no, byte_offset=offset, reason=reason))

    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror}).") from None
    with handle:
        for line_no, (offset, raw) in enumerate(_iter_lines(handle, max_line_bytes), start=1):
            stats.lines += 1
            if raw is None:
                quarantine(line_no, offset, f"line longer than {max_line_bytes} bytes")
                continue
            if line_no == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
                stats.bom = True
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                quarantine(line_no, offset, f"not valid UTF-8 (bad byte at column {exc.start + 1})")
                continue
            if not text.strip():
                quarantine(line_no, offset, "empty line")
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                # exc.msg is a fixed phrase ("Expecting value"); exc.doc (the content) is not used.
                quarantine(line_no, offset, f"invalid JSON ({exc.msg} at column {exc.colno})")
                continue
            reason = validate_record(obj)
            if reason is not None:
                quarantine(line_no, offset, f"wrong shape ({reason})")
                continue
            obj["id"] = str(obj["id"])
            if obj["id"] in seen_ids:
                quarantine(line_no, offset, "duplicate id (an earlier line has the same id)")
                continue
            seen_ids.add(obj["id"])
            stats.records += 1
            yield RawRecord(data=obj, file=name, line=line_no)


def dumps(obj: Any) -> str:
    """The one JSONL serialisation: compact, UTF-8 kept readable, key order as given."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _temp_prefix(path: Path) -> str:
    """``.<name>.<pid>.``: a temporary file names the process that owns it."""
    return f".{path.name}.{os.getpid()}."


def sweep_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporaries of ``path`` left by processes that are gone (``kill -9``, a crash).

    Each writer names its temporary ``.<name>.<pid>.<random>.tmp`` beside the target, so
    the next write of the same target finds the debris of dead runs and removes it, and
    never touches a temporary that a live process is still writing.
    """
    removed = []
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[^/]*\.tmp$")
    if not path.parent.is_dir():
        return removed
    for candidate in path.parent.iterdir():
        match = pattern.match(candidate.name)
        if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
            if candidate.is_dir() and not candidate.is_symlink():
                shutil.rmtree(candidate, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    candidate.unlink()
            removed.append(candidate)
    return removed


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it onto ``path`` only on success.

    The temporary names this process (see :func:`sweep_stale_temporaries`), and the
    debris of earlier runs that were killed is removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Build a directory under a temporary name; swap it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(path)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        for item in tmp.rglob("*"):
            os.chmod(item, 0o755 if item.is_dir() else _FILE_MODE)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[Any]) -> int:
    """Atomically write ``rows`` as JSONL; return how many were written."""
    count = 0
    with atomic_write(path) as handle:
        for row in rows:
            handle.write(dumps(row) + "\n")
            count += 1
    return count


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Atomically write one pretty JSON document (reports, metrics, digests)."""
    with atomic_write(path) as handle:
        json.dump(obj, handle, ensure_ascii=False, indent=2, sort_keys=False)
        handle.write("\n")


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[Any]:
    """Read a JSONL file we wrote ourselves (no quarantine: our own files are trusted)."""
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
