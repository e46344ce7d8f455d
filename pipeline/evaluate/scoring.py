"""Batched likelihood scoring: many sequences per forward pass, never one at a time.

Two scorers, both returning the summed negative log-likelihood (nats) of the scored tokens:

* :func:`sequence_nll` — independent sequences (membership inference): sorted by length,
  right-padded, one forward per batch.
* :func:`shared_prefix_nll` — many sequences that start with the same tokens (a canary and
  its 1,000 references; one context with 100 candidate values): the common prefix runs
  once, its key/value cache is repeated across the batch, and only the differing tails run
  per sequence. The tail scores are exactly what a ranking needs — the prefix adds the same
  constant to every sequence.

A forward pass for scoring asks the model for the logits of the scored positions only
(``logits_to_keep``), so a long shared context costs no vocabulary projection.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


def _token_nll(logits: Any, targets: Any) -> Any:
    """-log p(target) per position, computed in float32 without a second vocab-sized tensor."""
    import torch

    logits = logits.float()
    picked = torch.gather(logits, -1, targets.unsqueeze(-1)).squeeze(-1)
    return torch.logsumexp(logits, dim=-1) - picked


def padded_batches(
    sequences: Sequence[Sequence[int]], batch_size: int, pad_id: int = 0
) -> Iterator[tuple[list[int], Any, Any]]:
    """``(indices, input_ids, attention_mask)`` per batch, longest sequences first.

    Sorting by length keeps a batch's lengths close (little padding); right padding with an
    attention mask leaves every real token's logits unchanged.

    >>> [(idx, ids.tolist()) for idx, ids, _ in padded_batches([[1], [2, 3, 4], [5, 6]], 2)]
    [([1, 2], [[2, 3, 4], [5, 6, 0]]), ([0], [[1]])]
    """
    import torch

    order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        width = max(len(sequences[i]) for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            ids[row, : len(sequences[i])] = torch.tensor(list(sequences[i]), dtype=torch.long)
            mask[row, : len(sequences[i])] = 1
        yield idx, ids, mask


def sequence_nll(
    model: Any,
    sequences: Sequence[Sequence[int]],
    *,
    batch_size: int,
    pad_id: int = 0,
    score_from: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Summed NLL of tokens ``score_from:`` of each sequence, and how many tokens that is.

    Sequences are sorted by length so that a batch holds similar lengths (little padding);
    right padding with an attention mask leaves every real token's logits unchanged.
    """
    import torch

    n = len(sequences)
    nll = np.zeros(n, dtype=np.float64)
    counts = np.zeros(n, dtype=np.int64)
    if n == 0:
        return nll, counts
    device = next(model.parameters()).device
    with torch.inference_mode():
        for idx, ids, mask in padded_batches(sequences, batch_size, pad_id):
            width = ids.shape[1]
            first = max(1, score_from)
            keep = width - first + 1  # logits at positions first-1 … width-2 predict tokens first … width-1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), logits_to_keep=keep).logits
            logits = logits[:, :-1]
            token_nll = _token_nll(logits, ids[:, first:].to(device)).cpu().double()
            valid = mask[:, first:].bool()
            token_nll = token_nll.masked_fill(~valid, 0.0)
            for row, i in enumerate(idx):
                nll[i] = float(token_nll[row].sum())
                counts[i] = int(valid[row].sum())
    return nll, counts


def common_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """Tokens shared by all sequences, leaving at least one token of each to score."""
    if not sequences:
        return 0
    shortest = min(len(s) for s in sequences)
    first = sequences[0]
    length = 0
    while length < shortest - 1 and all(s[length] == first[length] for s in sequences):
        length += 1
    return length


