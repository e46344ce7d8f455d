"""``provenance.json``: an in-toto Statement v1 carrying an SLSA Provenance v1 predicate.

The statement's subjects are the bundle's payload files (the adapter and the model card)
with their SHA-256. The SLSA predicate says how they were built:

* ``buildDefinition.externalParameters`` — what a person chose: ``params.yaml`` (values
  and digest), the policy files' digests (anonymization, release, sources, erasure
  requests), ``dvc.yaml``'s digest and the stage name;
* ``buildDefinition.internalParameters`` — what the machine was: device, seeds and
  library versions of training, the evaluation's lm-eval version, and signoff's own
  environment (Python, torch build — its local tag names the CUDA build, e.g. ``+cu124``);
* ``buildDefinition.resolvedDependencies`` — the base model's files, the raw data (the
  digests the scan recorded) and the anonymized data, the git commit and dirty flag, and
  the digest of the installed package list (sorted ``name==version`` lines);
* ``runDetails`` — builder id and versions, invocation id, start and end of signoff, and
  byproducts: each ``dvc.lock`` stage entry and each stage report, by digest.

SLSA v1 lets producers add extension fields named ``<vendor>_<field>``; ours are:
``mahrem_bundle`` (name, version, license, base model, file list), ``mahrem_gate`` (the
gate table), ``mahrem_privacy`` (PII audit counts by type, special categories, dropped and
quarantined counts, erasure requests applied, the leak probes), ``mahrem_governance``
(each source's legal basis, the narrowest sharing scope and the source that sets it,
whether every source allows transfer abroad), ``mahrem_evaluation`` (benchmarks and
training figures), ``mahrem_signer`` (key id, development key or not) and ``mahrem_chain``
(the chain of custody signoff re-derived: every file's SHA-256 and which stage recorded it)
and ``mahrem_spot_check`` (what signoff re-measured with the adapter it signed).

Nothing here holds a personal-data value: counts, types, digests and policy citations only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import file_digest

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
# URIs of our own (URNs: nothing needs to be fetched to interpret them).
BUILD_TYPE = "urn:mahrem:slsa:build-type:dvc-pipeline:v1"
BUILDER_ID = "urn:mahrem:slsa:builder:mahrem-signoff"
PROVENANCE_FILE = "provenance.json"
EXTENSIONS = (
    "mahrem_bundle", "mahrem_gate", "mahrem_privacy", "mahrem_governance", "mahrem_evaluation", "mahrem_signer",
    "mahrem_chain", "mahrem_spot_check",
)


def timestamp(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as SLSA (protobuf Timestamp) wants it."""
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def canonical_digest(obj: Any) -> str:
    """SHA-256 of a JSON value in canonical form (sorted keys, no whitespace)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def git_state(repo: Path = Path(".")) -> dict[str, Any]:
    """The commit checked out and whether tracked files differ from it; tolerant of no git.

    ``--no-optional-locks`` keeps ``git status`` from rewriting the index: signoff reads only.
    """
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
        ).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").strip())
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None, "note": "not a git repository (or git is not installed)"}
    return {"commit": commit, "dirty": dirty}


def package_inventory() -> dict[str, Any]:
    """Digest of the installed distributions, as sorted ``name==version`` lines."""
    lines = sorted({
        f"{(d.metadata['Name'] or '').lower()}=={d.version}" for d in importlib.metadata.distributions()
        if d.metadata["Name"]
    })
    return {"count": len(lines), "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest()}


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def dvc_lock_byproducts(lock: Path) -> list[dict[str, Any]]:
    """One resource per ``dvc.lock`` stage: digest of its entry, its outputs' DVC hashes."""
    if not lock.is_file():
        return [{"name": f"{lock}", "annotations": {"note": "no dvc.lock (signoff ran outside `dvc repro`)"}}]
    data = yaml.safe_load(lock.read_text(encoding="utf-8")) or {}
    out = []
    for stage, entry in sorted((data.get("stages") or {}).items()):
        outs = {o.get("path"): o.get("md5") or o.get("hash") for o in entry.get("outs") or [] if isinstance(o, dict)}
        out.append({
            "name": f"{lock}#stages.{stage}",
            "digest": {"sha256": canonical_digest(entry)},
            "annotations": {"cmd": entry.get("cmd"), "outs_md5": outs},
        })
    return out


def file_resource(path: Path, role: str, digest: str | None = None, **annotations: Any) -> dict[str, Any]:
    return {
        "name": path.as_posix(),
        "digest": {"sha256": digest or file_digest(path)},
        "annotations": {"role": role, **annotations},
    }


def build_statement(
    *,
    subjects: dict[str, str],
    external: dict[str, Any],
    internal: dict[str, Any],
    dependencies: list[dict[str, Any]],
    byproducts: list[dict[str, Any]],
    invocation_id: str,
    started: dt.datetime,
    finished: dt.datetime,
    extensions: dict[str, Any],
) -> dict[str, Any]:
    """Assemble the statement; every ``extensions`` key must be one of :data:`EXTENSIONS`."""
    unknown = set(extensions) - set(EXTENSIONS)
    if unknown:
        raise ValueError(f"unknown provenance extension field(s): {sorted(unknown)}")
    predicate = {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": external,
            "internalParameters": internal,
            "resolvedDependencies": dependencies,
        },
        "runDetails": {
            "builder": {
                "id": BUILDER_ID,
                "version": {k: v for k in ("mahrem", "model-signing") if (v := _version(k))},
            },
            "metadata": {"invocationId": invocation_id, "startedOn": timestamp(started), "finishedOn": timestamp(finished)},
            "byproducts": byproducts,
        },
        **extensions,
    }
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in sorted(subjects.items())],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }


