"""A wheel install works outside the checkout: the package carries its defaults (issue #12).

The slow test builds the wheel from a snapshot of the source, installs it (``--no-deps``)
into a fresh venv that sees this venv's site-packages through a plain-path ``.pth`` line
(torch, Presidio, the spaCy model are not installed again), and runs that venv's
``mahrem audit`` from a directory outside the repository, without PYTHONPATH. A plain path
line in a ``.pth`` only appends the directory to ``sys.path``; the ``.pth`` files inside it
(the editable install's ``__editable__*.pth`` finder) are not processed — the test checks
that the package imported is the wheel's copy, not this checkout.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PACKAGE_DATA = (
    "pipeline/scan/recognizers/defaults/tr_patterns.yaml",
    "pipeline/policies_default/kvkk.yaml",
    "pipeline/lexicons/special_categories.yaml",
    "pipeline/lexicons/special_clinical.yaml",
    "pipeline/lexicons/special_unions.yaml",
    "pipeline/lexicons/special_vocab_extra.yaml",
    "pipeline/lexicons/foreign_names.txt",
    "pipeline/lexicons/tr_provinces.txt",
)


def test_packaged_default_policy_is_the_projects_kvkk_policy():
    """``mahrem audit`` without a params.yaml uses the packaged copy: keep it identical."""
    from pipeline.policies_default import KVKK_POLICY

    assert KVKK_POLICY.read_bytes() == (REPO / "policies/kvkk.yaml").read_bytes(), (
        "policies/kvkk.yaml changed: copy it to pipeline/policies_default/kvkk.yaml"
    )


def test_default_recognizers_live_in_the_package():
    import pipeline
    from pipeline.scan.recognizers import DEFAULT_PATTERNS_DIR

    assert DEFAULT_PATTERNS_DIR.is_relative_to(Path(pipeline.__file__).parent)
    assert (DEFAULT_PATTERNS_DIR / "tr_patterns.yaml").is_file()


def _valid_tckn(seed: int) -> str:
    """A T.C. Kimlik No that passes the NVİ checksum, drawn at random (nobody's on purpose)."""
    from stdnum.tr import tckimlik

    rng = random.Random(seed)
    first9 = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
    number = first9 + tckimlik.calc_check_digits(first9)
    assert tckimlik.is_valid(number)
    return number


def _clean_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        env[var] = "1"
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args} exited {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    return result


@pytest.mark.slow
def test_wheel_install_runs_audit_outside_the_repository(tmp_path):
    env = _clean_env(tmp_path / "venv")

    # 1. The wheel, built from a snapshot (no build/ or egg-info written into the checkout).
    src = tmp_path / "src"
    shutil.copytree(REPO / "pipeline", src / "pipeline", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), str(src)], tmp_path, env)
    [wheel] = wheels.glob("mahrem-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(PACKAGE_DATA) <= names, f"package data missing from the wheel: {sorted(set(PACKAGE_DATA) - names)}"
    assert not any(n.startswith(("policies/", "tests/", "evals/")) for n in names)

    # 2. A fresh venv with the wheel. Installed *before* the .pth exists, so pip sees an empty
    #    environment and never considers the editable install of the base venv.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], tmp_path, env)
    paths = json.loads(_run([str(python), "-c", "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"], tmp_path, env).stdout)
    base = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    # Plain path lines only: no "import" line, so no .pth inside those directories runs.
    (Path(paths["purelib"]) / "zz_base_venv.pth").write_text("".join(f"{p}\n" for p in sorted(base)), encoding="utf-8")

    # 3. Outside the repository: the wheel's package, not the checkout's, and no editable finder.
    work = tmp_path / "outside"
    work.mkdir()
    assert not work.resolve().is_relative_to(REPO)
    probe = (
        "import json, sys, pipeline\n"
        "from pipeline.scan.recognizers import DEFAULT_PATTERNS_DIR, pattern_recognizers\n"
        "from pipeline.policies_default import KVKK_POLICY\n"
        "print(json.dumps({'file': pipeline.__file__, 'path': sys.path,\n"
        "  'editable': sorted(m for m in sys.modules if 'editable' in m)\n"
        "              + [repr(f) for f in sys.meta_path if 'editable' in repr(f).lower()],\n"
        "  'patterns': str(DEFAULT_PATTERNS_DIR), 'policy': str(KVKK_POLICY), 'policy_ok': KVKK_POLICY.is_file(),\n"
        "  'entities': sorted({e for r in pattern_recognizers() for e in r.supported_entities})}))\n"
    )
    seen = json.loads(_run([str(python), "-c", probe], work, env).stdout)
    site = Path(paths["purelib"]).resolve()
    assert Path(seen["file"]).resolve().is_relative_to(site), seen["file"]
    assert not Path(seen["file"]).resolve().is_relative_to(REPO)
    assert seen["editable"] == [], seen["editable"]
    assert not any(Path(p).resolve() == REPO for p in seen["path"] if p), seen["path"]
    assert Path(seen["patterns"]).resolve().is_relative_to(site)
    assert Path(seen["policy"]).resolve().is_relative_to(site) and seen["policy_ok"]
    assert seen["entities"] == ["PASSPORT"]

    # 4. `mahrem audit` on a small file: a valid TCKN and an e-mail address are found.
    tckn = _valid_tckn(20261207)
    data = work / "export.jsonl"
    records = [
        {"id": "1", "text": f"Merhaba, TC kimlik numaram {tckn}, e-posta adresim ayse.kaya@ornek.com.tr"},
        {"id": "2", "text": "Siparişim nerede? Kargo takip numarası nedir?"},
        {"id": "3", "text": "Pasaport numaram U48213975, yurt dışı çıkışı için gerekli mi?"},
    ]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    mahrem = venv / "bin" / "mahrem"
    assert mahrem.is_file()
    _run([str(mahrem), "audit", str(data), "--out", str(work / "audit"), "--workers", "1"], work, env)
    assert (work / "audit" / "report.html").is_file()
    summary = json.loads((work / "audit" / "summary.json").read_text(encoding="utf-8"))
    assert summary["records"] == 3
    assert summary["by_entity_type"].get("TR_NATIONAL_ID", 0) >= 1, summary["by_entity_type"]
    assert summary["by_entity_type"].get("EMAIL_ADDRESS", 0) >= 1, summary["by_entity_type"]
    # the packaged YAML recognizer, found by the installed analyzer
    assert summary["by_entity_type"].get("PASSPORT", 0) >= 1, summary["by_entity_type"]
    # No params.yaml here: the policy is the packaged copy.
    [policy] = summary["policy_sha256"]
    assert Path(policy).resolve().is_relative_to(site), policy
    assert not (work / "policies").exists()
