"""MHA, GQA and MQA: how many key/value heads are cached, and what that costs in memory.

Multi-head attention keeps one key/value head per query head; grouped-query attention lets each group of
query heads share one K/V head; multi-query attention shares a single K/V head across all of them. The
KV cache holds 2 · layers · kv_heads · head_dim · tokens · batch elements, so it shrinks by h / h_kv.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from answers.evidence import Evidence
from answers.formulas.kv_cache import kv_cache_bytes, kv_cache_saving
from answers.reference import (
    FeedForward,
    KVCache,
    MultiHeadAttention,
    RMSNorm,
    attend,
    count_parameters,
    randn,
    repeat_kv,
    seeded_module,
)

__all__ = ["kv_cache_bytes", "kv_cache_saving"]

D_MODEL, HEADS, KV_HEADS, LAYERS = 64, 8, 2, 3  # toy model: d_head = 8, groups of 4 query heads
BATCH, STEPS = 2, 5

# Llama-2-7B: 32 layers, d_model 4096, 32 heads of 128 with no GQA (Llama 2 paper, table 1: GQA only for
# 34B and 70B; the dimensions are LLaMA's 6.7B row, LLaMA paper table 2), SwiGLU d_ff 11008, vocabulary
# 32,000 (meta-llama/Llama-2-7b-hf config.json). 6.74B parameters (model card).
LLAMA2_LAYERS, LLAMA2_HEADS, LLAMA2_HEAD_DIM, FP16_BYTES = 32, 32, 128, 2
LLAMA2_D_MODEL, LLAMA2_D_FF, LLAMA2_VOCAB, LLAMA2_7B_PUBLISHED_PARAMETERS = 4096, 11008, 32000, 6.74e9


def _projected(layer: MultiHeadAttention, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """q (B, h, n, d_head) and k, v (B, h_kv, n, d_head) as the layer computes them."""
    q = layer.split_heads(layer.w_q(x), layer.n_heads)
    k = layer.split_heads(layer.w_k(x), layer.n_kv_heads)
    v = layer.split_heads(layer.w_v(x), layer.n_kv_heads)
    return q, k, v


def expand_kv(kv: torch.Tensor, n_query_heads: int) -> torch.Tensor:
    """(B, h_kv, n, d) → (B, n_query_heads, n, d) by the reference grouping (repeat_interleave), with the signature
    of the gqa-expand-kv exercise (quiz code check passes the learner's in its place)."""
    return repeat_kv(kv, n_query_heads // kv.shape[1])


def _distance_from_enable_gqa(interleaved: bool, seed: int, expand: Callable[..., torch.Tensor] = expand_kv) -> float:
    """Grouped attention with ``expand`` (K/V head g serves query heads g·r … g·r+r−1) vs torch's enable_gqa."""
    layer = seeded_module(lambda: MultiHeadAttention(D_MODEL, HEADS, KV_HEADS), seed=seed)
    x = randn(2, 7, D_MODEL, seed=seed + 1)
    with torch.no_grad():
        q, k, v = _projected(layer, x)
        ours = attend(q, expand(k, HEADS), expand(v, HEADS))  # what layer.heads(x) computes
        if not interleaved:  # the natural slip: tile the KV heads instead of repeating each one
            r = HEADS // KV_HEADS
            ours = attend(q, k.repeat(1, r, 1, 1), v.repeat(1, r, 1, 1))
        torch_gqa = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    return (ours - torch_gqa).abs().max().item()


def grouped_heads_match_torch_enable_gqa(seed: int = 0, expand: Callable[..., torch.Tensor] = expand_kv) -> Evidence:
    """Sharing each K/V head with a contiguous group of query heads (repeat_interleave) is exactly
    ``F.scaled_dot_product_attention(enable_gqa=True)``; tiling the heads with ``repeat`` is not."""
    return Evidence(
        measured=_distance_from_enable_gqa(interleaved=True, seed=seed, expand=expand),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only rounding error may separate the two
        derivation="torch's own F.scaled_dot_product_attention(enable_gqa=True), float64",
        counterfactual="K/V heads tiled with repeat (query head i gets KV head i mod h_kv)",
        counterfactual_measured=_distance_from_enable_gqa(interleaved=False, seed=seed),
    )


def _decode(n_kv_heads: int, seed: int, expand_before_caching: bool = False) -> int:
    """Decode STEPS tokens through LAYERS attention layers with a cache each; total cache bytes."""
    layers = [
        seeded_module(lambda: MultiHeadAttention(D_MODEL, HEADS, n_kv_heads), seed=seed + i) for i in range(LAYERS)
    ]
    caches = [KVCache() for _ in layers]
    with torch.no_grad():
        for step in range(STEPS):
            x = randn(BATCH, 1, D_MODEL, seed=seed + 100 + step)  # (B, 1, d): one new token per step
            for layer, cache in zip(layers, caches, strict=True):  # same input per layer: only sizes matter
                if expand_before_caching:  # store K/V already repeated to one copy per query head
                    _, k, v = _projected(layer, x)
                    r = HEADS // n_kv_heads
                    cache.append(k.repeat_interleave(r, 1), v.repeat_interleave(r, 1))
                else:
                    layer(x, cache=cache)
    return sum(cache.nbytes() for cache in caches)


def cache_bytes_formula_matches_a_measured_cache(seed: int = 0) -> Evidence:
    """After n decoding steps, a real GQA cache holds exactly 2·L·h_kv·d_head·n·B·bytes bytes;
    counting query heads instead of KV heads overestimates it."""
    element = torch.zeros((), dtype=torch.float64).element_size()
    d_head = D_MODEL // HEADS
    return Evidence(
        measured=_decode(KV_HEADS, seed),
        expected=kv_cache_bytes(LAYERS, KV_HEADS, d_head, STEPS, BATCH, element),
        comparison="equal",
        derivation="formula kv_cache_bytes: 2 · layers · kv_heads · head_dim · tokens · batch · bytes",
        counterfactual="formula with the query-head count (MHA) in place of the KV-head count",
        counterfactual_measured=kv_cache_bytes(LAYERS, HEADS, d_head, STEPS, BATCH, element),
        unit="bytes",
    )


def gqa_shrinks_the_cache_by_query_heads_over_kv_heads(seed: int = 0) -> Evidence:
    """Measured MHA cache / GQA cache = h / h_kv (here 8 / 2 = 4), and MHA / MQA = h; a cache that
    stores K/V after expanding them to every query head saves nothing."""
    mha = _decode(HEADS, seed)
    return Evidence(
        measured=(mha / _decode(KV_HEADS, seed), mha / _decode(1, seed)),  # exact: ratios of integer byte counts
        expected=(kv_cache_saving(HEADS, KV_HEADS), kv_cache_saving(HEADS, 1)),
        comparison="equal",
        derivation="formula kv_cache_saving: query_heads / kv_heads, for GQA (h_kv = 2) and MQA (h_kv = 1)",
        counterfactual="K/V repeated to every query head before being cached",
        counterfactual_measured=(
            mha / _decode(KV_HEADS, seed, expand_before_caching=True),
            mha / _decode(1, seed, expand_before_caching=True),
        ),
        unit="ratio",
    )


class _Llama2Shaped(nn.Module):
    """A Llama-2-7B-shaped decoder from the reference parts: pre-norm attention (no biases) and a
    SwiGLU FFN per layer, RMSNorm, untied embeddings. Built on the meta device: shapes only."""

    def __init__(self, kv_heads: int = LLAMA2_HEADS) -> None:
        super().__init__()
        d = LLAMA2_D_MODEL
        self.embed = nn.Parameter(torch.empty(LLAMA2_VOCAB, d))  # the (V, d) table of nn.Embedding
        self.attn = nn.ModuleList(
            # RoPE (Llama) adds no parameters and does not change what is cached; left out for meta tensors.
            MultiHeadAttention(d, LLAMA2_HEADS, kv_heads, bias=False)
            for _ in range(LLAMA2_LAYERS)
        )
        self.ffn = nn.ModuleList(FeedForward(d, LLAMA2_D_FF, "swiglu", bias=False) for _ in range(LLAMA2_LAYERS))
        self.norms = nn.ModuleList(RMSNorm(d) for _ in range(2 * LLAMA2_LAYERS + 1))
        self.head = nn.Linear(d, LLAMA2_VOCAB, bias=False)

    def cache_bytes(self, tokens: int) -> int:
        """Bytes the KV caches hold after ``tokens`` tokens: per token, each layer appends the outputs of
        its own K and V projections, un-expanded (the toy claims above check that through full forward
        passes with real caches), in the weights' dtype (fp16). The widths are read off the instantiated
        layers, whose configuration the parameter claim pins to the published 6.74B (GQA-8 would give
        5.93B). Not run: on the meta device every op's Python meta kernel imports sympy and
        torch._dynamo, 1-3 s for no extra information."""
        per_token = sum((a.w_k.out_features + a.w_v.out_features) * a.w_k.weight.element_size() for a in self.attn)
        return tokens * per_token


@functools.cache
def _llama2(kv_heads: int = LLAMA2_HEADS) -> _Llama2Shaped:
    with torch.device("meta"):
        return _Llama2Shaped(kv_heads).half()


def llama2_7b_config_has_its_published_parameter_count() -> Evidence:
    """The configuration used here (32 layers, d_model 4096, 32 heads, all of them K/V heads, SwiGLU d_ff
    11008, vocabulary 32,000), built from the reference parts, has Llama-2-7B's published 6.74B
    parameters. Giving it 8 KV heads, as Llama-2-70B has, would remove 0.8B."""
    return Evidence(
        measured=count_parameters(_llama2()),
        expected=LLAMA2_7B_PUBLISHED_PARAMETERS,
        comparison="rel",
        tolerance=0.001,  # the published figure is rounded to 0.01B: ±0.005 / 6.74 ≈ 0.07%
        derivation="Llama 2 model card / Hugging Face: 6.74B parameters for Llama-2-7B",
        counterfactual="the same model with GQA-8 (Llama-2-70B's layout), as if the 7B used GQA",
        counterfactual_measured=count_parameters(_llama2(kv_heads=8)),
        unit="parameters",
    )


def llama2_7b_caches_half_a_mebibyte_per_token() -> Evidence:
    """The K/V projections of that Llama-2-7B-shaped model's 32 attention layers fill fp16 caches of
    2 GiB after 4096 tokens: 2·32·32·128·2 = 524,288 bytes per token. Assuming GQA-8 (as for Llama-3-8B) would give
    a quarter of that."""
    tokens = 4096
    return Evidence(
        measured=_llama2().cache_bytes(tokens),
        expected=2 * LLAMA2_LAYERS * LLAMA2_HEADS * LLAMA2_HEAD_DIM * FP16_BYTES * tokens,
        comparison="equal",
        derivation="theory: 2 (K and V) · 32 layers · 32 heads · 128 · 2 bytes · 4096 tokens = 2³¹ bytes",
        counterfactual="the cache of the same model with 8 KV heads (GQA assumed, as in Llama-2-70B)",
        counterfactual_measured=_llama2(kv_heads=8).cache_bytes(tokens),
        unit="bytes",
        details={
            "bytes per token": _llama2().cache_bytes(1),
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
