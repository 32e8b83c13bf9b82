"""FlashAttention: exact attention computed tile by tile with an online softmax, and a backward that recomputes.

Keys and values are processed in blocks of B. For each query the running maximum m, the running
normaliser ℓ and the running weighted sum of values are rescaled whenever m grows, so the n×n score
matrix never exists at once. The output is exact. The forward pass does the same matmul FLOPs as standard
attention; the backward pass keeps only the output and the log-sum-exp L per query and recomputes every
score tile from Q and K, which costs 10·n²·d FLOPs per head instead of 8·n²·d. It is faster on a GPU
despite the extra arithmetic because it reads and writes far less of GPU main memory (HBM).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.attention import attention_matmul_flops
from answers.reference import (
    attend,
    count_flops,
    generator,
    largest_intermediate,
    linear_attention,
    online_softmax_attention,
)

N, D, BLOCK = 256, 64, 16  # per head: n tokens, head size d, B keys per tile


def _qkv(seed: int, n: int = N, d: int = D) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One head's q, k, v, (n, d) each. ×2 spreads the scores over several units, so the running max moves."""
    g = generator(seed)
    return tuple(2 * torch.randn(n, d, generator=g, dtype=torch.float64) for _ in range(3))


def tiled_online_softmax_is_exact_attention(seed: int = 0) -> Evidence:
    """Attention computed in key blocks of 16 with a running max and normaliser equals
    F.scaled_dot_product_attention; dropping the rescale of earlier partial sums does not."""
    q, k, v = _qkv(seed)
    reference = F.scaled_dot_product_attention(q[None], k[None], v[None])[0]

    def error(rescale: bool) -> float:
        return (online_softmax_attention(q, k, v, block=BLOCK, rescale=rescale) - reference).abs().max().item()

    return Evidence(
        measured=error(rescale=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only the order of additions differs
        derivation="torch's own F.scaled_dot_product_attention, float64",
        counterfactual="running sums not rescaled when the running max grows",
        counterfactual_measured=error(rescale=False),
    )


def largest_tensor_is_n_times_block_not_n_squared(
    seed: int = 0, n: int = 256, d: int = 16, block: int = 32
) -> Evidence:
    """The largest tensor any op creates in tiled attention has n·B elements (8,192 for n = 256, B = 32, d = 16),
    recorded at dispatch level on every op; standard attention creates the n² = 65,536-element score matrix."""
    q, k, v = _qkv(seed, n, d)
    return Evidence(
        measured=largest_intermediate(online_softmax_attention, q, k, v, block=block),
        expected=n * block,
        comparison="equal",
        unit="elements",
        derivation="theory: one (n × B) tile of scores at a time; the output and running sums are n·d < n·B",
        counterfactual="standard attention, softmax(QKᵀ/√d)V with explicit matmuls",
        counterfactual_measured=largest_intermediate(attend, q, k, v),
    )


def tiled_forward_has_the_matmul_flops_of_standard_attention(seed: int = 0) -> Evidence:
    """In the forward pass FlopCounterMode counts 4·n²·d matmul FLOPs per head for the tiled computation,
    the same as standard attention: FlashAttention is not sub-quadratic; linear attention is."""
    q, k, v = _qkv(seed)
    return Evidence(
        measured=count_flops(online_softmax_attention, q, k, v, block=BLOCK),
        expected=attention_matmul_flops(N, D),
        comparison="equal",
        derivation="theory: 2·n²·d for QKᵀ plus 2·n²·d for PV, whichever order the tiles are visited in",
        counterfactual="linear attention φ(Q)(φ(K)ᵀV) instead",
        counterfactual_measured=count_flops(linear_attention, q, k, v),
        unit="FLOPs",
        details={"standard attention, forward": count_flops(attend, q, k, v)},
    )


def _flash_backward(q, k, v, out, lse, d_out, *, block: int = BLOCK, subtract_delta: bool = True):
    """FlashAttention's backward (Dao et al. 2022, Algorithm 4, one head, no dropout): for each key block,
    recompute S = QKᵀ/√d and P = exp(S − L) from the saved log-sum-exp L, then
    dV = Pᵀ dO, dP = dO Vᵀ, dS = P ∘ (dP − D) with D = rowsum(dO ∘ O), dQ += dS K/√d, dK = dSᵀ Q/√d.
    ``subtract_delta=False`` drops D, the softmax Jacobian's −ppᵀ part."""
    scale = 1 / math.sqrt(q.shape[-1])
    delta = (d_out * out).sum(-1, keepdim=True)  # D_i = Σ_j P_ij dP_ij, O(n·d) work, no n×n matrix
    dq, dk, dv = torch.zeros_like(q), torch.empty_like(k), torch.empty_like(v)
    for start in range(0, k.shape[0], block):
        keys, values = k[start : start + block], v[start : start + block]
        p = torch.exp(q @ keys.T * scale - lse)  # the recomputation: QKᵀ again, 2·n·B·d FLOPs
        dv[start : start + block] = p.T @ d_out
        dp = d_out @ values.T
        ds = p * (dp - delta) if subtract_delta else p * dp
        dq += ds @ keys * scale
        dk[start : start + block] = ds.T @ q * scale
    return dq, dk, dv


def _autograd_gradients(q, k, v, d_out) -> tuple[torch.Tensor, ...]:
    """∂⟨SDPA(q, k, v), dO⟩ / ∂(q, k, v) by torch's own autograd through F.scaled_dot_product_attention."""
    leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
    F.scaled_dot_product_attention(*(t[None] for t in leaves))[0].backward(d_out)
    return tuple(t.grad for t in leaves)


def tiled_backward_recomputing_scores_gives_the_exact_gradients(seed: int = 0) -> Evidence:
    """A backward that keeps only O and the log-sum-exp L per query, and recomputes each score tile, gives
    the gradients torch's autograd computes through F.scaled_dot_product_attention; leaving out the
    D = rowsum(dO ∘ O) term of the softmax Jacobian does not."""
    q, k, v = _qkv(seed)
    d_out = torch.randn(N, D, generator=generator(seed + 100), dtype=torch.float64)
    out, lse = online_softmax_attention(q, k, v, block=BLOCK, return_logsumexp=True)
    exact = _autograd_gradients(q, k, v, d_out)

    def error(subtract_delta: bool) -> float:
        grads = _flash_backward(q, k, v, out, lse, d_out, subtract_delta=subtract_delta)
        return max((mine - theirs).abs().max().item() for mine, theirs in zip(grads, exact, strict=True))

    return Evidence(
        measured=error(subtract_delta=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-10,  # float64 over 256 keys; gradients are O(10), rounding ~1e-13
        derivation="torch's own autograd through F.scaled_dot_product_attention, float64",
        counterfactual="dS = P ∘ dP, without subtracting D = rowsum(dO ∘ O)",
        counterfactual_measured=error(subtract_delta=False),
    )


def _training_flops(seed: int) -> dict[str, int]:
    """Matmul FLOPs FlopCounterMode counts for each half of one training step of one head."""
    q, k, v = _qkv(seed)
    d_out = torch.randn(N, D, generator=generator(seed + 100), dtype=torch.float64)
    out, lse = online_softmax_attention(q, k, v, block=BLOCK, return_logsumexp=True)
    leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
    standard_out = attend(*leaves)  # explicit matmuls; autograd saves P for the backward
    return {
        "standard forward": count_flops(attend, q, k, v),
        "standard backward (autograd, P stored)": count_flops(standard_out.backward, d_out),
        "tiled forward": count_flops(online_softmax_attention, q, k, v, block=BLOCK),
        "tiled backward (S, P recomputed)": count_flops(_flash_backward, q, k, v, out, lse, d_out),
    }


def training_step_costs_seven_sixths_of_standard_attention(seed: int = 0) -> Evidence:
    """Forward plus backward, tiled attention with recomputation costs (4 + 10)·n²·d matmul FLOPs per head
    against (4 + 8)·n²·d for standard attention, which stores P: 7/6 ≈ 1.17×, more arithmetic, not the same."""
    flops = _training_flops(seed)
    standard = flops["standard forward"] + flops["standard backward (autograd, P stored)"]
    tiled = flops["tiled forward"] + flops["tiled backward (S, P recomputed)"]
    return Evidence(
        measured=tiled / standard,
        expected=14 / 12,
        comparison="rel",
        tolerance=1e-12,  # a ratio of exact integer counts
        derivation="theory: forward QKᵀ, PV = 4n²d; standard backward dV, dP, dQ, dK = 8n²d; "
        "the tiled backward adds the recomputed QKᵀ, 2n²d: (4 + 10)/(4 + 8)",
        counterfactual="counting the forward pass only (the 'same FLOPs' view)",
        counterfactual_measured=flops["tiled forward"] / flops["standard forward"],
        unit="ratio",
        details={**flops, "10·n²·d": 10 * N * N * D, "8·n²·d": 8 * N * N * D},
    )


def figure_score_memory_against_sequence_length():
    """Elements of the largest score tensor alive at once, per head, against sequence length: n² for
    standard attention, n·B for tiled attention with blocks of B = 128 (log–log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lengths = [2**i for i in range(8, 18)]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(lengths, [n * n for n in lengths], marker="o", label="standard: n²")
    ax.plot(lengths, [n * 128 for n in lengths], marker="s", label="tiled: n·B, B = 128")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length n")
    ax.set_ylabel("score elements alive at once")
    ax.set_title("Attention scores held in memory, one head")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
