"""The signoff stage: gate, then bundle, card, provenance and signature — or nothing.

``signoff`` reads every report, evaluates the gate and, only if every check passes,
builds ``<out>/<name>-<version>/`` in a staging directory, signs it and moves it into
place. On a failed gate it raises :class:`GateFailed` (the CLI prints the table and exits
non-zero) and leaves no bundle of that name and version: a stale one from an earlier run
is removed, because it no longer matches the evidence — a published copy lives in the
release registry (``mahrem release``), which signoff never touches.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.catalog import SharingScope
from pipeline.config import file_digest
from pipeline.io import write_json
from pipeline.keys import PseudonymKey, SigningKey
from pipeline.release.bundle import ADAPTER_CONFIG, ADAPTER_WEIGHTS, BUNDLE_FILES, SUBJECT_FILES, staged_dir
from pipeline.release.card import CARD_FILE, render_card
from pipeline.release.chain import check_chain
from pipeline.release.spotcheck import SpotCheckFailed, spot_check
from pipeline.release.evidence import Evidence, EvidenceError, EvidencePaths, load_evidence
from pipeline.release.gate import GateFailed, GateResult, evaluate_gate
from pipeline.release.policy import LoadedReleasePolicy
from pipeline.release.provenance import (
    PROVENANCE_FILE,
    build_statement,
    dvc_lock_byproducts,
    file_resource,
    git_state,
    package_inventory,
    signoff_environment,
    validate_statement,
)
from pipeline.release.signing import SIGNATURE_FILE, check_signature, sign_bundle

STAGE = "signoff"


@dataclass(frozen=True)
class SignoffResult:
    bundle: Path
    gate: GateResult
    key_id: str
    development_key: bool
    files: dict[str, str]  # bundle file -> SHA-256
    sharing_scope: str
    cross_border_transfer: bool
    holdings: Path | None = None  # the controller's fingerprint set for this bundle (pipeline.release.holdings)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _pick(report_data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: report_data[k] for k in keys if k in report_data}


def governance(evidence: Evidence, purpose: str) -> dict[str, Any]:
    """Each source's basis and limits, the narrowest sharing scope, the transfer-abroad rule."""
    sources = {}
    for name in evidence.sources_used():
        s = evidence.catalog.sources[name]  # the gate has checked it exists
        basis = s.purposes[purpose]
        sources[name] = {
            "controller": s.controller.name,
            "contact": s.controller.contact,
            "legal_basis": {"purpose": purpose, "kvkk": basis.kvkk, "gdpr": basis.gdpr},
            "special_categories_allowed": s.special_categories.allowed,
            "retention_until": s.retention_until.isoformat(),
            "sharing_scope": s.sharing_scope.value,
            "cross_border_transfer": s.cross_border_transfer,
            "records": (evidence.scan.get("by_source").get(name) or {}).get("records"),
        }
    narrowest = min((SharingScope(s["sharing_scope"]) for s in sources.values()), key=lambda x: x.rank)
    return {
        "sources": sources,
        "sharing_scope": narrowest.value,
        "sharing_scope_set_by": sorted(n for n, s in sources.items() if s["sharing_scope"] == narrowest.value),
        "cross_border_transfer": all(s["cross_border_transfer"] for s in sources.values()),
        "cross_border_forbidden_by": sorted(n for n, s in sources.items() if not s["cross_border_transfer"]),
        "sources_file": {"path": str(evidence.catalog.path), "sha256": evidence.catalog.digest},
    }


