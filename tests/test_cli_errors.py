"""No traceback ever reaches the user: expected failures are one sentence (exit 1, or 2 for
usage), bugs are one line pointing at a log without data (exit 70), and bad input lines
are quarantined rather than crashing or hanging a run (issue #15, items 4 and 5)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipeline.cli import EX_SOFTWARE, app

REPO = Path(__file__).resolve().parents[1]
KEY = "9b1f4c7e2a8d3f60c5e19b7a4d2f8c3e6a1b9d7f5c3e2a4b8d6f1c9e7a5b3d2f"
SECRET = "Ayşe Yılmaz 10000000146"
# Every bad path holds rich markup: printing one unescaped would crash rich or eat text.
MISSING = "no[/]such/x.jsonl"
ADIR = "a[/]dir"
AFILE = "a[/]file"
NONUTF8 = "bad[/].bin"
UNDER_FILE = f"{AFILE}/sub"


def _invoke(args, **kwargs):
    return CliRunner().invoke(app, args, terminal_width=200, **kwargs)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An empty project: the shipped policies and params, no data, no models, a strong key."""
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / ADIR).mkdir(parents=True)  # "[/]" is a separator too: these are nested paths
    (tmp_path / AFILE).write_text("x\n", encoding="utf-8")
    (tmp_path / NONUTF8).parent.mkdir(exist_ok=True)
    (tmp_path / NONUTF8).write_bytes(b"\xff\xfe\x00not utf-8\n\x80\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAHREM_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("MAHREM_SIGNING_KEY", raising=False)
    return tmp_path


def _chat(rid: str, content: str = "Kargom nerede?") -> str:
    return json.dumps({"id": rid, "messages": [{"role": "user", "content": content}], "source": "sample"})


def _hostile_corpus(path: Path, good: int = 200) -> None:
    """``good`` ordinary records and one of each hostile line (under the 5 % quarantine limit)."""
    lines = [_chat(f"r{i}") for i in range(good)]
    lines += [
        "[" * 50_000 + "]" * 50_000,  # RecursionError in json.loads
        '{"id": "h", "text": "x", "n": ' + "9" * 5000 + "}",  # int() refuses > 4300 digits
        '{"id": "s", "text": "' + SECRET + ' \\ud800"}',  # lone surrogate: UnicodeEncodeError later
        '{"id": "k", "text": "x", "\\udfff": "' + SECRET + '"}',  # … in a key
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- item 4: bad lines and non-regular files ---------------------------------------------------


def test_audit_quarantines_hostile_lines_and_skips_a_fifo_in_the_input_directory(project):
    data = project / "incoming"
    _hostile_corpus(data / "export.jsonl")
    if hasattr(os, "mkfifo"):
        os.mkfifo(data / "live.jsonl")
    result = _invoke(["audit", str(data), "--out", "audit", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    if hasattr(os, "mkfifo"):
        assert "live.jsonl: skipped, is a FIFO (named pipe), not a regular file" in result.output
    rows = [json.loads(line) for line in (project / "audit/quarantine.jsonl").read_text(encoding="utf-8").splitlines()]
    reasons = [row["reason"] for row in rows]
    assert reasons == ["nesting deeper than 64 levels", "integer literal longer than 4300 digits",
                       "lone surrogate in a string (invalid Unicode)", "lone surrogate in a key (invalid Unicode)"]
    summary = json.loads((project / "audit/summary.json").read_text(encoding="utf-8"))
    assert summary["lines"] == summary["records"] + summary["quarantined"] == 204
    everything = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (project / "audit").iterdir())
    assert "10000000146" not in everything and "Yılmaz" not in everything


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_scan_with_a_fifo_in_data_raw_finishes_reports_it_and_quarantines_bad_lines(project):
    """The real command line, in a subprocess with a timeout: a FIFO must not block it."""
    _hostile_corpus(project / "data/raw/sample.jsonl")
    os.mkfifo(project / "data/raw/crm_export.jsonl")  # a pipe someone left there: no writer, ever
    env = {**os.environ, "MAHREM_PSEUDONYM_KEY": KEY, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "scan", "--workers", "1"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output
    assert "data/raw/crm_export.jsonl: skipped, is a FIFO (named pipe), not a regular file" in output
    assert "4 lines quarantined" in output
    summary = json.loads((project / "reports/scan/summary.json").read_text(encoding="utf-8"))
    assert list(summary["files"]) == ["data/raw/sample.jsonl"] and summary["quarantined"] == 4


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_directly_is_an_error_not_a_hang(project):
    os.mkfifo(project / "pipe.jsonl")
    result = _invoke(["audit", "pipe.jsonl", "--out", "audit"])
    assert result.exit_code == 1
    assert "error: pipe.jsonl: is a FIFO (named pipe), not a regular file" in result.output


# --- item 5: the tracebacks an attacker found, one by one ---------------------------------------


def test_redact_stdin_with_bytes_that_are_not_utf8(project):
    result = _invoke(["redact", "-"], input=b"Kargom nerede?\n\xff\xfe bozuk \x80\nTesekkurler\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["Kargom nerede?", "[line 2 quarantined: not valid UTF-8]", "Tesekkurler"]
    assert "1 quarantined" in result.output and "Traceback" not in result.output


def test_paths_with_rich_markup_are_printed_as_they_are(project):
    data = project / "ex[/]port" / "x.jsonl"
    data.parent.mkdir(parents=True)
    data.write_text(_chat("1") + "\n", encoding="utf-8")
    result = _invoke(["audit", str(data.relative_to(project)), "--out", "re[bold]port[/]", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "re[bold]port[/]/report.html" in result.output
    missing = _invoke(["audit", "[red]nowhere[/].jsonl", "--out", "audit"])
    assert missing.exit_code == 1 and "error: [red]nowhere[/].jsonl: no such file." in missing.output


def test_audit_out_pointing_at_a_file(project):
    (project / "in.jsonl").write_text(_chat("1") + "\n", encoding="utf-8")
    result = _invoke(["audit", "in.jsonl", "--out", AFILE, "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert f"error: --out {AFILE}: is a file, not a directory" in result.output
    under = _invoke(["audit", "in.jsonl", "--out", f"{AFILE}/audit", "--workers", "1"])
    assert under.exit_code == 1 and f"{AFILE} is a file, so no directory can be created under it" in under.output


def test_forget_from_a_file_that_is_not_utf8(project):
    (project / "request.txt").write_bytes(SECRET.encode("utf-8") + b"\n" + SECRET.encode("cp1254") + b"\n")
    result = _invoke(["forget", "--type", "PERSON", "--from-file", "request.txt"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: --from-file request.txt: not UTF-8 text (line 2). Save the file as UTF-8 and run again."
    )
    assert "requests: []" in (project / "policies/erasure.yaml").read_text(encoding="utf-8")


# --- item 5: every command with bad arguments ---------------------------------------------------

# Per command, invocations that must each fail as an expected error: a missing file, a directory
# where a file is expected (and a file where a directory is), a non-UTF-8 file, paths holding
# rich markup, and nonsense option values.
BAD_ARGUMENTS: dict[str, list[list[str]]] = {
    "base": [["--params", NONUTF8], ["--params", ADIR], ["--params", MISSING], ["--out", UNDER_FILE]],
    "sample": [["--out", ADIR], ["--out", f"{UNDER_FILE}.jsonl"], ["--labels", ADIR], ["--params", NONUTF8]],
    "scan": [[MISSING], [ADIR], [NONUTF8], ["--out", AFILE], ["--workers", "-1"], ["--workers", "many"],
             ["--params", NONUTF8]],
    "audit": [[MISSING], [ADIR], [NONUTF8], ["in.jsonl", "--out", AFILE], ["in.jsonl", "--workers", "-2"],
              ["in.jsonl", "--policy", NONUTF8], ["in.jsonl", "--policy", MISSING]],
    "anonymize": [[], ["--findings", MISSING], ["--params", NONUTF8], ["--erasure", NONUTF8],
                  ["--data-out", AFILE]],
    "forget": [["--type", "NONSENSE", "--value", "x"], ["--type", "NONSENSE", "--value", "x", "--which"],
               ["--type", "PERSON", "--from-file", NONUTF8], ["--type", "PERSON", "--from-file", ADIR],
               ["--type", "PERSON", "--from-file", MISSING], ["--type", "PERSON", "--value", "\udcff"],
               ["--type", "PERSON", "--value", "x", "--erasure", NONUTF8]],
    "redact": [[MISSING], [ADIR], ["-", "--out", ADIR], ["-", "--out", f"{UNDER_FILE}.jsonl"],
               ["-", "--policy", NONUTF8], ["-", "--params", NONUTF8]],
    "train": [[], ["--base", MISSING], ["--base", ADIR], ["--base", ADIR, "--data", MISSING], ["--device", "nonsense"],
              ["--out", AFILE], ["--params", NONUTF8]],
    "evaluate": [[], ["--base", MISSING], ["--data", ADIR], ["--findings", ADIR], ["--device", "nonsense"],
                 ["--params", NONUTF8], ["--out", AFILE]],
    "signoff": [[], ["--policy", NONUTF8], ["--policy", MISSING], ["--out", AFILE], ["--params", ADIR]],
    "verify": [[MISSING, "--public-key", MISSING], [ADIR, "--public-key", ADIR], [ADIR, "--public-key", NONUTF8],
               [ADIR]],
    "release": [[MISSING, "--to", "registry", "--public-key", MISSING],
                [ADIR, "--to", UNDER_FILE, "--public-key", NONUTF8],
                [ADIR, "--to", "registry", "--public-key", ADIR, "--scope", "everyone"]],
    "merge": [[MISSING, "--out", "merged", "--public-key", MISSING], [ADIR, "--out", AFILE, "--public-key", ADIR],
              [ADIR, "--out", "merged", "--public-key", MISSING, "--dtype", "float7"]],
    "generate": [["--prompt", "hi", "--public-key", MISSING, "--base", MISSING],
                 ["--prompt", "hi", "--public-key", MISSING, "--base", ADIR],
                 ["--prompt", "hi", "--public-key", MISSING, "--base", AFILE],
                 ["--prompt", "hi", "--public-key", MISSING, "--adapter", "no-equals"],
                 ["--prompt", "hi", "--public-key", MISSING, "--dtype", "float7"],
                 ["--prompt", "hi", "--public-key", MISSING, "--max-new-tokens", "0"]],
    # every serve case fails before anything listens: a bad base, bundle, port or option value
    "serve": [["--public-key", MISSING, "--base", MISSING],
              ["--public-key", MISSING, "--base", ADIR, "--adapter", "no-equals"],
              ["--public-key", MISSING, "--base", AFILE, "--adapter", f"support={MISSING}"],
              ["--public-key", MISSING, "--base", MISSING, "--port", "-1"],
              ["--public-key", MISSING, "--base", MISSING, "--max-tokens", "0"],
              ["--public-key", MISSING, "--base", MISSING, "--dtype", "float7"],
              ["--public-key", MISSING, "--base", MISSING, "--redact-output", "--policy", NONUTF8]],
    "sweep-report": [[], ["--out", ADIR], ["--policy", NONUTF8], ["--policy", MISSING], ["--params", NONUTF8],
                     ["--out", f"{UNDER_FILE}.html"]],
}
BAD_ARGUMENTS["merge"] += [[ADIR, "--out", "merged", "--public-key", MISSING, "--target", "bogus"],
                           [ADIR, "--out", "merged", "--public-key", MISSING, "--n", "0"],
                           [ADIR, "--out", "merged", "--public-key", MISSING, "--holdout", MISSING]]


def test_every_command_has_bad_argument_cases():
    commands = set(typer.main.get_command(app).commands)
    assert commands == set(BAD_ARGUMENTS), "add the new command's bad arguments to BAD_ARGUMENTS"


@pytest.mark.parametrize(
    "args", [[name, *args] for name, cases in BAD_ARGUMENTS.items() for args in cases],
    ids=lambda args: " ".join(args).replace("\udcff", "<bad byte>"),
)
def test_bad_arguments_give_one_clear_error_never_a_traceback_or_a_bug(project, args):
    (project / "in.jsonl").write_text(_chat("1") + "\n", encoding="utf-8")
    result = _invoke(args, input="")
    output = result.output
    assert "Traceback" not in output
    assert result.exit_code not in (0, EX_SOFTWARE), output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 1:  # an expected error: one `error:` sentence, or verify's verdict
        assert "error: " in output or "REJECTED" in output, output
        assert "bug in Mahrem" not in output
    assert not (project / ".mahrem/logs").exists()


# --- item 5: a bug is a bug --------------------------------------------------------------------


def _log_files(project: Path) -> list[Path]:
    return sorted((project / ".mahrem/logs").glob("*.log"))


def test_an_unexpected_exception_exits_70_with_one_line_and_a_log_without_data(project, monkeypatch):
    import pipeline.release

    message = f"unsupported operand for {SECRET!r}"

    def broken(*args, **kwargs):
        raise TypeError(message)  # the log shows this source line, never the message's value

    monkeypatch.setattr(pipeline.release, "verify_bundle", broken)
    result = _invoke(["verify", ADIR, "--public-key", MISSING])
    assert result.exit_code == EX_SOFTWARE == 70
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    (log,) = _log_files(project)
    assert lines[0].startswith("mahrem verify: internal error (TypeError). This is a bug in Mahrem")
    assert str(log.relative_to(project)) in lines[0] and log.name.endswith("-verify.log")
    assert "REJECTED" not in result.output and "altered" not in result.output and SECRET not in result.output
    text = log.read_text(encoding="utf-8")
    assert "builtins.TypeError" in text and "in broken" in text and "raise TypeError(message)" in text
    assert "pipeline/cli.py" in text and ", in verify" in text
    assert SECRET not in text and "unsupported operand" not in text and MISSING not in text


def test_the_log_leaves_out_messages_of_chained_exceptions_too(project, monkeypatch):
    import pipeline.scan.stage

    def broken(*args, **kwargs):
        try:
            SECRET.encode("ascii")
        except UnicodeEncodeError as exc:  # quotes the character in its message
            raise KeyError(SECRET) from exc

    monkeypatch.setattr(pipeline.scan.stage, "scan_files", broken)
    (project / "in.jsonl").write_text(_chat("1") + "\n", encoding="utf-8")
    result = _invoke(["audit", "in.jsonl", "--out", "audit"])
    assert result.exit_code == EX_SOFTWARE and "internal error (KeyError)" in result.output
    (log,) = _log_files(project)
    text = log.read_text(encoding="utf-8")
    assert "builtins.KeyError" in text and "builtins.UnicodeEncodeError" in text and "caused by" in text
    assert SECRET not in text and "ş" not in text and "ordinal not in range" not in text


def test_an_unwritable_log_directory_still_gives_the_one_line(project, monkeypatch):
    import pipeline.release

    (project / ".mahrem").write_text("not a directory")
    monkeypatch.setattr(pipeline.release, "verify_bundle", lambda *a, **k: 1 / 0)
    result = _invoke(["verify", ADIR, "--public-key", MISSING])
    assert result.exit_code == EX_SOFTWARE
    assert "internal error (ZeroDivisionError)" in result.output and "no log could be written" in result.output


def test_user_errors_keep_exit_1_and_typer_exits_keep_their_code(project):
    result = _invoke(["verify", ADIR, "--public-key", MISSING])
    assert result.exit_code == 1 and f"error: {MISSING}: no such file" in result.output
    usage = _invoke(["audit"])  # missing argument: typer's usage error, exit 2
    assert usage.exit_code == 2 and "Traceback" not in usage.output
