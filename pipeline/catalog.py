"""The data catalog, ``policies/sources.yaml``: which raw files may be used, and why.

Each source names its files (a glob relative to the repository root), its controller, the
purposes it may be processed for and the legal basis of each purpose under KVKK
(Law 6698, Art. 5) and GDPR (Art. 6), whether special categories may be processed and on
which basis (KVKK Art. 6(3), GDPR Art. 9(2)), how long it may be kept, whether it may be
transferred abroad (KVKK Art. 9) and how far a model trained on it may be shared.

A raw file that matches no source, or whose source has no legal basis for
``model_training``, is refused by ``scan`` with an error that names the file.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from enum import Enum
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from pipeline.config import ConfigError, StrictModel, file_digest, load_model

SOURCES_FILE = Path("policies/sources.yaml")
MODEL_TRAINING = "model_training"

# KVKK Art. 5: (1) explicit consent; (2)(a)–(f) the other conditions.
# KVKK Art. 6(3) (2024 text): special categories — explicit consent or the listed cases.
# GDPR Art. 6(1)(a)–(f); Art. 9(2)(a)–(j).
_KVKK_BASIS = re.compile(r"^Art\. ?5\((1|2\)\([a-f])\)")
_KVKK_SPECIAL_BASIS = re.compile(r"^Art\. ?6\(3\)(\([a-h]\))?")
_GDPR_BASIS = re.compile(r"^Art\. ?6\(1\)\([a-f]\)")
_GDPR_SPECIAL_BASIS = re.compile(r"^Art\. ?9\(2\)\([a-j]\)")


class SharingScope(str, Enum):
    """How far a model trained on a source may travel; ordered narrowest first."""

    internal = "internal"
    partners = "partners"
    public = "public"

    @property
    def rank(self) -> int:
        return list(SharingScope).index(self)


class Controller(StrictModel):
    name: str = Field(min_length=1)
    contact: str = Field(min_length=1, description="Where data subjects and the DPO reach the controller.")
    verbis_registered: bool = Field(False, description="Registered in VERBİS (KVKK's controller registry).")
    public_names: list[str] = Field(
        default_factory=list,
        description="The controller's own company and brand names: not personal data, never anonymized.",
    )


class LegalBasis(StrictModel):
    """The lawful basis of one purpose, under both laws."""

    kvkk: str = Field(description="e.g. 'Art. 5(2)(f) meşru menfaat' or 'Art. 5(1) açık rıza'")
    gdpr: str = Field(description="e.g. 'Art. 6(1)(f) legitimate interests'")

    @field_validator("kvkk")
    @classmethod
    def _kvkk_article(cls, value: str) -> str:
        if not _KVKK_BASIS.match(value):
            raise ValueError("must cite KVKK Art. 5(1) or Art. 5(2)(a)–(f), e.g. 'Art. 5(2)(f) meşru menfaat'")
        return value

    @field_validator("gdpr")
    @classmethod
    def _gdpr_article(cls, value: str) -> str:
        if not _GDPR_BASIS.match(value):
            raise ValueError("must cite GDPR Art. 6(1)(a)–(f), e.g. 'Art. 6(1)(f) legitimate interests'")
        return value


class SpecialCategories(StrictModel):
    """Whether Art. 6 KVKK / Art. 9 GDPR data from this source may be kept in training data."""

    allowed: bool = False
    kvkk: str | None = None
    gdpr: str | None = None

    @model_validator(mode="after")
    def _basis_when_allowed(self) -> SpecialCategories:
        if self.allowed:
            if not self.kvkk or not _KVKK_SPECIAL_BASIS.match(self.kvkk):
                raise ValueError(
                    "allowed: true needs 'kvkk' citing Art. 6(3) (e.g. 'Art. 6(3) açık rıza'); "
                    "otherwise set allowed: false"
                )
            if not self.gdpr or not _GDPR_SPECIAL_BASIS.match(self.gdpr):
                raise ValueError(
                    "allowed: true needs 'gdpr' citing Art. 9(2)(a)–(j) (e.g. 'Art. 9(2)(a) explicit consent')"
                )
        return self


class Source(StrictModel):
    path: str = Field(min_length=1, description="Glob of raw JSONL files, relative to the repository root.")
    description: str = ""
    controller: Controller
    purposes: dict[str, LegalBasis] = Field(
        description="Purpose name → legal basis. 'model_training' is needed for the pipeline."
    )
    special_categories: SpecialCategories = SpecialCategories()
    retention_until: dt.date
    cross_border_transfer: bool = Field(description="KVKK Art. 9: may data or models trained on it go abroad?")
    sharing_scope: SharingScope


class Catalog(StrictModel):
    sources: dict[str, Source]

    @field_validator("sources")
    @classmethod
    def _not_empty(cls, value: dict[str, Source]) -> dict[str, Source]:
        if not value:
            raise ValueError("declare at least one source")
        # A source name is written into every anonymized record and every report: it must
        # be a name for the data, never a person's e-mail, number or name.
        from pipeline.fields import is_plain_key

        for name in value:
            if not is_plain_key(name):
                raise ValueError(
                    f"source name {len(name)} characters long is not a plain name (letters, digits, '_' or '-', "
                    "starting with a letter, no run of 3+ digits, not a person's name): it is copied into every "
                    "record and report, so it must not be personal data. Rename it, e.g. 'crm_export'"
                )
        return value


class LoadedCatalog:
    """A validated catalog and the file it came from."""

    def __init__(self, catalog: Catalog, path: Path):
        self.catalog = catalog
        self.path = path
        self.digest = file_digest(path)

    @property
    def sources(self) -> dict[str, Source]:
        return self.catalog.sources

    def source_for(self, file: str | Path) -> tuple[str, Source]:
        """The source whose glob matches ``file`` (relative to the repo root), or an error."""
        rel = _relative(file)
        matches = [(name, s) for name, s in self.sources.items() if fnmatch.fnmatch(rel, s.path)]
        if not matches:
            raise ConfigError(
                f"{rel}: matches no source in {self.path}. Add a source whose 'path' glob matches it, "
                "with its controller, purposes and legal basis."
            )
        if len(matches) > 1:
            names = ", ".join(name for name, _ in matches)
            raise ConfigError(f"{rel}: matches more than one source in {self.path} ({names}). Make the globs disjoint.")
        return matches[0]

    def require_training_basis(self, file: str | Path, today: dt.date | None = None) -> tuple[str, Source]:
        """The file's source, checked to be usable for model training today."""
        name, source = self.source_for(file)
        rel = _relative(file)
        if MODEL_TRAINING not in source.purposes:
            raise ConfigError(
                f"{rel}: source '{name}' in {self.path} has no legal basis for '{MODEL_TRAINING}'. "
                f"Add key 'sources.{name}.purposes.{MODEL_TRAINING}' with its KVKK and GDPR basis, "
                "or remove the file from the training data."
            )
        today = today or dt.date.today()
        if source.retention_until < today:
            raise ConfigError(
                f"{rel}: source '{name}' passed its retention date ({source.retention_until.isoformat()}, "
                f"key 'sources.{name}.retention_until'). Delete or re-justify the data before training on it."
            )
        return name, source


def _relative(file: str | Path) -> str:
    """``file`` resolved (``..`` and links followed), relative to the repository root, as globs are.

    Globs are matched against where the file really is: ``data/raw/../../elsewhere.jsonl``
    or a link under data/raw pointing outside it would otherwise match ``data/raw/*.jsonl``
    and borrow that source's legal basis. A file outside the repository keeps its
    absolute path, which no relative glob matches.
    """
    path = Path(file).resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def load_catalog(path: Path | str = SOURCES_FILE) -> LoadedCatalog:
    path = Path(path)
    return LoadedCatalog(load_model(Catalog, path), path)
