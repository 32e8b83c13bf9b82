"""Self-attention costs O(n²·d) time and, done naively, O(n²) memory.

QKᵀ and the weighted sum PV are each an (n × d)·(d × n)-sized product per layer, 2·n²·d FLOPs apiece, so
attention costs 4·n²·d FLOPs whatever the number of heads. A naive implementation also builds the n × n
score matrix of every head; a tiled, online-softmax implementation (FlashAttention's idea) computes the
same output while holding only a block of it, with the same forward FLOPs (its backward recomputes the
tiles, so training costs a little more: see flash-attention). The FLOPs are counted by torch's own
FlopCounterMode.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.formulas.attention import attention_matmul_flops, attention_score_bytes, attention_score_count
from answers.reference import (
    attend,
    causal_mask,
    count_flops,
    largest_intermediate,
    linear_attention,
    online_softmax_attention,
    randn,
)

__all__ = ["attention_matmul_flops", "attention_score_bytes", "attention_score_count"]

D_MODEL, HEADS = 64, 4  # d_head = 16
BLOCK = 16  # keys per tile in the online-softmax implementation


def _qkv(n: int, seed: int = 0, heads: int = HEADS) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-head queries, keys and values, (1, heads, n, D_MODEL / heads) each."""
    d_head = D_MODEL // heads
    return tuple(randn(1, heads, n, d_head, seed=3 * seed + i) for i in range(3))


