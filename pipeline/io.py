"""JSONL in and out: streaming reads with schema validation and quarantine, atomic writes.

The raw record contract (DESIGN.md §3)::

    {"id": "…", "messages": [{"role": "system|user|assistant", "content": "…"}], "source": "…"}
    {"id": "…", "text": "…", "source": "…"}

A line that is not UTF-8, not JSON, or not of this shape is *quarantined*: it becomes a
:class:`QuarantineEntry` holding the file, the 1-based line number, a byte offset and a
reason — never the line's content, which may hold personal data. Every physical line of
an input is accounted for as exactly one record or one quarantine entry, so
``lines == records + quarantined`` always holds (:class:`ReadStats`).

A line that parses but would break a later step is quarantined too, with a value-free
reason: nesting deeper than :data:`MAX_DEPTH` levels (a recursion bomb), an integer literal
longer than Python converts (``sys.get_int_max_str_digits``), a lone surrogate in any
string or key (it cannot be written back as UTF-8), a non-finite number (``NaN``,
``Infinity``, ``1e999``: not JSON, and not writable as JSON). Only regular files are
read: a FIFO, socket or device is refused before it is read, so a pipe left in ``data/raw``
can never block a stage.

Writes go to a temporary file beside the target and are renamed into place only when
complete, so a killed stage never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import shutil
import stat
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROLES = ("system", "user", "assistant")
BOM = b"\xef\xbb\xbf"
# A chat record of a few hundred KB is plausible; tens of MB on one line is a broken export
# (or an attack on memory). Over-long lines are skipped in bounded memory and quarantined.
DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024
# A chat record is an object holding a list of message objects: depth 3. 64 leaves room for
# any metadata a real export carries, far below where json's recursion (or a consumer's) breaks.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")
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
    byte_offset: int = 0  # where its line starts: a duplicate found later is quarantined by it

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def source(self) -> str | None:
        return self.data.get("source")

    def fields(self, conversation_only: bool = False) -> Iterator[tuple[str, str, str | None]]:
        """``(field, text, role)`` for every string the record carries, in order.

        ``field`` is a path (:mod:`pipeline.fields`): ``"text"`` or
        ``"messages[i].content"`` for the conversation, then ``messages[i].name``,
        ``metadata.customer.email``… for everything else; ``conversation_only`` stops
        after the conversation.
        """
        from pipeline.fields import iter_fields

        for f in iter_fields(self.data):
            if conversation_only and not f.is_conversation:
                break
            yield f.path, f.text, f.role


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


def file_kind(mode: int) -> str:
    """A person's word for a non-regular file type (for messages), e.g. ``"a FIFO (named pipe)"``."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def not_regular_reason(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` (links followed) is not a regular file we may read, or ``None`` when it is one.

    ``os.stat`` never opens the file, so asking about a FIFO cannot block.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    return None if stat.S_ISREG(mode) else f"is {file_kind(mode)}, not a regular file"


def check_output_dir(path: str | os.PathLike[str], option: str = "") -> None:
    """Raise :class:`InputError` unless ``path`` is a directory or can be created as one.

    Checked before any work, so ``--out report.html`` (a file) or an ``--out`` under a
    regular file fails in one sentence naming the option and the file in the way, rather
    than with ``FileExistsError`` half-way through a run.
    """
    path = Path(path)
    label = f"{option} {path}" if option else str(path)
    for candidate in (path, *path.parents):
        try:
            mode = os.stat(candidate).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # not there yet (it will be created), or a file further up: found on the next step
        except OSError as exc:
            raise InputError(f"{label}: cannot be used as an output directory ({exc.strerror}).") from None
        if stat.S_ISDIR(mode):
            return
        if candidate == path:
            raise InputError(f"{label}: is {'a file' if stat.S_ISREG(mode) else file_kind(mode)}, not a directory. "
                             "Name a directory (it is created if missing).")
        raise InputError(f"{label}: {candidate} is {'a file' if stat.S_ISREG(mode) else file_kind(mode)}, "
                         "so no directory can be created under it.")


def check_output_file(path: str | os.PathLike[str], option: str = "") -> None:
    """Raise :class:`InputError` unless ``path`` can be written as a file: not a directory,
    and its parent a directory or creatable as one (see :func:`check_output_dir`)."""
    path = Path(path)
    label = f"{option} {path}" if option else str(path)
    if path.is_dir():
        raise InputError(f"{label}: is a directory; name a file, e.g. {path / 'out.jsonl'}.")
    try:
        check_output_dir(path.parent)
    except InputError:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        raise InputError(f"{label}: {blocker} is not a directory, so the file cannot be created there.") from None


