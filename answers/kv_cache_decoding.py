"""KV-cache decoding: each layer caches the keys and values of past tokens, never the attention weights.

A decoder generates one token at a time. Because of the causal mask, the keys and values of earlier
tokens never change, so each step computes K and V only for the new token, appends them to the cache and
lets the new query attend over everything cached. The result is exactly the full recomputation.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.kv_cache import kv_cache_bytes
from answers.reference import (
    DecoderBlock,
    KVCache,
    MultiHeadAttention,
    attend,
    attention_weights,
    randn,
    repeat_kv,
    seeded_module,
)

D_MODEL, HEADS, KV_HEADS, D_FF, LAYERS, N = 32, 4, 2, 64, 2, 10


def _blocks(seed: int, dtype: torch.dtype = torch.float64) -> list[DecoderBlock]:
    make = lambda: DecoderBlock(D_MODEL, HEADS, D_FF, n_kv_heads=KV_HEADS, rope_base=10000.0)  # noqa: E731
    return [seeded_module(make, seed=seed + i, dtype=dtype) for i in range(LAYERS)]


class _OffsetForgottenCache(KVCache):
    """The slip: a cache that reports no past tokens, so each new token is rotated by RoPE as if it were
    at position 0, while its keys still go into the cache."""

    @property
    def length(self) -> int:
        return 0


def _run(blocks: list[DecoderBlock], x: torch.Tensor, caches: list[KVCache] | None) -> torch.Tensor:
    for i, block in enumerate(blocks):
        x = block(x, cache=None if caches is None else caches[i])
    return x


def _largest_gap_from_full_forward(seed: int, forget_offset: bool = False, dtype: torch.dtype = torch.float64) -> float:
    """Feed the tokens one at a time; compare each step's output with the full causal forward."""
    blocks, x = _blocks(seed, dtype), randn(1, N, D_MODEL, seed=seed + 100, dtype=dtype)  # (1, n, d)
    with torch.no_grad():
        full = _run(blocks, x, [KVCache() for _ in blocks])  # one pass, causal mask over all n tokens
        caches = [(_OffsetForgottenCache if forget_offset else KVCache)() for _ in blocks]
        steps = [_run(blocks, x[:, t : t + 1], caches) for t in range(N)]
    return (torch.cat(steps, dim=1) - full).abs().max().item()


def cached_decoding_reproduces_the_full_forward(seed: int = 0) -> Evidence:
    """Decoding token by token with a KV cache (RoPE, GQA, 2 layers) gives every position the output of
    the full causal forward pass, to float64 rounding (float32: to float32 rounding, not bit for bit).
    Forgetting the cached tokens' count when rotating new tokens with RoPE breaks it."""
    return Evidence(
        measured=_largest_gap_from_full_forward(seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64; same arithmetic, different grouping of the matmuls
        derivation="the model's own full forward pass with a causal mask, float64",
        counterfactual="RoPE position offset forgotten: each new token rotated as if at position 0",
        counterfactual_measured=_largest_gap_from_full_forward(seed, forget_offset=True),
        details={"largest gap in float32": _largest_gap_from_full_forward(seed, dtype=torch.float32)},
    )


def decode_step(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Append the new token's K/V, then let its query attend to the whole cache: the mechanism proved, with the
    kv-cache-decode-step exercise's signature (quiz code check passes the learner's in its place)."""
    k_cache, v_cache = torch.cat([k_cache, k], dim=-2), torch.cat([v_cache, v], dim=-2)
    return attend(q, k_cache, v_cache), k_cache, v_cache


DecodeStep = Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


def _last_token_gap(append_first: bool, seed: int, step: DecodeStep = decode_step) -> float:
    """Output of the newest token from the cache, with its own K/V appended before it attends (or, the
    slip, attending to the cache first and appending afterwards), against torch's fused causal attention."""
    q, k, v = (randn(1, N, 8, seed=seed + s) for s in (11, 12, 13))  # (1, n, d_head)
    full = F.scaled_dot_product_attention(q, k, v, is_causal=True)[:, -1]
    if not append_first:  # keys and values in the cache when the new query attends: the N − 1 before it
        return (attend(q[:, -1:], k[:, : N - 1], v[:, : N - 1])[:, 0] - full).abs().max().item()
    q, k, v = q[None], k[None], v[None]  # (batch 1, heads 1, n, d_head), as the decode step takes them
    out = step(q[..., -1:, :], k[..., -1:, :], v[..., -1:, :], k[..., :-1, :], v[..., :-1, :])[0]
    return (out[0, :, 0] - full).abs().max().item()


def the_new_token_attends_to_its_own_key_and_value(seed: int = 0, step: DecodeStep = decode_step) -> Evidence:
    """At each step the new token's K/V must be appended before its query attends: the query against
    the whole cache, itself included, is exactly the last row of full causal attention. Attending first
    and appending afterwards leaves out the diagonal term."""
    return Evidence(
        measured=_last_token_gap(append_first=True, seed=seed, step=step),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="torch's F.scaled_dot_product_attention(is_causal=True) over all n tokens, float64",
        counterfactual="the new query attends to the cache before its own K/V is appended",
        counterfactual_measured=_last_token_gap(append_first=False, seed=seed),
    )


def _growth_per_step(store_weights: bool, seed: int) -> tuple[int, ...]:
    """Bytes added to the per-layer stores at each decoding step: the K/V cache, or (the myth) a store of
    every step's attention weights, each row computed from the new query and the cached keys."""
    make = lambda: MultiHeadAttention(D_MODEL, HEADS, KV_HEADS)  # noqa: E731
    layers = [seeded_module(make, seed=seed + i) for i in range(LAYERS)]
    caches, weight_rows, sizes = [KVCache() for _ in layers], [], []
    with torch.no_grad():
        for t in range(N):
            x = randn(1, 1, D_MODEL, seed=seed + 30 + t)
            for layer, cache in zip(layers, caches, strict=True):  # same input per layer: sizes only
                layer(x, cache=cache)
                q = layer.split_heads(layer.w_q(x), HEADS)  # (1, h, 1, d_head)
                weight_rows.append(attention_weights(q, repeat_kv(cache.keys, HEADS // KV_HEADS)))  # (1, h, 1, t+1)
            stored_weights = sum(w.numel() * w.element_size() for w in weight_rows)
            sizes.append(stored_weights if store_weights else sum(c.nbytes() for c in caches))
    return tuple(sorted({b - a for a, b in zip([0, *sizes], sizes, strict=False)}))


def cache_grows_by_a_fixed_amount_per_token(seed: int = 0) -> Evidence:
    """Every decoding step adds exactly 2·L·h_kv·d_head·bytes to the KV cache: it grows linearly.
    A store of attention weights would grow by a different amount every step (quadratic in total), and
    its old rows are never read again: each new query makes a fresh row."""
    element = torch.zeros((), dtype=torch.float64).element_size()
    return Evidence(
        measured=_growth_per_step(store_weights=False, seed=seed),
        expected=(kv_cache_bytes(LAYERS, KV_HEADS, D_MODEL // HEADS, tokens=1, bytes_per_element=element),),
        comparison="equal",
        derivation="formula kv_cache_bytes for one token: 2 · layers · kv_heads · head_dim · bytes",
        counterfactual="storing each step's attention weights instead",
        counterfactual_measured=_growth_per_step(store_weights=True, seed=seed),
        unit="bytes",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
