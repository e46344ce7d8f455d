"""One base model, several verified adapters, chosen per request: ``mahrem generate`` and ``mahrem serve``.

:class:`AdapterSet` holds what both commands share. Every bundle is verified first (a
private copy, pipeline/release/adapters.py) and its base checked against the SHA-256 its
provenance records — all of them before the base is even loaded, so a refused bundle costs
no model load. Then the base is loaded once; the first adapter with
``PeftModel.from_pretrained`` and the others with ``load_adapter`` under their names, so
the base weights sit in memory once. Each request names its adapter, which is activated
with PEFT's ``set_adapter`` (frozen: ``inference_mode=True``) — or ``None`` for the plain
base, run under PEFT's ``disable_adapter``. The tokenizer's chat template turns a prompt
(one user message) or a whole message list into the model's input. Decoding is greedy
unless a temperature above 0 is asked for.

An ``AdapterSet`` is not thread-safe (the active adapter is state of the one model):
callers serialise :meth:`AdapterSet.generate`, as ``mahrem serve`` does with a lock.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import ConfigError
from pipeline.io import InputError
from pipeline.release.adapters import check_base, load_base, resolve_dtype, verified_copy

# PEFT keeps each adapter in a torch ModuleDict under its name, which cannot hold a dot.
ADAPTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Request:
    prompt: str
    adapter: str | None = None  # a name given in ``adapters``; None = the base model alone


@dataclass(frozen=True)
class BundleInfo:
    """What a loaded adapter is: the bundle it came from (as given) and what its provenance says."""

    path: Path
    name: str  # <name>-<version>
    base_model: str


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop": the model ended its turn; "length": max_new_tokens was reached


class ContextLengthExceeded(ValueError):
    """The prompt plus the tokens asked for do not fit the model's context window."""

    def __init__(self, prompt_tokens: int, max_new_tokens: int, limit: int) -> None:
        super().__init__(
            f"the messages take {prompt_tokens} tokens and {max_new_tokens} more were asked for, "
            f"but the model's context window is {limit} tokens. Send shorter messages or ask for fewer tokens."
        )
        self.prompt_tokens, self.max_new_tokens, self.limit = prompt_tokens, max_new_tokens, limit


