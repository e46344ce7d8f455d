"""The training recipe: one visible loop, nanoGPT/torchtune style.

Why not transformers' ``Trainer``: exact resume after ``kill -9`` needs the data
position, every RNG and the metric history in one atomic checkpoint that lives outside
the DVC outputs, and the loss must be normalised over the assistant tokens of a whole
optimizer step; with ``Trainer`` that is a sampler subclass, a callback and a
``compute_loss`` override spread over three places, while here it is the forty lines of
:func:`train_adapter`'s loop.

Order of one optimizer step: ``grad_accum`` micro-batches (forward, loss summed over the
labelled tokens, backward with the step's token count as divisor), gradient clipping,
AdamW step, scheduler step; then, when due, the holdout evaluation and the checkpoint;
then DVCLive and the progress callback.

Under ``accelerate launch`` (several processes) the same loop runs on every rank, each
rank taking its share of a step's micro-batches and the gradients being summed before the
step: :mod:`pipeline.train.distributed` says how, and why the result equals the
single-process one. Only rank 0 writes.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import math
import os
import resource
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pipeline.config import chain_record
from pipeline.hardware import MachineSettings, choose_settings, torch_threads
from pipeline.io import InputError, atomic_dir, atomic_write, write_json
from pipeline.reports import check_report
from pipeline.reports.train import TrainSummary
from pipeline.train.checkpoint import (
    Progress,
    latest_checkpoint,
    restore_rng,
    run_digest,
    save_checkpoint,
    source_digest,
    tree_digest,
)
from pipeline.train.config import TrainParams
from pipeline.train.distributed import SINGLE, Dist, idle_warning, micro_batch_rng
from pipeline.train.distributed import setup as setup_distributed
from pipeline.train.errors import BaseLoadError
from pipeline.train.data import IGNORE_INDEX, TokenizedData, collate, epoch_batches, eval_batches, load_tokenized
from pipeline.train.model import (
    attach_lora,
    autocast,
    load_base,
    load_tokenizer,
    load_trainable_state,
    pick_device,
    token_loss_sum,
    trainable_state,
)
from pipeline.train.seen import SeenRecords, build_seen, check_seen, tally_seen, write_seen

ProgressCallback = Callable[[int, int, dict[str, float]], None]

SUMMARY_FILE = "summary.json"
# Which records of train.jsonl were trained on, how often (ids and counts only; pipeline/train/seen.py).
SEEN_FILE = "seen.json"
LIVE_DIR = "live"
REPORT_FILE = "report.html"
# train_loss_final is the mean of the last few step losses: a single step's loss on four
# records is too noisy to compare runs by.
FINAL_LOSS_WINDOW = 5
_SCHEDULES = {"cosine": "cosine", "linear": "linear", "constant": "constant_with_warmup"}
# Parameters that do not change a single bit of the trained adapter or its metric history.
_NOT_IN_RUN_DIGEST = ("checkpoint_every", "keep_checkpoints", "processes", "accelerate_config")


@dataclass(frozen=True)
class TrainResult:
    out_dir: Path
    report_dir: Path
    steps: int
    holdout_loss_base: float
    holdout_loss_adapter: float
    resumed_from_step: int | None
    summary: dict[str, Any]
    # False on the other ranks of a multi-process run: they wrote nothing (rank 0 wrote the outputs).
    main_process: bool = True


def _versions() -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in ("torch", "transformers", "peft", "bitsandbytes")}


def resolve_machine_settings(config: TrainParams, device: torch.device) -> tuple[TrainParams, MachineSettings]:
    """``config`` with ``compute_dtype`` and ``threads`` made concrete for this machine, and why.

    Everything downstream (the model, autocast, the run digest that keys checkpoints) sees the
    concrete values, so a checkpoint written under float32 is never resumed under bfloat16.
    """
    settings = choose_settings(config.compute_dtype, config.threads, device.type)
    update = {"compute_dtype": settings.dtype.dtype, "threads": settings.threads.threads}
    return config.model_copy(update=update), settings


@contextlib.contextmanager
def _torch_settings(config: TrainParams, device: torch.device):
    """Thread count and determinism for the run, restored afterwards (the process is shared in tests)."""
    deterministic_before = torch.are_deterministic_algorithms_enabled()
    if device.type == "cuda":
        # cuBLAS is only reproducible with a fixed workspace; must be set before its first use.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with torch_threads(config.threads) as threads:
            yield threads
    finally:
        torch.use_deterministic_algorithms(deterministic_before)


def _portable_base_name(base_dir: Path) -> str:
    """What adapter_config.json records as the base: a relative path, never this machine's absolute one."""
    if not base_dir.is_absolute():
        return base_dir.as_posix()
    with contextlib.suppress(ValueError):
        return base_dir.relative_to(Path.cwd()).as_posix()
    return base_dir.name


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {key: value.to(device) for key, value in batch.items()}


