"""How long-context LLMs work around attention's costs, one bottleneck at a time.

Tiled online-softmax attention (FlashAttention's algorithm) is exact and needs linear memory but keeps the
quadratic FLOPs (its backward even recomputes the tiles); grouped-query attention shrinks the KV cache by
the group size; paged caches store K/V in fixed blocks through a block table without changing the result;
sliding windows bound each token's cost while stacked layers still reach L·(w−1)+1 tokens back; and RoPE
models reach longer contexts by rescaling positions back into the trained range (Position Interpolation),
not by extrapolating.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.formulas.attention import attention_matmul_flops
from answers.formulas.kv_cache import kv_cache_saving
from answers.reference import (
    KVCache,
    MultiHeadAttention,
    apply_rope,
    attend,
    count_flops,
    linear_attention,
    online_softmax_attention,
    randn,
    repeat_kv,
    seeded_module,
)

BLOCK = 16  # keys per tile


def _qkv(n: int = 256, d_head: int = 64, seed: int = 0) -> tuple[torch.Tensor, ...]:
    # Scores with a spread of several units, so the running max really changes between blocks.
    return tuple(randn(1, 2, n, d_head, seed=3 * seed + i) * 1.5 for i in range(3))


def tiled_attention_is_exact(seed: int = 0) -> Evidence:
    """Online-softmax tiling (FlashAttention's algorithm) reproduces F.scaled_dot_product_attention to
    float64 rounding, while never holding more than an n × BLOCK slice of the scores."""
    q, k, v = _qkv(seed=seed)
    reference = torch.nn.functional.scaled_dot_product_attention(q, k, v)

    def error(rescale: bool) -> float:
        return (online_softmax_attention(q, k, v, block=BLOCK, rescale=rescale) - reference).abs().max().item()

    return Evidence(
        measured=error(rescale=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only rounding error may remain
        derivation="torch's own F.scaled_dot_product_attention, float64",
        counterfactual="tiles without rescaling earlier partial sums when the max changes",
        counterfactual_measured=error(rescale=False),
    )


def tiling_keeps_the_quadratic_flops(n: int = 256, d_head: int = 64, seed: int = 0) -> Evidence:
    """In the forward pass the tiled kernel does exactly the 4·n²·d FLOPs of naive attention: it saves
    memory, not arithmetic (and its backward recomputes the tiles, see flash-attention)."""
    q, k, v = (randn(1, 1, n, d_head, seed=3 * seed + i) for i in range(3))
    return Evidence(
        measured=count_flops(online_softmax_attention, q, k, v, block=BLOCK),
        expected=attention_matmul_flops(n, d_head),
        comparison="equal",
        unit="FLOPs",
        derivation="theory: QKᵀ and PV, 2·n²·d each, whichever order the blocks are visited in",
        counterfactual="linear attention φ(Q)(φ(K)ᵀV), a genuinely different (sub-quadratic) model",
        counterfactual_measured=count_flops(linear_attention, q, k, v),
        details={"naive attention FLOPs": count_flops(attend, q, k, v)},
    )


def _cache_bytes(
    n_kv_heads: int, *, expand_first: bool = False, n_heads: int = 8, d_model: int = 64, n: int = 16, seed: int = 0
) -> int:
    """Bytes a layer's KV cache holds after n tokens. With ``expand_first`` the K/V heads are repeated to
    the n_heads query heads before they are cached, a common slip in hand-written GQA."""
    layer = seeded_module(lambda: MultiHeadAttention(d_model, n_heads, n_kv_heads), seed=seed)
    x = randn(1, n, d_model, seed=seed + 1)
    cache = KVCache()
    if not expand_first:
        layer(x, cache=cache)
        return cache.nbytes()
    k = layer.split_heads(layer.w_k(x), n_kv_heads)
    v = layer.split_heads(layer.w_v(x), n_kv_heads)
    cache.append(repeat_kv(k, n_heads // n_kv_heads), repeat_kv(v, n_heads // n_kv_heads))
    return cache.nbytes()


def grouped_query_attention_shrinks_the_kv_cache_by_the_group_size(seed: int = 0) -> Evidence:
    """8 query heads sharing 2 KV heads (GQA) cache 4× fewer bytes than 8 KV heads (MHA), as long as the
    2 heads are cached before they are expanded to the 8 query heads."""
    mha = _cache_bytes(8, seed=seed)
    return Evidence(
        measured=mha / _cache_bytes(2, seed=seed),
        expected=kv_cache_saving(query_heads=8, kv_heads=2),
        comparison="abs",
        tolerance=0.0,  # byte counts: the ratio is exact
        derivation="theory: the cache holds K and V for each KV head; query heads / KV heads = 8/2",
        counterfactual="GQA whose K/V are repeated to the 8 query heads before caching",
        counterfactual_measured=mha / _cache_bytes(2, expand_first=True, seed=seed),
    )


def _paged_attention_error(shuffle_table: bool, seed: int) -> float:
    """Store K/V in shuffled fixed-size physical blocks, gather them back through the block table, attend."""
    q, k, v = _qkv(n=64, d_head=16, seed=seed + 5)
    block, n_blocks = 8, 64 // 8
    order = torch.randperm(n_blocks, generator=torch.Generator().manual_seed(seed))  # physical slot of logical block
    pages_k = torch.empty_like(k).view(1, 2, n_blocks, block, 16)
    pages_v = torch.empty_like(v).view(1, 2, n_blocks, block, 16)
    pages_k[:, :, order] = k.view(1, 2, n_blocks, block, 16)
    pages_v[:, :, order] = v.view(1, 2, n_blocks, block, 16)
    table = order.flip(0) if shuffle_table else order  # logical block i lives in slot table[i]
    gathered_k = pages_k[:, :, table].reshape(1, 2, 64, 16)
    gathered_v = pages_v[:, :, table].reshape(1, 2, 64, 16)
    causal = torch.ones(64, 64, dtype=torch.bool).tril()  # order matters only once positions are masked
    return (attend(q, gathered_k, gathered_v, causal) - attend(q, k, v, causal)).abs().max().item()


def paged_kv_cache_gives_the_same_attention(seed: int = 0) -> Evidence:
    """Keys and values scattered over fixed-size blocks and gathered through a block table (vLLM's paging)
    give exactly the attention of a contiguous cache."""
    return Evidence(
        measured=_paged_attention_error(shuffle_table=False, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # the gather copies the same numbers in the same order
        derivation="theory: gathering by the block table restores the contiguous tensors",
        counterfactual="a block table that points at the wrong blocks",
        counterfactual_measured=_paged_attention_error(shuffle_table=True, seed=seed),
    )


def _reach(window: int | None, layers: int, seed: int, n: int = 32, d: int = 16) -> int:
    """How many input positions the last token's output depends on after ``layers`` residual attention
    layers, each allowed to see the previous ``window`` positions (itself included); None = full causal."""
    i, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
    mask = (j <= i) if window is None else (j <= i) & (j > i - window)
    x = randn(1, n, d, seed=seed + 6).requires_grad_()
    h = x
    for layer_index in range(layers):
        h = h + seeded_module(lambda: MultiHeadAttention(d, 2), seed=100 * seed + layer_index)(h, mask=mask)
    h[0, -1].sum().backward()
    return int((x.grad[0].abs().sum(-1) > 0).sum())


def sliding_window_reach_grows_by_w_minus_1_per_layer(window: int = 4, seed: int = 0) -> Evidence:
    """With a window of w positions, the last token depends on L·(w−1)+1 inputs after L layers:
    4, 7, 10 for w = 4 — information still travels far, one window per layer."""
    depths = (1, 2, 3)
    return Evidence(
        measured=tuple(_reach(window, layers, seed) for layers in depths),
        expected=tuple(layers * (window - 1) + 1 for layers in depths),
        comparison="equal",
        unit="tokens",
        derivation="theory: each layer extends the receptive field by w − 1 positions",
        counterfactual="full causal attention (no window)",
        counterfactual_measured=tuple(_reach(None, layers, seed) for layers in depths),
        details={
            "Mistral-7B, positions i−W … i, W = 4096, 32 layers: tokens back": 32 * 4096,
            "a window of 4096 positions including itself, 32 layers: positions reached": 32 * (4096 - 1) + 1,
        },
    )


def _slowest_rope_angle(positions: torch.Tensor, d_head: int = 128) -> float:
    """The angle apply_rope gives the slowest-rotating pair at the largest position, read back with atan2."""
    unit = torch.zeros(len(positions), d_head, dtype=torch.float64)
    unit[:, -2] = 1.0  # the last (even, odd) pair rotates slowest
    rotated = apply_rope(unit, positions)
    return torch.atan2(rotated[:, -1], rotated[:, -2]).max().item()


def position_interpolation_keeps_rope_angles_in_the_trained_range(trained: int = 2048, target: int = 8192) -> Evidence:
    """Run at 8192 tokens, RoPE's slowest pair reaches angles 4× beyond any seen when training on 2048;
    Position Interpolation (positions × 2048/8192) keeps every angle inside the trained range."""
    positions = torch.linspace(0, target - 1, 257, dtype=torch.float64)  # 257 evenly spaced, ends included
    bound = _slowest_rope_angle(torch.tensor([float(trained)]))  # the angle at the end of the trained range
    return Evidence(
        measured=_slowest_rope_angle(positions * trained / target),
        expected=bound,
        comparison="at_most",
        unit="radians",
        derivation="apply_rope at position 2048, the edge of the trained positions [0, 2048)",
        counterfactual="plain RoPE extrapolated to 8192 positions",
        counterfactual_measured=_slowest_rope_angle(positions),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
