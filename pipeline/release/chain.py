"""The chain of custody: signoff signs only what the pipeline measured, on the data it measured.

Every stage report records the SHA-256 of the files the stage read and wrote (its
``chain``: :func:`pipeline.config.chain_record`), and DVC records in ``dvc.lock`` the MD5
of every report it saw the stage write. Before the gate, signoff re-derives the chain:

1. **dvc.lock** — the scan, anonymize, train and evaluate stages are all there, and every
   report and data file signoff relies on has the MD5 that DVC recorded for it. A report
   edited by hand after its stage ran, or hand-written with no stage behind it, fails here.
2. **the reports agree with the files** — each digest a stage recorded is recomputed: the
   adapter weights going into the bundle must be the ones evaluate scored and train wrote;
   the data evaluate probed the data train saw and anonymize wrote; the findings
   anonymize used the scan's, of these very raw files.
3. **coverage** — each link exists: train recorded the adapter and its data, evaluate the
   adapter and the data, anonymize the findings and its outputs.

Any mismatch is a :class:`ChainBroken`, naming the file and both digests. No option turns
this off. The verified links go into the provenance (``mahrem_chain``); verify checks
that the bundle's adapter is the one the chain names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import file_digest
from pipeline.release.bundle import ADAPTER_WEIGHTS
from pipeline.release.evidence import Evidence, EvidenceError

REQUIRED_STAGES = ("scan", "anonymize", "train", "evaluate")


class ChainBroken(EvidenceError):
    """A file differs from what the stage that read or wrote it recorded, or a stage is missing."""


@dataclass
class Link:
    """One file of the chain: its digest now, and which stage reports recorded it."""

    path: str
    sha256: str
    recorded_by: list[str] = field(default_factory=list)
    dvc_lock_md5: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "recorded_by": sorted(self.recorded_by)}
        if self.dvc_lock_md5:
            out["dvc_lock_md5"] = self.dvc_lock_md5
        return out


def _key(path: str | Path) -> str:
    return Path(path).resolve().as_posix()


def _locked_outputs(lock: Path) -> tuple[set[str], dict[str, tuple[str, str]]]:
    """The stages in ``dvc.lock`` and, per output file (not directories), its stage and MD5."""
    if not lock.is_file():
        raise ChainBroken(
            f"{lock}: missing. signoff signs only what `dvc repro` produced: run the pipeline with `dvc repro`."
        )
    data = yaml.safe_load(lock.read_text(encoding="utf-8")) or {}
    stages = data.get("stages") or {}
    outputs: dict[str, tuple[str, str]] = {}
    for stage, entry in stages.items():
        for out in (entry or {}).get("outs") or []:
            md5 = str(out.get("md5") or "") if isinstance(out, dict) else ""
            if md5 and out.get("path") and not md5.endswith(".dir"):
                outputs[_key(Path(lock).parent / out["path"])] = (stage, md5)
    return set(stages), outputs


def _report_chain(report_data: dict[str, Any], path: Path, stage: str) -> dict[str, dict[str, str]]:
    chain = report_data.get("chain")
    if not isinstance(chain, dict) or not all(isinstance(chain.get(k), dict) for k in ("inputs", "outputs")):
        raise ChainBroken(
            f"{path}: records no chain of custody (key 'chain'); it was not written by this version of the "
            f"{stage} stage. Run `dvc repro {stage}`."
        )
    return chain


def check_chain(ev: Evidence) -> list[Link]:
    """Re-derive the chain of custody of ``ev`` (see the module docstring); the links, or :class:`ChainBroken`."""
    p = ev.paths
    stages, locked = _locked_outputs(p.dvc_lock)
    missing = [s for s in REQUIRED_STAGES if s not in stages]
    if missing:
        raise ChainBroken(
            f"{p.dvc_lock}: no record of the {', '.join(missing)} stage(s), so the reports were not produced by the "
            "pipeline. Run `dvc repro`."
        )
    links: dict[str, Link] = {}

    def link(path: Path | str) -> Link:
        key = _key(path)
        if key not in links:
            if not Path(path).is_file():
                raise ChainBroken(f"{path}: recorded in the chain of custody but missing now. Run `dvc repro`.")
            links[key] = Link(Path(path).as_posix(), file_digest(path))
        return links[key]

    # 1. What DVC saw each stage write.
    findings = p.findings
    checked = [p.scan_summary, findings, p.anonymize_summary, p.residual, p.canaries, p.train_data, p.holdout_data,
               p.train_summary, p.seen, p.benchmarks, p.leakage, p.leakage_details]  # fmt: skip
    for path in checked:
        entry = locked.get(_key(path))
        if entry is None:
            raise ChainBroken(f"{path}: not an output of any stage in {p.dvc_lock}. Run `dvc repro`.")
        stage, md5 = entry
        now = file_digest(path, "md5")  # as dvc.lock records it
        if now != md5:
            raise ChainBroken(
                f"{path}: MD5 {now[:12]}… differs from the {md5[:12]}… that {p.dvc_lock} recorded when the {stage} "
                "stage wrote it: the file was changed after its stage ran. Run `dvc repro`; never edit a report."
            )
        link(path).dvc_lock_md5 = md5

    # 2. Every digest a stage recorded, recomputed.
    reports = {"scan": ev.scan, "anonymize": ev.anonymize, "train": ev.train, "evaluate": ev.leakage}
    chains = {stage: _report_chain(r.data, r.path, stage) for stage, r in reports.items()}
    chains["evaluate (benchmarks)"] = _report_chain(ev.benchmarks.data, ev.benchmarks.path, "evaluate")
    for stage, chain in chains.items():
        for side in ("inputs", "outputs"):
            for path, recorded in chain[side].items():
                current = link(path)
                if current.sha256 != recorded:
                    verb = "read" if side == "inputs" else "wrote"
                    raise ChainBroken(
                        f"{path}: SHA-256 {current.sha256[:12]}… is not the {str(recorded)[:12]}… the {stage} stage "
                        f"{verb}: the file was replaced after that stage ran. Run `dvc repro`."
                    )
                current.recorded_by.append(f"{stage}:{side}")

    # 3. Coverage: the links that tie the bundle to what was measured.
    adapter = p.adapter / ADAPTER_WEIGHTS
    required = {
        "anonymize:inputs": [findings],
        "anonymize:outputs": [p.train_data, p.holdout_data, p.residual],
        "train:inputs": [p.train_data, p.holdout_data],
        "train:outputs": [adapter, p.seen],
        "evaluate:inputs": [adapter, p.train_data, p.holdout_data, findings, p.seen],
        "evaluate (benchmarks):inputs": [adapter],
    }
    for role, paths in required.items():
        for path in paths:
            entry = links.get(_key(path))
            if entry is None or role not in entry.recorded_by:
                stage = role.split(":")[0].split(" ")[0]
                raise ChainBroken(
                    f"{path}: the {role.replace(':', ' ')} of the chain do not name it, so the release cannot be tied "
                    f"to what was measured. Run `dvc repro {stage}`."
                )
    return sorted(links.values(), key=lambda entry: entry.path)
