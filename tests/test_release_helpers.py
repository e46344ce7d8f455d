"""Shared builders for the release tests: a fake repository whose reports follow the stage
contracts exactly, and a real tiny PEFT adapter. No tests here."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import yaml
from test_evaluate_helpers import TEST_KEY  # the pseudonym key of the miniature workspace

REPO_ROOT = Path(__file__).resolve().parents[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


# Every report below is built through its model (pipeline/reports), the one the stage that writes
# it and signoff that reads it share, and returned as the JSON document the stage writes.
NO_CHAIN = {"inputs": {}, "outputs": {}}  # seal() writes each report's real chain of custody


def scan_summary() -> dict:
    from pipeline.reports.scan import ScanSummary

    findings = {"PERSON": 1404, "TR_NATIONAL_ID": 166, "EMAIL_ADDRESS": 280, "PHONE_NUMBER": 474}
    special = {"HEALTH": 60, "RELIGION": 8}
    return ScanSummary(
        lines=600, records=600, quarantined=0, quarantine_ratio=0.0, max_quarantine_ratio=0.05,
        fields_scanned=2896, chars_scanned=388839, findings=sum(findings.values()) + sum(special.values()),
        records_with_pii=521, records_with_special=94, records_without_pii=79,
        by_entity_type=findings, special_categories=special, special_records_by_category={"HEALTH": 55, "RELIGION": 8},
        by_source={"sample": {"records": 600, "records_with_pii": 521,
                              "findings": {**findings, **{f"SPECIAL:{k}": v for k, v in special.items()}}}},
        by_role={"assistant": 1000, "system": 100, "user": 1292},
        by_recognizer={"TurkishNameRecognizer": 1404, "TcKimlikRecognizer": 166, "EmailRecognizer": 280,
                       "TrPhoneRecognizer": 474, "SpecialCategoryRecognizer": 68},
        score_histogram={"PERSON": [0, 0, 0, 0, 0, 0, 4, 90, 510, 800]},
        files={"data/raw/sample.jsonl": {"source": "sample", "sha256": "ab" * 32, "lines": 600, "records": 600,
                                         "quarantined": 0, "quarantine_reasons": {}, "bom": False}},
        quarantine_reasons={}, config={"workers": 2, "batch_size": 64, "min_score": 0.5},
        findings_sha256="cd" * 32, chain=NO_CHAIN, catalog_sha256="ef" * 32,
        policy_sha256={"policies/kvkk.yaml": "01" * 32}, pseudonym_key_id="e7c5670d370ac3e7", development_key=True,
        wall_seconds=24.75, scanned_at="2026-05-30T12:00:00+00:00",
    ).to_json()  # fmt: skip


def anonymize_summary(policy_sha: str, erasure_sha: str | None) -> dict:
    from pipeline.reports.anonymize import AnonymizeSummary

    return AnonymizeSummary(
        lines=600, records=600, quarantined=0, kept=81, transformed=418, dropped=101, accounted=True,
        dropped_by_reason={"duplicate": 1, "near_duplicate": 6, "special_category": 94}, special_category_records=94,
        actions={"PERSON": {"pseudonymize": 1139}, "TR_NATIONAL_ID": {"pseudonymize": 130},
                 "DATE_TIME": {"keep": 184}},
        train=449, holdout=50, canary_records=42, canaries=6,
        erasure={"requests": 0, "records_dropped": 0, "sha256": erasure_sha},
        residual_blocked_findings=0, language_mix={"en": 67, "tr": 432},
        length_chars={"mean": 613.8, "p50": 614, "p90": 794, "max": 1028,
                      "histogram": {"0-250": 0, "250-500": 103, "500-1000": 395, "1000-2000": 1, "2000-4000": 0,
                                    "4000-8000": 0, "8000+": 0}},
        policy="kvkk", policy_sha256=policy_sha, pseudonym_key_id="e7c5670d370ac3e7", development_key=True,
        anonymized_at="2026-05-30T12:01:00+00:00", chain=NO_CHAIN,
    ).to_json()  # fmt: skip


def residual() -> dict:
    """residual.json has no report model (not one of pipeline/reports'): as anonymize writes it."""
    return {"blocked_findings": 0, "by_entity_type": {}, "record_ids": {}, "blocking_types": ["TR_NATIONAL_ID"]}


def machine() -> dict:
    """What pipeline.hardware records: the chosen dtype and threads, and why."""
    from pipeline.reports import MachineRecord

    return MachineRecord.model_validate({
        "compute_dtype": {"dtype": "float32", "requested": "auto", "reason": "CPU lacks native bfloat16",
                          "device": "cpu", "cpu_arch": "x86_64", "cpu_flags": ["avx2", "fma"]},
        "threads": {"threads": 2, "requested": "auto", "reason": "every usable core (CPU affinity)"},
    }).model_dump(mode="json")  # fmt: skip


def train_summary() -> dict:
    from pipeline.reports.train import TrainSummary

    return TrainSummary(
        steps=120, epochs=2.0, tokens_seen=250000, tokens_nonpad=200000, tokens_trained=60000, wall_s=300.5,
        tokens_per_s=832.0, peak_rss_mb=2100.0, peak_gpu_mb=None, trainable_params=4884480, total_params=139399488,
        trainable_share=0.035, quantization="nf4", device="cpu", seed=7, holdout_loss_base=2.40,
        holdout_loss_adapter=1.60, train_loss_final=1.45, records_train=449, records_holdout=50, truncated_records=0,
        truncated_records_holdout=0, records_without_labels=0, holdout_eval_records=50, holdout_tokens_scored=5000,
        seen_records=449, seen_unseen=0, resumed_from_step=None, threads=2, compute_dtype="float32", machine=machine(),
        versions={"torch": "2.13.0", "transformers": "5.24.0", "peft": "0.21.2", "bitsandbytes": "0.50.2"},
        chain=NO_CHAIN,
    ).to_json()  # fmt: skip


# The sizes the default pipeline really produces (params.yaml evaluate:, policies/kvkk.yaml):
# 100 general documents, 200 holdout records (of 291), 206 seen training records, 10 canaries
# a class against 1,000 references, 64 PII prompts + the canary prompt.
GENERAL_DOCS, HOLDOUT, MEMBERS, CANARIES, REFERENCES, PROMPTS = 100, 200, 206, 10, 1000, 65


def bpb_block(n: int, shift: float, *, gain: bool, seed: int) -> dict:
    """A utility block as evaluate writes it (``utility.domain`` when ``gain``, else ``utility.general``),
    from simulated per-document bits (pipeline.evaluate.utility)."""
    import math

    import numpy as np

    from pipeline.evaluate import EvalParams
    from pipeline.evaluate.utility import bpb_report
    from pipeline.reports.evaluate import DomainUtility, GeneralUtility

    rng = np.random.default_rng(seed)
    nbytes = rng.integers(200, 600, size=n)
    base = rng.normal(1.2, 0.2, size=n).clip(0.3)
    adapter = (base + shift + rng.normal(0, 0.05, size=n)).clip(0.05)
    nats = lambda bpb: (bpb * nbytes * math.log(2)).tolist()  # noqa: E731
    report = bpb_report(nats(base), nats(adapter), nbytes.tolist(), config=EvalParams(), what="test", gain=gain)
    if gain:
        block = DomainUtility(**report, source="anonymized holdout: the assistant turns within each record's first "
                                               "192 tokens (what training learns from)")
    else:
        block = GeneralUtility(source="mmlu.jsonl: questions with their correct answer (seed 20241130)",
                               max_tokens=128, **report)
    return block.model_dump(mode="json")


def benchmarks(*, general_shift: float = 0.0, domain_shift: float = -0.5) -> dict:
    from pipeline.evaluate import EvalParams
    from pipeline.evaluate.benchmarks import MMLU_LETTER, SUPPORT_FORMAT, paired_accuracy_report
    from pipeline.reports.evaluate import Benchmarks

    base = {i: i % 4 == 0 for i in range(32)}  # at chance, as SmolLM2-135M is
    adapter = {i: i % 4 == 1 for i in range(32)}
    # The task names are the ones evaluate really writes (pipeline.evaluate.benchmarks).
    return Benchmarks(
        tasks={
            MMLU_LETTER.name: {"kind": "general", "metric": "acc", "higher_is_better": True, "n": 32, "base": 0.25,
                               "base_stderr": 0.078, "adapter": 0.25, "adapter_stderr": 0.078, "delta": 0.0,
                               "paired": paired_accuracy_report(base, adapter, MMLU_LETTER, EvalParams())},
            SUPPORT_FORMAT.name: {"kind": "domain", "metric": "format_ok", "higher_is_better": True, "n": 6,
                                  "base": 0.17, "base_stderr": 0.17, "adapter": 0.83, "adapter_stderr": 0.17,
                                  "delta": 0.67},
        },
        quantization="nf4", lm_eval_version="0.4.13", wall_s=400.0,
        wall_s_by_task={MMLU_LETTER.name: {"base": 19.4, "adapter": 20.3}, SUPPORT_FORMAT.name: {"base": 8.8, "adapter": 9.6},
                        "general_bpb": {"base+adapter": 28.0}},
        utility={"general": bpb_block(GENERAL_DOCS, general_shift, gain=False, seed=1),
                 "domain": bpb_block(HOLDOUT, domain_shift, gain=True, seed=2)},
        compute_dtype="float32", threads=2, machine=machine(), chain=NO_CHAIN, wall_s_total=900.0,
    ).to_json()  # fmt: skip


def canary_group(exposures, *, unseen: int = 0) -> dict:
    from pipeline.evaluate.stats import measure_exposure
    from pipeline.reports.evaluate import CanaryClass

    return CanaryClass(
        canaries=len(exposures), seen=len(exposures) - unseen, unseen=unseen,
        sightings_min=0 if unseen else 1, sightings_max=1,
        base_exposure_mean=1.4, base_exposure_max=3.0,
        adapter_exposure_mean=sum(exposures) / len(exposures), adapter_exposure_max=max(exposures),
        base_exposure_skewnorm_max=3.1, adapter_exposure_skewnorm_max=max(exposures) + 0.3,
        exposure=measure_exposure(exposures, REFERENCES).to_json(),
    ).model_dump(mode="json")  # fmt: skip


def null_exposures(seed: int) -> list[float]:
    """Exposures of canaries the model did not learn: ranks uniform among 1,001."""
    import math
    import random

    rng = random.Random(seed)
    return [math.log2(REFERENCES + 1) - math.log2(rng.randint(1, REFERENCES + 1)) for _ in range(CANARIES)]


def membership_block(tpr_excess: float = 0.0, *, members: int = MEMBERS, nonmembers: int = HOLDOUT) -> dict:
    import numpy as np

    from pipeline.evaluate.stats import measure_tpr
    from pipeline.reports.evaluate import MembershipProbe

    rng = np.random.default_rng(3)
    attacks = {}
    for name in ("loss_ratio", "min_k_pp"):
        m, n = rng.normal(size=members), rng.normal(size=nonmembers)
        m[rng.random(members) < tpr_excess] += 10.0
        attacks[name] = (m, n)
    measured = measure_tpr(attacks, fpr=0.01, resamples=1000, seed=0)
    return MembershipProbe(
        members=members, nonmembers=nonmembers, fpr=0.01, attack=measured.extra["attack"],
        tpr_at_fpr=measured.estimate, tpr=measured.to_json(), auc={"loss_ratio": 0.52, "min_k_pp": 0.5},
        min_resolvable_fpr=1 / nonmembers, window_tokens=192, ineligible={"members": 0, "nonmembers": 0},
        base_loss_members=4.1, base_loss_nonmembers=4.0, adapter_loss_members=1.6, adapter_loss_nonmembers=1.9,
    ).model_dump(mode="json")  # fmt: skip


def leakage() -> dict:
    import math

    from pipeline.evaluate.stats import measure_rate
    from pipeline.reports.evaluate import Leakage

    return Leakage(
        canary={"references": REFERENCES, "max_exposure": math.log2(REFERENCES + 1), "space_size": 10**9,
                "scored": "the whole canary chat (chat template), the shared prefix once",
                "by_repetitions": {"1": canary_group(null_exposures(1)), "4": canary_group(null_exposures(4)),
                                   "8": canary_group(null_exposures(8))}},
        extraction={"prompts": PROMPTS, "samples_per_prompt": 1, "max_new_tokens": 39, "base_hits": 0,
                    "adapter_hits": 0, "adapter_only_hits": 0, "adapter_greedy_hits": 0, "adapter_hits_by_type": {},
                    "base_hits_by_type": {}, "prompts_by_type": {}, "canary_prompt_hit": False,
                    "rate": measure_rate(0, PROMPTS).to_json()},
        inference={"trials": 8, "candidates": 100, "chance": 0.01, "base_top1": 0.0, "adapter_top1": 0.0,
                   "base_mean_rank": 40.0, "adapter_mean_rank": 38.0},
        membership=membership_block(),
        wall_s_by_probe={"canary": 60.9, "extraction": 36.8, "inference": 80.5, "membership": 303.6},
        wall_s=500.0, compute_dtype="float32", threads=2, machine=machine(), chain=NO_CHAIN, wall_s_total=900.0,
    ).to_json()  # fmt: skip


# The evaluate block the spot check reads (the sizes of test_evaluate_helpers.small_params).
EVAL_PARAMS = {
    "batch_size": 8, "canary": {"references": 200},
    "extraction": {"prompts": 64, "samples": 0, "slack_tokens": 4, "max_new_tokens": 24},
    "inference": {"trials": 4, "candidates": 10}, "membership": {"max_tokens": 64}, "bootstrap": 100,
}  # fmt: skip
PARAMS = {"policy": "policies/kvkk.yaml", "sample": {"seed": 20241129, "n_records": 600}, "evaluate": EVAL_PARAMS}
# What each stage read and wrote in a repository made by make_repo (repo-relative).
STAGE_FILES = {
    "scan": {"inputs": ["data/raw/sample.jsonl"], "outputs": ["reports/scan/findings.jsonl"],
             "report": ["reports/scan/summary.json"]},
    "anonymize": {
        "inputs": ["data/raw/sample.jsonl", "reports/scan/findings.jsonl", "reports/scan/summary.json"],
        "outputs": ["data/anonymized/train.jsonl", "data/anonymized/holdout.jsonl", "reports/anonymize/residual.json",
                    "reports/anonymize/canaries.json"],
        "report": ["reports/anonymize/summary.json"],
    },
    "train": {
        "inputs": ["data/anonymized/train.jsonl", "data/anonymized/holdout.jsonl", "models/base/digest.json"],
        "outputs": ["models/adapter/adapter_config.json", "models/adapter/adapter_model.safetensors",
                    "reports/train/seen.json"],
        "report": ["reports/train/summary.json"],
    },
    "evaluate": {
        "inputs": ["models/adapter/adapter_config.json", "models/adapter/adapter_model.safetensors",
                   "models/base/digest.json", "data/anonymized/train.jsonl", "data/anonymized/holdout.jsonl",
                   "reports/scan/findings.jsonl", "reports/anonymize/canaries.json", "reports/train/seen.json",
                   "data/raw/sample.jsonl"],
        "outputs": [],
        "report": ["reports/eval/benchmarks.json", "reports/eval/leakage.json"],
        "details": ["reports/eval/leakage_details.json"],
    },
}  # fmt: skip


def seal(root: Path, *, chains: bool = True) -> None:
    """What `dvc repro` leaves behind: each report's chain of custody, then dvc.lock's MD5s.

    Call it again after editing a report to play a stage that measured it; with
    ``chains=False`` only dvc.lock follows, as when an insider edits reports and runs `dvc commit`.
    """
    from pipeline.config import chain_record, file_digest

    for files in STAGE_FILES.values() if chains else ():
        chain = chain_record([root / f for f in files["inputs"]], [root / f for f in files["outputs"]])
        for report in files["report"]:
            data = json.loads((root / report).read_text(encoding="utf-8"))
            data["chain"] = chain
            write_json(root / report, data)
    lock = {"schema": "2.0", "stages": {}}
    for stage, files in STAGE_FILES.items():
        outs = [f for f in files["outputs"] + files["report"] + files.get("details", [])
                if not f.startswith("models/adapter")]
        lock["stages"][stage] = {
            "cmd": f"bin/mahrem {stage}",
            "outs": [{"path": f, "hash": "md5", "md5": file_digest(root / f, "md5")} for f in outs]
            + ([{"path": "models/adapter", "hash": "md5", "md5": "1" * 32 + ".dir"}] if stage == "train" else []),
        }
    (root / "dvc.lock").write_text(yaml.safe_dump(lock), encoding="utf-8")


def make_repo(root: Path, adapter: Path | None = None, base: Path | None = None) -> Path:
    """A repository with every input signoff reads, all passing the default gate."""
    root.mkdir(parents=True, exist_ok=True)
    policies = root / "policies"
    policies.mkdir(exist_ok=True)
    for name in ("sources.yaml", "kvkk.yaml", "gdpr.yaml", "erasure.yaml", "release.yaml"):
        shutil.copyfile(REPO_ROOT / "policies" / name, policies / name)
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS), encoding="utf-8")
    (root / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    write_json(root / "reports/scan/summary.json", scan_summary())
    write_json(root / "reports/anonymize/summary.json",
               anonymize_summary(sha256(policies / "kvkk.yaml"), sha256(policies / "erasure.yaml")))
    write_json(root / "reports/anonymize/residual.json", residual())
    write_json(root / "reports/train/summary.json", train_summary())
    write_json(root / "reports/eval/benchmarks.json", benchmarks())
    write_json(root / "reports/eval/leakage.json", leakage())
    # Raw data, findings, canaries and anonymized data: a miniature of the pipeline's (test_evaluate_helpers).
    from test_evaluate_helpers import make_workspace

    # 64 e-mail records: the extraction row is powered (59 prompts bound a 5 % rate); 5 canaries a class
    # against 200 references: the ×1 canary row is too (a 6-bit mean is reachable, log2 201 = 7.65).
    workspace = make_workspace(root / ".workspace", n_mail=64, per_class=5, n_references=200)
    for source, target in ((workspace["raw"], "data/raw/sample.jsonl"), (workspace["findings"], "reports/scan/findings.jsonl"),
                           (workspace["canaries"], "reports/anonymize/canaries.json"),
                           (workspace["data"] / "train.jsonl", "data/anonymized/train.jsonl"),
                           (workspace["data"] / "holdout.jsonl", "data/anonymized/holdout.jsonl")):  # fmt: skip
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / target)
    write_seen_for(root)
    scan = json.loads((root / "reports/scan/summary.json").read_text())
    scan["files"] = {str(root / "data/raw/sample.jsonl"): {**scan["files"]["data/raw/sample.jsonl"],
                                                            "sha256": sha256(root / "data/raw/sample.jsonl")}}
    write_json(root / "reports/scan/summary.json", scan)
    base_dir = root / "models/base"
    base_dir.mkdir(parents=True, exist_ok=True)
    files = {p.name: sha256(p) for p in sorted(Path(base).iterdir()) if p.is_file()} if base else {"config.json": "cd" * 32}
    if base:  # the real model, so that the spot check can load it
        for name in files:
            shutil.copyfile(Path(base) / name, base_dir / name)
    write_json(base_dir / "digest.json", {"files": files})
    adapter_dir = root / "models/adapter"
    if adapter is not None:
        shutil.copytree(adapter, adapter_dir)
    else:  # placeholders: enough for the gate, which never opens the adapter
        adapter_dir.mkdir(parents=True)
        write_json(adapter_dir / "adapter_config.json", {"peft_type": "LORA", "base_model_name_or_path": "models/base"})
        (adapter_dir / "adapter_model.safetensors").write_bytes(b"placeholder")
    if adapter is not None and base is not None:
        measure_leakage(root)
    else:
        write_json(root / "reports/eval/leakage_details.json", {"canary": {"canaries": []}, "extraction": {"targets": []}})
    seal(root)
    return root


