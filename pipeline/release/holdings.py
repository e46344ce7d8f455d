"""Which bundles hold a person's data: keyed fingerprint sets kept by the controller, erasure marks in registries.

**Holdings.** When ``signoff`` signs a bundle it also writes, *outside* the bundle, the set of
keyed fingerprints (:mod:`pipeline.fingerprint`) of every value the scan found in a record of
the bundle's train split — whatever the policy then did to the value (pseudonymised, masked,
kept) — with, per fingerprint, how many such records there were and how many of them
``reports/train/seen.json`` shows were actually trained on. The file is
``.mahrem/holdings/<name>-<version>.<first 16 hex of the statement digest>.json`` (git- and
DVC-ignored, mode 0600): it belongs to the controller, never to a bundle or a registry that
partners read. It is bound to the bundle by the SHA-256 of its ``provenance.json`` (the
signed statement, which itself names the adapter's digest) and of its adapter weights, and
carries the pseudonym key id: fingerprints made under another key never match, so a key
mismatch is an error (:class:`HoldingsKeyMismatch`), never a silent "not found". Values are
never stored — only fingerprints and counts.

The train split is read from ``seen.json``, whose ``records`` are exactly the (non-canary)
keyed ids of ``train.jsonl`` (checked against the file by :func:`~pipeline.train.seen.check_seen`);
the scan's ``findings.jsonl`` names records by the same keyed ids. A value the scanner did not
find is not in the set: holdings are as complete as the scan.

**Erasure marks.** A registry keeps, per bundle name, an append-only
``<registry>/<name>/erasures.jsonl``: one event per line — version, erasure reference, date,
key id; never a value or a fingerprint:

* ``affected``: that version holds a value of the erasure request (``mahrem forget
  --reference R --registry DIR``, or ``mahrem release`` of a version that still holds it);
* ``cleared``: that version, released after the affected ones, does not hold it;
* ``unchecked``: no holdings record for that version was found, so nobody can say —
  written by ``forget --reference R --registry DIR`` for a released version without one,
  and by ``mahrem release`` of such a version while the request is open.

A request of the controller's erasure list may carry several references (the same value
recorded again under another ticket, :func:`pipeline.anonymize.erasure.record_requests`):
each is marked, opened and cleared on its own.

Registry logs are read strictly: a line that is not a JSON object is an :class:`InputError`
naming ``<file>:<line>`` (:func:`read_log`), and they are only ever appended to.

A reference is **open** in a registry while the last ``affected``/``cleared`` event recorded
for it is not ``cleared``. ``release`` checks every open reference against the new version's
holdings (and the controller's ``policies/erasure.yaml``, where the fingerprints are) and
appends ``affected`` or ``cleared`` (or ``unchecked``) for it: the first later version without
the value closes the reference, so later releases no longer warn about it. The affected
versions themselves keep warning (:func:`erasure_warnings`) — they still hold the data — with
the version that superseded them named.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from pipeline.config import ConfigError, StrictModel, file_digest
from pipeline.io import InputError, append_jsonl, iter_jsonl

HOLDINGS_DIR = Path(".mahrem/holdings")
ERASURES_LOG = "erasures.jsonl"
RELEASES_LOG = "releases.jsonl"  # pipeline.release.registry's (not imported: registry imports this module)
PROVENANCE_FILE = "provenance.json"  # pipeline.release.provenance's
ADAPTER_WEIGHTS = "adapter_model.safetensors"  # pipeline.release.bundle's
HOLDINGS_SCHEMA_VERSION = 1
_KEY_ID = r"^[0-9a-f]{16}$"
_FP = r"^[0-9a-f]{32}$"


class HoldingsKeyMismatch(ConfigError):
    """A holdings file or erasure request was fingerprinted under another pseudonym key."""


# --- the holdings file --------------------------------------------------------------------


class BundleRef(StrictModel):
    name: str
    version: str
    statement_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bundle's provenance.json")
    adapter_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of adapter_model.safetensors")


class SourceFile(StrictModel):
    path: str
    sha256: str


class Holding(StrictModel):
    records: int = Field(ge=1, description="records of the train split that held the value")
    trained: int = Field(ge=0, description="of them, records seen.json shows were trained on at least once")


class Holdings(StrictModel):
    schema_version: Literal[1] = HOLDINGS_SCHEMA_VERSION
    bundle: BundleRef
    pseudonym_key_id: str = Field(pattern=_KEY_ID)
    made_at: str
    derived_from: dict[str, SourceFile]
    train_records: int
    trained_records: int
    fingerprints: dict[str, Holding]

    def check_key(self, key_id: str, where: Path | str) -> None:
        if self.pseudonym_key_id != key_id:
            raise HoldingsKeyMismatch(
                f"{where}: its fingerprints were made under pseudonym key {self.pseudonym_key_id}, not the current "
                f"{key_id}, so they cannot be compared. Use the key that bundle was made with "
                "(MAHREM_PSEUDONYM_KEY), or sign the bundle again under the current key."
            )

    def holds(self, fingerprints: set[str]) -> dict[str, Holding]:
        return {fp: self.fingerprints[fp] for fp in sorted(fingerprints) if fp in self.fingerprints}


def collect_holdings(findings: Path, seen_path: Path, train_data: Path) -> tuple[dict[str, Holding], int, int]:
    """``(fingerprint → Holding, train records, trained records)`` of the train split.

    ``seen_path`` is checked against ``train_data`` first (digest, every id): its
    ``records`` are then the train split's keyed ids and how often each was trained on.
    """
    from pipeline.train.seen import check_seen, load_seen

    seen = load_seen(seen_path)
    check_seen(seen, train_data, seen_path=seen_path)
    counts = seen.records
    per_fp: dict[str, set[str]] = defaultdict(set)
    for finding in iter_jsonl(findings):
        try:
            rid, fp = finding["record_id"], finding["fingerprint"]
        except (KeyError, TypeError):
            raise InputError(
                f"{findings}: a finding without record_id/fingerprint (not written by `mahrem scan`); run `dvc repro scan`."
            ) from None
        if rid in counts:
            per_fp[fp].add(rid)
    held = {
        fp: Holding(records=len(rids), trained=sum(1 for r in rids if counts[r] > 0))
        for fp, rids in sorted(per_fp.items())
    }
    return held, len(counts), sum(1 for n in counts.values() if n > 0)


def build_holdings(
    findings: Path, seen_path: Path, train_data: Path, key_id: str, *, now: dt.datetime | None = None
) -> dict:
    """Everything of a :class:`Holdings` but the bundle it belongs to (known only once signed)."""
    held, train_records, trained_records = collect_holdings(findings, seen_path, train_data)
    return {
        "schema_version": HOLDINGS_SCHEMA_VERSION,
        "pseudonym_key_id": key_id,
        "made_at": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "derived_from": {
            role: {"path": Path(path).as_posix(), "sha256": file_digest(path)}
            for role, path in (("findings", findings), ("seen", seen_path), ("train_data", train_data))
        },
        "train_records": train_records,
        "trained_records": trained_records,
        "fingerprints": held,
    }


def holdings_file(holdings_dir: Path, name: str, version: str, statement_sha256: str) -> Path:
    return Path(holdings_dir) / f"{name}-{version}.{statement_sha256[:16]}.json"


def write_holdings(partial: dict, bundle: Path, name: str, version: str, holdings_dir: Path = HOLDINGS_DIR) -> Path:
    """Bind ``partial`` (from :func:`build_holdings`) to the signed ``bundle`` and write it, mode 0600."""
    ref = BundleRef(name=name, version=version, statement_sha256=file_digest(bundle / PROVENANCE_FILE),
                    adapter_sha256=file_digest(bundle / ADAPTER_WEIGHTS))
    holdings = Holdings.model_validate({**partial, "bundle": ref})
    holdings_dir = Path(holdings_dir)
    holdings_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = holdings_file(holdings_dir, name, version, ref.statement_sha256)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(holdings.model_dump(mode="json"), handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)
    return path


def load_holdings(path: Path) -> Holdings:
    try:
        return Holdings.model_validate_json(Path(path).read_bytes())
    except ValidationError as exc:
        raise InputError(
            f"{path}: not a holdings file of this version ({exc.error_count()} problem(s)). It is written by "
            "`mahrem signoff`; sign the bundle again to rewrite it."
        ) from None


def find_holdings(bundle: Path, holdings_dir: Path = HOLDINGS_DIR) -> tuple[Path, Holdings] | None:
    """The holdings written for exactly this bundle (same statement and adapter digests), or ``None``."""
    statement = Path(bundle) / PROVENANCE_FILE
    if not statement.is_file() or not Path(holdings_dir).is_dir():
        return None
    digest = file_digest(statement)
    for path in sorted(Path(holdings_dir).glob(f"*.{digest[:16]}.json")):
        holdings = load_holdings(path)
        if holdings.bundle.statement_sha256 != digest:
            continue
        weights = Path(bundle) / ADAPTER_WEIGHTS
        if not weights.is_file() or file_digest(weights) != holdings.bundle.adapter_sha256:
            continue  # the statement matches but the adapter does not: not the bundle that was signed
        return path, holdings
    return None


# --- registries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Released:
    name: str
    version: str
    path: Path
    order: int  # position in releases.jsonl


def read_log(log: Path, what: str) -> list[tuple[int, dict]]:
    """``(line number, object)`` of each non-blank line of a registry log; ``[]`` when there is none.

    A line that is not a JSON object (truncated by a crash or a full disk, or hand-edited)
    is an :class:`InputError` naming ``<file>:<line>``: ``what`` says what the line should be.
    """
    log = Path(log)
    if not log.is_file():
        return []
    fix = (f"Repair or remove that line (it should be {what}; every other line is kept as written), "
           "or restore the file from a backup.")
    out: list[tuple[int, dict]] = []
    try:
        with log.open(encoding="utf-8") as handle:
            for i, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{log}:{i}: not valid JSON ({exc.msg}, column {exc.colno}): truncated or "
                                     f"edited by hand. {fix}") from None
                if not isinstance(entry, dict):
                    raise InputError(f"{log}:{i}: a JSON {type(entry).__name__}, not an object. {fix}")
                out.append((i, entry))
    except UnicodeDecodeError:
        raise InputError(f"{log}: not UTF-8 text, so not a log Mahrem wrote. Restore it from a backup.") from None
    return out


def released_versions(home: Path) -> list[Released]:
    """The versions published under ``<registry>/<name>`` = ``home``, in release order."""
    log = Path(home) / RELEASES_LOG
    out: list[Released] = []
    for order, (_, entry) in enumerate(read_log(log, "one release: version, scope, abroad, key id, time")):
        version = entry.get("version")
        if isinstance(version, str) and version and (home / version).is_dir():
            out.append(Released(home.name, version, home / version, order))
    return out


def registry_homes(registry: Path) -> list[Path]:
    """Every ``<registry>/<name>`` that has a releases log."""
    if not Path(registry).is_dir():
        raise ConfigError(f"--registry {registry}: not a directory (a registry is the --to of `mahrem release`).")
    return sorted(p for p in Path(registry).iterdir() if (p / RELEASES_LOG).is_file())


class ErasureMark(StrictModel):
    event: Literal["affected", "cleared", "unchecked"]
    version: str
    reference: str
    date: dt.date
    key_id: str | None = Field(None, pattern=_KEY_ID)


_MARK_FIELDS = "one erasure mark: event, version, reference, date, key_id"


def read_marks(home: Path) -> list[ErasureMark]:
    log = Path(home) / ERASURES_LOG
    marks = []
    for i, entry in read_log(log, _MARK_FIELDS):
        try:
            marks.append(ErasureMark.model_validate(entry))
        except ValidationError:
            raise InputError(f"{log}:{i}: not an erasure mark ({_MARK_FIELDS.split(': ', 1)[1]}). Repair or remove "
                             "that line, or restore the file from a backup.") from None
    return marks


def append_marks(home: Path, marks: list[ErasureMark]) -> None:
    """Append to ``<home>/erasures.jsonl``; earlier lines are never rewritten."""
    append_jsonl(Path(home) / ERASURES_LOG, [m.model_dump(mode="json") for m in marks])


def check_registry_logs(registries: list[Path]) -> None:
    """Read every releases and erasures log of ``registries``: a broken one fails here, before anything is written."""
    for registry in registries:
        for home in registry_homes(registry):
            released_versions(home)
            read_marks(home)


def open_references(marks: list[ErasureMark]) -> dict[str, list[str]]:
    """Reference → affected versions, for each reference whose last affected/cleared event is not 'cleared'."""
    state: dict[str, list[str]] = {}
    for m in marks:
        if m.event == "cleared":
            state.pop(m.reference, None)
        elif m.event == "affected":
            state.setdefault(m.reference, [])
            if m.version not in state[m.reference]:
                state[m.reference].append(m.version)
    return state


# --- forget: where is the value, and marking ----------------------------------------------


@dataclass
class BundleHit:
    label: str  # registry/name/version, or the local bundle directory
    name: str
    version: str
    released: bool
    holdings: Path | None = None
    held: dict[str, Holding] = field(default_factory=dict)
    problem: str | None = None  # why it could not be checked
    key_mismatch: bool = False

    @property
    def records(self) -> int:
        return sum(h.records for h in self.held.values())

    @property
    def trained(self) -> int:
        return sum(h.trained for h in self.held.values())


def _check_bundle(bundle: Path, label: str, name: str, version: str, released: bool, fps: set[str], key_id: str,
                  holdings_dir: Path) -> BundleHit:
    hit = BundleHit(label, name, version, released)
    found = find_holdings(bundle, holdings_dir)
    if found is None:
        hit.problem = (f"no holdings record in {holdings_dir} for this bundle (signed before holdings existed, or on "
                       "another machine): cannot tell whether it holds the value")
        return hit
    hit.holdings, holdings = found
    try:
        holdings.check_key(key_id, hit.holdings)
    except HoldingsKeyMismatch as exc:
        hit.problem, hit.key_mismatch = str(exc), True
        return hit
    hit.held = holdings.holds(fps)
    return hit


def which_bundles(fps: set[str], key_id: str, registries: list[Path], local: list[Path],
                  holdings_dir: Path = HOLDINGS_DIR) -> list[BundleHit]:
    """Every released (``registries``) and signed (bundle directories in ``local``) bundle, checked for ``fps``."""
    hits: list[BundleHit] = []
    for registry in registries:
        for home in registry_homes(registry):
            for r in released_versions(home):
                hits.append(_check_bundle(r.path, str(r.path), r.name, r.version, True, fps, key_id, holdings_dir))
    for directory in local:
        if not Path(directory).is_dir():
            continue
        for bundle in sorted(p for p in Path(directory).iterdir() if (p / PROVENANCE_FILE).is_file()):
            found = find_holdings(bundle, holdings_dir)
            name, version = (found[1].bundle.name, found[1].bundle.version) if found else (bundle.name, "?")
            hits.append(_check_bundle(bundle, str(bundle), name, version, False, fps, key_id, holdings_dir))
    return hits


def mark_erasure(fps: set[str], key_id: str, reference: str, registries: list[Path],
                 holdings_dir: Path = HOLDINGS_DIR, today: dt.date | None = None) -> list[BundleHit]:
    """Mark every released version that holds one of ``fps`` as affected by ``reference``; return every check.

    When the latest released version with a holdings record does not hold the value and
    came after every affected one, the reference is closed at once (a ``cleared`` event
    for that version): a later version without the value is already out. A released
    version without a holdings record is marked ``unchecked`` for ``reference``: whether it
    holds the value cannot be told, and :func:`erasure_warnings` says so when it is loaded.
    """
    if not reference or not reference.strip():
        raise ConfigError("--reference is needed to mark releases as affected by an erasure request (--registry).")
    today = today or dt.date.today()
    checked: list[BundleHit] = []
    for registry in registries:
        for home in registry_homes(registry):
            versions = released_versions(home)
            hits = [_check_bundle(r.path, str(r.path), r.name, r.version, True, fps, key_id, holdings_dir)
                    for r in versions]
            mismatched = next((h for h in hits if h.key_mismatch), None)
            if mismatched is not None:
                raise HoldingsKeyMismatch(f"{mismatched.problem} Nothing was marked in {home}.")
            checked += hits
            marks = read_marks(home)
            already = {(m.version, m.reference) for m in marks if m.event == "affected"}
            unknown = {(m.version, m.reference) for m in marks if m.event == "unchecked"}
            new = [ErasureMark(event="affected", version=h.version, reference=reference, date=today, key_id=key_id)
                   for h in hits if h.held and (h.version, reference) not in already]
            new += [ErasureMark(event="unchecked", version=h.version, reference=reference, date=today)
                    for h in hits if h.problem is not None and (h.version, reference) not in already | unknown]
            affected = [i for i, h in enumerate(hits) if h.held or (h.version, reference) in already]
            if affected and reference in open_references(marks + new):
                latest = next((i for i in range(len(hits) - 1, -1, -1) if hits[i].problem is None), None)
                if latest is not None and latest > max(affected) and not hits[latest].held:
                    new.append(ErasureMark(event="cleared", version=hits[latest].version, reference=reference,
                                           date=today, key_id=key_id))
            append_marks(home, new)
    return checked


# --- release: open references against the new version ---------------------------------------


def plan_release_marks(bundle: Path, home: Path, version: str, holdings_dir: Path = HOLDINGS_DIR,
                       erasure_file: Path | None = None, today: dt.date | None = None) -> list[ErasureMark]:
    """The marks releasing ``bundle`` as ``<home>/<version>`` will append; nothing is written.

    Reads — and so validates — everything the marks depend on: the controller's erasure
    list, the registry's releases and erasures logs, and the bundle's holdings. ``release``
    calls it *before* publishing, so a broken file refuses the release with nothing published.

    For every open reference of the registry, and every referenced request of the
    controller's erasure list whose value the version holds: ``affected`` when it holds the
    value, ``cleared`` when it does not, ``unchecked`` when that cannot be told (no holdings,
    the request's fingerprints not in the erasure list, another key). A request recorded
    under several references counts under each.
    """
    from pipeline.anonymize.erasure import ERASURE_FILE, load_erasures

    home = Path(home)
    today = today or dt.date.today()
    erasures = load_erasures(erasure_file if erasure_file is not None else ERASURE_FILE)
    by_reference: dict[str, list] = defaultdict(list)
    for request in erasures.erasures.requests:
        for reference in request.all_references:
            by_reference[reference].append(request)
    released_versions(home)  # a broken releases log fails now, not after publishing
    open_refs = open_references(read_marks(home))
    found = find_holdings(bundle, holdings_dir)
    holdings = found[1] if found else None
    new: list[ErasureMark] = []
    for reference in sorted(set(open_refs) | set(by_reference)):
        requests = [r for r in by_reference.get(reference, ()) if holdings and r.key_id == holdings.pseudonym_key_id]
        if holdings is not None and requests:
            fps = {r.fingerprint for r in requests}
            event = "affected" if holdings.holds(fps) else "cleared"
            if event == "cleared" and reference not in open_refs:
                continue  # a request that never touched this registry: nothing to say
            new.append(ErasureMark(event=event, version=version, reference=reference, date=today,
                                   key_id=holdings.pseudonym_key_id))
        elif reference in open_refs:
            new.append(ErasureMark(event="unchecked", version=version, reference=reference, date=today))
    return new


def note_release(target: Path, holdings_dir: Path = HOLDINGS_DIR, erasure_file: Path | None = None,
                 today: dt.date | None = None) -> list[ErasureMark]:
    """Check the version published at ``target`` (``<registry>/<name>/<version>``) against erasure requests
    (:func:`plan_release_marks`) and append the marks; return them."""
    target = Path(target)
    new = plan_release_marks(target, target.parent, target.name, holdings_dir, erasure_file, today)
    append_marks(target.parent, new)
    return new


def release_notes(target: Path) -> list[str]:
    """What ``mahrem release`` says about the marks :func:`note_release` made for the version at ``target``.

    A version is published once, so every mark naming it in the registry came from its release.
    """
    home, version = Path(target).parent, Path(target).name
    every = read_marks(home)
    marks = [m for m in every if m.version == version]
    earlier = open_references([m for m in every if m.version != version])
    out = []
    for m in marks:
        before = ", ".join(v for v in earlier.get(m.reference, []) if v != version) or "none"
        if m.event == "affected":
            out.append(f"{home.name} {version} holds data that erasure request {m.reference} asks to erase (earlier "
                       f"affected version(s): {before}); it is marked in {home / ERASURES_LOG}. Withdraw it and release "
                       "a version trained without that data.")
        elif m.event == "cleared":
            out.append(f"{home.name} {version} does not hold the data of erasure request {m.reference}: the request "
                       f"is settled for new releases. Earlier version(s) {before} still hold it: withdraw them.")
        else:
            out.append(f"earlier version(s) {before} of {home.name} are affected by erasure request {m.reference}, "
                       f"and no holdings record for {version} was found, so whether it holds the data is unknown "
                       f"(marked 'unchecked' in {home / ERASURES_LOG}).")
    return out


# --- load time: warnings for one bundle ------------------------------------------------------


def erasure_warnings(bundle: Path, *, holdings_dir: Path | None = HOLDINGS_DIR,
                     erasure_file: Path | None = None, exclude_references: frozenset[str] = frozenset()) -> list[str]:
    """Human-readable warnings for loading ``bundle``: the erasure requests whose data it (may) hold.

    * A registry bundle (``<registry>/<name>/<version>/``, its ``<name>/releases.jsonl``
      naming the version): its marks in ``<registry>/<name>/erasures.jsonl``. An affected
      version keeps warning after a later version without the value is released; the
      warning then names that version.
    * Any bundle, where the controller's files are at hand (``holdings_dir`` holds a
      holdings file for exactly this bundle, and ``erasure_file``, default
      ``policies/erasure.yaml``, exists): every erasure request whose fingerprint it holds
      (a request under another key id is reported as not checkable, not as absent).

    Never raises for a bundle without marks or holdings: ``[]`` (a broken registry log or
    erasure list is an :class:`InputError`/:class:`ConfigError`). ``holdings_dir=None``
    skips the controller's check; ``exclude_references`` leaves out the requests whose
    every reference is among them (already reported otherwise).
    """
    bundle = Path(bundle)
    out: list[str] = []
    said: set[str] = set()
    home, version = bundle.parent, bundle.name
    if any(r.version == version for r in released_versions(home)):
        marks = read_marks(home)
        released = {r.version: r.order for r in released_versions(home)}
        for m in marks:
            if m.version != version or m.event == "cleared" or m.reference in said:
                continue
            said.add(m.reference)
            if m.event == "unchecked":
                out.append(f"{home.name} {version} has no holdings record (marked 'unchecked' for erasure request "
                           f"{m.reference} on {m.date}): whether it holds that person's data is unknown. Withdraw "
                           "it, or sign it again where its holdings can be made.")
                continue
            later = [c.version for c in marks if c.event == "cleared" and c.reference == m.reference
                     and released.get(c.version, -1) > released.get(version, -1)]
            tail = (f"version {later[-1]} does not hold it: use that one and withdraw {version}." if later else
                    "no later version without it has been released: withdraw this one.")
            out.append(f"{home.name} {version} holds data that erasure request {m.reference} (recorded {m.date}) asks "
                       f"to erase; {tail}")
    if holdings_dir is not None:
        from pipeline.anonymize.erasure import ERASURE_FILE, load_erasures

        path = Path(erasure_file) if erasure_file is not None else ERASURE_FILE
        found = find_holdings(bundle, holdings_dir) if path.is_file() else None
        if found is not None:
            holdings = found[1]
            other_key = 0
            for request in load_erasures(path).erasures.requests:
                if request.key_id != holdings.pseudonym_key_id:
                    other_key += 1
                    continue
                refs = request.all_references
                if refs and set(refs) <= exclude_references:
                    continue
                label = " / ".join(refs) or f"received {request.received} (no reference)"
                if request.fingerprint in holdings.fingerprints and label not in said and not said & set(refs):
                    said.add(label)
                    out.append(f"{holdings.bundle.name} {holdings.bundle.version} holds data that erasure request "
                               f"{label} ({path}) asks to erase: do not serve or release it; sign a version trained "
                               "without it.")
            if other_key:
                out.append(f"{other_key} erasure request(s) in {path} were fingerprinted under another pseudonym key "
                           f"than this bundle's holdings ({holdings.pseudonym_key_id}): whether it holds that data "
                           "cannot be told.")
    return out


def release_warnings(source: Path, target: Path, holdings_dir: Path | None = HOLDINGS_DIR,
                     erasure_file: Path | None = None) -> list[str]:
    """Everything ``mahrem release`` warns about after publishing ``source`` at ``target``.

    :func:`release_notes` for the marks the release appended, then the controller's own
    check of ``source`` (:func:`erasure_warnings`) for the requests those marks do not cover
    — an erasure request recorded without a reference has no mark, yet the version may hold
    its value.
    """
    target = Path(target)
    marked = frozenset(m.reference for m in read_marks(target.parent) if m.version == target.name)
    return [*release_notes(target), *erasure_warnings(source, holdings_dir=holdings_dir, erasure_file=erasure_file,
                                                      exclude_references=marked)]
