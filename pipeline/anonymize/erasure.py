"""Erasure requests (GDPR Art. 17, KVKK Art. 7/11), kept as fingerprints in ``policies/erasure.yaml``.

``mahrem forget --type TR_NATIONAL_ID --value …`` stores the value's fingerprint — never
the value — with the id of the pseudonym key it was made with. ``anonymize`` drops every
record with a finding of that fingerprint; ``forget --which`` lists the reports whose
data held it (:func:`where_present`) and the signed and released bundles whose train split
held it (:mod:`pipeline.release.holdings`, from the fingerprint set signoff keeps per bundle). A request made under another key cannot match, so
its key id is checked and a mismatch is an error, not a silent no-op.

A value recorded again under another ``--reference`` keeps its one request: the first
reference stays in ``reference`` (files written before ``references`` existed read as they
did), later ones are added to ``references``; :attr:`ErasureRequest.all_references` gives them all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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
    references: list[str] = Field(
        default_factory=list,
        description="Later ticket or case numbers of the same value (recorded again under another reference).",
    )

    @property
    def all_references(self) -> list[str]:
        """Every reference of the request, the first (``reference``) first, without repeats."""
        out: list[str] = []
        for ref in (self.reference, *self.references):
            if ref and ref not in out:
                out.append(ref)
        return out


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


@dataclass(frozen=True)
class Recorded:
    added: list[str]  # fingerprints of new requests
    referenced: int  # existing requests the reference was attached to


def record_request(
    path: Path | str,
    key: PseudonymKey,
    entity_type: str,
    values: list[str],
    reference: str | None = None,
    today: dt.date | None = None,
) -> list[str]:
    """Append one request per value (deduplicated); return the new fingerprints (see :func:`record_requests`)."""
    return record_requests(path, key, entity_type, values, reference, today).added


def record_requests(
    path: Path | str,
    key: PseudonymKey,
    entity_type: str,
    values: list[str],
    reference: str | None = None,
    today: dt.date | None = None,
) -> Recorded:
    """Append one request per new value (deduplicated by fingerprint).

    A value already recorded keeps its request; a ``reference`` it does not carry yet is
    attached to it — as ``reference`` when it had none, else appended to ``references`` —
    so every ticket it was recorded under can be marked in a registry and cleared.
    """
    if entity_type not in E.ENTITY_TYPES:
        raise ConfigError(f"--type {entity_type!r} is not an entity type; use one of: {', '.join(E.ENTITY_TYPES)}")
    path = Path(path)
    reference = reference.strip() if reference and reference.strip() else None
    loaded = load_erasures(path)
    requests = list(loaded.erasures.requests)
    index = {r.fingerprint: i for i, r in enumerate(requests)}
    added: list[str] = []
    referenced = 0
    for value in values:
        if not value.strip():
            continue
        fp = fingerprint(key, entity_type, value)
        if fp in index:
            old = requests[index[fp]]
            if reference is not None and reference not in old.all_references:
                update = ({"reference": reference} if old.reference is None else
                          {"references": [*old.references, reference]})
                requests[index[fp]] = old.model_copy(update=update)
                referenced += 1
            continue
        index[fp] = len(requests)
        added.append(fp)
        requests.append(ErasureRequest(
            fingerprint=fp, entity_type=entity_type, key_id=key.key_id, received=today or dt.date.today(),
            reference=reference,
        ))
    header = (path.read_text(encoding="utf-8").split("requests:")[0] if path.exists() else "")
    import yaml

    body = yaml.safe_dump(
        {"requests": [_request_yaml(r) for r in requests]},
        allow_unicode=True,
        sort_keys=False,
    )
    with atomic_write(path) as handle:
        handle.write(header + body)
    return Recorded(added, referenced)


def _request_yaml(request: ErasureRequest) -> dict:
    """A request as the file keeps it: no ``references`` key until a second reference exists (older readers)."""
    data = request.model_dump(mode="json", exclude_none=True)
    if not data.get("references"):
        data.pop("references", None)
    return data


def where_present(fingerprints: set[str], findings_files: list[Path]) -> dict[str, int]:
    """For each findings file, how many distinct records hold any of ``fingerprints``."""
    found: dict[str, int] = {}
    for path in findings_files:
        records = {f["record_id"] for f in iter_jsonl(path) if f["fingerprint"] in fingerprints}
        found[str(path)] = len(records)
    return found