def _open_regular(path: Path, name: str) -> IO[bytes]:
    """Open ``path`` for reading only if it is a regular file, without ever blocking.

    ``O_NONBLOCK`` makes opening a FIFO return at once instead of waiting for a writer, and
    the type is checked on the opened descriptor (``fstat``), so a file swapped for a pipe
    between a check and the open is refused too.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{name}: no such file. Check the path (or the `path` glob in policies/sources.yaml).") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, expected a JSONL file.") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror}).") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{name}: is a directory, expected a JSONL file.")
        if not stat.S_ISREG(mode):
            raise InputError(
                f"{name}: is {file_kind(mode)}, not a regular file. Mahrem reads only regular JSONL files "
                "(a pipe or device could block the run); write the data to a file first."
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: ordinary reads from here on
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _structure_problem(obj: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a parsed line cannot be carried through the pipeline safely, or ``None``.

    Walks every value iteratively (an explicit stack, so a deep object cannot exhaust
    Python's recursion here or in any later consumer once refused): nesting deeper than
    ``max_depth``, a lone surrogate in any string *or key* (``"\\ud800"`` parses, but the
    string cannot be encoded as UTF-8 — it would fail when written or hashed), and a
    non-finite float (``NaN``, ``Infinity`` or an overflowing literal, which JSON cannot
    represent). Reasons name the problem only, never the value.
    """
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if not node.isascii() and _SURROGATE.search(node):
                return "lone surrogate in a string (invalid Unicode)"
        elif isinstance(node, dict):
            if depth > max_depth:
                return f"nesting deeper than {max_depth} levels"
            for key, value in node.items():
                if not key.isascii() and _SURROGATE.search(key):
                    return "lone surrogate in a key (invalid Unicode)"
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            if depth > max_depth:
                return f"nesting deeper than {max_depth} levels"
            stack.extend((value, depth + 1) for value in node)
        elif isinstance(node, float) and not math.isfinite(node):
            return "non-finite number (NaN, Infinity or out of range)"
    return None


def _parse_line(text: str, max_depth: int = MAX_DEPTH) -> tuple[Any, str | None]:
    """``(object, None)``, or ``(None, reason)`` when the line is not JSON Mahrem can carry.

    ``json.loads`` itself can fail three ways on hostile input, all caught here: a syntax
    error (``JSONDecodeError``; its ``msg`` is a fixed phrase and ``doc``, the content, is
    never used), a nesting so deep the C decoder runs out of recursion (``RecursionError``),
    and an integer literal longer than Python converts (``ValueError``, since 3.11).
    """
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON ({exc.msg} at column {exc.colno})"
    except RecursionError:
        return None, f"nesting deeper than {max_depth} levels"
    except ValueError:
        # The only other ValueError json.loads raises on a str: int() refusing a huge literal.
        limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
        return None, f"integer literal longer than {limit} digits" if limit else "number that cannot be converted"
    problem = _structure_problem(obj, max_depth)
    return (None, problem) if problem else (obj, None)


def parse_json(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` for JSON someone else may have written (a bundle's manifest, a report).

    Raises ``ValueError`` with a value-free reason for everything :func:`read_records`
    quarantines — invalid JSON, nesting deeper than ``max_depth``, a huge integer literal,
    a lone surrogate, a non-finite number — so a caller needs one ``except ValueError``
    and never meets a ``RecursionError`` or a string it cannot print.
    """
    obj, problem = _parse_line(text, max_depth)
    if problem is not None:
        raise ValueError(problem)
    return obj


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

    Raises :class:`InputError` when ``path`` is missing, unreadable, or not a regular file
    (a directory, FIFO, socket or device: refused without blocking, see :func:`_open_regular`).
    """
    path = Path(path)
    name = display_name or str(path)
    stats = stats if stats is not None else ReadStats(file=name)
    seen_ids = seen_ids if seen_ids is not None else set()

    def quarantine(line_no: int, offset: int, reason: str) -> None:
        stats.quarantined += 1
        stats.by_reason[reason.split(" (")[0]] += 1
        on_quarantine(QuarantineEntry(file=name, line=line_no, byte_offset=offset, reason=reason))

    handle = _open_regular(path, name)
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
            obj, problem = _parse_line(text)
            if problem is not None:
                quarantine(line_no, offset, problem)
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
            yield RawRecord(data=obj, file=name, line=line_no, byte_offset=offset)


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


def append_jsonl(path: str | os.PathLike[str], rows: Iterable[Any], mode: int = 0o644) -> int:
    """Append ``rows`` to a JSONL log in one ``O_APPEND`` write; earlier lines are never rewritten.

    A last line left without its newline (hand-edited) gets one first, so the new line
    never fuses with it. Returns how many rows were appended.
    """
    text = "".join(dumps(row) + "\n" for row in rows)
    if not text:
        return 0
    path = Path(path)
    with contextlib.suppress(FileNotFoundError):
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell():
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    text = "\n" + text
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, mode)
    try:
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)
    return text.count("\n") - text.startswith("\n")


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


LABELS_SUFFIX = ".labels.jsonl"  # gold annotations beside a corpus (tests/benchmarks only)


def discover_inputs(
    paths: Sequence[Path], *, on_skip: Callable[[Path, str], None] | None = None
) -> list[Path]:
    """JSONL files named directly or found (sorted) in named directories.

    ``*.labels.jsonl`` gold-annotation files beside a corpus are not training data and are
    skipped inside directories. So is anything found there that is not a regular file (a
    FIFO, socket, device, or a directory named ``*.jsonl``): opening a FIFO would block the
    run until someone writes to it. Each such skip is reported through ``on_skip(path,
    reason)`` (default: a logged warning), never silently. A non-regular file *named
    directly* is an :class:`InputError`: the user asked for exactly that file.
    A missing file named directly is returned as is, for the caller to report.
    """
    def skip(path: Path, reason: str) -> None:
        if on_skip is not None:
            on_skip(path, reason)
        else:
            logging.getLogger(__name__).warning("%s: skipped, %s", path, reason)

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*.jsonl")):
                if candidate.name.endswith(LABELS_SUFFIX):
                    continue
                reason = not_regular_reason(candidate)
                if reason is None:
                    found.append(candidate)
                else:
                    skip(candidate, reason)
        else:
            reason = not_regular_reason(path)
            if reason is not None and reason != "no such file":
                raise InputError(
                    f"{path}: {reason}. Mahrem reads only regular JSONL files (a pipe or device could "
                    "block the run); write the data to a file first."
                )
            found.append(path)
    return found
