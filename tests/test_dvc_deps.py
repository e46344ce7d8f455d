"""Every stage's DVC deps cover the code it runs, and no more (issue #12).

Two checks:

1. **Static.** For each stage, the code it runs is the closure of ``pipeline.*`` imports
   (module level and inside functions) of its CLI command in ``pipeline/cli.py`` and of the
   helpers that command calls. Every file of that closure must lie under one of the stage's
   ``deps`` in ``dvc.yaml``; otherwise editing it would not re-run the stage. ``cli.py``
   itself only parses and prints, and is no stage's dependency.
2. **DVC itself.** In a scratch DVC project holding the code, policies and params, the scan
   and anonymize stages are committed (``dvc commit``, placeholder outputs, nothing runs);
   then a surrogate is edited. ``dvc status`` must say scan is unchanged and anonymize
   changed: detection does not re-run because a surrogate moved.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DVC_YAML = yaml.safe_load((REPO / "dvc.yaml").read_text())
STAGES = DVC_YAML["stages"]


def _module_file(name: str) -> Path | None:
    path = REPO.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return None


def _imports(nodes) -> set[str]:
    out: set[str] = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Import):
                out |= {a.name for a in sub.names if a.name.startswith("pipeline")}
            elif isinstance(sub, ast.ImportFrom) and sub.module and sub.module.startswith("pipeline"):
                out.add(sub.module)
                out |= {f"{sub.module}.{a.name}" for a in sub.names}
    return out


def closure(modules: set[str]) -> set[Path]:
    """The files of ``modules``, their parent packages and everything they import, transitively."""
    seen: set[Path] = set()
    todo = list(modules)
    while todo:
        parts = todo.pop().split(".")
        for i in range(1, len(parts) + 1):
            path = _module_file(".".join(parts[:i]))
            if path is not None and path not in seen:
                seen.add(path)
                todo.extend(_imports([ast.parse(path.read_text(encoding="utf-8"))]))
    return seen


# The error guard every command runs under imports each stage's exception *classes* to
# tell a user's mistake from a bug; it runs no stage code, so it is not followed.
NOT_FOLLOWED = {"_user_errors"}


def command_imports(command: str) -> set[str]:
    """The ``pipeline.*`` modules a CLI command imports, through the cli helpers it calls."""
    tree = ast.parse((REPO / "pipeline/cli.py").read_text(encoding="utf-8"))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    module_level = _imports([node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)])
    todo, done, found = [command], set(), set(module_level)
    while todo:
        name = todo.pop()
        if name in done or name not in functions or name in NOT_FOLLOWED:
            continue
        done.add(name)
        found |= _imports([functions[name]])
        todo += [n.func.id for n in ast.walk(functions[name]) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    return found


def _covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(REPO).as_posix()
    return any(rel == dep or rel.startswith(dep.rstrip("/") + "/") for dep in deps)


def _deps(stage: str) -> list[str]:
    return [next(iter(d)) if isinstance(d, dict) else d for d in STAGES[stage]["deps"]]


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_a_stage_depends_on_all_the_code_it_runs(stage):
    command = STAGES[stage]["cmd"].split()[1]
    modules = command_imports(command)
    for dep in _deps(stage):  # lm-eval task files (evals/tasks/*.py) import pipeline code too
        if (REPO / dep).is_dir() and not dep.startswith("pipeline"):
            modules |= _imports([ast.parse(p.read_text(encoding="utf-8")) for p in (REPO / dep).rglob("*.py")])
    runs = closure(modules) - {REPO / "pipeline/cli.py", REPO / "pipeline/__init__.py"}
    assert runs, f"{stage}: found no code for `mahrem {command}`"
    missing = sorted(p.relative_to(REPO).as_posix() for p in runs if not _covered(p, _deps(stage)))
    assert not missing, f"dvc.yaml stage {stage!r} runs code it does not list in deps: {missing}"


def test_scan_does_not_depend_on_anonymization_code():
    deps = _deps("scan")
    for path in (REPO / "pipeline/anonymize").rglob("*.py"):
        assert not _covered(path, deps), f"scan depends on {path.relative_to(REPO)}"
    # ... while anonymize does, and on the detector its residual re-scan runs
    assert _covered(REPO / "pipeline/anonymize/surrogates/__init__.py", _deps("anonymize"))
    assert _covered(REPO / "pipeline/scan/analyzer.py", _deps("anonymize"))


def _dvc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_editing_a_surrogate_leaves_the_scan_cached(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    for rel in ("pipeline", "policies"):
        shutil.copytree(REPO / rel, project / rel, ignore=shutil.ignore_patterns("__pycache__"))
    for rel in ("params.yaml",):
        shutil.copy2(REPO / rel, project / rel)
    stages = {name: STAGES[name] for name in ("scan", "anonymize")}
    (project / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}))
    # placeholder data and outputs: nothing runs, dvc only hashes
    (project / "data/raw").mkdir(parents=True)
    (project / "data/raw/sample.jsonl").write_text('{"id": "1", "text": "hello"}\n')
    for stage in stages.values():
        for out in [*stage.get("outs", []), *stage.get("metrics", [])]:
            path = project / (next(iter(out)) if isinstance(out, dict) else out)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}\n")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    for args in (("init", "-q"), ("commit", "-f", "-q", "scan", "anonymize")):
        result = _dvc(*args, cwd=project)
        assert result.returncode == 0, result.stderr
    status = _dvc("status", "--json", cwd=project)
    assert json.loads(status.stdout or "{}") == {}, status.stdout

    surrogate = next((project / "pipeline/anonymize/surrogates").glob("*.py"))
    surrogate.write_text(surrogate.read_text() + "\n# an edited surrogate\n")
    changed = json.loads(_dvc("status", "--json", cwd=project).stdout)
    assert "scan" not in changed, f"editing {surrogate.name} would re-run the scan: {changed}"
    assert "anonymize" in changed, changed
