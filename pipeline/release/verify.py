"""``mahrem verify``: is this bundle exactly what signoff signed, and does it hold together?

Checks, each with its own message when it fails:

1. **files** — exactly the five bundle files, nothing more (hidden files and directories
   included), nothing less;
2. **signature** — ``model.sig`` verifies with the given public key through model-signing
   (every file's SHA-256 as signed); on failure the message names the changed, removed or
   added file, or says the signature was made with another key;
3. **subjects** — every file of the provenance's ``subject`` list matches its digest, and
   every payload file is a subject;
4. **manifest** — provenance.json is an in-toto Statement v1 with an SLSA v1 predicate,
   its gate table says every check passed, the key that verified the signature is the
   signer it names, the bundle's name and version keep the naming rule of release.yaml,
   and the bundle's location agrees with them (``<name>-<version>/`` or a registry's
   ``<name>/<version>/``), so an old bundle renamed as a newer version is refused;
5. **card** — README.md's metadata agrees with the manifest (base model, name, version,
   license, signing key id, development key, sharing scope, library ``peft``);
6. **floors** (part of manifest) — the gate table has every required row, and the floors
   no policy can relax hold: no residual blocked PII, no extracted original value;
7. **policy** (``--policy FILE`` only) — the bundle was gated under exactly that policy.

A bundle signed with the development key verifies, with a warning.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import file_digest
from pipeline.io import not_regular_reason, parse_json
from pipeline.release.bundle import ADAPTER_CONFIG, ADAPTER_WEIGHTS, BUNDLE_FILES, SUBJECT_FILES, bundle_listing
from pipeline.release.card import CARD_FILE, read_card_metadata
from pipeline.release.gate import table_problems
from pipeline.release.policy import naming_problems
from pipeline.release.provenance import PROVENANCE_FILE, validate_statement
from pipeline.release.signing import check_signature


@dataclass
class VerifyResult:
    bundle: Path
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)  # check name -> passed
    name: str | None = None
    version: str | None = None
    key_id: str | None = None
    development_key: bool | None = None
    sharing_scope: str | None = None
    cross_border_transfer: bool | None = None
    sharing_scope_set_by: list[str] = field(default_factory=list)
    cross_border_forbidden_by: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def verdict(self) -> str:
        what = f"{self.name}-{self.version}" if self.name else str(self.bundle)
        if self.ok:
            dev = " (signed with the DEVELOPMENT key)" if self.development_key else ""
            return f"VERIFIED: {what}{dev}"
        return f"REJECTED: {what} — {len(self.problems)} problem(s)"

    def fail(self, check: str, message: str) -> None:
        self.checks[check] = False
        self.problems.append(message)


def _read_regular_text(path: Path) -> str:
    """A bundle file's UTF-8 text — read only if it is a regular file.

    A bundle is untrusted input: a FIFO planted as ``provenance.json`` would block
    ``open()`` forever, so the type is checked (``stat``, which never blocks) first. A
    missing file raises ``FileNotFoundError``; any other non-regular file ``ValueError``
    with the reason.
    """
    reason = not_regular_reason(path)
    if reason == "no such file":
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
    if reason is not None:
        raise ValueError(reason)
    return path.read_text(encoding="utf-8")


def _check_files(bundle: Path, result: VerifyResult) -> None:
    listing = bundle_listing(bundle)
    result.checks["files"] = True
    for name in sorted(BUNDLE_FILES - set(listing)):
        result.fail("files", f"{name}: missing from the bundle")
    for name in listing:
        if name not in BUNDLE_FILES:
            result.fail("files", f"{name}: unexpected file in the bundle (a bundle holds exactly "
                                 f"{', '.join(sorted(BUNDLE_FILES))})")
        elif not (bundle / name).is_file() or (bundle / name).is_symlink():
            result.fail("files", f"{name}: not a regular file")


def _check_subjects(bundle: Path, statement: dict[str, Any], result: VerifyResult) -> None:
    result.checks["subjects"] = True
    subjects = {s.get("name"): (s.get("digest") or {}).get("sha256") for s in statement.get("subject", [])}
    for name in SUBJECT_FILES:
        if name not in subjects:
            result.fail("subjects", f"{name}: not listed among the provenance subjects")
    for name, digest in sorted(subjects.items()):
        path = bundle / str(name)
        if name not in SUBJECT_FILES:
            result.fail("subjects", f"{name}: provenance subject that is not a bundle payload file")
        elif not path.is_file():
            result.fail("subjects", f"{name}: provenance subject missing from the bundle")
        elif file_digest(path) != digest:
            result.fail("subjects", f"{name}: SHA-256 does not match the provenance subject digest "
                                    "(file replaced or altered)")


def _check_manifest(statement: dict[str, Any], public_key_id: str, result: VerifyResult) -> None:
    result.checks["manifest"] = True
    predicate = statement["predicate"]
    bundle_info, signer = predicate["mahrem_bundle"], predicate["mahrem_signer"]
    gov, gate = predicate["mahrem_governance"], predicate["mahrem_gate"]
    result.name, result.version = bundle_info.get("name"), bundle_info.get("version")
    result.key_id, result.development_key = signer.get("key_id"), bool(signer.get("development_key"))
    result.sharing_scope = gov.get("sharing_scope")
    result.cross_border_transfer = gov.get("cross_border_transfer")
    result.sharing_scope_set_by = list(gov.get("sharing_scope_set_by") or [])
    result.cross_border_forbidden_by = list(gov.get("cross_border_forbidden_by") or [])
    naming = naming_problems(result.name, result.version)
    for problem in naming:
        result.fail("manifest", f"{PROVENANCE_FILE}: bundle {problem} (policies/release.yaml)")
    if not naming and not location_agrees(result.bundle, result.name, result.version):
        # signoff writes <name>-<version>/, a registry <name>/<version>/: anything else may be
        # an old bundle copied under a newer version's directory.
        where = result.bundle.resolve()
        result.fail("manifest", f"{where}: the location disagrees with the manifest, which names "
                                f"{result.name} {result.version}: expected a directory named "
                                f"{result.name}-{result.version} or a registry path …/{result.name}/{result.version}")
    checks = gate.get("checks") or []
    failed = [c.get("name") for c in checks if not c.get("passed")]
    if not gate.get("passed") or failed or not checks:
        result.fail("manifest", f"{PROVENANCE_FILE}: the gate did not pass "
                                f"({', '.join(map(str, failed)) or 'no checks recorded'})")
    for problem in table_problems([c for c in checks if isinstance(c, dict)]):
        result.fail("manifest", f"{PROVENANCE_FILE}: {problem}")
    if signer.get("key_id") != public_key_id:
        result.fail("manifest", f"{PROVENANCE_FILE}: names signer key id {str(signer.get('key_id'))[:16]}…, "
                                f"but the public key given has id {public_key_id[:16]}…")
    files = set(bundle_info.get("files") or [])
    if files != set(BUNDLE_FILES):
        result.fail("manifest", f"{PROVENANCE_FILE}: lists bundle files {sorted(files)}, expected {sorted(BUNDLE_FILES)}")


def _check_chain(statement: dict[str, Any], result: VerifyResult) -> None:
    """The bundle's adapter is the one the chain of custody names: trained, then evaluated."""
    result.checks["chain"] = True
    links = statement["predicate"]["mahrem_chain"].get("links") or []
    subjects = {s.get("name"): (s.get("digest") or {}).get("sha256") for s in statement.get("subject", [])}
    weights = [link for link in links if str(link.get("path", "")).endswith("/" + ADAPTER_WEIGHTS)]
    roles = {role for link in weights for role in link.get("recorded_by") or []}
    if len(weights) != 1 or not {"train:outputs", "evaluate:inputs"} <= roles:
        result.fail("chain", f"{PROVENANCE_FILE}: the chain of custody does not tie one adapter to both the train "
                             "and the evaluate stage")
    elif weights[0].get("sha256") != subjects.get(ADAPTER_WEIGHTS):
        result.fail("chain", f"{PROVENANCE_FILE}: the adapter the chain says was evaluated "
                             f"({str(weights[0].get('sha256'))[:12]}…) is not the bundle's {ADAPTER_WEIGHTS}")
    for link in links:
        if str(link.get("path", "")).endswith(("/train.jsonl", "/holdout.jsonl")):
            if not {"train:inputs", "evaluate:inputs"} <= set(link.get("recorded_by") or []):
                result.fail("chain", f"{PROVENANCE_FILE}: {link.get('path')} is not recorded as read by both train "
                                     "and evaluate")