def shared_prefix_nll(
    model: Any,
    sequences: Sequence[Sequence[int]],
    *,
    batch_size: int,
    pad_id: int = 0,
) -> tuple[np.ndarray, int]:
    """Summed NLL of each sequence's tokens after the prefix common to all of them.

    Returns the per-sequence NLL of the tails and the prefix length. The prefix runs once;
    each batch of tails attends to a copy of its key/value cache. Falls back to
    :func:`sequence_nll` when the sequences share no prefix.
    """
    import torch

    n = len(sequences)
    prefix_len = common_prefix_length(sequences)
    if prefix_len == 0:
        nll, _ = sequence_nll(model, sequences, batch_size=batch_size, pad_id=pad_id)
        return nll, 0
    device = next(model.parameters()).device
    prefix = torch.tensor([list(sequences[0][:prefix_len])], dtype=torch.long, device=device)
    nll = np.zeros(n, dtype=np.float64)
    order = sorted(range(n), key=lambda i: -len(sequences[i]))
    with torch.inference_mode():
        out = model(input_ids=prefix, use_cache=True, logits_to_keep=1)
        # transformers 5 names the key/value cache ``cache`` (``past_key_values`` is deprecated).
        prefix_cache = out.cache
        # The prefix's last logits predict every tail's first token.
        first_logits = out.logits[:, -1].float()
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            tails = [list(sequences[i][prefix_len:]) for i in idx]
            width = max(len(t) for t in tails)
            ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), prefix_len + width), dtype=torch.long)
            mask[:, :prefix_len] = 1
            for row, tail in enumerate(tails):
                ids[row, : len(tail)] = torch.tensor(tail, dtype=torch.long)
                mask[row, prefix_len : prefix_len + len(tail)] = 1
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(len(idx))
            logits = model(
                input_ids=ids.to(device), attention_mask=mask.to(device), cache=cache, use_cache=True
            ).logits
            # Position j predicts tail token j+1; the prefix predicts tail token 0.
            all_logits = torch.cat([first_logits.expand(len(idx), -1).unsqueeze(1), logits[:, :-1].float()], dim=1)
            token_nll = _token_nll(all_logits, ids.to(device)).cpu().double()
            token_nll = token_nll.masked_fill(~mask[:, prefix_len:].bool(), 0.0)
            for row, i in enumerate(idx):
                nll[i] = float(token_nll[row].sum())
    return nll, prefix_len


def sequence_nll_one_by_one(model: Any, sequences: Sequence[Sequence[int]]) -> np.ndarray:
    """The naive loop (one forward per sequence): the baseline of ``bench/probe_cost.py``."""
    import torch

    device = next(model.parameters()).device
    out = np.zeros(len(sequences), dtype=np.float64)
    with torch.inference_mode():
        for i, seq in enumerate(sequences):
            ids = torch.tensor([list(seq)], dtype=torch.long, device=device)
            logits = model(input_ids=ids).logits[:, :-1]
            out[i] = float(_token_nll(logits, ids[:, 1:]).sum())
    return out


def _minkpp(logits: Any, targets: Any) -> tuple[Any, Any]:
    """Per position: -log p(target), and the Min-K%++ statistic (log p − μ) / σ.

    μ and σ² are the mean and variance of log p(z) under the model's own next-token
    distribution (Zhang et al., "Min-K%++", 2024): a token the model finds likelier than
    its typical token scores high, as training data does.
    """
    import torch

    logp = torch.log_softmax(logits.float(), dim=-1)
    picked = torch.gather(logp, -1, targets.unsqueeze(-1)).squeeze(-1)
    probs = logp.exp()
    mu = (probs * logp).sum(-1)
    var = (probs * logp.square()).sum(-1) - mu.square()
    return -picked, (picked - mu) / var.clamp_min(1e-6).sqrt()