def _privacy(ev: Evidence) -> dict[str, Any]:
    scan, anon, leak = ev.scan.data, ev.anonymize.data, ev.leakage.data
    canary_keys = ("canaries", "seen", "unseen", "sightings_min", "base_exposure_mean", "base_exposure_max",
                   "adapter_exposure_mean", "adapter_exposure_max", "adapter_exposure_skewnorm_max", "exposure")
    return {
        "scan": _pick(scan, ("records", "quarantined", "quarantine_ratio", "findings", "records_with_pii",
                             "records_with_special", "by_entity_type", "special_categories")),
        "anonymization": {
            **_pick(anon, ("policy", "policy_sha256", "records", "kept", "transformed", "dropped", "dropped_by_reason",
                           "quarantined", "train", "holdout", "canary_records", "residual_blocked_findings",
                           "pseudonym_key_id")),
            "development_pseudonym_key": anon["development_key"],
            "residual_by_entity_type": ev.residual.data["by_entity_type"],
        },
        "erasure": dict(anon["erasure"]),
        "probes": {
            "canary": {reps: _pick(group, canary_keys) for reps, group in leak["canary"]["by_repetitions"].items()},
            "canary_references": leak["canary"]["references"],
            "extraction": _pick(leak["extraction"], ("prompts", "samples_per_prompt", "base_hits", "adapter_hits",
                                                    "adapter_only_hits", "adapter_hits_by_type", "canary_prompt_hit",
                                                    "rate")),
            "inference": _pick(leak["inference"], ("trials", "candidates", "chance", "base_top1", "adapter_top1")),
            "membership": _pick(leak["membership"], ("members", "nonmembers", "fpr", "attack", "tpr_at_fpr", "tpr",
                                                     "auc", "min_resolvable_fpr")),
        },
    }


def _evaluation(ev: Evidence) -> dict[str, Any]:
    task_keys = ("kind", "metric", "higher_is_better", "n", "base", "base_stderr", "adapter", "adapter_stderr", "delta")
    return {
        "benchmarks": {name: _pick(t, task_keys) for name, t in ev.benchmarks.data["tasks"].items()},
        "utility": ev.benchmarks.data["utility"],
        "quantization": ev.benchmarks.data["quantization"],
        "lm_eval_version": ev.benchmarks.data["lm_eval_version"],
        "training": _pick(ev.train.data, (
            "steps", "epochs", "tokens_seen", "tokens_nonpad", "wall_s", "tokens_per_s", "trainable_params",
            "total_params", "trainable_share", "quantization", "compute_dtype", "device", "seed", "train_loss_final",
            "holdout_loss_base", "holdout_loss_adapter",
        )),
    }


