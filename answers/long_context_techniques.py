"""How long-context LLMs work around attention's costs, one bottleneck at a time.

Tiled online-softmax attention (FlashAttention's algorithm) is exact and needs linear memory but keeps the
quadratic FLOPs; grouped-query attention shrinks the KV cache by the group size; paged caches store K/V
in fixed blocks through a block table without changing the result; sliding windows bound each token's
cost while stacked layers still reach L·(w−1)+1 tokens back; and RoPE models reach longer contexts by
rescaling positions back into the trained range (Position Interpolation), not by extrapolating.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from answers.evidence import Evidence
from answers.formulas.attention import attention_matmul_flops
from answers.formulas.kv_cache import kv_cache_saving
from answers.reference import KVCache, MultiHeadAttention, apply_rope, attend, randn, seeded_module

BLOCK = 16  # keys per tile


def _tiled_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, rescale: bool = True) -> torch.Tensor:
    """Softmax attention one key block at a time with a running max and normaliser (online softmax).
    Without ``rescale`` the partial sums from earlier blocks are not corrected when the max changes."""
    scale = 1 / math.sqrt(q.shape[-1])
    running_max = torch.full((*q.shape[:-1], 1), -math.inf, dtype=q.dtype)  # (..., n, 1)
    normaliser, out = torch.zeros_like(running_max), torch.zeros_like(q)
    for start in range(0, k.shape[-2], BLOCK):
        scores = q @ k[..., start : start + BLOCK, :].transpose(-2, -1) * scale  # (..., n, BLOCK)
        new_max = torch.maximum(running_max, scores.amax(-1, keepdim=True))
        correction = torch.exp(running_max - new_max) if rescale else torch.ones_like(new_max)
        weights = torch.exp(scores - new_max)
        normaliser = normaliser * correction + weights.sum(-1, keepdim=True)
        out = out * correction + weights @ v[..., start : start + BLOCK, :]
        running_max = new_max
    return out / normaliser


def _qkv(n: int = 256, d_head: int = 64, seed: int = 0) -> tuple[torch.Tensor, ...]:
    # Scores with a spread of several units, so the running max really changes between blocks.
    return tuple(randn(1, 2, n, d_head, seed=seed + i) * 1.5 for i in range(3))


def tiled_attention_is_exact() -> Evidence:
    """Online-softmax tiling (FlashAttention's algorithm) reproduces F.scaled_dot_product_attention to
    float64 rounding, while never holding more than an n × BLOCK slice of the scores."""
    q, k, v = _qkv()
    reference = F.scaled_dot_product_attention(q, k, v)
    return Evidence(
        measured=(_tiled_attention(q, k, v) - reference).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only rounding error may remain
        derivation="torch's own F.scaled_dot_product_attention, float64",
        counterfactual="tiles without rescaling earlier partial sums when the max changes",
        counterfactual_measured=(_tiled_attention(q, k, v, rescale=False) - reference).abs().max().item(),
    )


def _flops(attention, n: int, d_head: int) -> int:
    q, k, v = (randn(1, 1, n, d_head, seed=s) for s in (1, 2, 3))
    with FlopCounterMode(display=False) as counter:
        attention(q, k, v)
    return counter.get_total_flops()


def _linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
    return (phi_q @ (phi_k.transpose(-2, -1) @ v)) / (phi_q @ phi_k.sum(-2, keepdim=True).transpose(-2, -1))


def tiling_keeps_the_quadratic_flops(n: int = 256, d_head: int = 64) -> Evidence:
    """The tiled kernel does exactly the 4·n²·d FLOPs of naive attention: it saves memory, not arithmetic."""
    return Evidence(
        measured=_flops(_tiled_attention, n, d_head),
        expected=attention_matmul_flops(n, d_head),
        comparison="equal",
        unit="FLOPs",
        derivation="theory: QKᵀ and PV, 2·n²·d each, whichever order the blocks are visited in",
        counterfactual="linear attention φ(Q)(φ(K)ᵀV), a genuinely different (sub-quadratic) model",
        counterfactual_measured=_flops(_linear_attention, n, d_head),
        details={"naive attention FLOPs": _flops(attend, n, d_head)},
    )


def _cache_bytes(n_kv_heads: int, n_heads: int = 8, d_model: int = 64, n: int = 16) -> int:
    layer = seeded_module(lambda: MultiHeadAttention(d_model, n_heads, n_kv_heads))
    cache = KVCache()
    layer(randn(1, n, d_model, seed=4), cache=cache)
    return cache.nbytes()


def grouped_query_attention_shrinks_the_kv_cache_by_the_group_size() -> Evidence:
    """8 query heads sharing 2 KV heads (GQA) cache 4× fewer bytes than 8 KV heads (MHA)."""
    return Evidence(
        measured=_cache_bytes(8) / _cache_bytes(2),
        expected=kv_cache_saving(query_heads=8, kv_heads=2),
        comparison="abs",
        tolerance=0.0,  # byte counts: the ratio is exact
        derivation="kv_cache_saving formula: query heads / KV heads",
        counterfactual="one KV head per query head (plain multi-head attention)",
        counterfactual_measured=_cache_bytes(8) / _cache_bytes(8),
    )


def _paged_attention_error(shuffle_table: bool) -> float:
    """Store K/V in shuffled fixed-size physical blocks, gather them back through the block table, attend."""
    q, k, v = _qkv(n=64, d_head=16, seed=5)
    block, n_blocks = 8, 64 // 8
    order = torch.randperm(n_blocks, generator=torch.Generator().manual_seed(0))  # physical slot of logical block
    pages_k = torch.empty_like(k).view(1, 2, n_blocks, block, 16)
    pages_v = torch.empty_like(v).view(1, 2, n_blocks, block, 16)
    pages_k[:, :, order] = k.view(1, 2, n_blocks, block, 16)
    pages_v[:, :, order] = v.view(1, 2, n_blocks, block, 16)
    table = order.flip(0) if shuffle_table else order  # logical block i lives in slot table[i]
    gathered_k = pages_k[:, :, table].reshape(1, 2, 64, 16)
    gathered_v = pages_v[:, :, table].reshape(1, 2, 64, 16)
    causal = torch.ones(64, 64, dtype=torch.bool).tril()  # order matters only once positions are masked
    return (attend(q, gathered_k, gathered_v, causal) - attend(q, k, v, causal)).abs().max().item()


def paged_kv_cache_gives_the_same_attention() -> Evidence:
    """Keys and values scattered over fixed-size blocks and gathered through a block table (vLLM's paging)
    give exactly the attention of a contiguous cache."""
    return Evidence(
        measured=_paged_attention_error(shuffle_table=False),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # the gather copies the same numbers in the same order
        derivation="theory: gathering by the block table restores the contiguous tensors",
        counterfactual="a block table that points at the wrong blocks",
        counterfactual_measured=_paged_attention_error(shuffle_table=True),
    )


def _reach(window: int | None, layers: int, n: int = 32, d: int = 16) -> int:
    """How many input positions the last token's output depends on after ``layers`` residual attention
    layers, each allowed to see the previous ``window`` positions (itself included); None = full causal."""
    i, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
    mask = (j <= i) if window is None else (j <= i) & (j > i - window)
    x = randn(1, n, d, seed=6).requires_grad_()
    h = x
    for layer_index in range(layers):
        h = h + seeded_module(lambda: MultiHeadAttention(d, 2), seed=layer_index)(h, mask=mask)
    h[0, -1].sum().backward()
    return int((x.grad[0].abs().sum(-1) > 0).sum())


def sliding_window_reach_grows_by_w_minus_1_per_layer(window: int = 4) -> Evidence:
    """With a window of w positions, the last token depends on L·(w−1)+1 inputs after L layers:
    4, 7, 10 for w = 4 — information still travels far, one window per layer."""
    depths = (1, 2, 3)
    return Evidence(
        measured=tuple(_reach(window, layers) for layers in depths),
        expected=tuple(layers * (window - 1) + 1 for layers in depths),
        comparison="equal",
        unit="tokens",
        derivation="theory: each layer extends the receptive field by w − 1 positions",
        counterfactual="full causal attention (no window)",
        counterfactual_measured=tuple(_reach(None, layers) for layers in depths),
        details={"Mistral-7B span, 32 layers × window 4096": 32 * (4096 - 1) + 1},
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