class AdapterSet:
    """The base model loaded once plus every verified bundle as a named PEFT adapter.

    Use it as a context manager: the verified private copies live until it is closed.
    ``adapters`` maps a name to a bundle directory; a bundle that does not verify, or whose
    base is not ``base``, raises :class:`~pipeline.release.registry.ReleaseRefused` before
    any model is loaded.
    """

    def __init__(
        self,
        adapters: Mapping[str, Path],
        public_key: Path,
        base: Path = Path("models/base"),
        *,
        dtype: str = "auto",
        device: str | None = None,
    ) -> None:
        bad = [name for name in adapters if not ADAPTER_NAME.fullmatch(name)]
        if bad:
            raise ConfigError(
                f"--adapter names {bad}: a name is letters, digits, '_' and '-' (starting with a letter or digit), "
                "e.g. support=release/x-0.1.0."
            )
        import torch

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if dtype == "auto" and device is not None:
            from pipeline.hardware import choose_compute_dtype

            self.dtype = choose_compute_dtype("auto", self.device.type).dtype
        else:
            self.dtype = resolve_dtype(dtype)  # validates a named dtype; auto assumes CUDA when present
        self.bundles: dict[str, BundleInfo] = {}
        self._stack = contextlib.ExitStack()
        try:
            copies = {}
            for name, bundle in adapters.items():
                copy, statement = self._stack.enter_context(verified_copy(Path(bundle), public_key))
                check_base(base, statement)
                info = statement["predicate"]["mahrem_bundle"]
                self.bundles[name] = BundleInfo(Path(bundle), f"{info['name']}-{info['version']}",
                                                str(info.get("base_model", "")))
                copies[name] = copy
            self.model, self.tokenizer = load_base(base, self.dtype)
            if not getattr(self.tokenizer, "chat_template", None):
                raise InputError(f"--base {base}: its tokenizer has no chat template, so chat messages cannot be "
                                 "turned into a prompt. Use an instruction-tuned base that ships one.")
            self.model.to(self.device)
            self.peft_model = None
            for name, copy in copies.items():
                if self.peft_model is None:
                    from peft import PeftModel

                    self.peft_model = PeftModel.from_pretrained(self.model, copy, adapter_name=name)
                else:
                    self.peft_model.load_adapter(copy, adapter_name=name)
            if self.peft_model is not None:
                self.peft_model.to(self.device).eval()
        except BaseException:
            self._stack.close()
            raise

    # -- lifetime
    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> AdapterSet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- facts
    @property
    def names(self) -> list[str]:
        """The adapter names, in the order given."""
        return list(self.bundles)

    @property
    def context_length(self) -> int | None:
        return getattr(self.model.config, "max_position_embeddings", None)

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        for value in (getattr(self.model.generation_config, "eos_token_id", None), self.tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, list | tuple):
                ids.update(v for v in value if isinstance(v, int))
        return ids

    # -- work
    def encode(self, prompt_or_messages: str | Sequence[Mapping[str, Any]]) -> Any:
        """The model input for a prompt (one user message) or a message list, via the chat template."""
        messages = ([{"role": "user", "content": prompt_or_messages}] if isinstance(prompt_or_messages, str)
                    else [dict(m) for m in prompt_or_messages])
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(text, return_tensors="pt")

    def generate(
        self,
        prompt_or_messages: str | Sequence[Mapping[str, Any]],
        adapter: str | None,
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        top_p: float | None = None,
        seed: int | None = None,
    ) -> Completion:
        """The completion under ``adapter`` (``None``: the base alone); greedy when ``temperature`` is 0.

        With ``temperature`` above 0 it samples (top-p ``top_p``, no top-k); ``seed`` seeds
        torch's generator first, so the same seed gives the same answer.
        """
        import torch

        if adapter is not None and adapter not in self.bundles:
            raise ValueError(f"adapter {adapter!r} was not loaded; loaded: {self.names}")
        inputs = self.encode(prompt_or_messages).to(self.device)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        limit = self.context_length
        if limit is not None and prompt_tokens + max_new_tokens > limit:
            raise ContextLengthExceeded(prompt_tokens, max_new_tokens, limit)
        if temperature > 0:
            sampling: dict[str, Any] = {"do_sample": True, "temperature": float(temperature),
                                        "top_p": 1.0 if top_p is None else float(top_p), "top_k": 0}
            if seed is not None:
                torch.manual_seed(seed)
        else:
            sampling = {"do_sample": False}
        runner = self.peft_model if self.peft_model is not None else self.model
        if adapter is None and self.peft_model is not None:
            context = self.peft_model.disable_adapter()
        else:
            context = contextlib.nullcontext()
            if self.peft_model is not None:
                self.peft_model.set_adapter(adapter, inference_mode=True)
        with context, torch.no_grad():
            out = runner.generate(**inputs, max_new_tokens=max_new_tokens, pad_token_id=self.tokenizer.pad_token_id,
                                  **sampling)
        new = out[0, prompt_tokens:].tolist()
        ended = bool(new) and new[-1] in self._eos_ids()
        return Completion(
            text=self.tokenizer.decode(new, skip_special_tokens=True),
            prompt_tokens=prompt_tokens,
            completion_tokens=len(new),
            finish_reason="length" if len(new) >= max_new_tokens and not ended else "stop",
        )


def generate(
    requests: Sequence[Request],
    adapters: Mapping[str, Path],
    public_key: Path,
    base: Path = Path("models/base"),
    *,
    max_new_tokens: int = 64,
    dtype: str = "auto",
) -> list[str]:
    """The greedy completion of each request, in order."""
    unknown = sorted({r.adapter for r in requests if r.adapter is not None} - set(adapters))
    if unknown:
        raise ValueError(f"request(s) name adapter(s) {unknown} that were not given; given: {sorted(adapters)}")
    with AdapterSet(adapters, public_key, base, dtype=dtype) as models:
        return [models.generate(r.prompt, r.adapter, max_new_tokens=max_new_tokens).text for r in requests]
