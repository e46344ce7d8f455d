"""End to end: `dvc repro` of the real default pipeline in a fresh copy of the repository."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _load_bench():
    """bench/pipeline_time.py: the same fresh copy and plain-shell environment the time budget is measured in."""
    spec = importlib.util.spec_from_file_location("pipeline_time", REPO / "bench" / "pipeline_time.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _load_bench()


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run as from a plain shell: no venv activated, its bin/ not on PATH (bin/mahrem finds .venv)."""
    env = BENCH.plain_shell_env()
    env.pop("OMP_NUM_THREADS", None)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)


@pytest.fixture(scope="module")
def pipeline_copy(tmp_path_factory) -> Path:
    """The tracked (and not-ignored new) files of this checkout, as a fresh git + DVC repo."""
    return BENCH.fresh_copy(tmp_path_factory.mktemp("e2e") / "repo")


@pytest.mark.slow
def test_dvc_repro_builds_defaults_and_second_run_is_a_no_op(pipeline_copy):
    first = _run([sys.executable, "-m", "dvc", "repro"], pipeline_copy)
    assert first.returncode == 0, first.stdout + first.stderr
    base = pipeline_copy / "models/base"
    assert (base / "model.safetensors").is_file()
    digest = json.loads((base / "digest.json").read_text())
    assert digest["roundtrip"]["identical"] is True
    # Byte-identical on every machine: the same SHA-256 as pinned in tests/pins.
    assert digest["files"] == json.loads((REPO / "tests/pins/smollm2_base_sha256.json").read_text())["files"]
    raw = pipeline_copy / "data/raw/sample.jsonl"
    assert sum(1 for _ in raw.open(encoding="utf-8")) == 600
    scan = json.loads((pipeline_copy / "reports/scan/summary.json").read_text())
    assert scan["records"] == 600 and scan["records_with_pii"] > 400 and scan["records_with_special"] > 50
    anonymized = json.loads((pipeline_copy / "reports/anonymize/summary.json").read_text())
    assert anonymized["accounted"] and anonymized["residual_blocked_findings"] == 0
    assert anonymized["lines"] == anonymized["kept"] + anonymized["transformed"] + anonymized["dropped"] + anonymized["quarantined"]
    train = (pipeline_copy / "data/anonymized/train.jsonl").read_text(encoding="utf-8")
    assert sum(1 for _ in train.splitlines()) == anonymized["train"] + anonymized["canary_records"]
    # No raw label value of a structured type reaches the anonymized data or any report, in
    # any common written form (tests/leakcheck.py: NFKC, Turkish case folding, digits only).
    from leakcheck import found_in, searchable, survivors

    from pipeline.keys import load_pseudonym_key
    from pipeline.fingerprint import record_key

    outputs = train + (pipeline_copy / "data/anonymized/holdout.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in outputs.splitlines()]
    for path in [*(pipeline_copy / "reports").rglob("*"), *(pipeline_copy / "release").rglob("*")]:
        if path.is_file() and path.suffix in {".json", ".jsonl", ".html", ".md", ".tsv", ".yaml", ".sig"}:
            outputs += path.read_text(encoding="utf-8")
    haystack = searchable(outputs)
    structured = {"TR_NATIONAL_ID", "TR_TAX_ID", "IBAN_CODE", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD", "PASSPORT"}
    labels = [json.loads(line) for line in (pipeline_copy / "data/raw/sample.labels.jsonl").open(encoding="utf-8")]
    leaked = [span["type"] for g in labels for span in g["pii"] if span["type"] in structured and found_in(span["value"], haystack)]
    assert leaked == []
    # Names and street addresses, looked for in the output of their own record (a pseudonym
    # drawn from the name pool may equal another record's real name): few may survive.
    key = load_pseudonym_key(pipeline_copy / ".mahrem/keys", quiet=True)
    texts = {row["id"]: json.dumps(row, ensure_ascii=False) for row in rows}
    pairs = [(record_key(key, g["id"]), s["type"], s["value"]) for g in labels for s in g["pii"] if s["type"] in {"PERSON", "ADDRESS"}]
    found, total = survivors(pairs, texts)
    print(f"surviving names {found['PERSON']}/{total['PERSON']}, addresses {found['ADDRESS']}/{total['ADDRESS']}")
    assert total["PERSON"] > 300 and total["ADDRESS"] > 100
    assert found["PERSON"] <= 0.05 * total["PERSON"] and found["ADDRESS"] <= 0.05 * total["ADDRESS"]
    metrics = _run([sys.executable, "-m", "dvc", "metrics", "show"], pipeline_copy)
    assert metrics.returncode == 0 and "records_with_pii" in metrics.stdout and "transformed" in metrics.stdout
    assert "holdout_loss_adapter" in metrics.stdout and "tpr_at_fpr" in metrics.stdout
    plots = _run([sys.executable, "-m", "dvc", "plots", "show", "-o", str(pipeline_copy.parent / "plots")], pipeline_copy)
    assert plots.returncode == 0, plots.stdout + plots.stderr
    assert (pipeline_copy.parent / "plots" / "index.html").is_file()

    # Train: a PEFT adapter that learned the domain.
    adapter = pipeline_copy / "models/adapter"
    assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
    trained = json.loads((pipeline_copy / "reports/train/summary.json").read_text())
    assert trained["quantization"] == "nf4"
    # The auto defaults: the dtype this machine's flags call for, every usable core.
    from pipeline.hardware import choose_compute_dtype, usable_cores

    assert trained["compute_dtype"] == choose_compute_dtype("auto", "cpu").dtype
    assert trained["machine"]["compute_dtype"]["requested"] == "auto"
    assert trained["threads"] == usable_cores()[0]
    assert trained["holdout_loss_adapter"] < 0.95 * trained["holdout_loss_base"]

    # Evaluate: benchmarks base vs adapter, every probe run.
    benchmarks = json.loads((pipeline_copy / "reports/eval/benchmarks.json").read_text())
    assert any(t["kind"] == "general" for t in benchmarks["tasks"].values())
    assert benchmarks["compute_dtype"] == trained["compute_dtype"] and benchmarks["threads"] == trained["threads"]
    leakage = json.loads((pipeline_copy / "reports/eval/leakage.json").read_text())
    assert set(leakage["canary"]["by_repetitions"]) == {"1", "4", "8"}
    # One full epoch: every record was seen once but those truncation left without an assistant token, and
    # the members are exactly the seen ones.
    seen = json.loads((pipeline_copy / "reports/train/seen.json").read_text())
    assert len(seen["records"]) == anonymized["train"]
    assert {rid for rid, n in seen["records"].items() if n == 0} == set(seen["without_labels"])
    assert all(n == 1 for rid, n in seen["records"].items() if rid not in seen["without_labels"])
    assert leakage["membership"]["members"] == anonymized["train"] - len(seen["without_labels"])
    assert all(group["unseen"] == 0 for group in leakage["canary"]["by_repetitions"].values())
    assert leakage["extraction"]["prompts"] == 65
    # Non-members: holdout records with an assistant token in the trained window, as the members have.
    eligible = anonymized["holdout"] - leakage["membership"]["ineligible"]["nonmembers"]
    assert leakage["membership"]["nonmembers"] == min(200, eligible) and eligible >= 200
    assert leakage["membership"]["ineligible"]["members"] == 0
    assert leakage["membership"]["window_tokens"] == seen["max_seq_len"]
    assert (pipeline_copy / "reports/eval/report.html").is_file()

    # Signoff: one signed bundle that our verify and the official model_signing CLI accept.
    bundles = [p for p in (pipeline_copy / "release").iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(bundles) == 1, bundles
    bundle = bundles[0]
    assert sorted(p.name for p in bundle.iterdir()) == [
        "README.md", "adapter_config.json", "adapter_model.safetensors", "model.sig", "provenance.json"]
    statement = json.loads((bundle / "provenance.json").read_text())
    internal = statement["predicate"]["buildDefinition"]["internalParameters"]
    # The default run passes its gate with every statistical row powered (issue #13).
    checks = statement["predicate"]["mahrem_gate"]["checks"]
    statistical = [c for c in checks if c.get("stats")]
    assert len(statistical) >= 5 and all(c["verdict"] == "pass" for c in checks), checks
    for c in statistical:
        margin = abs(c["stats"]["threshold"] - c["stats"]["null"])
        assert c["stats"]["mde"] is not None and c["stats"]["mde"] <= margin, c
    assert internal["training"]["machine"]["compute_dtype"]["dtype"] == trained["compute_dtype"]
    assert internal["evaluation"]["compute_dtype"] == benchmarks["compute_dtype"]
    public_key = pipeline_copy / ".mahrem/keys/signing.pub.pem"
    verified = _run([str(Path(sys.executable).parent / "mahrem"), "verify", str(bundle), "--public-key", str(public_key)],
                    pipeline_copy)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    official = _run([str(Path(sys.executable).parent / "model_signing"), "verify", "key", str(bundle),
                     "--signature", str(bundle / "model.sig"), "--public_key", str(public_key)], pipeline_copy)
    assert official.returncode == 0, official.stdout + official.stderr

    # Outputs belong to DVC, not git.
    ignored = subprocess.run(["git", "check-ignore", "models/base", "data/raw/sample.jsonl"],
                             cwd=pipeline_copy, capture_output=True, text=True)
    assert ignored.returncode == 0, "stage outputs must be git-ignored by DVC"

    second = _run([sys.executable, "-m", "dvc", "repro"], pipeline_copy)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Running stage" not in second.stdout
    assert "up to date" in second.stdout
