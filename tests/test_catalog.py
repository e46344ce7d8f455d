"""policies/sources.yaml and params.yaml: typed loading, errors that name file and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from pipeline.catalog import SharingScope, load_catalog
from pipeline.config import BaseParams, ConfigError, SampleParams, load_params

REPO = Path(__file__).resolve().parents[1]


def _sample_source() -> dict:
    return yaml.safe_load((REPO / "policies/sources.yaml").read_text(encoding="utf-8"))


def _write(tmp_path: Path, data) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_catalog_loads_and_covers_the_sample_corpus():
    catalog = load_catalog(REPO / "policies/sources.yaml")
    name, source = catalog.require_training_basis("data/raw/sample.jsonl", today=dt.date(2026, 1, 1))
    assert name == "sample"
    assert source.sharing_scope is SharingScope.internal
    assert source.special_categories.allowed is False
    assert len(catalog.digest) == 64


def test_unknown_key_names_file_and_key(tmp_path):
    data = _sample_source()
    data["sources"]["sample"]["retention"] = "2030-01-01"
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    assert str(path) in str(err.value)
    assert "sources.sample.retention" in str(err.value)
    assert "unknown key" in str(err.value)


def test_missing_legal_basis_key_is_named(tmp_path):
    data = _sample_source()
    del data["sources"]["sample"]["purposes"]["model_training"]["gdpr"]
    with pytest.raises(ConfigError, match=r"sources\.sample\.purposes\.model_training\.gdpr': required key is missing"):
        load_catalog(_write(tmp_path, data))


def test_legal_basis_must_cite_an_article(tmp_path):
    data = _sample_source()
    data["sources"]["sample"]["purposes"]["model_training"]["kvkk"] = "because we want to"
    with pytest.raises(ConfigError, match=r"model_training\.kvkk.*Art\. 5"):
        load_catalog(_write(tmp_path, data))


def test_special_categories_allowed_needs_article_9_basis(tmp_path):
    data = _sample_source()
    data["sources"]["sample"]["special_categories"] = {"allowed": True}
    with pytest.raises(ConfigError, match=r"special_categories.*Art\. 6\(3\)"):
        load_catalog(_write(tmp_path, data))


def test_wrong_sharing_scope_is_named(tmp_path):
    data = _sample_source()
    data["sources"]["sample"]["sharing_scope"] = "everyone"
    with pytest.raises(ConfigError, match=r"sources\.sample\.sharing_scope"):
        load_catalog(_write(tmp_path, data))


def test_file_matching_no_source_is_refused_by_name(tmp_path):
    catalog = load_catalog(_write(tmp_path, _sample_source()))
    with pytest.raises(ConfigError, match=r"data/raw/crm_export\.jsonl: matches no source"):
        catalog.source_for("data/raw/crm_export.jsonl")


def test_source_without_training_purpose_is_refused_naming_file_and_key(tmp_path):
    data = _sample_source()
    del data["sources"]["sample"]["purposes"]["model_training"]
    catalog = load_catalog(_write(tmp_path, data))
    with pytest.raises(ConfigError) as err:
        catalog.require_training_basis("data/raw/sample.jsonl")
    assert "data/raw/sample.jsonl" in str(err.value)
    assert "sources.sample.purposes.model_training" in str(err.value)


def test_expired_retention_is_refused(tmp_path):
    catalog = load_catalog(_write(tmp_path, _sample_source()))
    with pytest.raises(ConfigError, match="retention"):
        catalog.require_training_basis("data/raw/sample.jsonl", today=dt.date(2031, 1, 1))


def test_overlapping_globs_are_refused(tmp_path):
    data = _sample_source()
    data["sources"]["all_raw"] = dict(data["sources"]["sample"], path="data/raw/*.jsonl")
    catalog = load_catalog(_write(tmp_path, data))
    with pytest.raises(ConfigError, match="more than one source"):
        catalog.source_for("data/raw/sample.jsonl")


def test_missing_catalog_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_catalog(tmp_path / "none.yaml")


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  sample: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"YAML syntax error at line \d+"):
        load_catalog(path)


def test_shipped_params_load():
    assert load_params("base", BaseParams, REPO / "params.yaml").source == "smollm2-gguf"
    assert load_params("sample", SampleParams, REPO / "params.yaml").n_records >= 500


def test_params_typo_names_the_key(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("sample:\n  seed: 1\n  n_record: 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'sample\.n_record': unknown key"):
        load_params("sample", SampleParams, path)


def test_params_missing_block_is_named(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("base: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="missing top-level key 'sample'"):
        load_params("sample", SampleParams, path)


def test_a_path_that_climbs_out_of_a_sources_glob_matches_nothing(tmp_path, monkeypatch):
    """`data/raw/../../x.jsonl` and a link under data/raw do not borrow data/raw's legal basis."""
    monkeypatch.chdir(tmp_path)
    data = _sample_source()
    data["sources"]["sample"]["path"] = "data/raw/*.jsonl"  # fnmatch's * also matches '/' and '..'
    catalog = load_catalog(_write(tmp_path, data))
    (tmp_path / "data/raw").mkdir(parents=True)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.jsonl"
    outside.write_text("{}\n")
    with pytest.raises(ConfigError, match="matches no source"):
        catalog.source_for(f"data/raw/../../{outside.name}")
    (tmp_path / "data/raw/linked.jsonl").symlink_to(outside)
    with pytest.raises(ConfigError, match="matches no source"):
        catalog.source_for("data/raw/linked.jsonl")
    (tmp_path / "data/raw/sample.jsonl").write_text("{}\n")
    assert catalog.source_for(tmp_path / "data/raw/sample.jsonl")[0] == "sample"
