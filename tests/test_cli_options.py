"""Every option a message or docstring names exists (issue #12: messages named `--mmlu`, `--tasks-dir`)."""

from __future__ import annotations

import re

import typer

from conftest import REPO_ROOT
from pipeline.cli import app

# Options of other tools that Mahrem's messages quote, each with the tool it belongs to.
OTHER_TOOLS = {
    "--signature": "model_signing verify",
    "--public_key": "model_signing verify",
    "--no-optional-locks": "git",
    "--porcelain": "git status",
    "--untracked-files": "git status",
    "--no-deps": "pip install",
    "--dir": "python -m pipeline.metrics",
    "--head": "ray start",
    "--address": "ray start",
    "--config_file": "accelerate launch",
    "--num_processes": "accelerate launch",
    "--no_python": "accelerate launch",
    "--gpu_ids": "accelerate launch",
    "--main_process_port": "accelerate launch",
    "--num_machines": "accelerate launch",
    "--machine_rank": "accelerate launch",
    "--main_process_ip": "accelerate launch",
}
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9_-]*[a-z0-9]")


def _mahrem_options() -> set[str]:
    found: set[str] = set()

    def walk(command) -> None:
        for param in getattr(command, "params", []):
            found.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return found


def test_every_option_named_in_the_package_exists():
    known = _mahrem_options() | set(OTHER_TOOLS)
    missing = []
    for path in sorted((REPO_ROOT / "pipeline").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            missing += [f"{path.relative_to(REPO_ROOT)}:{number}: {name}" for name in OPTION.findall(line) if name not in known]
    assert missing == [], "options named but not defined:\n" + "\n".join(missing)


def test_the_check_finds_an_option_that_does_not_exist():
    assert "--tasks-dir" not in _mahrem_options() | set(OTHER_TOOLS)
    assert OPTION.findall("pass --tasks-dir DIR or `--mmlu`") == ["--tasks-dir", "--mmlu"]
