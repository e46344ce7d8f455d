"""QLoRA throughput, memory and MFU on a random-initialised Llama: 4-bit NF4 base vs none.

Built for the day a GPU is lent (``bench/gpu_check.sh`` runs it); also runs on the CPU
with ``--size tiny``, which is how the test suite keeps it from rotting. The model is a
Llama of the chosen shape with seeded random weights, written once as a safetensors
checkpoint and loaded through the train stage's own code (``pipeline.train.model``:
``load_base``, ``attach_lora``, the recipe's ``optimizer_step``), so what is timed is the
pipeline's QLoRA step, not a look-alike:

* ``nf4``  — bitsandbytes NF4 + double quantisation, LoRA r=16 on every linear layer;
* ``none`` — the same LoRA on the base held in the compute dtype (plain LoRA).

Each variant runs in its own process (its peak memory is its own): two untimed warm-up
steps, then ``--steps`` timed optimizer steps on random token batches of
``--batch-size`` x ``--seq-len`` (every position labelled, no padding). Reported per
variant: tokens/s, peak GPU memory (``torch.cuda.max_memory_allocated``), peak RSS, and
MFU = achieved model FLOP/s over the device's dense bf16 peak, counting 4·N FLOPs per
token for a frozen base (forward 2N, input gradients 2N; LoRA's own weight gradients are
under 1 % of N) plus the attention score and value products. The ratio printed is
nf4 against none, measured in the same run: memory saved and speed paid for it.

    python bench/qlora_gpu.py                       # ~1.0 B parameters on CUDA, bf16 (auto)
    python bench/qlora_gpu.py --size smollm2 --tokenizer models/base --score  # + evaluate's scoring path
    python bench/qlora_gpu.py --size tiny --steps 2 # anywhere, seconds: a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_OUT = REPO / "bench" / "results" / "qlora_gpu.json"

# ~1.04 B parameters: Llama-3.2-1B's layer shape with a 32k vocabulary (tied embeddings).
SHAPES = {
    "1b": {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
           "num_key_value_heads": 8, "vocab_size": 32000},
    # SmolLM2-135M's own shape: the CUDA path of the default train and evaluate code.
    "smollm2": {"hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9,
                "num_key_value_heads": 3, "vocab_size": 49152},
    "tiny": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "vocab_size": 512},
}  # fmt: skip
# Dense bf16 tensor-core peaks (no sparsity), from the vendors' datasheets.
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10": 125e12}


def build_random_model(shape: str, directory: Path, seq_len: int, seed: int) -> int:
    """Write a seeded random-initialised Llama checkpoint; return its parameter count."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(**SHAPES[shape], max_position_embeddings=max(seq_len, 128), tie_word_embeddings=True)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(directory)
    return sum(p.numel() for p in model.parameters())


def peak_flops(device_name: str) -> float | None:
    return next((flops for name, flops in PEAK_BF16_FLOPS.items() if name in device_name), None)


def score_check(model, base_dir: Path, quantization: str, device: str, compute_dtype: str) -> dict:
    """The evaluate stage's model path on this device: the trained adapter saved, then rebuilt by
    ``load_scoring_model`` and scored with ``sequence_nll`` as base (adapter off) and as adapter."""
    import torch

    from pipeline.evaluate.model import load_scoring_model
    from pipeline.evaluate.scoring import sequence_nll

    adapter_dir = base_dir.parent / f"adapter-{quantization}"
    model.save_pretrained(str(adapter_dir))
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    scoring = load_scoring_model(base_dir, adapter_dir, quantization, device, compute_dtype)
    generator = torch.Generator().manual_seed(1)
    vocab = scoring.model.get_base_model().config.vocab_size
    sequences = [torch.randint(0, vocab, (n,), generator=generator).tolist() for n in (64, 200, 500, 1000)]
    per_token = {}
    for variant in ("base", "adapter"):
        with scoring.variant(variant) as m, torch.no_grad():
            nll, count = sequence_nll(m, sequences, batch_size=4, pad_id=0)  # padding is masked out
        per_token[variant] = float(nll.sum() / count.sum())
    return {
        "base_nll_per_token": round(per_token["base"], 5),
        "adapter_nll_per_token": round(per_token["adapter"], 5),
        "adapter_changes_scores": per_token["base"] != per_token["adapter"],
    }


