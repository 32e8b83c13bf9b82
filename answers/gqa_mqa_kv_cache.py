"""MHA, GQA and MQA: how many key/value heads are cached, and what that costs in memory.

Multi-head attention keeps one key/value head per query head; grouped-query attention lets each group of
query heads share one K/V head; multi-query attention shares a single K/V head across all of them. The
KV cache holds 2 · layers · kv_heads · head_dim · tokens · batch elements, so it shrinks by h / h_kv.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.kv_cache import kv_cache_bytes, kv_cache_saving
from answers.reference import KVCache, MultiHeadAttention, attend, randn, seeded_module

__all__ = ["kv_cache_bytes", "kv_cache_saving"]

D_MODEL, HEADS, KV_HEADS, LAYERS = 64, 8, 2, 3  # toy model: d_head = 8, groups of 4 query heads
BATCH, STEPS = 2, 5

# Llama-2-7B: 32 layers, 32 heads of size 128, fp16 cache (Touvron et al. 2023, table 1 / config.json).
LLAMA2_LAYERS, LLAMA2_HEADS, LLAMA2_HEAD_DIM, FP16_BYTES = 32, 32, 128, 2


def _projected(layer: MultiHeadAttention, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """q (B, h, n, d_head) and k, v (B, h_kv, n, d_head) as the layer computes them."""
    q = layer.split_heads(layer.w_q(x), layer.n_heads)
    k = layer.split_heads(layer.w_k(x), layer.n_kv_heads)
    v = layer.split_heads(layer.w_v(x), layer.n_kv_heads)
    return q, k, v


def _distance_from_enable_gqa(interleaved: bool) -> float:
    """Reference grouped attention (K/V head g serves query heads g·r … g·r+r−1) vs torch's enable_gqa."""
    layer = seeded_module(lambda: MultiHeadAttention(D_MODEL, HEADS, KV_HEADS), seed=1)
    x = randn(2, 7, D_MODEL, seed=2)
    with torch.no_grad():
        q, k, v = _projected(layer, x)
        ours = layer.heads(x)  # uses repeat_interleave
        if not interleaved:  # the natural slip: tile the KV heads instead of repeating each one
            r = HEADS // KV_HEADS
            ours = attend(q, k.repeat(1, r, 1, 1), v.repeat(1, r, 1, 1))
        torch_gqa = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    return (ours - torch_gqa).abs().max().item()