def location_agrees(bundle: Path, name: str, version: str) -> bool:
    """``bundle`` is ``…/<name>-<version>`` (as signoff writes it) or ``…/<name>/<version>`` (a registry)."""
    where = Path(bundle).resolve()
    return where.name == f"{name}-{version}" or (where.name == version and where.parent.name == name)


def _check_card(bundle: Path, statement: dict[str, Any], result: VerifyResult) -> None:
    result.checks["card"] = True
    try:
        meta = read_card_metadata(bundle / CARD_FILE)
    except ValueError as exc:
        result.fail("card", str(exc))
        return
    predicate = statement["predicate"]
    bundle_info, signer, gov = predicate["mahrem_bundle"], predicate["mahrem_signer"], predicate["mahrem_governance"]
    own = meta.get("mahrem") if isinstance(meta.get("mahrem"), dict) else {}
    expected = {
        "base_model": (meta.get("base_model"), bundle_info.get("base_model")),
        "license": (meta.get("license"), bundle_info.get("license")),
        "library_name": (meta.get("library_name"), "peft"),
        "mahrem.bundle": (own.get("bundle"), bundle_info.get("name")),
        "mahrem.version": (own.get("version"), bundle_info.get("version")),
        "mahrem.signing_key_id": (own.get("signing_key_id"), signer.get("key_id")),
        "mahrem.development_key": (own.get("development_key"), signer.get("development_key")),
        "mahrem.sharing_scope": (own.get("sharing_scope"), gov.get("sharing_scope")),
        "mahrem.cross_border_transfer": (own.get("cross_border_transfer"), gov.get("cross_border_transfer")),
    }
    for key, (card_value, manifest_value) in expected.items():
        if card_value != manifest_value:
            result.fail("card", f"{CARD_FILE}: metadata '{key}' is {card_value!r}, the manifest says {manifest_value!r}")
    # The adapter config must name the same base model as the card and manifest.
    try:
        config = parse_json(_read_regular_text(bundle / ADAPTER_CONFIG))
        if not isinstance(config, dict) or config.get("base_model_name_or_path") != bundle_info.get("base_model"):
            result.fail("card", f"{ADAPTER_CONFIG}: base_model_name_or_path disagrees with the manifest's base model")
    except (OSError, ValueError):
        pass  # a missing or broken file is already reported by the files/subjects checks


