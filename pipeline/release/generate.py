"""``mahrem generate``: one base model, several verified adapters, chosen per request.

Each bundle is verified (a private copy) and its base checked; the first is loaded with
``PeftModel.from_pretrained`` and the others with ``load_adapter`` under their names, so
the base weights sit in memory once. Each request names its adapter, which is activated
with ``set_adapter`` — or ``None`` for the plain base, run under ``disable_adapter``.
Decoding is greedy, with the tokenizer's chat template.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.release.adapters import check_base, load_base, resolve_dtype, verified_copy


@dataclass(frozen=True)
class Request:
    prompt: str
    adapter: str | None = None  # a name given in ``adapters``; None = the base model alone


def generate(
    requests: Sequence[Request],
    adapters: Mapping[str, Path],
    public_key: Path,
    base: Path = Path("models/base"),
    *,
    max_new_tokens: int = 64,
    dtype: str = "auto",
) -> list[str]:
    """The completion of each request, in order."""
    import torch
    from peft import PeftModel

    unknown = sorted({r.adapter for r in requests if r.adapter is not None} - set(adapters))
    if unknown:
        raise ValueError(f"request(s) name adapter(s) {unknown} that were not given; given: {sorted(adapters)}")
    model, tokenizer = load_base(base, resolve_dtype(dtype))
    with contextlib.ExitStack() as stack:
        peft_model = None
        for name, bundle in adapters.items():
            copy, statement = stack.enter_context(verified_copy(bundle, public_key))
            check_base(base, statement)
            if peft_model is None:
                peft_model = PeftModel.from_pretrained(model, copy, adapter_name=name)
            else:
                peft_model.load_adapter(copy, adapter_name=name)
        outputs = []
        for request in requests:
            runner = peft_model if peft_model is not None else model
            text = tokenizer.apply_chat_template(
                [{"role": "user", "content": request.prompt}], tokenize=False, add_generation_prompt=True
            )
            inputs = tokenizer(text, return_tensors="pt")
            if request.adapter is None and peft_model is not None:
                context = peft_model.disable_adapter()
            else:
                context = contextlib.nullcontext()
                if peft_model is not None:
                    peft_model.set_adapter(request.adapter)
            with context, torch.no_grad():
                out = runner.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                                      pad_token_id=tokenizer.pad_token_id)
            outputs.append(tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))
    return outputs