def _dependencies(ev: Evidence) -> list[dict[str, Any]]:
    p = ev.paths
    digest_file = p.base / "digest.json"
    try:
        base_files = json.loads(digest_file.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        raise EvidenceError(f"{digest_file}: missing or without 'files' (written by the base stage: run "
                            "`dvc repro base`).") from None
    deps = [file_resource(p.base / name, "base-model", digest) for name, digest in sorted(base_files.items())]
    for name, info in sorted(ev.scan.get("files").items()):
        # The digest the scan recorded: the raw data as it was when its findings were made.
        deps.append(file_resource(Path(name), "raw-data", info.get("sha256"), source=info.get("source"),
                                  records=info.get("records")))
    deps.append(file_resource(p.train_data, "anonymized-data", split="train"))
    deps.append(file_resource(p.holdout_data, "anonymized-data", split="holdout"))
    git = git_state()
    source = {"name": "source", "annotations": {"role": "pipeline-source", **git}}
    if git["commit"]:
        source["digest"] = {"gitCommit": git["commit"]}
    deps.append(source)
    inventory = package_inventory()
    deps.append({"name": "python-packages", "digest": {"sha256": inventory["sha256"]},
                 "annotations": {"role": "environment", "count": inventory["count"],
                                 "format": "sorted, newline-joined name==version of importlib.metadata"}})
    return deps


def _byproducts(ev: Evidence) -> list[dict[str, Any]]:
    out = dvc_lock_byproducts(ev.paths.dvc_lock)
    for report in (ev.scan, ev.anonymize, ev.residual, ev.train, ev.benchmarks, ev.leakage):
        out.append(file_resource(report.path, "report", stage=report.stage))
    out.append(file_resource(ev.paths.base / "digest.json", "report", stage="base"))
    return out


def _adapter_config(source: Path, base_model: str) -> str:
    """The adapter's config with ``base_model_name_or_path`` set to the base model's public id.

    Training records a local path (e.g. ``models/base``), meaningless — and possibly
    revealing a user's home directory — outside this machine.
    """
    try:
        config = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise EvidenceError(f"{source}: missing or not JSON (written by the train stage: run `dvc repro train`).") from None
    config["base_model_name_or_path"] = base_model
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def signoff(
    paths: EvidencePaths,
    policy: LoadedReleasePolicy,
    out_dir: Path,
    key: SigningKey,
    *,
    now: Callable[[], dt.datetime] = _utcnow,
    today: dt.date | None = None,
    pseudonym_key: PseudonymKey | None = None,
    holdings_dir: Path | None = None,
) -> SignoffResult:
    """Evaluate the gate; on a pass write and sign ``out_dir/<name>-<version>/``.

    ``pseudonym_key`` (default: :func:`~pipeline.keys.load_pseudonym_key`) lets the spot
    check join the raw records to the keyed record ids of the findings; its key id goes
    into the holdings file. The holdings — the keyed fingerprints of every value found in
    the train split, with whether seen.json shows it trained on (never a value) — are
    written outside the bundle, for the controller only, to ``holdings_dir`` (default:
    ``.mahrem/holdings`` beside ``dvc.yaml``), bound to the bundle by its digests
    (:mod:`pipeline.release.holdings`).
    """
    from pipeline.keys import load_pseudonym_key
    from pipeline.release.holdings import HOLDINGS_DIR, build_holdings, write_holdings

    if holdings_dir is None:
        holdings_dir = Path(paths.dvc_yaml).parent / HOLDINGS_DIR
    started = now()
    rp = policy.policy
    bundle_dir = Path(out_dir) / rp.bundle_name
    evidence = load_evidence(paths, signing_development=key.development)
    chain = check_chain(evidence)  # before the gate: numbers that are not the pipeline's are never weighed
    gate = evaluate_gate(rp, evidence, today=today or started.date())
    if not gate.passed:
        note = ""
        if bundle_dir.exists():
            shutil.rmtree(bundle_dir)
            note = f"The stale bundle {bundle_dir} from an earlier run was removed: it no longer matches the evidence."
        raise GateFailed(gate, note)
    for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
        if not (paths.adapter / name).is_file():
            raise EvidenceError(f"{paths.adapter / name}: not found (written by the train stage: run `dvc repro train`).")
    if pseudonym_key is None:
        pseudonym_key = load_pseudonym_key(quiet=True)
    spot = spot_check(evidence, rp.gate.canary.repetitions, pseudonym_key)  # the very adapter it is about to sign
    if spot.problems:
        if bundle_dir.exists():
            shutil.rmtree(bundle_dir)
        raise SpotCheckFailed(
            "the spot check re-measured a sample of the evidence with the adapter and disagrees with the reports, "
            "so nothing was signed:\n" + "\n".join(f"  - {problem}" for problem in spot.problems)
            + "\nRe-run the pipeline (`dvc repro evaluate signoff`); never edit a report."
        )

    from pipeline.policy import load_policy

    anonymization = load_policy(evidence.policy_file)
    actions = {t: r.action.value for t, r in anonymization.policy.entities.items()}
    actions["special categories (default)"] = anonymization.policy.special_categories["default"].value
    gov = governance(evidence, rp.gate.required_purpose)
    extensions = {
        "mahrem_bundle": {
            "name": rp.name, "version": rp.version, "license": rp.license, "base_model": rp.base_model,
            "files": sorted(BUNDLE_FILES), "adapter_source": paths.adapter.as_posix(),
        },
        "mahrem_gate": {"policy": str(policy.path), "policy_sha256": policy.digest, **gate.to_json()},
        "mahrem_chain": {"links": [link.to_json() for link in chain], "checked": "dvc.lock MD5s and stage digests"},
        "mahrem_spot_check": spot.to_json(),
        "mahrem_privacy": _privacy(evidence),
        "mahrem_governance": gov,
        "mahrem_evaluation": _evaluation(evidence),
        "mahrem_signer": {
            "key_id": key.key_id, "development_key": key.development, "algorithm": "ECDSA (elliptic-curve key)",
            "signature_file": SIGNATURE_FILE,
            "format": "OpenSSF model signing: Sigstore bundle with a DSSE envelope, offline, no transparency log",
        },
    }
    params_data = yaml.safe_load(paths.params.read_text(encoding="utf-8")) or {}
    external = {
        "pipeline": {"dvc_yaml": {"path": str(paths.dvc_yaml), "sha256": file_digest(paths.dvc_yaml)}, "stage": STAGE},
        "params": {"path": str(paths.params), "sha256": file_digest(paths.params), "values": params_data},
        "policies": {
            "anonymization": {"path": str(evidence.policy_file), "sha256": evidence.policy_sha256},
            "release": {"path": str(policy.path), "sha256": policy.digest},
            "sources": {"path": str(evidence.catalog.path), "sha256": evidence.catalog.digest},
            "erasure": {"path": str(paths.erasure), "sha256": evidence.erasure_sha256},
        },
    }
    train = evidence.train.data
    internal = {
        "training": _pick(train, ("device", "quantization", "compute_dtype", "threads", "machine", "seed", "versions")),
        "evaluation": _pick(
            evidence.benchmarks.data, ("quantization", "compute_dtype", "threads", "machine", "lm_eval_version")
        ),
        "seeds": {"train": train["seed"], "sample": (params_data.get("sample") or {}).get("seed")},
        "signoff": signoff_environment(),
    }
    dependencies, byproducts = _dependencies(evidence), _byproducts(evidence)
    # Before signing: data the holdings cannot be made from stops signoff, not a later `forget --which`.
    holdings = build_holdings(paths.findings, paths.seen, paths.train_data, pseudonym_key.key_id, now=started)

    with staged_dir(bundle_dir) as stage:
        shutil.copyfile(paths.adapter / ADAPTER_WEIGHTS, stage / ADAPTER_WEIGHTS)
        (stage / ADAPTER_CONFIG).write_text(_adapter_config(paths.adapter / ADAPTER_CONFIG, rp.base_model), "utf-8")
        (stage / CARD_FILE).write_text(render_card(rp, extensions, actions), "utf-8")
        subjects = {name: file_digest(stage / name) for name in SUBJECT_FILES}
        statement = build_statement(
            subjects=subjects, external=external, internal=internal, dependencies=dependencies,
            byproducts=byproducts, invocation_id=str(uuid.uuid4()), started=started, finished=now(),
            extensions=extensions,
        )
        validate_statement(statement)
        write_json(stage / PROVENANCE_FILE, statement)
        sign_bundle(stage, key)
        # Check our own output the way a user will, before it takes the bundle's name.
        with tempfile.TemporaryDirectory() as tmp:
            public = Path(tmp) / "signer.pub.pem"
            public.write_bytes(key.public_pem)
            check = check_signature(stage, public)
        if not check.valid:
            raise RuntimeError(f"the bundle just signed does not verify: {'; '.join(check.problems)}")
        files = {p.name: file_digest(p) for p in sorted(stage.iterdir())}
        # Bound to the final bytes (the move does not change them); a failure here leaves no bundle without holdings.
        held = write_holdings(holdings, stage, rp.name, rp.version, holdings_dir)
    return SignoffResult(
        bundle=bundle_dir, gate=gate, key_id=key.key_id, development_key=key.development, files=files,
        sharing_scope=gov["sharing_scope"], cross_border_transfer=gov["cross_border_transfer"], holdings=held,
    )
