"""Self-attention costs O(n²·d) time and, done naively, O(n²) memory.

QKᵀ and the weighted sum PV are each an (n × d)·(d × n)-sized product per layer, 2·n²·d FLOPs apiece, so
attention costs 4·n²·d FLOPs whatever the number of heads. A naive implementation also builds the n × n
score matrix of every head; a tiled, online-softmax implementation (FlashAttention's idea) computes the
same output while holding only a block of it. The FLOPs are counted by torch's own FlopCounterMode.
"""

from __future__ import annotations

import math

import torch
from torch.utils.flop_counter import FlopCounterMode

from answers.evidence import Evidence
from answers.formulas.attention import attention_matmul_flops, attention_score_bytes, attention_score_count
from answers.reference import attend, causal_mask, randn

__all__ = ["attention_matmul_flops", "attention_score_bytes", "attention_score_count"]

D_MODEL, HEADS = 64, 4  # d_head = 16
BLOCK = 16  # keys per tile in the online-softmax implementation


def _qkv(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-head queries, keys and values, (1, HEADS, n, d_head) each."""
    d_head = D_MODEL // HEADS
    return tuple(randn(1, HEADS, n, d_head, seed=seed + i) for i in range(3))


def _linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Kernelised attention φ(Q)(φ(K)ᵀV) with φ = elu + 1: reassociating the product avoids the n × n matrix."""
    phi_q, phi_k = torch.nn.functional.elu(q) + 1, torch.nn.functional.elu(k) + 1
    state = phi_k.transpose(-2, -1) @ v  # (1, h, d_head, d_head): no n × n anywhere
    normaliser = phi_q @ phi_k.sum(-2, keepdim=True).transpose(-2, -1)  # (1, h, n, 1)
    return (phi_q @ state) / normaliser


def _matmul_flops(attention, n: int) -> int:
    """FLOPs torch's FlopCounterMode counts for one call of ``attention`` on n tokens."""
    q, k, v = _qkv(n)
    with FlopCounterMode(display=False) as counter:
        attention(q, k, v)
    return counter.get_total_flops()


def _tiled_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Exact softmax attention over key blocks of BLOCK, with a running max and normaliser (online softmax):
    never more than an (n × BLOCK) slice of the scores exists at once."""
    scale = 1 / math.sqrt(q.shape[-1])
    running_max = torch.full((*q.shape[:-1], 1), -math.inf, dtype=q.dtype)  # (1, h, n, 1)
    normaliser = torch.zeros_like(running_max)
    out = torch.zeros_like(q)
    for start in range(0, k.shape[-2], BLOCK):
        scores = q @ k[..., start : start + BLOCK, :].transpose(-2, -1) * scale  # (1, h, n, BLOCK)
        new_max = torch.maximum(running_max, scores.amax(-1, keepdim=True))
        rescale = torch.exp(running_max - new_max)  # earlier blocks were weighted against an older max
        weights = torch.exp(scores - new_max)
        normaliser = normaliser * rescale + weights.sum(-1, keepdim=True)
        out = out * rescale + weights @ v[..., start : start + BLOCK, :]
        running_max = new_max
    return out / normaliser


def _largest_intermediate(attention, n: int) -> int:
    """Elements per head of the largest tensor ``attention`` creates on n tokens, recorded by a
    dispatch-level hook on every op's output (inputs excluded)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Largest(TorchDispatchMode):
        largest = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if isinstance(out, torch.Tensor):
                self.largest = max(self.largest, out.numel())
            return out

    q, k, v = _qkv(n)
    with _Largest() as mode:
        attention(q, k, v)
    return mode.largest // HEADS


def attention_matmul_flops_are_four_n_squared_d(n: int = 256) -> Evidence:
    """FlopCounterMode on explicit-matmul attention counts exactly 4·n²·d: 2·n²·d for QKᵀ, 2·n²·d for PV."""
    return Evidence(
        measured=_matmul_flops(attend, n),
        expected=attention_matmul_flops(n, D_MODEL),
        comparison="equal",
        unit="FLOPs",
        derivation="theory: two (n×d_head)·(d_head×n)-sized products per head, h·d_head = d, 2 FLOPs per multiply-add",
        counterfactual="linear attention φ(Q)(φ(K)ᵀV), which reassociates the product",
        counterfactual_measured=_matmul_flops(_linear_attention, n),
        details={"heads": HEADS, "d_model": D_MODEL},
    )


def doubling_the_context_quadruples_attention_flops(n: int = 128) -> Evidence:
    """Doubling n multiplies the attention FLOPs by exactly 4; linear attention only doubles them."""

    def ratio(attention) -> float:
        return _matmul_flops(attention, 2 * n) / _matmul_flops(attention, n)

    return Evidence(
        measured=ratio(attend),
        expected=4.0,
        comparison="abs",
        tolerance=0.0,  # integer FLOP counts: the ratio is exact
        derivation="theory: 4·(2n)²·d / 4·n²·d = 4",
        counterfactual="linear attention φ(Q)(φ(K)ᵀV)",
        counterfactual_measured=ratio(_linear_attention),
    )


def _materialised_scores(attention, n: int) -> int:
    """Scores per head that ``attention`` holds at once, on shape-only 'meta' tensors (no arithmetic)."""
    d_head = D_MODEL // HEADS
    q = torch.empty(1, HEADS, n, d_head, device="meta")
    return attention(q, q).numel() // HEADS


def naive_attention_builds_n_squared_scores_per_head() -> Evidence:
    """Per head and layer, naive attention materialises n² scores: 262,144 at 512 tokens and 16,777,216 at
    4096 — the seed's numbers. A tiled implementation never holds more than n·BLOCK of them."""
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
        details={
            "fp16 bytes of one head's scores at 4096": attention_score_bytes(4096),
            "fp16 bytes of one head's scores at 32768": attention_score_bytes(32768),
        },
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


def naive_attention_memory_quadruples_when_n_doubles(n: int = 128) -> Evidence:
    """The largest tensor naive attention creates grows ×4 when n doubles; the tiled online-softmax one,
    which gives the same output, grows only ×2."""

    def growth(attention) -> float:
        return _largest_intermediate(attention, 2 * n) / _largest_intermediate(attention, n)

    q, k, v = _qkv(n, seed=5)
    return Evidence(
        measured=growth(attend),
        expected=4.0,
        comparison="abs",
        tolerance=0.0,  # element counts: the ratio is exact
        derivation="theory: the score matrix has n² entries per head",
        counterfactual=f"tiled online-softmax attention (blocks of {BLOCK} keys)",
        counterfactual_measured=growth(_tiled_attention),
        details={
            f"largest tensor per head, naive, n={n}": _largest_intermediate(attend, n),
            f"largest tensor per head, tiled, n={n}": _largest_intermediate(_tiled_attention, n),
            "max |tiled − naive| output": (_tiled_attention(q, k, v) - attend(q, k, v)).abs().max().item(),
            "matmul FLOPs, tiled / naive": _matmul_flops(_tiled_attention, n) / _matmul_flops(attend, n),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