def write_seen_for(root: Path, *, unseen: tuple[str, ...] = ()) -> None:
    """``reports/train/seen.json`` for the repository's train.jsonl: one full epoch (``unseen`` ids at 0)."""
    from test_evaluate_helpers import write_full_epoch_seen

    write_full_epoch_seen(root / "data/anonymized/train.jsonl", root / "reports/train/seen.json", unseen=unseen)


def measure_leakage(root: Path) -> None:
    """The canary and extraction figures of leakage.json and leakage_details.json, as evaluate measures them."""
    from pipeline.evaluate import EvalParams
    from pipeline.evaluate.leakage import canary_probe, canary_target, extraction_probe, load_canaries
    from pipeline.evaluate.model import load_scoring_model
    from pipeline.evaluate.targets import collect_targets
    from pipeline.hardware import choose_compute_dtype
    from pipeline.train.seen import load_seen

    config = EvalParams.model_validate(EVAL_PARAMS)
    scoring = load_scoring_model(root / "models/base", root / "models/adapter", "nf4", "cpu",
                                 choose_compute_dtype("auto", "cpu").dtype)  # fmt: skip
    seen = load_seen(root / "reports/train/seen.json")
    canaries = load_canaries(root / "reports/anonymize/canaries.json")
    sightings = {cid: c.sightings for cid, c in seen.canaries.items()}
    canary, canary_details = canary_probe(scoring, canaries, config, sightings)
    types = list(dict.fromkeys([*config.extraction.entity_types, *config.inference.entity_types]))
    targets = collect_targets([root / "data/raw/sample.jsonl"], root / "reports/scan/findings.jsonl",
                              set(seen.members()), types, scoring.tokenizer, seed=config.seed, key=TEST_KEY)
    wanted = set(config.extraction.entity_types)
    chosen = [t for t in targets.targets if t.entity_type in wanted][: config.extraction.prompts]
    chosen.append(canary_target(scoring.tokenizer, canaries))
    secrets = frozenset(c["secret"] for c in canaries.canaries)
    extraction, extraction_details = extraction_probe(scoring, chosen, config, None, secrets)
    report = json.loads((root / "reports/eval/leakage.json").read_text())
    report["canary"] = canary
    report["extraction"] = {**report["extraction"], **extraction}
    write_json(root / "reports/eval/leakage.json", report)
    write_json(root / "reports/eval/leakage_details.json", {"canary": canary_details, "extraction": extraction_details})


