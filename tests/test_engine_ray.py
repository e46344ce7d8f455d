"""`--engine ray`: scan and anonymize on Ray Data give the bytes `--engine local` gives.

A real local Ray instance (``num_cpus=2``, not ``local_mode``): the raw shards are read by
Ray Data read tasks and detection runs on an actor pool of two processes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.keys import PSEUDONYM_ENV, PseudonymKey
from pipeline.scan.stage import InputFile, ScanConfig, scan_files

ray = pytest.importorskip("ray", reason="Ray is the optional extra mahrem[ray]; `make install` installs it")

REPO = Path(__file__).resolve().parents[1]
SECRET = bytes.fromhex("2d92c949a01a7970b6afaff32d26156bf7c61d1416309376e19cbe16901596cb")  # fixed, random-looking (the key check refuses patterns)
KEY = PseudonymKey(SECRET)
runner = CliRunner()
# What may differ between two runs of the same input: when, and how long.
VOLATILE = {"wall_seconds", "scanned_at", "anonymized_at"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The default sample corpus, generated here as the sample stage does (a clean checkout has none)."""
    from pipeline.config import SampleParams, load_params
    from pipeline.sample import SampleConfig, write_sample

    root = tmp_path_factory.mktemp("sample")
    params = load_params("sample", SampleParams, REPO / "params.yaml")
    write_sample(root / "sample.jsonl", root / "sample.labels.jsonl", SampleConfig(seed=params.seed, n_records=params.n_records))
    return root / "sample.jsonl"


@pytest.fixture(scope="module")
def ray_instance():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def _shards(root: Path, sample: Path) -> list[Path]:
    """Three shards of real sample records with bad lines and ids repeated inside and across shards."""
    lines = sample.read_bytes().splitlines(keepends=True)[:60]
    first_id = json.loads(lines[0])["id"]
    other_id = json.loads(lines[30])["id"]
    dup = json.loads(lines[5])
    dup["id"] = first_id  # the id of shard 1's first record, again in shard 2
    dup2 = json.loads(lines[40])
    dup2["id"] = other_id  # repeated inside shard 2
    shards = {
        "a.jsonl": lines[:20] + [b"{not json\n"],
        "b.jsonl": lines[20:40] + [json.dumps(dup).encode() + b"\n", b"\xff\xfe broken utf-8\n", json.dumps(dup2).encode() + b"\n"],
        "c.jsonl": [b"\n"] + lines[40:60],
    }
    root.mkdir(parents=True, exist_ok=True)
    for name, content in shards.items():
        (root / name).write_bytes(b"".join(content))
    return [root / name for name in shards]


def _json_without(path: Path, keys: set[str] = VOLATILE) -> dict:
    data = json.loads(path.read_text())
    for key in keys:
        data.pop(key, None)
    # The scan summary (an input of anonymize's chain) holds its own time stamps.
    data.get("chain", {}).get("inputs", {}).pop("reports/scan/summary.json", None)
    return data


def _session_files() -> list[Path]:
    from ray._private import worker  # the running instance's session directory (logs, sockets, spills)

    session = Path(worker._global_node.get_session_dir_path())
    return [p for p in session.rglob("*") if p.is_file() and not p.is_symlink()]


def test_shards_on_ray_equal_local_with_quarantine_and_accounting(ray_instance, sample, tmp_path):
    files = [InputFile(p, "sample") for p in _shards(tmp_path / "raw", sample)]
    common = dict(batch_size=4, max_quarantine_ratio=0.5, recognizer_dir=REPO / "policies/recognizers")
    local = scan_files(files, tmp_path / "local", ScanConfig(workers=1, **common), KEY)
    on_ray = scan_files(files, tmp_path / "ray", ScanConfig(workers=2, engine="ray", **common), KEY)

    for name in ("findings.jsonl", "quarantine.jsonl"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    # The same summary but for the output directory's name in the chain and the worker count.
    ray_summary = _json_without(tmp_path / "ray" / "summary.json", VOLATILE | {"config", "chain"})
    assert ray_summary == _json_without(tmp_path / "local" / "summary.json", VOLATILE | {"config", "chain"})
    # Every line is accounted for, across shards: 3 bad lines and 2 repeated ids quarantined.
    assert on_ray.lines == 65 and on_ray.records == 60 and on_ray.quarantined == 5
    reasons = [json.loads(line)["reason"] for line in (tmp_path / "ray" / "quarantine.jsonl").read_text().splitlines()]
    assert sum(r.startswith("duplicate id") for r in reasons) == 2
    assert ray_summary["files"][str(tmp_path / "raw" / "b.jsonl")]["quarantined"] == 3
    # Two actor processes did the detection, neither of them this one; locally this process did.
    assert len(on_ray.worker_pids) >= 2 and os.getpid() not in on_ray.worker_pids
    assert local.worker_pids == {os.getpid()}
    # The key went to the workers in memory only: not in any file of the Ray session (logs, spills).
    for path in _session_files():
        data = path.read_bytes()
        assert SECRET not in data and SECRET.hex().encode() not in data, path


def _project(root: Path, sample: Path) -> Path:
    root.mkdir()
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copytree(REPO / "policies", root / "policies")
    (root / "data" / "raw").mkdir(parents=True)
    shutil.copy(sample, root / "data" / "raw" / "sample.jsonl")
    return root


def test_scan_and_anonymize_of_the_sample_corpus_are_byte_identical_on_ray(ray_instance, sample, tmp_path, monkeypatch):
    monkeypatch.setenv(PSEUDONYM_ENV, SECRET.hex())
    outputs = {}
    for engine in ("local", "ray"):
        project = _project(tmp_path / engine, sample)
        monkeypatch.chdir(project)
        for command in (["scan"], ["anonymize"]):
            result = runner.invoke(app, [*command, "--engine", engine, "--workers", "2"], terminal_width=200)
            assert result.exit_code == 0, result.output
        outputs[engine] = project
    local, on_ray = outputs["local"], outputs["ray"]
    for name in (
        "reports/scan/findings.jsonl",
        "reports/scan/quarantine.jsonl",
        "data/anonymized/train.jsonl",
        "data/anonymized/holdout.jsonl",
        "reports/anonymize/log.jsonl",
        "reports/anonymize/residual.json",
        "reports/anonymize/canaries.json",
    ):
        assert (on_ray / name).read_bytes() == (local / name).read_bytes(), name
    for name in ("reports/scan/summary.json", "reports/scan/metrics.json", "reports/anonymize/summary.json", "reports/anonymize/metrics.json"):
        assert _json_without(on_ray / name) == _json_without(local / name), name
    assert (local / "data/anonymized/train.jsonl").stat().st_size > 100_000  # the real corpus went through


def test_without_ray_installed_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    from pipeline.config import ConfigError
    from pipeline.scan.engine import EngineConfig, open_engine

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'mahrem\[ray\]'"):
        with open_engine(EngineConfig(name="ray", workers=2), KEY):
            pass


def test_address_without_the_ray_engine_is_refused(sample, tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path / "p", sample))
    result = runner.invoke(app, ["scan", "--engine", "local", "--address", "auto"], terminal_width=200)
    assert result.exit_code != 0
    assert "--address" in result.output and "--engine ray" in result.output


