"""Exercise online-softmax-attention: attention over keys that stream in tiles, with a running max and sum
(the forward pass of FlashAttention, without the GPU)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "online-softmax-attention"
CARD = "flash-attention"
DIFFICULTY = "hard"
TITLE = "Tiled attention with an online softmax"
FUNCTION = "online_attention"
IMPORTS = "import math\n\nimport torch\n"
FORBIDDEN = {
    "torch.nn.functional.scaled_dot_product_attention": "it is the function you are writing, tile by tile",
    "torch.nn.functional.multi_head_attention_forward": "it computes attention for you",
    "torch.nn.MultiheadAttention": "it computes attention for you",
}

_torch_sdpa = F.scaled_dot_product_attention


def online_attention(q, blocks):
    """softmax(q Kᵀ / √d_k) V, with K and V arriving one block of keys at a time (one pass, no full score matrix).

    q: (..., n_q, d_k). blocks: an iterable of (k_block, v_block) pairs, k_block (..., b, d_k) and v_block
    (..., b, d_v), the keys and values in order; b may differ from block to block (the last is often
    shorter). Each block is valid only until the next one arrives: like a tile in on-chip memory, its
    buffer is then overwritten. So keep no block: keep, per query, a running maximum m of the scores seen,
    a running denominator denom = Σ exp(score − m) and an accumulator acc = Σ exp(score − m)·v. When a
    block raises the maximum from m to m', rescale both denom and acc by exp(m − m') before adding the
    block. At the end return acc / denom, (..., n_q, d_v) in q's dtype: exactly softmax attention over all
    the keys (no mask). Scores may be in the thousands. Do not call F.scaled_dot_product_attention.
    To try it yourself: blocks = zip(k.split(4, dim=-2), v.split(4, dim=-2)).

    Example: q = [[√2·ln 3, 0.]], blocks: ([[0., 0.]], [[2.]]), then ([[1., 0.]], [[4.]])
        after block 1: scores [0],    m = 0,    denom = 1,                     acc = 2
        after block 2: scores [ln 3], m = ln 3, denom = 1·e^(−ln 3) + 1 = 4/3, acc = 2·e^(−ln 3) + 1·4 = 14/3
        result = acc / denom = [[3.5]]   (= softmax([0, ln 3]) · [2, 4] = 1/4·2 + 3/4·4)
    """
    m = denom = acc = None
    for k_block, v_block in blocks:
        scores = q @ k_block.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., n_q, b)
        block_max = scores.amax(dim=-1, keepdim=True)
        m_new = block_max if m is None else torch.maximum(m, block_max)
        p = torch.exp(scores - m_new)
        if m is None:
            denom, acc = p.sum(dim=-1, keepdim=True), p @ v_block
        else:
            rescale = torch.exp(m - m_new)  # the old terms were exp(s − m); they must become exp(s − m_new)
            denom = denom * rescale + p.sum(dim=-1, keepdim=True)
            acc = acc * rescale + p @ v_block
        m = m_new
    return acc / denom


# ------------------------------------------------------------------------------------------ the checks


class Tiles:
    """K and V streamed block by block through one reused buffer, as tiles pass through on-chip memory: a block
    kept past the next one silently holds other keys. Iterable any number of times (each check starts afresh)."""

    def __init__(self, k: Tensor, v: Tensor, sizes: list[int]):
        assert sum(sizes) == k.shape[-2] == v.shape[-2]
        self.k, self.v, self.sizes = k, v, sizes

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        width = max(self.sizes)
        buffer_k = torch.empty(*self.k.shape[:-2], width, self.k.shape[-1], dtype=self.k.dtype)
        buffer_v = torch.empty(*self.v.shape[:-2], width, self.v.shape[-1], dtype=self.v.dtype)
        start = 0
        for size in self.sizes:
            buffer_k[..., :size, :].copy_(self.k[..., start : start + size, :])
            buffer_v[..., :size, :].copy_(self.v[..., start : start + size, :])
            start += size
            yield buffer_k[..., :size, :], buffer_v[..., :size, :]

    def __repr__(self) -> str:
        head = f"{len(self.sizes)} blocks of {self.sizes} keys, of K {tuple(self.k.shape)} and V {tuple(self.v.shape)}"
        if self.k.numel() + self.v.numel() > 16:
            return head
        return f"{head}\nK = {self.k.tolist()}\nV = {self.v.tolist()}"


def _tiled(k: Tensor, v: Tensor, block: int) -> Tiles:
    n = k.shape[-2]
    return Tiles(k, v, [min(block, n - start) for start in range(0, n, block)])


def cases() -> list[Case]:
    names = ("q", "blocks")
    f64 = torch.float64
    ex_q = torch.tensor([[math.sqrt(2) * math.log(3), 0.0]], dtype=f64)
    ex_k, ex_v = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=f64), torch.tensor([[2.0], [4.0]], dtype=f64)
    q1, k1, v1 = randn(3, 4, seed=1), randn(9, 4, seed=2), randn(9, 3, seed=3)
    qb, kb, vb = randn(2, 2, 5, 6, seed=4), randn(2, 2, 11, 6, seed=5), randn(2, 2, 11, 2, seed=6)
    # keys along q's direction with growing length: every block raises the maximum, so every rescale counts
    rising_q = randn(2, 3, seed=7).abs()
    rising_k = torch.arange(1.0, 9.0, dtype=f64)[:, None] * rising_q.mean(0) + 0.1 * randn(8, 3, seed=8)
    rising_v = randn(8, 4, seed=9)
    big_q, big_k, big_v = 30 * randn(4, 8, seed=10), 30 * randn(10, 8, seed=11), randn(10, 3, seed=12)
    q32, k32, v32 = (randn(2, 6, 5, seed=s, dtype=torch.float32) for s in (13, 14, 15))

    def case(name: str, q: Tensor, k: Tensor, v: Tensor, block: int, why: str, **tolerance: float) -> Case:
        return Case(name, (q, _tiled(k, v, block)), _torch_sdpa(q, k, v), why, arg_names=names, **tolerance)

    return [
        Case("the worked example: 2 blocks of 1 key", (ex_q, _tiled(ex_k, ex_v, 1)),
             torch.tensor([[3.5]], dtype=f64), "the rescale by e^(m − m')", arg_names=names),
        case("n_q = 3, n_k = 9 in blocks of 4, 4, 1; d_k = 4 ≠ d_v = 3", q1, k1, v1, 4, "a short last block"),
        case("batch 2 × 2 heads, n_q = 5, n_k = 11 in blocks of 3", qb, kb, vb, 3, "leading dims"),
        case("one block holding all 9 keys", q1, k1, v1, 9, "no tiling at all: plain attention"),
        case("blocks of 1 key", q1, k1, v1, 1, "the running state updated at every key"),
        case("scores that rise in every block", rising_q, rising_k, rising_v, 2,
             "the maximum changes each time, so the old terms must be rescaled each time"),
        case("scores in the thousands, blocks of 3", big_q, big_k, big_v, 3,
             "exp(score) alone overflows: the running maximum keeps every exponent ≤ 0"),
        case("float32, blocks of 2", q32, k32, v32, 2, "the dtype is kept", atol=1e-5, rtol=1e-4),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _scores(q: Tensor, k: Tensor) -> Tensor:
    return q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])


def accumulator_not_rescaled(q, blocks):
    m = denom = acc = None
    for k_block, v_block in blocks:
        scores = _scores(q, k_block)
        m_new = scores.amax(-1, keepdim=True) if m is None else torch.maximum(m, scores.amax(-1, keepdim=True))
        p = torch.exp(scores - m_new)
        if m is None:
            denom, acc = p.sum(-1, keepdim=True), p @ v_block
        else:
            denom = denom * torch.exp(m - m_new) + p.sum(-1, keepdim=True)
            acc = acc + p @ v_block
        m = m_new
    return acc / denom


def softmax_per_block_summed(q, blocks):
    out = None
    for k_block, v_block in blocks:
        part = torch.softmax(_scores(q, k_block), dim=-1) @ v_block
        out = part if out is None else out + part
    return out


def blocks_collected(q, blocks):
    kept = list(blocks)
    k = torch.cat([k_block for k_block, _ in kept], dim=-2)
    v = torch.cat([v_block for _, v_block in kept], dim=-2)
    return torch.softmax(_scores(q, k), dim=-1) @ v


def first_block_maximum(q, blocks):
    m = denom = acc = None
    for k_block, v_block in blocks:
        scores = _scores(q, k_block)
        if m is None:
            m = scores.amax(-1, keepdim=True)
            denom, acc = torch.zeros_like(m), 0
        p = torch.exp(scores - m)
        denom, acc = denom + p.sum(-1, keepdim=True), acc + p @ v_block
    return acc / denom


MISCONCEPTIONS = [
    Misconception("the accumulator not rescaled", accumulator_not_rescaled,
                  "you rescale the running denominator when the maximum rises, but not the accumulator acc: its old "
                  "terms stay weighted by e^(s − m_old) while the new ones use e^(s − m_new). Multiply acc by "
                  "e^(m_old − m_new) too", "flash-attention: tiled_online_softmax_is_exact_attention"),
    Misconception("a softmax per block, summed", softmax_per_block_summed,
                  "you softmax each block on its own and add the results: each block's weights sum to 1, so the "
                  "total weight is the number of blocks, and blocks are never weighed against each other",
                  "flash-attention: “Tiling alone is enough: softmax each block and add the results.”"),
    Misconception("the blocks collected (not online)", blocks_collected,
                  "you keep the blocks and attend over all of them at the end. That is ordinary attention with the "
                  "full score matrix, and here each block's buffer was overwritten by the next, as a tile in "
                  "on-chip memory is: keep only the running m, denom and acc",
                  "flash-attention: largest_tensor_is_n_times_block_not_n_squared"),
    Misconception("the maximum of the first block only", first_block_maximum,
                  "you fix m from the first block and never raise it: exact in exact arithmetic, but a later "
                  "block with larger scores gives exp(s − m) = inf, and inf/inf is NaN. Keep a running maximum",
                  "softmax-numerical-stability: the_shifted_softmax_survives_logits_that_overflow_exp"),
]  # fmt: skip