def signoff_environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "torch": _version("torch"),  # e.g. 2.13.0+cpu or 2.13.0+cu126: the local tag names the CUDA build
        "mahrem": _version("mahrem"),
        "model_signing": _version("model-signing"),
        "in_toto_attestation": _version("in-toto-attestation"),
    }


def validate_statement(statement: Any) -> None:
    """Check ``statement`` against the in-toto v1 and SLSA v1 schemas; ``ValueError`` says what is wrong.

    The in-toto-attestation bindings parse the statement and the predicate (types, digest
    sets, RFC 3339 timestamps) and run the statement's own validation; the required SLSA
    fields and our extension fields are then checked by name.
    """
    from google.protobuf import json_format
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    if not isinstance(statement, dict):
        raise ValueError("not a JSON object")
    try:
        pb = json_format.ParseDict(statement, statement_pb2.Statement())
        Statement.copy_from_pb(pb).validate()
        json_format.ParseDict(statement.get("predicate"), provenance_pb2.Provenance(), ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise ValueError(f"not a valid in-toto Statement v1 / SLSA Provenance v1: {exc}") from None
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise ValueError(f"predicateType is {statement.get('predicateType')!r}, expected {PREDICATE_TYPE!r}")
    predicate = statement["predicate"]
    required = (
        "buildDefinition.buildType", "buildDefinition.externalParameters", "runDetails.builder.id",
        "runDetails.metadata.invocationId", "runDetails.metadata.startedOn", "runDetails.metadata.finishedOn",
        *EXTENSIONS,
    )
    for dotted in required:
        node: Any = predicate
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node or node[part] in (None, ""):
                raise ValueError(f"predicate lacks '{dotted}'")
            node = node[part]
    for name in EXTENSIONS:
        if not isinstance(predicate[name], dict):
            raise ValueError(f"predicate field '{name}' is not an object")
    for i, subject in enumerate(statement["subject"]):
        if not subject.get("name") or "sha256" not in subject.get("digest", {}):
            raise ValueError(f"subject[{i}] needs a name and a sha256 digest")
    for dotted, kind, item in _FIELD_TYPES:
        problem = _type_problem(predicate, dotted, kind, item)
        if problem:
            raise ValueError(f"predicate field '{dotted}' {problem}")


# The fields of our extensions that verify and release read, with the JSON type each must
# have when present. A manifest is attacker-controlled input to `mahrem verify`: checking
# the types here keeps every later check a plain comparison, so a wrong type is reported
# as a broken manifest, and a TypeError in a check stays what it is — a bug.
_FIELD_TYPES: tuple[tuple[str, type | tuple[type, ...], type | tuple[type, ...] | None], ...] = (
    ("mahrem_bundle.name", str, None),
    ("mahrem_bundle.version", str, None),
    ("mahrem_bundle.files", list, str),
    ("mahrem_bundle.base_model", str, None),
    ("mahrem_signer.key_id", str, None),
    ("mahrem_signer.development_key", bool, None),
    ("mahrem_governance.sharing_scope", str, None),
    ("mahrem_governance.cross_border_transfer", bool, None),
    ("mahrem_governance.sharing_scope_set_by", list, str),
    ("mahrem_governance.cross_border_forbidden_by", list, str),
    ("mahrem_gate.passed", bool, None),
    ("mahrem_gate.checks", list, dict),
    ("mahrem_gate.policy_sha256", str, None),
    ("mahrem_chain.links", list, dict),
    ("buildDefinition.externalParameters.policies", dict, dict),
    ("buildDefinition.externalParameters.policies.release.sha256", str, None),
)
_CHAIN_LINK_TYPES = (("path", str), ("sha256", str), ("recorded_by", list))
_JSON_NAMES = {str: "a string", bool: "true/false", list: "a list", dict: "an object"}


def _type_problem(predicate: dict[str, Any], dotted: str, kind, item) -> str | None:
    """Why the value at ``dotted`` (absent or null is fine) has the wrong JSON type, else ``None``."""
    node: Any = predicate
    for part in dotted.split("."):
        if not isinstance(node, dict) or node.get(part) is None:
            return None
        node = node[part]
    if not isinstance(node, kind):
        return f"is not {_JSON_NAMES[kind]}"
    if item is not None:
        values = node.values() if isinstance(node, dict) else node
        if not all(isinstance(v, item) for v in values):
            return f"holds an entry that is not {_JSON_NAMES[item]}"
    if dotted == "mahrem_chain.links":
        for i, link in enumerate(node):
            for key, expected in _CHAIN_LINK_TYPES:
                if link.get(key) is not None and not isinstance(link[key], expected):
                    return f"entry {i}: '{key}' is not {_JSON_NAMES[expected]}"
            if not all(isinstance(role, str) for role in link.get("recorded_by") or []):
                return f"entry {i}: 'recorded_by' holds an entry that is not a string"
    return None
