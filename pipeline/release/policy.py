"""The release policy, ``policies/release.yaml``, typed: the bundle's identity and the gate.

The file's header documents every key. Thresholds are validated once here, so a typo or
a negative bound is an error naming the file and the key, never a silently lax gate.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from pipeline.config import StrictModel, file_digest, load_model

RELEASE_POLICY_FILE = Path("policies/release.yaml")

# A bundle name becomes a directory name and a registry path component: keep it plain
# (no separator, no leading dot, so never '..' nor an absolute path).
_NAME = r"^[a-z0-9][a-z0-9._-]{0,99}$"
# Semantic versioning (https://semver.org), which registries and humans sort by.
_VERSION = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"


def naming_problems(name: object, version: object) -> list[str]:
    """Why ``name`` / ``version`` break the naming rule of release.yaml (empty when they keep it).

    The same rule guards signoff (the policy model), verify and release, because both
    become path components of ``release/<name>-<version>`` and ``<registry>/<name>/<version>``.

    >>> naming_problems("mahrem-support", "0.1.0")
    []
    >>> naming_problems("../../escaped", "0.1.0")
    ["name '../../escaped' breaks the naming rule (lower-case letters, digits, '.', '_', '-'; no separators)"]
    """
    problems = []
    if not isinstance(name, str) or not re.fullmatch(_NAME, name):
        problems.append(f"name {name!r} breaks the naming rule (lower-case letters, digits, '.', '_', '-'; no separators)")
    if not isinstance(version, str) or not re.fullmatch(_VERSION, version):
        problems.append(f"version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    return problems


class CardText(StrictModel):
    """The prose of the model card that a person, not the pipeline, must write."""

    intended_use: str = Field(min_length=1)
    out_of_scope: str = Field(min_length=1)
    limitations: list[str] = Field(min_length=1)


class ExtractionGate(StrictModel):
    rate_max: float = Field(
        gt=0.0, lt=1.0, description="Bound on the adapter's extraction hit rate (exact one-sided 95 % bound)."
    )


class CanaryGate(StrictModel):
    repetitions: str = Field("1", pattern=r"^[1-9]\d*$", description="Key of leakage.json canary.by_repetitions.")
    exposure_max_bits: float = Field(ge=0.0, le=64.0, description="Bound on the class's mean exposure (t bound).")


class MembershipGate(StrictModel):
    fpr: float = Field(0.01, gt=0.0, lt=0.5, description="The FPR the TPR is read at (evaluate.membership.fpr).")
    tpr_max: float = Field(ge=0.0, le=1.0, description="Bound on the strongest attack's TPR at that FPR.")


class GeneralGate(StrictModel):
    bpb_increase_max: float = Field(
        gt=0.0, le=10.0, description="Bound on adapter − base bits per byte on general text (paired bootstrap)."
    )
    accuracy_drop_max: float = Field(
        gt=0.0, le=1.0, description="Bound on base − adapter accuracy, for tasks where the base is above chance."
    )


class DomainGate(StrictModel):
    min_relative_improvement: float = Field(
        ge=-1.0, le=1.0, description="Lower bound required of (base − adapter) / base bits per byte on the holdout."
    )


# Floors fixed in code: no release policy may relax them (issue #14). A bundle that leaks
# an original personal-data value, or whose training data still holds a blocked one, is
# never released, whatever a policy file says; verify re-checks them on every bundle.
FLOORS = {
    "residual_blocked_max": "the anonymize re-scan must find no blocked personal data in the training data",
    "extraction_hits_max": "the adapter must emit no original personal-data value in the extraction probe",
}


class Gate(StrictModel):
    residual_blocked_max: int = Field(0, ge=0)
    extraction_hits_max: int = Field(0, ge=0)
    extraction: ExtractionGate
    canary: CanaryGate
    membership: MembershipGate
    general: GeneralGate
    domain: DomainGate
    quarantine_ratio_max: float = Field(ge=0.0, le=1.0)
    required_purpose: str = Field("model_training", min_length=1)
    allow_development_keys: bool = True

    @field_validator(*FLOORS)
    @classmethod
    def _floor(cls, value: int, info) -> int:
        if value != 0:
            raise ValueError(
                f"must be 0: {FLOORS[info.field_name]}. This is a floor fixed in code that no policy can relax"
            )
        return value


class ReleasePolicy(StrictModel):
    name: str = Field(pattern=_NAME)
    version: str = Field(pattern=_VERSION)
    license: str = Field(min_length=1)
    base_model: str = Field(min_length=1, description="Hugging Face id of the base model, for the card.")
    language: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    card: CardText
    gate: Gate

    @field_validator("language")
    @classmethod
    def _iso_codes(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not re.fullmatch(r"[a-z]{2,3}", v)]
        if bad:
            raise ValueError(f"language codes must be ISO 639 (two or three lower-case letters); got {bad}")
        return value

    @property
    def bundle_name(self) -> str:
        return f"{self.name}-{self.version}"


class LoadedReleasePolicy:
    """A validated release policy and the file it came from (its digest goes in the manifest)."""

    def __init__(self, policy: ReleasePolicy, path: Path):
        self.policy = policy
        self.path = path
        self.digest = file_digest(path)


def load_release_policy(path: Path | str = RELEASE_POLICY_FILE) -> LoadedReleasePolicy:
    path = Path(path)
    return LoadedReleasePolicy(load_model(ReleasePolicy, path), path)


class SignoffParams(StrictModel):
    """``signoff:`` in params.yaml — where the release policy is and where bundles go."""

    policy: str = Field("policies/release.yaml", min_length=1)
    out: str = Field("release", min_length=1, description="Directory that receives <name>-<version>/.")