def paired_scores(
    variants: Any,
    sequences: Sequence[Sequence[int]],
    *,
    batch_size: int,
    pad_id: int = 0,
    score_from: int = 1,
    min_k: float = 0.2,
    min_k_variants: Sequence[str] = ("adapter",),
    masks: Sequence[Sequence[bool]] | None = None,
) -> dict[str, np.ndarray]:
    """Base and adapter on the same batches: per-sequence NLL, token counts and Min-K%++.

    ``variants`` is a :class:`~pipeline.evaluate.model.ScoringModel` (anything with a
    ``variant(name)`` context manager). Each batch is built once and run with the adapter
    switched off, then on, so both see exactly the same padded tensors. Returns
    ``{base,adapter}_nll`` (summed nats), ``counts`` and ``<variant>_minkpp`` for each of
    ``min_k_variants`` (the mean of the lowest ``min_k`` share of token statistics; higher
    = more member-like). Min-K%++ needs the whole next-token distribution, so it is only
    computed where asked: the attack is reference-free and reads the adapter alone.

    ``masks`` (one flag per token of each sequence) restricts what is scored to the flagged
    tokens (e.g. the assistant turns training learns from); a sequence with no flagged
    scorable token is scored on all of them.
    """
    import torch

    from pipeline.evaluate.model import VARIANTS

    n = len(sequences)
    out = {f"{v}_nll": np.zeros(n, dtype=np.float64) for v in VARIANTS}
    out.update({f"{v}_minkpp": np.zeros(n, dtype=np.float64) for v in min_k_variants})
    out["counts"] = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out
    cache = getattr(variants, "base_cache", None)
    key = cached = None
    if cache is not None:
        key = cache.key("paired_scores", sequences, masks, batch_size=batch_size, pad_id=pad_id, score_from=score_from,
                        min_k=min_k, base_minkpp="base" in min_k_variants)  # fmt: skip
        cached = cache.load(key)
    run = VARIANTS if cached is None else tuple(v for v in VARIANTS if v != "base")
    first = max(1, score_from)
    with torch.inference_mode():
        for idx, ids, mask in padded_batches(sequences, batch_size, pad_id):
            width = ids.shape[1]
            valid = mask[:, first:].bool()
            if masks is not None:
                wanted = torch.zeros_like(valid)
                for row, i in enumerate(idx):
                    flags = torch.tensor([bool(f) for f in list(masks[i])[first:]], dtype=torch.bool)
                    if flags.any():
                        wanted[row, : len(flags)] = flags
                    else:
                        wanted[row] = valid[row]
                valid = valid & wanted
            for row, i in enumerate(idx):
                out["counts"][i] = int(valid[row].sum())
            rows, cols = valid.nonzero(as_tuple=True)  # row-major: each row's positions are contiguous
            starts = [0, *np.cumsum(valid.sum(dim=1).numpy()).tolist()]
            for variant in run:
                with variants.variant(variant) as model:
                    device = next(model.parameters()).device
                    keep = width - first + 1
                    logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), logits_to_keep=keep).logits
                    # Only the scored positions go through the vocabulary-wide statistics: Min-K%++
                    # reads the whole next-token distribution, and most positions are not scored.
                    picked = logits[:, :-1][rows.to(device), cols.to(device)]
                    targets = ids[:, first:][rows, cols].to(device)
                    if variant in min_k_variants:
                        nll, z = _minkpp(picked, targets)
                        z = z.cpu().double()
                    else:
                        nll, z = _token_nll(picked, targets), None
                nll = nll.cpu().double()
                for row, i in enumerate(idx):
                    out[f"{variant}_nll"][i] = float(nll[starts[row] : starts[row + 1]].sum())
                    if z is None:
                        continue
                    zs = z[starts[row] : starts[row + 1]]
                    if len(zs):
                        k = max(1, int(round(min_k * len(zs))))
                        out[f"{variant}_minkpp"][i] = float(torch.topk(zs, k, largest=False).values.mean())
    base_keys = [k for k in out if k.startswith("base_")]
    if cached is not None:
        out.update({k: cached[k] for k in base_keys})
    elif cache is not None:
        cache.store(key, {k: out[k] for k in base_keys})
    return out


def variant_prefix_nll(
    scoring: Any, variant: str, sequences: Sequence[Sequence[int]], *, batch_size: int, pad_id: int = 0
) -> np.ndarray:
    """:func:`shared_prefix_nll` of ``variant`` (``base``/``adapter``) of ``scoring``.

    The base's scores come from ``scoring.base_cache`` when one is set and holds them
    (:mod:`pipeline.evaluate.basecache`); the adapter is always scored.
    """
    cache = getattr(scoring, "base_cache", None) if variant == "base" else None
    key = cache.key("shared_prefix_nll", sequences, batch_size=batch_size, pad_id=pad_id) if cache else None
    if cache is not None:
        cached = cache.load(key)
        if cached is not None:
            return cached["nll"]
    with scoring.variant(variant) as model:
        nll, _ = shared_prefix_nll(model, sequences, batch_size=batch_size, pad_id=pad_id)
    if cache is not None:
        cache.store(key, {"nll": nll})
    return nll
