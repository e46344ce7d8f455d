"""`dvc repro` from a plain shell: the stage commands go through bin/mahrem."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO_ROOT

WRAPPER = REPO_ROOT / "bin" / "mahrem"


def _plain_env(**extra: str) -> dict[str, str]:
    """A shell with no venv activated: neither VIRTUAL_ENV nor the venv's bin/ on PATH."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = "/usr/bin:/bin"
    env.update(extra)
    return env


def test_every_stage_command_goes_through_the_wrapper():
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    assert all(stage["cmd"].startswith("bin/mahrem ") for stage in stages.values())


def test_wrapper_finds_the_repositorys_venv_without_activation(tmp_path):
    repo = tmp_path / "repo"
    (repo / "bin").mkdir(parents=True)
    shutil.copy2(WRAPPER, repo / "bin" / "mahrem")
    (repo / ".venv").symlink_to(Path(sys.prefix))
    done = subprocess.run(["bin/mahrem", "--help"], cwd=repo, env=_plain_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "pipeline stages" in done.stdout.lower()


def test_wrapper_prefers_the_active_venv(tmp_path):
    fake = tmp_path / "venv" / "bin"
    fake.mkdir(parents=True)
    (fake / "mahrem").write_text("#!/bin/sh\necho active-venv \"$@\"\n")
    (fake / "mahrem").chmod(0o755)
    done = subprocess.run([str(WRAPPER), "scan"], env=_plain_env(VIRTUAL_ENV=str(tmp_path / "venv")),
                          capture_output=True, text=True)  # fmt: skip
    assert done.stdout.strip() == "active-venv scan"


def test_without_an_install_the_wrapper_says_what_to_do(tmp_path):
    repo = tmp_path / "repo"
    (repo / "bin").mkdir(parents=True)
    shutil.copy2(WRAPPER, repo / "bin" / "mahrem")
    done = subprocess.run(["bin/mahrem", "train"], cwd=repo, env=_plain_env(), capture_output=True, text=True)
    assert done.returncode == 127
    assert "make install" in done.stderr and "activate" in done.stderr and str(repo) in done.stderr
