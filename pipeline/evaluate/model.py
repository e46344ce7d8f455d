"""Load the base once, wrap it with the adapter, and score either variant from that one load.

The adapter was trained on a quantized base (QLoRA: bitsandbytes NF4, double quantization),
so it is scored on the same quantized base, rebuilt from the ``quantization`` recorded in
``reports/train/summary.json`` (NF4 when that file is absent), in the compute dtype chosen
for this machine (``evaluate.compute_dtype: auto``: bf16 only where it is native, see
pipeline/hardware.py). lm-eval's own
``load_in_4bit`` model argument does not work under transformers 5, so the stage builds the
4-bit model and the :class:`peft.PeftModel` itself and hands both variants to lm-eval.

The base variant is the same object with the adapter switched off
(:meth:`peft.PeftModel.disable_adapter`): every LoRA layer then returns its base layer's
output unchanged, so the scores equal those of the bare base model (a test checks this) at
the cost of one model in memory instead of two.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline.config import ConfigError
from pipeline.hardware import MachineSettings
from pipeline.io import InputError

Variant = Literal["base", "adapter"]
VARIANTS: tuple[Variant, ...] = ("base", "adapter")
QUANTIZATIONS = ("nf4", "fp4", "none")
DEFAULT_QUANTIZATION = "nf4"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def read_quantization(train_summary: Path | None) -> str:
    """The base quantization the adapter was trained on (``nf4`` when not recorded)."""
    if train_summary is None or not Path(train_summary).exists():
        return DEFAULT_QUANTIZATION
    try:
        data = json.loads(Path(train_summary).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{train_summary}: not a JSON document. Re-run `mahrem train`.") from None
    value = data.get("quantization", DEFAULT_QUANTIZATION) if isinstance(data, dict) else None
    if value not in QUANTIZATIONS:
        raise ConfigError(
            f"{train_summary}: key 'quantization' must be one of {', '.join(QUANTIZATIONS)}. "
            "Re-run `mahrem train` or fix the summary."
        )
    return value


def check_model_dirs(base_dir: Path, adapter_dir: Path) -> None:
    """Fail early, with what to do, before any weights are read."""
    if not (Path(base_dir) / "config.json").is_file():
        raise InputError(
            f"{base_dir}: no Hugging Face checkpoint here (config.json missing). Run `mahrem base` first "
            "or pass --base."
        )
    adapter_dir = Path(adapter_dir)
    if not adapter_dir.is_dir():
        raise InputError(f"{adapter_dir}: no adapter directory. Run `mahrem train` first or pass --adapter.")
    if not (adapter_dir / "adapter_config.json").is_file():
        raise InputError(
            f"{adapter_dir}: not a PEFT adapter (adapter_config.json missing). Run `mahrem train` first "
            "or pass the directory that `save_pretrained` wrote."
        )
    if not any((adapter_dir / name).is_file() for name in ADAPTER_WEIGHTS):
        raise InputError(f"{adapter_dir}: adapter weights missing ({' or '.join(ADAPTER_WEIGHTS)}). Re-run `mahrem train`.")


def resolve_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested != "cpu" and not re.fullmatch(r"cuda(:\d+)?", requested):
        raise ConfigError(f"device '{requested}' is not supported by the evaluate stage. Use auto, cpu, cuda or cuda:N.")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"evaluate.device is '{requested}' but no CUDA device is available. Use 'auto' or 'cpu'.")
    return requested


def base_config(base_dir: Path) -> Any:
    """The base's config without a stale ``quantization_config``.

    The base stage converts a GGUF file and transformers records that origin as a
    ``GgufConfig`` in config.json, although the written weights are plain floats; leaving it
    there makes ``from_pretrained`` refuse any BitsAndBytesConfig.
    """
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(base_dir)
    quant = getattr(config, "quantization_config", None)
    method = quant.get("quant_method") if isinstance(quant, dict) else getattr(quant, "quant_method", None)
    if quant is not None and str(method).lower().endswith("gguf"):
        del config.quantization_config
    return config


def bnb_config(quantization: str, compute_dtype: str = "float32") -> Any:
    """The QLoRA quantization the train stage uses (DESIGN.md §5); ``None`` for ``none``."""
    if quantization == "none":
        return None
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=quantization,
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=getattr(torch, compute_dtype),
    )


@dataclass
class ScoringModel:
    """The base+adapter model, its tokenizer, and how it was built."""

    model: Any  # peft.PeftModel
    tokenizer: Any
    quantization: str
    device: str
    compute_dtype: str = "float32"
    #: Optional :class:`~pipeline.evaluate.basecache.BaseScoreCache`: base scores kept between runs.
    base_cache: Any = None

    @contextlib.contextmanager
    def variant(self, name: Variant) -> Iterator[Any]:
        """Score as ``base`` (adapter switched off) or as ``adapter`` inside this block."""
        if name == "base":
            with self.model.disable_adapter():
                yield self.model
        elif name == "adapter":
            yield self.model
        else:  # pragma: no cover - a programming error
            raise ValueError(name)


def _dequantized_linear_class():
    import torch

    class _DequantizedLinear(torch.nn.Linear):
        """A 4-bit layer's weights, dequantized once: ``linear(x.to(dtype), W_dtype).to(x.dtype)``.

        This is, operation for operation, what bitsandbytes computes on the CPU in training
        (dequantize the NF4/FP4 blocks to the compute dtype, then a dense matmul), without
        redoing the dequantization at every forward pass.
        """

        def forward(self, x):  # noqa: D102
            bias = None if self.bias is None else self.bias.to(self.weight.dtype)
            return torch.nn.functional.linear(x.to(self.weight.dtype), self.weight, bias).to(x.dtype)

    return _DequantizedLinear


def dequantize_once(model: Any) -> int:
    """Swap every bitsandbytes 4-bit layer for its dequantized twin (CPU scoring).

    The base is quantized by bitsandbytes exactly as for training, then each layer's
    blocks are dequantized to the compute dtype once. The scores are those of
    bitsandbytes' dequantize-then-matmul path (a test checks equality) at a fraction of
    the cost: on CPU, bitsandbytes 0.50 otherwise either dequantizes every weight at every
    forward pass (each generated token pays for the whole model) or, in eval mode on
    AVX512-BF16 hardware, switches to a fused inference kernel that training never uses,
    whose logits differ and which measured about 4x slower here (bench/probe_cost.py).
    Call before the adapter is attached: PEFT then wraps the twins as ordinary linear
    layers. Returns the number of layers swapped.
    """
    import bitsandbytes as bnb
    import torch

    cls = _dequantized_linear_class()
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if not isinstance(child, bnb.nn.Linear4bit):
                continue
            dtype = child.compute_dtype or torch.float32  # bitsandbytes falls back to the input dtype
            weight = bnb.functional.dequantize_4bit(child.weight.data, child.weight.quant_state).to(dtype)
            twin = cls(child.in_features, child.out_features, bias=child.bias is not None, device="meta")
            twin.weight = torch.nn.Parameter(weight.contiguous(), requires_grad=False)
            if child.bias is not None:
                twin.bias = torch.nn.Parameter(child.bias.data.clone(), requires_grad=False)
            setattr(parent, name, twin)
            swapped += 1
    return swapped


def load_scoring_model(
    base_dir: Path, adapter_dir: Path, quantization: str, device: str, compute_dtype: str = "float32"
) -> ScoringModel:
    """Build the (quantized) base once and wrap it with the adapter, ready for inference.

    ``compute_dtype`` is the dtype of the 4-bit layers' matmuls (the dequantized weights) and
    of the tensors left unquantized, as in training (pipeline/train/model.py).
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_model_dirs(base_dir, adapter_dir)
    kwargs: dict[str, Any] = {"config": base_config(base_dir), "device_map": {"": device}}
    quant = bnb_config(quantization, compute_dtype)
    # As in training: the tensors left unquantized are loaded in the compute dtype too.
    kwargs["dtype"] = getattr(torch, compute_dtype)
    if quant is not None:
        kwargs["quantization_config"] = quant
    base = AutoModelForCausalLM.from_pretrained(base_dir, **kwargs)
    if quant is not None and device == "cpu":
        dequantize_once(base)
    try:
        model = PeftModel.from_pretrained(base, adapter_dir, is_trainable=False)
    except (ValueError, KeyError, RuntimeError) as exc:
        # e.g. an adapter trained for another architecture: the modules it names do not exist.
        raise InputError(f"{adapter_dir}: the adapter does not fit the base in {base_dir} ({type(exc).__name__}).") from None
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(tokenizer, "chat_template", None) is None:
        raise InputError(f"{base_dir}: the tokenizer has no chat template; the probes format chats with it.")
    return ScoringModel(
        model=model, tokenizer=tokenizer, quantization=quantization, device=device, compute_dtype=compute_dtype
    )


@contextlib.contextmanager
def scoring_session(
    base_dir: Path,
    adapter_dir: Path,
    quantization: str,
    config: Any,
    *,
    device: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> Iterator[tuple[ScoringModel, MachineSettings]]:
    """The scoring model on the device, dtype and threads ``config`` (``evaluate:``) asks for on this machine.

    Evaluate and signoff's spot check both score through it, so they measure alike.
    ``announce`` receives the machine decision before the weights are read.
    """
    from pipeline.hardware import choose_settings, torch_threads

    device = resolve_device(device or config.device)
    settings = choose_settings(config.compute_dtype, config.threads, device)
    if announce is not None:
        announce(settings.describe())
    with torch_threads(settings.threads.threads):
        yield load_scoring_model(base_dir, adapter_dir, quantization, device, settings.dtype.dtype), settings
