"""The anonymization policy (``policies/kvkk.yaml``, ``policies/gdpr.yaml``), typed.

A policy says, per entity type, what happens to a detected value and from which score
on; per special category, what happens to a record that reveals one; which entity types
block the run if the residual re-scan still finds them; how records are de-duplicated
and split; and the canaries planted for the leak probes. Unknown keys, actions and
entity types are errors that name the file and the key.
"""

from __future__ import annotations

import functools
import re
from enum import Enum
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from pipeline import entities as E
from pipeline.config import StrictModel, file_digest, load_model


class Action(str, Enum):
    """What happens to one detected value."""

    pseudonymize = "pseudonymize"  # keyed, consistent, format-preserving surrogate
    replace = "replace"  # typed placeholder, e.g. <TCKN>
    mask = "mask"  # keep the last `keep_last` characters
    redact = "redact"  # remove the value
    generalize = "generalize"  # date of birth → year, address → province
    keep = "keep"


class SpecialAction(str, Enum):
    """What happens to a record that reveals a special category of personal data."""

    drop_record = "drop_record"
    mask = "mask"  # replace the sentence holding the cue with a placeholder
    keep = "keep"  # only when the record's source allows special categories (explicit consent)


class EntityRule(StrictModel):
    action: Action
    min_score: float = Field(0.5, ge=0.0, le=1.0)
    keep_last: int = Field(4, ge=0, le=32, description="For mask: characters left visible at the end.")


class ResidualRules(StrictModel):
    """The re-scan of the anonymized output."""

    block: list[str] = Field(description="Entity types that fail the stage if still found.")
    min_score: float = Field(0.5, ge=0.0, le=1.0)

    @field_validator("block")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in E.ENTITY_TYPES]
        if unknown:
            raise ValueError(f"unknown entity type(s) {unknown}; known: {', '.join(E.ENTITY_TYPES)}")
        return value


class SplitRules(StrictModel):
    holdout_fraction: float = Field(0.1, gt=0.0, lt=1.0)
    salt: str = Field("mahrem-split-v1", min_length=1, description="Changing it reshuffles the split.")


class DedupRules(StrictModel):
    exact: bool = True
    near_duplicate_threshold: float | None = Field(
        0.85, gt=0.0, le=1.0, description="Jaccard similarity (MinHash) at which records collapse; null = off."
    )
    shingle_words: int = Field(3, ge=1, le=10)
    num_perm: int = Field(128, ge=16, le=1024)


class CanaryRules(StrictModel):
    enabled: bool = True
    repetitions: list[int] = Field(default_factory=lambda: [1, 4, 8])
    per_repetition: int = Field(10, ge=1, le=100, description="Distinct canaries at each repetition count.")
    reference_candidates: int = Field(1000, ge=10, le=1_000_000)
    digits: int = Field(10, ge=6, le=16, description="Length of the random numeric secret.")
    seed: int = 1729

    @field_validator("repetitions")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if not value or any(v < 1 for v in value):
            raise ValueError("needs one or more positive repetition counts, e.g. [1, 4, 16]")
        return value


class FieldAction(str, Enum):
    """What happens to a field outside the conversation text (``metadata``, tool calls, keys…)."""

    scan = "scan"  # detected and anonymized like the conversation text
    drop = "drop"  # removed from the record
    refuse = "refuse"  # the record is dropped (reason refused_field): this field may not be trained on


class FieldRule(StrictModel):
    path: str = Field(
        min_length=1,
        description="A field path pattern: '*' matches one name or position, '**' any number, "
        "'[*]' any list index; e.g. 'metadata.internal.**', 'messages[*].tool_calls'.",
    )
    action: FieldAction


class FieldRules(StrictModel):
    """The field policy: every string the record carries, not only the conversation."""

    default: FieldAction = FieldAction.scan
    rules: list[FieldRule] = Field(default_factory=list, description="The first rule whose path matches wins.")

    def action_for(self, path: str) -> FieldAction:
        return self.rule_for(path)[0]

    def rule_for(self, path: str) -> tuple[FieldAction, int | None]:
        """The action for ``path`` and how many of its segments the matching rule names.

        A rule on an object covers everything inside it, so a field below a dropped object
        reports the object's depth: the whole object goes, not just its leaves.
        """
        segments = _SEGMENT.findall(path.removesuffix("@key"))
        for rule, pattern in zip(self.rules, _compiled(tuple(r.path for r in self.rules))):
            for depth in range(1, len(segments) + 1):
                if pattern.fullmatch("".join(segments[:depth])):
                    return rule.action, depth
        return self.default, None


_SEGMENT = re.compile(r"^[^.\[]+|\.[^.\[]+|\[\d+\]")


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    out = []
    for pattern in patterns:
        regex, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**", i):
                regex, i = regex + r".*", i + 2
            elif pattern.startswith("[*]", i):
                regex, i = regex + r"\[\d+\]", i + 3
            elif pattern[i] == "*":
                regex, i = regex + r"[^.\[\]]*", i + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        out.append(re.compile(regex))
    return out


class Policy(StrictModel):
    name: str = Field(min_length=1)
    law: str = Field(min_length=1)
    entities: dict[str, EntityRule]
    special_categories: dict[str, SpecialAction]
    residual: ResidualRules
    split: SplitRules = SplitRules()
    dedup: DedupRules = DedupRules()
    canaries: CanaryRules = CanaryRules()
    max_quarantine_ratio: float = Field(0.05, ge=0.0, le=1.0)
    drop_empty_assistant_turns: bool = True
    fields: FieldRules = FieldRules()

    @field_validator("entities")
    @classmethod
    def _entity_types(cls, value: dict[str, EntityRule]) -> dict[str, EntityRule]:
        unknown = [k for k in value if k not in E.ENTITY_TYPES]
        if unknown:
            raise ValueError(f"unknown entity type(s) {unknown}; known: {', '.join(E.ENTITY_TYPES)}")
        return value

    @field_validator("special_categories")
    @classmethod
    def _categories(cls, value: dict[str, SpecialAction]) -> dict[str, SpecialAction]:
        unknown = [k for k in value if k != "default" and k not in E.SPECIAL_CATEGORIES]
        if unknown:
            raise ValueError(
                f"unknown special categor(y/ies) {unknown}; known: default, {', '.join(E.SPECIAL_CATEGORIES)}"
            )
        if "default" not in value:
            raise ValueError("needs a 'default' action for categories not listed")
        return value

    @model_validator(mode="after")
    def _every_entity_has_a_rule(self) -> Policy:
        missing = [e for e in E.ENTITY_TYPES if e not in self.entities]
        if missing:
            raise ValueError(f"'entities' needs a rule for every entity type; missing: {', '.join(missing)}")
        return self

    def rule(self, entity_type: str) -> EntityRule:
        return self.entities[entity_type]

    def special_action(self, category: str) -> SpecialAction:
        return self.special_categories.get(category, self.special_categories["default"])


class LoadedPolicy:
    def __init__(self, policy: Policy, path: Path):
        self.policy = policy
        self.path = path
        self.digest = file_digest(path)


def load_policy(path: Path | str) -> LoadedPolicy:
    path = Path(path)
    return LoadedPolicy(load_model(Policy, path), path)
