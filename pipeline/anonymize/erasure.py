"""Erasure requests (GDPR Art. 17, KVKK Art. 7/11), kept as fingerprints in ``policies/erasure.yaml``.

``mahrem forget --type TR_NATIONAL_ID --value …`` stores the value's fingerprint — never
the value — with the id of the pseudonym key it was made with. ``anonymize`` drops every
record with a finding of that fingerprint; ``forget --which`` lists the reports whose
data held it (:func:`where_present`) and the signed and released bundles whose train split
held it (:mod:`pipeline.release.holdings`, from the fingerprint set signoff keeps per bundle). A request made under another key cannot match, so
its key id is checked and a mismatch is an error, not a silent no-op.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field

from pipeline import entities as E
from pipeline.config import ConfigError, StrictModel, file_digest, load_model
from pipeline.io import atomic_write, iter_jsonl
from pipeline.keys import PseudonymKey
from pipeline.fingerprint import fingerprint

ERASURE_FILE = Path("policies/erasure.yaml")


class ErasureRequest(StrictModel):
    fingerprint: str = Field(pattern=r"^[0-9a-f]{32}$")
    entity_type: str
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    received: dt.date
    reference: str | None = Field(None, description="Your ticket or case number; never the value itself.")


class ErasureList(StrictModel):
    requests: list[ErasureRequest] = Field(default_factory=list)


class LoadedErasures:
    def __init__(self, erasures: ErasureList, path: Path | None):
        self.erasures = erasures
        self.path = path
        self.digest = file_digest(path) if path and path.exists() else None

    @property
    def fingerprints(self) -> set[str]:
        return {r.fingerprint for r in self.erasures.requests}

    def check_key(self, key: PseudonymKey) -> None:
        stale = [i for i, r in enumerate(self.erasures.requests) if r.key_id != key.key_id]
        if stale:
            raise ConfigError(
                f"{self.path}: request(s) {stale} were fingerprinted with another pseudonym key "
                f"(key id differs from the current {key.key_id}), so they cannot match. Re-record them with "
                "`mahrem forget` under the current key."
            )


def load_erasures(path: Path | str = ERASURE_FILE) -> LoadedErasures:
    path = Path(path)
    if not path.exists():
        return LoadedErasures(ErasureList(), None)
    return LoadedErasures(load_model(ErasureList, path), path)


def record_request(
    path: Path | str,
    key: PseudonymKey,
    entity_type: str,
    values: list[str],
    reference: str | None = None,
    today: dt.date | None = None,
) -> list[str]:
    """Append one request per value (deduplicated); return the new fingerprints."""
    if entity_type not in E.ENTITY_TYPES:
        raise ConfigError(f"--type {entity_type!r} is not an entity type; use one of: {', '.join(E.ENTITY_TYPES)}")
    path = Path(path)
    loaded = load_erasures(path)
    existing = loaded.fingerprints
    added: list[str] = []
    for value in values:
        if not value.strip():
            continue
        fp = fingerprint(key, entity_type, value)
        if fp in existing or fp in added:
            continue
        added.append(fp)
    requests = list(loaded.erasures.requests) + [
        ErasureRequest(
            fingerprint=fp, entity_type=entity_type, key_id=key.key_id, received=today or dt.date.today(),
            reference=reference,
        )
        for fp in added
    ]
    header = (path.read_text(encoding="utf-8").split("requests:")[0] if path.exists() else "")
    import yaml

    body = yaml.safe_dump(
        {"requests": [r.model_dump(mode="json", exclude_none=True) for r in requests]},
        allow_unicode=True,
        sort_keys=False,
    )
    with atomic_write(path) as handle:
        handle.write(header + body)
    return added


def where_present(fingerprints: set[str], findings_files: list[Path]) -> dict[str, int]:
    """For each findings file, how many distinct records hold any of ``fingerprints``."""
    found: dict[str, int] = {}
    for path in findings_files:
        records = {f["record_id"] for f in iter_jsonl(path) if f["fingerprint"] in fingerprints}
        found[str(path)] = len(records)
    return found