def eval_subset(holdout: Any, eval_records: int) -> Any:
    """The holdout rows the train stage scores: the first ``eval_records`` in file order (0 = all).

    Rows are the usable records (those with a label token), in the order of holdout.jsonl.
    """
    if not eval_records or eval_records >= len(holdout):
        return holdout
    return holdout.select(range(eval_records))


def _label_tokens(rows: Any) -> int:
    """Tokens scored in ``rows``: labelled tokens after the first (nothing predicts the first)."""
    return sum(sum(1 for label in labels[1:] if label != IGNORE_INDEX) for labels in rows["labels"])


@torch.no_grad()
def holdout_loss(
    model: Any, holdout: Any, config: TrainParams, pad_id: int, device: torch.device, dist: Dist = SINGLE
) -> float:
    """Mean next-token loss over the holdout's learned (assistant) tokens, same masking as training.

    With several processes the batches are dealt over the ranks and the per-batch sums put
    back in order (:meth:`Dist.placed_sum`), so the figure is the single-process one.
    """
    was_training = model.training
    model.eval()
    _keep_4bit_layers_trainable(model)
    batches = eval_batches(list(holdout["length"]), config.eval_batch_size)
    sums: dict[int, float] = {}
    counts: dict[int, float] = {}
    for position in dist.share(len(batches)):
        with autocast(device, config):
            loss_sum, n = token_loss_sum(model, _to(collate(holdout[batches[position]], pad_id), device))
        sums[position] = float(loss_sum)
        counts[position] = n
    if dist.active:
        sums = dict(enumerate(dist.placed_sum(sums, len(batches))))
        counts = dict(enumerate(dist.placed_sum(counts, len(batches))))
    total, count = 0.0, 0
    for position in range(len(batches)):
        total += sums[position]
        count += int(counts[position])
    model.train(was_training)
    return total / count