def test_an_error_in_an_actor_reaches_the_user_as_the_same_clean_error(ray_instance, sample, tmp_path):
    """A wrong recognizer file stops every engine before a worker starts, with the in-process engine's message."""
    from pipeline.scan.recognizers.yaml_patterns import RecognizerSpecError

    bad = tmp_path / "recognizers"
    bad.mkdir()
    (bad / "mine.yaml").write_text("recognizers:\n  - name: Broken\n    supported_entity: PASSPORT\n", encoding="utf-8")
    files = [InputFile(p, "sample") for p in _shards(tmp_path / "raw", sample)[:1]]
    errors = {}
    for engine, workers in (("local", 1), ("local", 2), ("ray", 2)):
        config = ScanConfig(workers=workers, engine=engine, max_quarantine_ratio=0.5, recognizer_dir=bad)
        with pytest.raises(RecognizerSpecError) as caught:
            scan_files(files, tmp_path / engine, config, KEY)
        errors[engine, workers] = caught.value
    assert str(errors["ray", 2]) == str(errors["local", 2]) == str(errors["local", 1]) and "mine.yaml" in str(errors["ray", 2])
    assert "Traceback" not in str(errors["ray", 2])


def test_a_library_error_in_a_worker_is_replaced_without_its_message():
    """Anything but Mahrem's own user errors leaves a Ray worker as an EngineError naming only its type."""
    from pipeline.io import InputError
    from pipeline.scan.engine import EngineError, _guarded

    marker = "Ayşe Yılmaz 10000000146"

    def fails():
        raise ValueError(f"could not parse {marker!r}")

    with pytest.raises(EngineError) as caught:
        _guarded("detection actor", fails)
    assert "ValueError" in str(caught.value) and marker not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    with pytest.raises(InputError, match="data.jsonl"):  # a user error keeps its (value-free) message
        _guarded("read task", lambda: (_ for _ in ()).throw(InputError("data.jsonl: no such file.")))


def test_a_file_named_twice_is_accounted_twice(sample, tmp_path):
    """Every line read is accounted for: the second reading of the same file quarantines its ids as repeats."""
    (path,) = _shards(tmp_path / "raw", sample)[:1]
    config = ScanConfig(workers=1, max_quarantine_ratio=1.0, recognizer_dir=REPO / "policies/recognizers")
    result = scan_files([InputFile(path, "sample"), InputFile(path, "sample")], tmp_path / "out", config, KEY)
    assert (result.lines, result.records, result.quarantined) == (42, 20, 22)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["files"][str(path)]["lines"] == 42 and summary["records_without_pii"] >= 0


def test_the_engine_starts_and_stops_its_own_ray_when_none_runs(sample, tmp_path):
    """Not started by the caller: the engine starts a local instance with `workers` CPUs and shuts it down after."""
    from ray.data import DataContext

    if ray.is_initialized():
        ray.shutdown()
    before = DataContext.get_current().execution_options.preserve_order
    files = [InputFile(p, "sample") for p in _shards(tmp_path / "raw", sample)[:1]]
    config = ScanConfig(workers=1, engine="ray", batch_size=8, max_quarantine_ratio=0.5,
                        recognizer_dir=REPO / "policies/recognizers")  # fmt: skip
    result = scan_files(files, tmp_path / "ray", config, KEY)
    assert result.records == 20 and len(result.worker_pids) == 1
    assert not ray.is_initialized()
    assert DataContext.get_current().execution_options.preserve_order == before  # the caller's context is restored