def _tiled(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return online_softmax_attention(q, k, v, block=BLOCK)


def _matmul_flops(attention, n: int, seed: int = 0, heads: int = HEADS) -> int:
    """FLOPs torch's FlopCounterMode counts for one call of ``attention`` on n tokens."""
    return count_flops(attention, *_qkv(n, seed, heads))


def _largest_intermediate(attention, n: int, seed: int = 0) -> int:
    """Elements per head of the largest tensor ``attention`` creates on n tokens (a dispatch-level hook)."""
    return largest_intermediate(attention, *_qkv(n, seed)) // HEADS


def attention_matmul_flops_are_four_n_squared_d(n: int = 256, seed: int = 0) -> Evidence:
    """FlopCounterMode on explicit-matmul attention counts exactly 4·n²·d, 2·n²·d for QKᵀ and 2·n²·d for PV,
    with d = 64 split into 1, 2, 4 or 8 heads alike."""
    heads = (1, 2, 4, 8)
    return Evidence(
        measured=tuple(_matmul_flops(attend, n, seed, h) for h in heads),
        expected=tuple(attention_matmul_flops(n, D_MODEL) for _ in heads),
        comparison="equal",
        unit="FLOPs",
        derivation="theory: two (n×d_head)·(d_head×n)-sized products per head, h·d_head = d, 2 FLOPs per multiply-add",
        counterfactual="linear attention φ(Q)(φ(K)ᵀV), which reassociates the product",
        counterfactual_measured=tuple(_matmul_flops(linear_attention, n, seed, h) for h in heads),
        details={"heads": heads, "d_model": D_MODEL},
    )


def doubling_the_context_quadruples_attention_flops(n: int = 128, seed: int = 0) -> Evidence:
    """Doubling n multiplies the attention FLOPs by exactly 4, for the tiled online-softmax computation
    (FlashAttention's algorithm) as for naive attention; linear attention only doubles them."""

    def ratio(attention) -> float:
        return _matmul_flops(attention, 2 * n, seed) / _matmul_flops(attention, n, seed)

    return Evidence(
        measured=ratio(_tiled),
        expected=4.0,
        comparison="abs",
        tolerance=0.0,  # integer FLOP counts: the ratio is exact
        derivation="theory: 4·(2n)²·d / 4·n²·d = 4",
        counterfactual="linear attention φ(Q)(φ(K)ᵀV)",
        counterfactual_measured=ratio(linear_attention),
        details={"naive attention, ratio": ratio(attend), "tiled FLOPs at n": _matmul_flops(_tiled, n, seed)},
    )


def _materialised_scores(attention, n: int) -> int:
    """Scores per head that ``attention`` holds at once, on shape-only 'meta' tensors (no arithmetic)."""
    d_head = D_MODEL // HEADS
    q = torch.empty(1, HEADS, n, d_head, device="meta")
    return attention(q, q).numel() // HEADS


def naive_attention_builds_n_squared_scores_per_head() -> Evidence:
    """Per head and layer, naive attention materialises n² scores: 262,144 at 512 tokens and 16,777,216 at
    4096.  A tiled implementation never holds more than n·BLOCK of them."""
    sizes = (512, 4096)
    full = lambda q, k: q @ k.transpose(-2, -1)  # noqa: E731 — (1, h, n, n)
    one_tile = lambda q, k: q @ k[..., :BLOCK, :].transpose(-2, -1)  # noqa: E731 — (1, h, n, BLOCK)
    return Evidence(
        measured=tuple(_materialised_scores(full, n) for n in sizes),
        expected=tuple(attention_score_count(n) for n in sizes),
        comparison="equal",
        unit="scores",
        derivation="theory: one score per (query, key) pair, n·n",
        counterfactual=f"tiled attention, one block of {BLOCK} keys at a time",
        counterfactual_measured=tuple(_materialised_scores(one_tile, n) for n in sizes),
    )


def _score_bytes(n: int, heads: int, *, block: int | None = None) -> int:
    """Bytes of the fp16 attention weights softmax(QKᵀ) that attention over ``heads`` heads of n tokens holds,
    read from the tensor's own ``nbytes`` on shape-only 'meta' tensors; ``block`` keeps one tile of keys only."""
    q = torch.empty(1, heads, n, D_MODEL // HEADS, device="meta", dtype=torch.float16)
    keys = q if block is None else q[..., :block, :]
    return torch.softmax(q @ keys.transpose(-2, -1), dim=-1).nbytes


def naive_score_tensors_take_two_h_n_squared_bytes_in_fp16() -> Evidence:
    """In fp16 the attention weights of h heads on n tokens take 2·h·n² bytes: 32 MiB for one head at 4,096
    tokens, 1 GiB for 32 heads, 2 GiB for one head at 32,768 (the nbytes of the tensor torch allocates)."""
    cases = ((4096, 1), (4096, 32), (32768, 1))
    return Evidence(
        measured=tuple(_score_bytes(n, h) for n, h in cases),
        expected=tuple(attention_score_bytes(n, heads=h, bytes_per_element=2) for n, h in cases),
        comparison="equal",
        unit="bytes",
        derivation="attention_score_bytes formula: n · n · heads · 2 bytes (fp16)",
        counterfactual=f"tiled attention's weights, one block of {BLOCK} keys at a time",
        counterfactual_measured=tuple(_score_bytes(n, h, block=BLOCK) for n, h in cases),
        details={"cases (tokens, heads)": tuple(f"{n}, {h}" for n, h in cases)},
    )


def causal_attention_needs_n_times_n_plus_1_over_2_scores(n: int = 512) -> Evidence:
    """A causal mask keeps n(n+1)/2 of the n² scores (131,328 at 512 tokens): about half."""
    return Evidence(
        measured=int(causal_mask(n).sum()),
        expected=attention_score_count(n, causal=True),
        comparison="equal",
        unit="scores",
        derivation="theory: row i sees i keys, 1 + 2 + … + n = n(n+1)/2",
        counterfactual="no mask (bidirectional attention)",
        counterfactual_measured=int(torch.ones(n, n, dtype=torch.bool).sum()),
        details={"causal scores at 4096 (formula)": attention_score_count(4096, causal=True)},
    )


def naive_attention_memory_quadruples_when_n_doubles(n: int = 128, seed: int = 0) -> Evidence:
    """The largest tensor naive attention creates grows ×4 when n doubles; the tiled online-softmax one,
    which gives the same output, grows only ×2."""

    def growth(attention) -> float:
        return _largest_intermediate(attention, 2 * n, seed) / _largest_intermediate(attention, n, seed)

    q, k, v = _qkv(n, seed)
    return Evidence(
        measured=growth(attend),
        expected=4.0,
        comparison="abs",
        tolerance=0.0,  # element counts: the ratio is exact
        derivation="theory: the score matrix has n² entries per head",
        counterfactual=f"tiled online-softmax attention (blocks of {BLOCK} keys)",
        counterfactual_measured=growth(_tiled),
        details={
            f"largest tensor per head, naive, n={n}": _largest_intermediate(attend, n, seed),
            f"largest tensor per head, tiled, n={n}": _largest_intermediate(_tiled, n, seed),
            "max |tiled − naive| output": (_tiled(q, k, v) - attend(q, k, v)).abs().max().item(),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