def edit_doc(doc: dict, path: tuple[str, ...], value) -> None:
    """Set (or with value=DELETE, remove) the key at ``path`` (one key per level) of a document."""
    *parents, last = path
    for part in parents:
        doc = doc[part]
    if value is DELETE:
        del doc[last]
    else:
        doc[last] = value


def edit_json(path: Path, dotted: str, value) -> None:
    """Set (or with value=DELETE, remove) one dotted key of a JSON report."""
    data = json.loads(path.read_text(encoding="utf-8"))
    edit_doc(data, tuple(dotted.split(".")), value)
    path.write_text(json.dumps(data), encoding="utf-8")


DELETE = object()

TODAY = dt.date(2026, 6, 1)


def paths_for(root: Path):
    """The EvidencePaths of a repository made by :func:`make_repo` (absolute paths)."""
    from pipeline.release import EvidencePaths

    return EvidencePaths(
        scan_summary=root / "reports/scan/summary.json",
        anonymize_summary=root / "reports/anonymize/summary.json",
        residual=root / "reports/anonymize/residual.json",
        train_summary=root / "reports/train/summary.json",
        seen=root / "reports/train/seen.json",
        benchmarks=root / "reports/eval/benchmarks.json",
        leakage=root / "reports/eval/leakage.json",
        leakage_details=root / "reports/eval/leakage_details.json",
        findings=root / "reports/scan/findings.jsonl",
        canaries=root / "reports/anonymize/canaries.json",
        adapter=root / "models/adapter",
        base=root / "models/base",
        train_data=root / "data/anonymized/train.jsonl",
        holdout_data=root / "data/anonymized/holdout.jsonl",
        params=root / "params.yaml",
        dvc_yaml=root / "dvc.yaml",
        dvc_lock=root / "dvc.lock",
        sources=root / "policies/sources.yaml",
        erasure=root / "policies/erasure.yaml",
        anonymization_policy=root / "policies/kvkk.yaml",
    )


def signed_bundle(root: Path, model_dir: Path, key, seed: int = 0):
    """Signoff on a fresh repository with a real adapter (``seed`` picks its weights)."""
    from pipeline.release import load_release_policy, signoff

    adapter = build_tiny_adapter(model_dir, root / "adapter-src", seed=seed)
    repo = make_repo(root / "repo", adapter=adapter, base=model_dir)
    policy = load_release_policy(repo / "policies/release.yaml")
    return repo, signoff(paths_for(repo), policy, repo / "release", key, today=TODAY, pseudonym_key=TEST_KEY)


def build_tiny_adapter(model_dir: Path, out: Path, seed: int = 0) -> Path:
    """A real PEFT LoRA adapter (r=4, all linear layers) on the tiny model, untrained.

    ``init_lora_weights=False`` draws B at random instead of zeros, so the adapter changes
    the model's outputs as a trained one would, and merging or swapping it is observable.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))
    peft_model.save_pretrained(out)
    return out
