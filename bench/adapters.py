"""Serving many adapters: the cost of switching between them, served throughput, size on disk.

Issue #17 "Performance (a benchmark, not a timed test)". One run measures, each against an
anchor measured in the same run on the same machine:

* **switch cost** — a 32-new-token greedy request through :meth:`AdapterSet.generate` (the
  code ``mahrem serve`` and ``mahrem generate`` run, ``set_adapter`` included), repeated on
  adapter A, against the same request alternating A / B. The overhead of one switch is
  ``(median alternating − median same) / median same``; the two are interleaved in pairs so
  that a neighbour's load hits both alike. Because that difference is small against the
  noise of a shared machine, ``set_adapter`` is also timed alone (switching vs re-setting
  the same adapter, many calls) and given as a fraction of one request. Target ≤ 5 %.
* **served requests/s** — the real ``ChatService`` behind the real ``ChatServer`` on
  127.0.0.1 (an ephemeral port), driven by the official ``openai`` client, one request at a
  time (generation is serialised anyway): N requests all to adapter A against N alternating
  A / B, in interleaved blocks. Target: mixed ≥ 0.8× single.
* **size on disk** — the adapter's files against the base's.

The adapters are two of the default LoRA config (``pipeline.train.config.LoraParams``: r,
alpha, ``all-linear``), made with PEFT on the base and given seeded non-zero B weights
(normal, std 0.02 — the size of trained updates, so the model stays fluent and answers run to
32 tokens; PEFT's own random init would add updates large enough to derail it), saved to a
temporary directory. They are **not signed bundles**: a signed bundle needs a full signoff,
whose leakage spot check alone takes longer on this base than the whole bench. So the bench
builds the model state that :class:`~pipeline.release.generate.AdapterSet` builds (base once,
``PeftModel.from_pretrained`` then ``load_adapter``) without the start-up verification, and
everything a request goes through after start-up — HTTP, JSON, the queue and lock,
``set_adapter``, ``generate`` — is the real code. Verification runs once at start-up and
is not part of a request's cost.

The base is ``models/base`` (SmolLM2-135M-Instruct) when it exists; otherwise (or with
``--tiny``) the tiny random Llama of ``tests/conftest.py``, and the output says so — those
figures only show that the bench runs.

Measured with the default settings (2026-12-07, SmolLM2-135M float32, 2 threads of an AMD EPYC,
bench/results/adapters.json): one 32-token request 2.69 s median (IQR 0.21 s, n=20) on A alone,
2.73 s (IQR 0.25 s, n=20) alternating → +1.3 % per switch; ``set_adapter`` itself 14.6 ms per
call whether it switches or not (0.54 % of a request; switching adds 0.2 ms) — target ≤ 5 %.
Served: 0.297 req/s on one adapter, 0.286 req/s alternating two → ×0.96 (target ≥ ×0.8; 24
requests each). Adapter 19.6 MB (float32) vs base weights 538 MB → 3.6 %.

    .venv/bin/python bench/adapters.py                       # SmolLM2, ~5 min on 2 CPU threads
    .venv/bin/python bench/adapters.py --requests 40 --reps 20
    .venv/bin/python bench/adapters.py --tiny --requests 4 --reps 3 --json /tmp/a.json   # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_OUT = REPO / "bench" / "results" / "adapters.json"
NEW_TOKENS = 32
PROMPT = ("Bir müşteri kargosunun üç gündür gelmediğini yazıyor. Ona nazik, ayrıntılı bir yanıt yaz: "
          "özür dile, kargonun nerede olabileceğini açıkla ve ne yapacağını adım adım anlat.")


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _spread(values: list[float]) -> dict:
    """n, median, interquartile range (and min / max) of ``values``."""
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else (values[0],) * 3
    return {"n": len(values), "median": q2, "q1": q1, "q3": q3, "iqr": q3 - q1, "min": min(values), "max": max(values)}


def _tiny_base(directory: Path) -> Path:
    """tests/conftest.py's tiny random Llama with a chat template (for smoke runs and machines without models/base)."""
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import build_tiny_llama, build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer()
    build_tiny_llama(tokenizer).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def make_adapter(base: Path, out: Path, seed: int) -> Path:
    """A LoRA adapter of the default train config on ``base``, with seeded non-zero B (std 0.02)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from pipeline.train.config import LoraParams

    params = LoraParams()
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32, local_files_only=True)
    peft_model = get_peft_model(model, LoraConfig(r=params.r, lora_alpha=params.alpha, lora_dropout=params.dropout,
                                                  target_modules=params.target_modules, task_type="CAUSAL_LM"))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.02)
    peft_model.save_pretrained(out)
    return out


def load_adapter_set(adapters: dict[str, Path], base: Path, dtype: str):
    """An :class:`AdapterSet` holding what its constructor builds — base once, each adapter by name —
    loaded from unsigned PEFT directories (no verification: see the module docstring)."""
    import torch
    from peft import PeftModel

    from pipeline.release.adapters import load_base, resolve_dtype
    from pipeline.release.generate import AdapterSet, BundleInfo

    models = AdapterSet.__new__(AdapterSet)
    models.device = torch.device("cpu")
    models.dtype = resolve_dtype(dtype)
    models.bundles = {name: BundleInfo(path, f"bench-{name}", str(base)) for name, path in adapters.items()}
    models._stack = contextlib.ExitStack()
    models.model, models.tokenizer = load_base(base, models.dtype)
    models.peft_model = None
    for name, path in adapters.items():
        if models.peft_model is None:
            models.peft_model = PeftModel.from_pretrained(models.model, path, adapter_name=name)
        else:
            models.peft_model.load_adapter(path, adapter_name=name)
    models.peft_model.eval()
    return models


def switch_cost(models, reps: int) -> dict:
    """Per-request seconds on A alone vs alternating A/B (interleaved pairs), and ``set_adapter`` alone."""
    request = {"max_new_tokens": NEW_TOKENS, "temperature": 0.0}
    models.generate(PROMPT, "b", **request)  # warm-up (first-call allocations), ending on A: in the loop
    models.generate(PROMPT, "a", **request)  # below, "same" calls never switch and "alternating" ones always do
    same, alternating, tokens = [], [], []
    for _ in range(reps):
        # same: A then A (the second call does not switch); alternating: B then A (each call switches)
        for sequence, bucket in ((("a", "a"), same), (("b", "a"), alternating)):
            for adapter in sequence:
                start = time.perf_counter()
                out = models.generate(PROMPT, adapter, **request)
                bucket.append(time.perf_counter() - start)
                tokens.append(out.completion_tokens)
    # set_adapter alone: switching each call vs setting the adapter already active.
    peft_model, calls = models.peft_model, 200
    timings = {}
    for label, names in (("same", ["a"] * calls), ("switch", ["a", "b"] * (calls // 2))):
        start = time.perf_counter()
        for name in names:
            peft_model.set_adapter(name, inference_mode=True)
        timings[label] = (time.perf_counter() - start) / len(names)
    same_s, alt_s = _spread(same), _spread(alternating)
    overhead = (alt_s["median"] - same_s["median"]) / same_s["median"]
    set_adapter_switch = timings["switch"] / same_s["median"]
    return {
        "new_tokens": NEW_TOKENS,
        "all_answers_full_length": all(t == NEW_TOKENS for t in tokens),
        "completion_tokens": _spread([float(t) for t in tokens]),
        "same_adapter_s": same_s,
        "alternating_s": alt_s,
        "overhead_per_switch_vs_request": overhead,
        "set_adapter_s": {"switching": timings["switch"], "same_adapter": timings["same"], "calls": calls},
        "set_adapter_switch_vs_request": set_adapter_switch,
        "target": "<= 0.05",
        "meets_target": max(overhead, set_adapter_switch) <= 0.05,
    }


def served_throughput(models, requests: int, blocks: int) -> dict:
    """Requests/s through the real server and the openai client: one adapter vs alternating two."""
    import openai

    from pipeline.release.serve import ChatServer, ChatService

    server = ChatServer("127.0.0.1", 0)
    server.listen(ChatService(models, max_tokens=NEW_TOKENS, warnings_for=lambda bundle: []))  # not registry bundles
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=600)

    def ask(model: str) -> int:
        response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": PROMPT}],
                                                  max_tokens=NEW_TOKENS, temperature=0)
        return response.usage.completion_tokens

    try:
        ask("a")
        ask("b")  # warm-up
        per_block = max(2, requests // blocks)
        per_block += per_block % 2  # alternating blocks have as many A as B
        seconds = {"single": 0.0, "mixed": 0.0}
        counts = {"single": 0, "mixed": 0}
        tokens = {"single": 0, "mixed": 0}
        block_rates: dict[str, list[float]] = {"single": [], "mixed": []}
        for _ in range(blocks):
            for mode in ("single", "mixed"):
                names = ["a"] * per_block if mode == "single" else ["a", "b"] * (per_block // 2)
                start = time.perf_counter()
                done = sum(ask(name) for name in names)
                took = time.perf_counter() - start
                seconds[mode] += took
                counts[mode] += len(names)
                tokens[mode] += done
                block_rates[mode].append(len(names) / took)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    rate = {mode: counts[mode] / seconds[mode] for mode in seconds}
    return {
        "requests_per_mode": counts["single"],
        "blocks": blocks,
        "single_adapter": {"requests_per_s": rate["single"], "tokens_per_s": tokens["single"] / seconds["single"],
                           "block_requests_per_s": _spread(block_rates["single"])},
        "mixed_adapters": {"requests_per_s": rate["mixed"], "tokens_per_s": tokens["mixed"] / seconds["mixed"],
                           "block_requests_per_s": _spread(block_rates["mixed"])},
        "mixed_vs_single": rate["mixed"] / rate["single"],
        "target": ">= 0.8",
        "meets_target": rate["mixed"] / rate["single"] >= 0.8,
    }


def sizes(adapter: Path, base: Path) -> dict:
    adapter_bytes = sum(p.stat().st_size for p in adapter.iterdir() if p.is_file())
    weights = [p for p in base.iterdir() if p.suffix == ".safetensors"]
    base_bytes = sum(p.stat().st_size for p in weights)
    return {"adapter_bytes": adapter_bytes, "base_weights_bytes": base_bytes, "adapter_vs_base": adapter_bytes / base_bytes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Writes --json.")
    parser.add_argument("--base", type=Path, default=REPO / "models/base", help="HF model directory (default models/base)")
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny random model instead (smoke run)")
    parser.add_argument("--requests", type=int, default=24, help="served requests per mode (default 24)")
    parser.add_argument("--blocks", type=int, default=4, help="interleaved single/mixed blocks (default 4)")
    parser.add_argument("--reps", type=int, default=10, help="same/alternating request pairs for the switch cost")
    parser.add_argument("--dtype", default="auto", help="model dtype (default auto: as serve chooses)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--json", type=Path, default=DEFAULT_OUT, help=f"output (default {DEFAULT_OUT.relative_to(REPO)})")
    args = parser.parse_args()
    if args.requests < 2 or args.reps < 2 or args.blocks < 1:
        parser.error("--requests and --reps must be at least 2, --blocks at least 1")

    import peft
    import torch
    import transformers

    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mahrem-bench-adapters-") as tmp:
        tmp_path = Path(tmp)
        base, note = args.base, "models/base (SmolLM2-135M-Instruct)" if args.base == REPO / "models/base" else str(args.base)
        if args.tiny or not (base / "config.json").is_file():
            why = "--tiny" if args.tiny else f"{base} does not exist"
            base = _tiny_base(tmp_path / "tiny")
            note = f"TINY random Llama from tests/conftest.py ({why}): these figures only show that the bench runs"
            print(f"note: {note}", file=sys.stderr)
        adapters = {name: make_adapter(base, tmp_path / name, seed) for seed, name in enumerate(("a", "b"))}
        models = load_adapter_set(adapters, base, args.dtype)
        started = time.perf_counter()
        switching = switch_cost(models, args.reps)
        served = served_throughput(models, args.requests, args.blocks)
        disk = sizes(adapters["a"], base)
        elapsed = time.perf_counter() - started
        dtype = models.dtype
    from pipeline.train.config import LoraParams

    lora = LoraParams()
    report = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
        "command": "python bench/adapters.py " + " ".join(sys.argv[1:]),
        "base": note,
        "adapters": {"r": lora.r, "alpha": lora.alpha, "target_modules": lora.target_modules,
                     "b_init": "seeded normal, std 0.02", "signed": False},
        "machine": {"cpu": _cpu_model(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "dtype": dtype, "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
        "switch": switching,
        "served": served,
        "size": disk,
        "measured_s": round(elapsed, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    s, v, d = switching, served, disk
    print(
        f"base: {note}\n"
        f"switch: one request {s['same_adapter_s']['median'] * 1000:.0f} ms median (IQR "
        f"{s['same_adapter_s']['iqr'] * 1000:.0f} ms, n={s['same_adapter_s']['n']}); alternating "
        f"{s['alternating_s']['median'] * 1000:.0f} ms (IQR {s['alternating_s']['iqr'] * 1000:.0f} ms, "
        f"n={s['alternating_s']['n']}) → {s['overhead_per_switch_vs_request']:+.1%} per switch; set_adapter alone "
        f"{s['set_adapter_s']['switching'] * 1000:.2f} ms = {s['set_adapter_switch_vs_request']:.2%} of a request "
        f"(target ≤ 5 %)\n"
        f"served: single {v['single_adapter']['requests_per_s']:.3f} req/s, mixed "
        f"{v['mixed_adapters']['requests_per_s']:.3f} req/s → ×{v['mixed_vs_single']:.2f} "
        f"(target ≥ ×0.8; n={v['requests_per_mode']} each)\n"
        f"size: adapter {d['adapter_bytes'] / 1e6:.1f} MB vs base {d['base_weights_bytes'] / 1e6:.1f} MB → "
        f"{d['adapter_vs_base']:.1%}\n"
        f"load average before/after: {report['machine']['load_average_before']} / "
        f"{report['machine']['load_average_after']} on {os.cpu_count()} CPUs\n"
        f"written: {args.json}"
    )


if __name__ == "__main__":
    main()
