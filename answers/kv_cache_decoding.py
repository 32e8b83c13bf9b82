"""KV-cache decoding: each layer caches the keys and values of past tokens, never the attention weights.

A decoder generates one token at a time. Because of the causal mask, the keys and values of earlier
tokens never change, so each step computes K and V only for the new token, appends them to the cache and
lets the new query attend over everything cached. The result is exactly the full recomputation.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.formulas.kv_cache import kv_cache_bytes
from answers.reference import (
    DecoderBlock,
    KVCache,
    MultiHeadAttention,
    attend,
    attention_weights,
    causal_mask,
    randn,
    seeded_module,
)

D_MODEL, HEADS, KV_HEADS, D_FF, LAYERS, N = 32, 4, 2, 64, 2, 10


def _blocks() -> list[DecoderBlock]:
    make = lambda: DecoderBlock(D_MODEL, HEADS, D_FF, n_kv_heads=KV_HEADS, rope_base=10000.0)  # noqa: E731
    return [seeded_module(make, seed=1 + i) for i in range(LAYERS)]


def _run(blocks: list[DecoderBlock], x: torch.Tensor, caches: list[KVCache] | None) -> torch.Tensor:
    for i, block in enumerate(blocks):
        x = block(x, cache=None if caches is None else caches[i])
    return x


def _largest_gap_from_full_forward(keep_cache: bool) -> float:
    """Feed the tokens one at a time; compare each step's output with the full causal forward."""
    blocks, x = _blocks(), randn(1, N, D_MODEL, seed=7)  # (1, n, d)
    with torch.no_grad():
        full = _run(blocks, x, [KVCache() for _ in blocks])  # one pass, causal mask over all n tokens
        caches = [KVCache() for _ in blocks]
        steps = []
        for t in range(N):
            if not keep_cache:  # the past is forgotten: the new token sees only itself
                caches = [KVCache() for _ in blocks]
            steps.append(_run(blocks, x[:, t : t + 1], caches))
    return (torch.cat(steps, dim=1) - full).abs().max().item()


def cached_decoding_reproduces_the_full_forward() -> Evidence:
    """Decoding token by token with a KV cache (RoPE, GQA, 2 layers) gives every position exactly the
    output of the full causal forward pass."""
    return Evidence(
        measured=_largest_gap_from_full_forward(keep_cache=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64; same arithmetic, different grouping of the matmuls
        derivation="the model's own full forward pass with a causal mask, float64",
        counterfactual="no cache: each new token is fed alone",
        counterfactual_measured=_largest_gap_from_full_forward(keep_cache=False),
    )


def _last_token_gap(reuse_pattern: bool) -> float:
    """Output of the newest token from cached K/V, or from the previous token's cached attention
    weights (a zero appended for the new key), compared with full attention."""
    q, k, v = (randn(1, N, 8, seed=s) for s in (11, 12, 13))  # (1, n, d_head)
    full = attend(q, k, v, causal_mask(N))[:, -1]
    if reuse_pattern:
        previous_row = attention_weights(q[:, :-1], k[:, :-1], causal_mask(N - 1))[:, -1]  # (1, n−1)
        weights = torch.cat([previous_row, torch.zeros(1, 1, dtype=q.dtype)], dim=-1)
        return (weights @ v[0] - full).abs().max().item()
    return (attend(q[:, -1:], k, v)[:, 0] - full).abs().max().item()


def attention_weights_cannot_be_cached() -> Evidence:
    """The newest query against the cached keys and values gives its exact output; reusing the
    previous step's attention row (the "cache attention patterns" idea) does not."""
    return Evidence(
        measured=_last_token_gap(reuse_pattern=False),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="full causal attention over all n tokens, float64",
        counterfactual="previous step's attention weights reused, a zero appended",
        counterfactual_measured=_last_token_gap(reuse_pattern=True),
    )


def _growth_per_step(store_weights: bool) -> tuple[int, ...]:
    """Bytes added to the per-layer stores at each decoding step: K/V, or attention weights."""
    layers = [seeded_module(lambda: MultiHeadAttention(D_MODEL, HEADS, KV_HEADS), seed=20 + i) for i in range(LAYERS)]
    caches, stored, sizes = [KVCache() for _ in layers], 0, []
    with torch.no_grad():
        for t in range(N):
            x = randn(1, 1, D_MODEL, seed=30 + t)
            for layer, cache in zip(layers, caches, strict=True):  # same input per layer: sizes only
                layer(x, cache=cache)
                stored += HEADS * (t + 1) * x.element_size()  # this step's row of weights per head
            sizes.append(stored if store_weights else sum(c.nbytes() for c in caches))
    return tuple(sorted({b - a for a, b in zip([0, *sizes], sizes, strict=False)}))


def cache_grows_by_a_fixed_amount_per_token() -> Evidence:
    """Every decoding step adds exactly 2·L·h_kv·d_head·bytes to the KV cache: it grows linearly.
    A store of attention weights would grow by a different amount every step."""
    element = torch.zeros((), dtype=torch.float64).element_size()
    return Evidence(
        measured=_growth_per_step(store_weights=False),
        expected=(kv_cache_bytes(LAYERS, KV_HEADS, D_MODEL // HEADS, tokens=1, bytes_per_element=element),),
        comparison="equal",
        derivation="formula kv_cache_bytes for one token: 2 · layers · kv_heads · head_dim · bytes",
        counterfactual="storing each step's attention weights instead",
        counterfactual_measured=_growth_per_step(store_weights=True),
        unit="bytes",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