def grouped_heads_match_torch_enable_gqa() -> Evidence:
    """Sharing each K/V head with a contiguous group of query heads (repeat_interleave) is exactly
    ``F.scaled_dot_product_attention(enable_gqa=True)``; tiling the heads with ``repeat`` is not."""
    return Evidence(
        measured=_distance_from_enable_gqa(interleaved=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only rounding error may separate the two
        derivation="torch's own F.scaled_dot_product_attention(enable_gqa=True), float64",
        counterfactual="K/V heads tiled with repeat (query head i gets KV head i mod h_kv)",
        counterfactual_measured=_distance_from_enable_gqa(interleaved=False),
    )


def _decode(n_kv_heads: int, expand_before_caching: bool = False) -> int:
    """Decode STEPS tokens through LAYERS attention layers with a cache each; total cache bytes."""
    layers = [seeded_module(lambda: MultiHeadAttention(D_MODEL, HEADS, n_kv_heads), seed=10 + i) for i in range(LAYERS)]
    caches = [KVCache() for _ in layers]
    with torch.no_grad():
        for step in range(STEPS):
            x = randn(BATCH, 1, D_MODEL, seed=100 + step)  # (B, 1, d): one new token per step
            for layer, cache in zip(layers, caches, strict=True):  # same input per layer: only sizes matter
                if expand_before_caching:  # store K/V already repeated to one copy per query head
                    _, k, v = _projected(layer, x)
                    r = HEADS // n_kv_heads
                    cache.append(k.repeat_interleave(r, 1), v.repeat_interleave(r, 1))
                else:
                    layer(x, cache=cache)
    return sum(cache.nbytes() for cache in caches)


def cache_bytes_formula_matches_a_measured_cache() -> Evidence:
    """After n decoding steps, a real GQA cache holds exactly 2·L·h_kv·d_head·n·B·bytes bytes;
    counting query heads instead of KV heads overestimates it."""
    element = torch.zeros((), dtype=torch.float64).element_size()
    d_head = D_MODEL // HEADS
    return Evidence(
        measured=_decode(KV_HEADS),
        expected=kv_cache_bytes(LAYERS, KV_HEADS, d_head, STEPS, BATCH, element),
        comparison="equal",
        derivation="formula kv_cache_bytes: 2 · layers · kv_heads · head_dim · tokens · batch · bytes",
        counterfactual="formula with the query-head count (MHA) in place of the KV-head count",
        counterfactual_measured=kv_cache_bytes(LAYERS, HEADS, d_head, STEPS, BATCH, element),
        unit="bytes",
    )


def gqa_shrinks_the_cache_by_query_heads_over_kv_heads() -> Evidence:
    """Measured MHA cache / GQA cache = h / h_kv (here 8 / 2 = 4), and MHA / MQA = h; a cache that
    stores K/V after expanding them to every query head saves nothing."""
    mha = _decode(HEADS)
    return Evidence(
        measured=mha / _decode(KV_HEADS),
        expected=kv_cache_saving(HEADS, KV_HEADS),
        comparison="rel",
        tolerance=1e-12,  # a ratio of two exact integer byte counts
        derivation="formula kv_cache_saving: query_heads / kv_heads",
        counterfactual="K/V repeated to every query head before being cached",
        counterfactual_measured=mha / _decode(KV_HEADS, expand_before_caching=True),
        unit="ratio",
        details={"MHA / MQA (measured)": mha / _decode(1), "h / 1 (formula)": kv_cache_saving(HEADS, 1)},
    )


def _llama2_cache_bytes(tokens: int, keys_only: bool = False) -> int:
    """Bytes of fp16 caches of Llama-2-7B's shape after ``tokens`` tokens, one cache per layer."""
    total = 0
    for _ in range(LLAMA2_LAYERS):
        cache = KVCache()
        k = torch.zeros(1, LLAMA2_HEADS, tokens, LLAMA2_HEAD_DIM, dtype=torch.float16)  # (B, h_kv, n, d)
        cache.append(k, k[:, :, :0] if keys_only else k.clone())
        total += cache.nbytes()
    return total


def llama2_7b_caches_half_a_mebibyte_per_token() -> Evidence:
    """Llama-2-7B (MHA, 32 layers, 32 heads of 128, fp16) caches 2·32·32·128·2 = 524,288 bytes per
    token — 2 GiB for a 4096-token sequence."""
    return Evidence(
        measured=_llama2_cache_bytes(1),
        expected=2 * LLAMA2_LAYERS * LLAMA2_HEADS * LLAMA2_HEAD_DIM * FP16_BYTES,
        comparison="equal",
        derivation="theory: 2 (K and V) · 32 layers · 32 heads · 128 · 2 bytes",
        counterfactual="caching keys only (forgetting the factor 2 for V)",
        counterfactual_measured=_llama2_cache_bytes(1, keys_only=True),
        unit="bytes",
        details={
            "4096 tokens, formula (GiB)": kv_cache_bytes(32, 32, 128, 4096) / 2**30,
            "GQA-8, 4096 tokens (MiB)": kv_cache_bytes(32, 8, 128, 4096) / 2**20,
            "MQA, 4096 tokens (MiB)": kv_cache_bytes(32, 1, 128, 4096) / 2**20,
        },
    )


def figure_kv_cache_bytes_against_tokens():
    """KV-cache size of one sequence against its length for a Llama-2-7B-shaped model (32 layers,
    32 query heads of 128, fp16) with MHA (32 KV heads), GQA (8) and MQA (1): straight lines whose
    slope is proportional to the number of KV heads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tokens = [256 * i for i in range(1, 129)]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, kv in (("MHA (32 KV heads)", 32), ("GQA (8 KV heads)", 8), ("MQA (1 KV head)", 1)):
        ax.plot(tokens, [kv_cache_bytes(32, kv, 128, n) / 2**30 for n in tokens], label=name)
    ax.set_xlabel("tokens in the sequence")
    ax.set_ylabel("KV cache (GiB, fp16)")
    ax.set_title("KV cache of one sequence, 32 layers, d_head 128")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