def optimizer_step(
    model: Any,
    batches: list[dict[str, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    config: TrainParams,
    device: torch.device,
    *,
    dist: Dist = SINGLE,
    first_micro_batch: int = 0,
) -> tuple[float, int]:
    """One optimizer step over ``batches`` (its micro-batches); returns (mean loss, labelled tokens).

    Each micro-batch's summed loss is divided by the labelled tokens of the whole step, so
    the gradient is the mean over every assistant token of the step, whatever the split.
    With several processes (``dist``) this rank runs only its share of ``batches`` and the
    gradients are summed over the ranks before clipping (:mod:`pipeline.train.distributed`).
    ``first_micro_batch`` is the global index of ``batches[0]`` (it seeds dropout masks).
    """
    step_labels = sum(int((b["labels"][:, 1:] != IGNORE_INDEX).sum()) for b in batches)
    losses: dict[int, float] = {}
    for position in dist.share(len(batches)):
        with micro_batch_rng(config.lora.dropout, config.seed, first_micro_batch + position, device):
            with autocast(device, config):
                loss_sum, _ = token_loss_sum(model, _to(batches[position], device))
            (loss_sum / step_labels).backward()
        losses[position] = float(loss_sum.detach())
    if dist.active:
        dist.sum_gradients([p for group in optimizer.param_groups for p in group["params"]])
        losses = dict(enumerate(dist.placed_sum(losses, len(batches))))
    step_loss = 0.0
    for position in range(len(batches)):
        step_loss += losses[position]
    if config.max_grad_norm:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return step_loss / step_labels, step_labels


def _keep_4bit_layers_trainable(model: Any) -> None:
    """Leave bitsandbytes' 4-bit layers in training mode while the rest is in eval mode.

    On a CPU with AVX512-BF16, bitsandbytes 0.50 repacks a ``Linear4bit`` weight in place
    into an inference-only layout the first time the layer runs in eval mode, and that
    layout has no autograd: training after an evaluation would then silently get no
    gradient through the frozen base layers (torch warns "gemv_4bit: an autograd kernel
    was not registered"). The layer's mode changes nothing else, and LoRA dropout (its
    own module) stays off.
    """
    from bitsandbytes.nn import Linear4bit

    for module in model.modules():
        if isinstance(module, Linear4bit):
            module.train(True)


def _describe_shares(shares: list[tuple[int, int]], micro_batches: int) -> str:
    """Which process ran how many of this session's micro-batches (process ids and counts only)."""
    parts = [f"rank {rank} (pid {pid}) ran {ran}" for rank, (pid, ran) in enumerate(shares)]
    return f"micro-batches per process: {', '.join(parts)} of {micro_batches}"


def _log_live(live: Any, record: dict[str, float]) -> None:
    if live is None:  # not the main process: rank 0 logs
        return
    live.step = int(record["step"])
    if "loss" in record:
        live.log_metric("train/loss", record["loss"])
        live.log_metric("train/lr", record["lr"])
        live.log_metric("train/tokens_per_s", record["tokens_per_s"])
    if "holdout_loss" in record:
        live.log_metric("eval/holdout_loss", record["holdout_loss"])
    live.sync()


def _open_live(report_dir: Path) -> Any:
    from dvclive import Live

    # No dvc.yaml edits, no experiment commits, no report: the stage's dvc.yaml declares the plots.
    return Live(dir=str(report_dir / LIVE_DIR), dvcyaml=None, save_dvc_exp=False, report=None)


def train_adapter(
    base_dir: Path,
    data_dir: Path,
    out_dir: Path,
    report_dir: Path,
    config: TrainParams,
    *,
    device: str | None = None,
    work_dir: Path = Path(".mahrem/train"),
    progress: ProgressCallback | None = None,
    announce: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train a LoRA adapter on ``data_dir/train.jsonl``; write it to ``out_dir`` (PEFT format).

    ``report_dir`` receives ``summary.json`` (metrics), ``seen.json`` (which records of
    ``train.jsonl`` were trained on, how often: :mod:`pipeline.train.seen`), ``live/``
    (DVCLive curves) and ``report.html``. The holdout loss uses the first
    ``config.eval_records`` usable holdout records. Checkpoints and the tokenization cache
    go under ``work_dir``; a run interrupted in any way resumes from its last checkpoint
    when started again with the same inputs and params, and ends with the same adapter
    bytes (and the same ``seen.json``) as an uninterrupted run.
    ``progress(step, total_steps, metrics)`` is called after base evaluation (step 0) and
    after each optimizer step, with counts and losses only. ``announce`` receives one line
    saying which compute dtype and thread count were chosen for this machine, and why.

    Under ``accelerate launch`` with several processes every rank calls this; the result is
    the single-process one (:mod:`pipeline.train.distributed`). ``progress`` and ``announce``
    are called on rank 0 only, which alone writes; the other ranks return a result with
    ``main_process`` False and an empty ``summary``.
    """
    started = time.perf_counter()
    base_dir, data_dir, out_dir, report_dir, work_dir = map(Path, (base_dir, data_dir, out_dir, report_dir, work_dir))
    dist, device = setup_distributed(device)
    dev = pick_device(device)
    if not dist.main:
        progress = announce = None
    if not base_dir.is_dir():
        raise InputError(f"{base_dir}: no such directory. Build the base model first (`mahrem base`).")
    config, settings = resolve_machine_settings(config, dev)
    if announce is not None:
        announce(settings.describe())
        if dist.active:
            batch = f"{config.batch_size} × {config.grad_accum} = {config.batch_size * config.grad_accum}"
            announce(f"data parallel over {dist.describe()}; global batch {batch} records per optimizer step")
    idle = idle_warning(dist, config.grad_accum) if dist.main else None
    if idle is not None:
        if announce is not None:
            announce(f"warning: {idle}")
        else:
            warnings.warn(idle, stacklevel=2)
    with _torch_settings(config, dev) as threads:
        tokenizer = load_tokenizer(base_dir)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if pad_id is None:
            raise BaseLoadError(f"{base_dir}: the tokenizer has neither a pad nor an EOS token to pad batches with.")
        with dist.main_first():  # rank 0 writes the tokenization cache, the others then read it
            data = load_tokenized(tokenizer, data_dir, work_dir, config.max_seq_len)
        holdout = eval_subset(data.holdout, config.eval_records)

        from transformers import get_scheduler, set_seed

        set_seed(config.seed)
        model = attach_lora(load_base(base_dir, config, dev), config)
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)

        lengths = list(data.train["length"])
        batches_per_epoch = len(
            epoch_batches(lengths, config.batch_size, config.seed, 0, group_by_length=config.group_by_length)
        )
        total_micro = config.epochs * batches_per_epoch
        total_steps = math.ceil(total_micro / config.grad_accum)
        if config.max_steps:
            total_steps = min(total_steps, config.max_steps)
        scheduler = get_scheduler(
            _SCHEDULES[config.lr_schedule],
            optimizer,
            num_warmup_steps=config.warmup_steps,
            num_training_steps=total_steps,
        )

        params_material = config.model_dump(mode="json", exclude=set(_NOT_IN_RUN_DIGEST))
        material = {
            "data": data.data_digests,
            "base": tree_digest(base_dir),
            "tokenizer_cache": data.cache_dir.name,
            "params": params_material,
            "device": dev.type,
            "threads": threads,
            "versions": _versions(),
            "source": source_digest(),
        }
        if dist.active:
            # The gradient sum's float order depends on the number of processes: a checkpoint is
            # resumed bit for bit only by as many processes as wrote it.
            material["processes"] = dist.world
        digest = run_digest(material)
        run_dir = work_dir / "checkpoints" / digest
        with dist.main_first():  # rank 0 sweeps interrupted temporaries; every rank loads the same checkpoint
            checkpoint = latest_checkpoint(run_dir, digest)
        state = Progress()
        resumed_from = None
        if checkpoint is not None:
            load_trainable_state(model, checkpoint.trainable)
            optimizer.load_state_dict(checkpoint.state["optimizer"])
            scheduler.load_state_dict(checkpoint.state["scheduler"])
            restore_rng(checkpoint)
            state = checkpoint.progress
            resumed_from = checkpoint.step

        live = _open_live(report_dir) if dist.main else None
        for record in state.history:
            _log_live(live, record)
        if checkpoint is None:
            base_loss = holdout_loss(model, holdout, config, pad_id, dev, dist)
            state.history.append({"step": 0, "holdout_loss": base_loss})
            _log_live(live, state.history[-1])
        if progress is not None:
            progress(0, total_steps, {"holdout_loss": state.history[0]["holdout_loss"]})

        orders: dict[int, list[list[int]]] = {}

        def micro_batch(index: int) -> list[int]:
            epoch, position = divmod(index, batches_per_epoch)
            if epoch not in orders:
                orders.clear()
                orders[epoch] = epoch_batches(
                    lengths, config.batch_size, config.seed, epoch, group_by_length=config.group_by_length
                )
            return orders[epoch][position]

        model.train()
        ran, first = 0, state.micro_batch  # micro-batches this process ran of this session's (from `first`)
        while state.step < total_steps:
            tick = time.perf_counter()
            last = min(state.micro_batch + config.grad_accum, total_micro)
            batches = [collate(data.train[micro_batch(i)], pad_id) for i in range(state.micro_batch, last)]
            lr = scheduler.get_last_lr()[0]
            step_loss, step_labels = optimizer_step(
                model, batches, optimizer, scheduler, config, dev, dist=dist, first_micro_batch=state.micro_batch
            )
            ran += len(dist.share(len(batches)))
            seconds = time.perf_counter() - tick

            nonpad = sum(int(b["attention_mask"].sum()) for b in batches)
            state.step += 1
            state.micro_batch = last
            state.tokens_seen += sum(b["input_ids"].numel() for b in batches)
            state.tokens_nonpad += nonpad
            state.tokens_trained += step_labels
            state.train_seconds += seconds
            record = {"step": state.step, "loss": step_loss, "lr": lr, "tokens_per_s": nonpad / seconds}
            if state.step == total_steps or (config.eval_every and state.step % config.eval_every == 0):
                record["holdout_loss"] = holdout_loss(model, holdout, config, pad_id, dev, dist)
            state.history.append(record)
            if dist.main and config.checkpoint_every and state.step % config.checkpoint_every == 0:
                save_checkpoint(run_dir, state, trainable_state(model), optimizer, scheduler, digest)
            _log_live(live, record)
            if progress is not None:
                progress(state.step, total_steps, {k: v for k, v in record.items() if k != "step"})
        if dist.active:
            shares = dist.gather((os.getpid(), ran))
            if announce is not None:
                announce(_describe_shares(shares, state.micro_batch - first))
        if not dist.main:
            dist.barrier()  # until rank 0 has written the adapter and the reports
            return TrainResult(
                out_dir=out_dir,
                report_dir=report_dir,
                steps=state.step,
                holdout_loss_base=state.history[0]["holdout_loss"],
                holdout_loss_adapter=state.history[-1]["holdout_loss"],
                resumed_from_step=resumed_from,
                summary={},
                main_process=False,
            )
        live.end()

        # Computed from the deterministic order, not counted in the loop: a resumed run writes the same file.
        seen = build_seen(
            data_dir / "train.jsonl",
            tally_seen(
                list(data.train["record_id"]),
                lengths,
                batch_size=config.batch_size,
                seed=config.seed,
                group_by_length=config.group_by_length,
                batches_per_epoch=batches_per_epoch,
                micro_batches=state.micro_batch,
            ),
            steps=state.step,
            micro_batches=state.micro_batch,
            batches_per_epoch=batches_per_epoch,
            train_sha256=data.data_digests["train"],
            max_seq_len=config.max_seq_len,
        )
        check_seen(seen, data_dir / "train.jsonl", seen_path=report_dir / SEEN_FILE)
        write_seen(report_dir / SEEN_FILE, seen)

        model.peft_config["default"].base_model_name_or_path = _portable_base_name(base_dir)
        targets = model.peft_config["default"].target_modules
        if isinstance(targets, (set, frozenset)):
            # PEFT keeps the matched module names as a set, written in an order that changes from process to
            # process (string hashing): sorted, adapter_config.json has the same bytes on every run.
            model.peft_config["default"].target_modules = sorted(targets)
        with atomic_dir(out_dir) as tmp, warnings.catch_warnings():
            # PEFT looks the (now relative) base name up to see if the vocabulary grew; it did not.
            warnings.filterwarnings("ignore", message="Could not find a config file")
            model.save_pretrained(str(tmp))
            # PEFT adds a placeholder model card; the release stage writes the real one.
            (tmp / "README.md").unlink(missing_ok=True)

        trainable_params, total_params = model.get_nb_trainable_parameters()
        summary = _summary(
            config=config,
            data=data,
            state=state,
            device=dev,
            threads=threads,
            wall_s=time.perf_counter() - started,
            trainable_params=trainable_params,
            total_params=total_params,
            batches_per_epoch=batches_per_epoch,
            resumed_from=resumed_from,
            machine=settings.as_record(),
            holdout=holdout,
            seen=seen,
        )
        # The chain of custody: the data and base it trained on, the adapter and seen.json it wrote.
        summary["chain"] = chain_record(
            [data_dir / "train.jsonl", data_dir / "holdout.jsonl", base_dir / "digest.json"],
            [*(p for p in sorted(out_dir.iterdir()) if p.is_file()), report_dir / SEEN_FILE],
        )
        # Through its model (pipeline.reports): the same document, plus its schema_version.
        summary = check_report(TrainSummary, summary, what="train summary").to_json()
        write_json(report_dir / SUMMARY_FILE, summary)
        from pipeline.metrics import METRICS_FILE, train_metrics

        # headline figures (`dvc metrics show`), with the adapter's size for a rank sweep (`mahrem sweep-report`)
        write_json(report_dir / METRICS_FILE, train_metrics(summary, adapter_dir=out_dir))
        from pipeline.train.report import render_report

        with atomic_write(report_dir / REPORT_FILE) as handle:
            handle.write(render_report(summary, state.history, config))
        if not config.keep_checkpoints:
            import shutil

            shutil.rmtree(run_dir, ignore_errors=True)
        dist.barrier()  # the other ranks return once the outputs are complete

    return TrainResult(
        out_dir=out_dir,
        report_dir=report_dir,
        steps=state.step,
        holdout_loss_base=summary["holdout_loss_base"],
        holdout_loss_adapter=summary["holdout_loss_adapter"],
        resumed_from_step=resumed_from,
        summary=summary,
    )


def _summary(
    *,
    config: TrainParams,
    data: TokenizedData,
    state: Progress,
    device: torch.device,
    threads: int,
    wall_s: float,
    trainable_params: int,
    total_params: int,
    batches_per_epoch: int,
    resumed_from: int | None,
    machine: dict[str, Any],
    holdout: Any,
    seen: SeenRecords,
) -> dict[str, Any]:
    """The metrics file (a contract read by the release gate: keep the key names)."""
    losses = [r["loss"] for r in state.history if "loss" in r]
    train_stats, holdout_stats = data.stats["train"], data.stats["holdout"]
    return {
        "steps": state.step,
        "epochs": round(state.micro_batch / batches_per_epoch, 4),
        "tokens_seen": state.tokens_seen,
        "tokens_nonpad": state.tokens_nonpad,
        "tokens_trained": state.tokens_trained,
        "wall_s": round(wall_s, 2),
        "tokens_per_s": round(state.tokens_nonpad / state.train_seconds, 2) if state.train_seconds else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated(device) / 2**20, 1) if device.type == "cuda" else None,
        "trainable_params": trainable_params,
        "total_params": total_params,
        "trainable_share": round(trainable_params / total_params, 6),
        "quantization": config.quantization,
        "device": device.type,
        "seed": config.seed,
        "holdout_loss_base": state.history[0]["holdout_loss"],
        "holdout_loss_adapter": state.history[-1]["holdout_loss"],
        "train_loss_final": sum(losses[-FINAL_LOSS_WINDOW:]) / len(losses[-FINAL_LOSS_WINDOW:]) if losses else None,
        "records_train": train_stats.records,
        "records_holdout": holdout_stats.records,
        "truncated_records": train_stats.truncated,
        "truncated_records_holdout": holdout_stats.truncated,
        "records_without_labels": train_stats.without_labels + holdout_stats.without_labels,
        # The holdout rows the losses above were measured on (train.eval_records) and their scored tokens.
        "holdout_eval_records": len(holdout),
        "holdout_tokens_scored": _label_tokens(holdout),
        # seen.json in two numbers: non-canary records trained on at least once / never.
        "seen_records": len(seen.members()),
        "seen_unseen": len(seen.unseen()),
        "resumed_from_step": resumed_from,
        "threads": threads,
        "compute_dtype": config.compute_dtype,
        # What was asked for, what the machine offered and why this was chosen (pipeline/hardware.py).
        "machine": machine,
        "versions": _versions(),
    }