def _check_policy(statement: dict[str, Any], policy: Path, result: VerifyResult) -> None:
    """The bundle was gated under exactly this release policy (an organisation pins its approved one)."""
    from pipeline.release.policy import load_release_policy

    pinned = load_release_policy(policy)  # a policy that relaxes a floor is refused here, as at signoff
    result.checks["policy"] = True
    gate = statement["predicate"]["mahrem_gate"]
    external = statement["predicate"]["buildDefinition"]["externalParameters"]
    used = {gate.get("policy_sha256"), ((external.get("policies") or {}).get("release") or {}).get("sha256")}
    if used != {pinned.digest}:
        recorded = ", ".join(sorted(str(d)[:12] + "…" for d in used))
        result.fail("policy", f"{PROVENANCE_FILE}: gated under release policy {recorded}, not {policy} "
                              f"({pinned.digest[:12]}…), the policy you pinned")


def verify_bundle(bundle: Path, public_key: Path, policy: Path | None = None) -> VerifyResult:
    """Every check above; never raises for a bad bundle — the result lists the problems.

    With ``policy``, the bundle must also have been gated under exactly that release
    policy file (its SHA-256). Raises :class:`~pipeline.release.signing.SignatureError`
    only when the public key itself is unreadable, and :class:`~pipeline.config.ConfigError`
    when ``policy`` is not a valid release policy, since then nothing can be verified.
    """
    bundle = Path(bundle)
    result = VerifyResult(bundle=bundle)
    if not bundle.is_dir():
        result.fail("files", f"{bundle}: no such bundle directory")
        return result
    _check_files(bundle, result)
    signature = check_signature(bundle, Path(public_key))
    result.checks["signature"] = signature.valid
    result.problems.extend(f"signature: {p}" for p in signature.problems)

    statement: dict[str, Any] | None = None
    try:
        statement = parse_json(_read_regular_text(bundle / PROVENANCE_FILE))
        validate_statement(statement)
    except FileNotFoundError:
        statement = None  # reported by the files check
        result.checks["manifest"] = False
    except UnicodeDecodeError:
        result.fail("manifest", f"{PROVENANCE_FILE}: not valid JSON (not UTF-8)")
        statement = None
    except OSError as exc:  # an unreadable file
        result.fail("manifest", f"{PROVENANCE_FILE}: cannot be read ({exc.strerror})")
        statement = None
    except ValueError as exc:  # parse_json's and validate_statement's reasons name no values
        result.fail("manifest", f"{PROVENANCE_FILE}: {exc}")
        statement = None
    if statement is not None:
        _check_subjects(bundle, statement, result)
        _check_manifest(statement, signature.public_key_id or "", result)
        _check_chain(statement, result)
        if (bundle / CARD_FILE).is_file():
            _check_card(bundle, statement, result)
        if policy is not None:
            _check_policy(statement, Path(policy), result)
    if result.development_key:
        result.warnings.append(
            "signed with the DEVELOPMENT key (.mahrem/keys): fine for trying Mahrem, not a release anyone should trust"
        )
    return result