def _worker(args: argparse.Namespace) -> dict:
    import torch

    from pipeline.train import TrainParams
    from pipeline.train.model import attach_lora, load_base
    from pipeline.train.recipe import optimizer_step, resolve_machine_settings

    device = torch.device(args.device)
    requested = TrainParams(quantization=args.worker, compute_dtype=args.compute_dtype, threads=args.threads,
                            max_seq_len=args.seq_len, batch_size=args.batch_size)  # fmt: skip
    config, settings = resolve_machine_settings(requested, device)
    torch.set_num_threads(config.threads)
    torch.manual_seed(args.seed)
    model = attach_lora(load_base(Path(args.model), config, device), config)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate)  # the recipe's default
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    vocab = model.get_base_model().config.vocab_size
    generator = torch.Generator().manual_seed(args.seed)

    def batch() -> dict:
        ids = torch.randint(0, vocab, (args.batch_size, args.seq_len), generator=generator)
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(2):
        optimizer_step(model, [batch()], optimizer, scheduler, config, device)
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    batches = [batch() for _ in range(args.steps)]
    start = time.perf_counter()
    for b in batches:
        loss, _ = optimizer_step(model, [b], optimizer, scheduler, config, device)
    sync()
    seconds = time.perf_counter() - start
    tokens = args.steps * args.batch_size * args.seq_len
    base = model.get_base_model()
    cfg = base.config
    n_params = int(args.params)
    # 4N per token (frozen base) + attention: QK^T and AV, forward 2 x 2 x L x T x d, backward twice that.
    attention = 3 * 2 * 2 * cfg.num_hidden_layers * args.seq_len * cfg.hidden_size
    flops_per_token = 4 * n_params + attention
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = peak_flops(name) if device.type == "cuda" else None
    achieved = flops_per_token * tokens / seconds
    scoring = score_check(model, Path(args.model), args.worker, args.device, config.compute_dtype) if args.score else None
    return {
        "scoring_path": scoring,
        "quantization": args.worker,
        "compute_dtype": config.compute_dtype,
        "dtype_reason": settings.dtype.reason,
        "device": name,
        "steps": args.steps,
        "tokens": tokens,
        "seconds": round(seconds, 3),
        "tokens_per_s": round(tokens / seconds, 1),
        "final_loss": round(float(loss), 4),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated(device) / 2**20, 1) if device.type == "cuda" else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "model_tflops": round(achieved / 1e12, 2),
        "mfu": round(achieved / peak, 4) if peak else None,
        "peak_bf16_tflops": peak / 1e12 if peak else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Writes --out (JSON).")
    parser.add_argument("--size", choices=sorted(SHAPES), default="1b")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available) | cpu | cuda | cuda:N")
    parser.add_argument("--compute-dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"])
    parser.add_argument("--threads", default="auto", help="CPU threads (auto or a number)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=1024)
    parser.add_argument("--variants", default="nf4,none", help="comma-separated: nf4, fp4, none")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tokenizer", type=Path, help="a directory with a tokenizer (with chat template) to store beside the random weights"
    )
    parser.add_argument("--score", action="store_true", help="also rebuild the trained adapter as evaluate does and score")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads != "auto":
        args.threads = int(args.threads)

    if args.worker:
        print(json.dumps(_worker(args)))
        return

    import torch

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    results = {}
    with tempfile.TemporaryDirectory(prefix="mahrem-qlora-") as tmp:
        model_dir = Path(tmp) / "base"
        params = build_random_model(args.size, model_dir, args.seq_len, args.seed)
        if args.tokenizer:
            from transformers import AutoTokenizer

            AutoTokenizer.from_pretrained(args.tokenizer).save_pretrained(model_dir)
        print(f"random Llama ({args.size}): {params / 1e9:.3f} B parameters on {args.device}", flush=True)
        for variant in variants:
            command = [sys.executable, __file__, "--worker", variant, "--model", str(model_dir), "--params", str(params)]
            command += [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
                        if k in ("device", "compute_dtype", "threads", "steps", "batch_size", "seq_len", "seed")]
            command += ["--score"] if args.score else []  # fmt: skip
            done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env={**os.environ})
            if done.returncode != 0:
                sys.exit(f"{variant} failed:\n{done.stderr[-4000:]}")
            results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{variant:>5}: {results[variant]}", flush=True)
    report = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                   if k not in ("worker", "model", "params", "out")},
        "parameters": params,
        "results": results,
    }  # fmt: skip
    if "nf4" in results and "none" in results:
        nf4, none = results["nf4"], results["none"]
        report["ratios_nf4_vs_none"] = {
            "tokens_per_s": round(nf4["tokens_per_s"] / none["tokens_per_s"], 3),
            "peak_gpu_memory": round(nf4["peak_gpu_mb"] / none["peak_gpu_mb"], 3) if none["peak_gpu_mb"] else None,
        }
        print(f"nf4 vs none: tokens/s x{report['ratios_nf4_vs_none']['tokens_per_s']}, "
              f"peak GPU memory x{report['ratios_nf4_vs_none']['peak_gpu_memory']}")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
