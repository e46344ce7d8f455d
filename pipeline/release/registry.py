"""``mahrem release``: publish a verified bundle into a release registry directory.

A registry is a plain directory, ``<to>/<name>/<version>/``, holding the bundle exactly as
signed (so it verifies again in place), plus ``<to>/<name>/releases.jsonl``, one line per
publication: version, sharing scope, whether it may go abroad, key id, time.

Refused, with the reason: a bundle that does not verify; a version already published (a
version is immutable — bump it in policies/release.yaml); a ``scope`` wider than the
bundle's sharing scope (naming the source that limits it); ``abroad=True`` when a source
forbids transfer abroad (KVKK Art. 9; naming the source); a target that would resolve
outside ``--to`` or into the source bundle (names and versions are checked against the
naming rule by verify first). ``abroad`` is the ``--abroad``
flag: the registry being published to is outside Türkiye, or will be served from there.

The new version is checked against the erasure requests open in the registry
(``<to>/<name>/erasures.jsonl``) and the controller's erasure list, using the fingerprint
set signoff kept for it in ``.mahrem/holdings`` (never copied into the registry):
:func:`pipeline.release.holdings.plan_release_marks`. That check reads every file it
needs *before* anything is published — a broken erasure list, registry log or holdings
file refuses the release with nothing written — then the version is published, its line
appended to ``releases.jsonl`` (one ``O_APPEND`` write, earlier lines never rewritten), and
the marks appended to ``erasures.jsonl``. ``mahrem release`` prints
:func:`~pipeline.release.holdings.release_warnings` for it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

from pipeline.catalog import SharingScope
from pipeline.io import append_jsonl, check_output_dir
from pipeline.release.bundle import BUNDLE_FILES
from pipeline.release.verify import verify_bundle

RELEASES_LOG = "releases.jsonl"


class ReleaseRefused(Exception):
    """The bundle may not be published where, or how, it was asked to be."""


def _registry_target(bundle: Path, to_dir: Path, name: str, version: str) -> tuple[Path, Path]:
    """``(to/<name>, to/<name>/<version>)``, resolved; refused unless it stays inside ``to`` and outside ``bundle``.

    verify has already checked the naming rule (no separators, no ``..``, not absolute);
    this is the second lock, on the resolved paths, against links and future rule changes.
    """
    registry, source = to_dir.resolve(), bundle.resolve()
    home = (registry / name).resolve()
    target = (home / version).resolve()
    if not (home.parent == registry and target.parent == home):
        raise ReleaseRefused(
            f"{bundle}: its name/version ({name!r}, {version!r}) would be written to {target}, outside --to "
            f"{registry}; nothing was written."
        )
    if registry == source or registry.is_relative_to(source) or source.is_relative_to(target):
        raise ReleaseRefused(
            f"--to {to_dir}: is the bundle itself or lies inside it ({source}); publishing there would alter the "
            "source bundle. Choose a registry directory outside the bundle."
        )
    return home, target


def release_bundle(
    bundle: Path,
    to_dir: Path,
    public_key: Path,
    scope: str | None = None,
    *,
    abroad: bool = False,
    now: dt.datetime | None = None,
    holdings_dir: Path | None = None,
    erasure_file: Path | None = None,
) -> Path:
    """Verify ``bundle`` and copy it to ``to_dir/<name>/<version>/``; return that path.

    ``holdings_dir`` (default ``.mahrem/holdings``) and ``erasure_file`` (default
    ``policies/erasure.yaml``) are the controller's: where the new version's fingerprint set
    and the erasure requests are, to mark it affected by, or clearing, open erasure requests.
    """
    bundle, to_dir = Path(bundle), Path(to_dir)
    check_output_dir(to_dir, "--to")  # a registry under a regular file fails here, in one sentence
    result = verify_bundle(bundle, public_key)
    if not result.ok:
        raise ReleaseRefused(
            f"{bundle}: does not verify, so it cannot be released:\n" + "\n".join(f"  - {p}" for p in result.problems)
        )
    assert result.name and result.version and result.sharing_scope  # a verified manifest has them
    bundle_scope = SharingScope(result.sharing_scope)
    if scope is not None:
        try:
            wanted = SharingScope(scope)
        except ValueError:
            raise ReleaseRefused(f"--scope {scope!r}: use one of {', '.join(s.value for s in SharingScope)}.") from None
        if wanted.rank > bundle_scope.rank:
            raise ReleaseRefused(
                f"{result.name}-{result.version} may be shared at most '{bundle_scope.value}': source(s) "
                f"{', '.join(result.sharing_scope_set_by)} in policies/sources.yaml limit it (sharing_scope), "
                f"so it cannot be released to a '{wanted.value}' registry."
            )
    else:
        wanted = bundle_scope
    if abroad and not result.cross_border_transfer:
        raise ReleaseRefused(
            f"{result.name}-{result.version} may not be transferred abroad (KVKK Art. 9): source(s) "
            f"{', '.join(result.cross_border_forbidden_by)} in policies/sources.yaml set cross_border_transfer: false."
        )
    home, target = _registry_target(bundle, to_dir, result.name, result.version)
    if target.exists():
        raise ReleaseRefused(
            f"{target}: version {result.version} is already released, and a released version is never overwritten. "
            "Bump `version` in policies/release.yaml and run signoff again."
        )
    from pipeline.release.holdings import HOLDINGS_DIR, append_marks, plan_release_marks

    marks = plan_release_marks(bundle, home, result.version, holdings_dir if holdings_dir is not None else HOLDINGS_DIR,
                               erasure_file, today=(now.date() if now else None))
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{result.version}.", suffix=".staging", dir=home))
    try:
        copy = staging / result.name / result.version  # the registry layout, so the copy verifies as placed
        copy.mkdir(parents=True)
        for name in sorted(BUNDLE_FILES):
            shutil.copyfile(bundle / name, copy / name)
            os.chmod(copy / name, 0o444)  # published files are read-only: a version is immutable
        again = verify_bundle(copy, public_key)  # the copy, not just the source, must verify
        if not again.ok:
            raise ReleaseRefused(f"{target}: the copied bundle does not verify: {'; '.join(again.problems)}")
        # rename() onto an existing directory fails: two concurrent releases cannot both win.
        os.rename(copy, target)
    except FileExistsError:
        raise ReleaseRefused(f"{target}: version {result.version} was released concurrently; nothing overwritten.") from None
    except OSError as exc:
        if target.exists():
            raise ReleaseRefused(f"{target}: version {result.version} was released concurrently; nothing overwritten.") from None
        raise ReleaseRefused(f"{target}: could not publish ({exc.strerror}).") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    append_jsonl(home / RELEASES_LOG, [{
        "version": result.version,
        "scope": wanted.value,
        "abroad": abroad,
        "signing_key_id": result.key_id,
        "development_key": result.development_key,
        "released_at": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
    }])
    append_marks(home, marks)
    return target

