"""Self-attention from scratch: softmax(QKᵀ/√d_k)·V, checked against torch.

Every token is projected three ways: a query (what it looks for), a key (what it offers) and a value
(what it hands over). The scaled query–key dot products, softmaxed along each row, give every token a
probability distribution over the positions; its output is that weighted average of the value rows.
The weights depend only on Q and K; V supplies the content.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.reference import F64, attend, attention_scores, attention_weights, generator

N_TOKENS, D_MODEL, D_K = 6, 16, 8
# The mechanism a claim proves, with the signature of the sdpa exercise: attention(q, k, v, mask=None).
Attention = Callable[..., torch.Tensor]


def _projections(seed: int = 0, *, shared_qk: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Q, K, V = X·W_Q, X·W_K, X·W_V for one random sequence: (n, d_k) each, float64. With ``shared_qk``,
    W_K = W_Q, so the scores QKᵀ are a symmetric matrix."""
    g = generator(seed)
    x = torch.randn(N_TOKENS, D_MODEL, generator=g, dtype=F64)
    w_q, w_k, w_v = (torch.randn(D_MODEL, D_K, generator=g, dtype=F64) / D_MODEL**0.5 for _ in range(3))
    return x @ w_q, x @ (w_q if shared_qk else w_k), x @ w_v


def _max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


def hand_written_attention_matches_torch_sdpa(seed: int = 0, attention: Attention = attend) -> Evidence:
    """softmax(QKᵀ/√d_k)·V written by hand equals F.scaled_dot_product_attention in float64.

    ``attention(q, k, v, mask=None)`` is the mechanism proved (quiz code check passes the learner's)."""
    q, k, v = _projections(seed)
    torch_out = F.scaled_dot_product_attention(q[None], k[None], v[None])[0]
    return Evidence(
        measured=_max_abs(attention(q, k, v), torch_out),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding of a 6×6 softmax and a 6×8 matmul is ~1e-16
        derivation="torch's own implementation: F.scaled_dot_product_attention (default scale 1/√d_k)",
        counterfactual="the 1/√d_k scale dropped",
        counterfactual_measured=_max_abs(attend(q, k, v, scale=False), torch_out),
    )


def _rows_and_columns_sum_to_one(weights: torch.Tensor) -> tuple[bool, bool]:
    rows = (weights.sum(-1) - 1).abs().max().item() <= 1e-12  # float64 sums of six terms
    columns = (weights.sum(-2) - 1).abs().max().item() <= 1e-12
    return rows, columns


def attention_weights_are_row_stochastic(seed: int = 0, attention: Attention = attend) -> Evidence:
    """Each row of the weights sums to 1 and the columns do not, even with W_Q = W_K, where the scores
    QKᵀ are symmetric: the row-wise softmax alone makes A asymmetric (a symmetric A with unit row sums
    would have unit column sums too)."""
    q, k, _ = _projections(seed, shared_qk=True)
    # (n, n): row i = query i's distribution over keys, read through the mechanism (A·I = A exactly)
    weights = _weights_read_through(attention, q, k, torch.zeros(N_TOKENS, 0, dtype=F64))
    wrong_axis = torch.softmax(attention_scores(q, k), dim=-2)  # normalised over queries instead
    return Evidence(
        measured=_rows_and_columns_sum_to_one(weights),
        expected=(True, False),
        comparison="equal",
        derivation="theory: softmax(s)_j = e^{s_j}/Σ_k e^{s_k} is normalised over the key axis only",
        counterfactual="softmax taken over the query axis (dim=-2)",
        counterfactual_measured=_rows_and_columns_sum_to_one(wrong_axis),
        details={
            "scores symmetric": bool((attention_scores(q, k) - attention_scores(q, k).T).abs().max() <= 1e-12),
            "largest |A − Aᵀ|": (weights - weights.T).abs().max().item(),
            "column sums (first 3)": tuple(round(s, 4) for s in weights.sum(0)[:3].tolist()),
        },
    )


def values_supply_content_but_not_the_weights(seed: int = 0, attention: Attention = attend) -> Evidence:
    """Changing V leaves the attention weights bit-identical (only the output moves); changing K does not."""
    q, k, v = _projections(seed)
    noise = torch.randn(N_TOKENS, D_K, generator=generator(seed + 99), dtype=F64)
    weights = _weights_read_through(attention, q, k, v)
    return Evidence(
        measured=_max_abs(_weights_read_through(attention, q, k, v + noise), weights),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # V never enters the softmax, so not even rounding differs
        derivation="theory: A = softmax(QKᵀ/√d_k) does not involve V",
        counterfactual="the same perturbation applied to K instead of V",
        counterfactual_measured=_max_abs(_weights_read_through(attention, q, k + noise, v), weights),
        details={"output change when V is perturbed": _max_abs(attention(q, k, v + noise), attention(q, k, v))},
    )


def _weights_read_through(
    attention: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """The weights ``attention`` actually used: append one-hot columns to V, so out = [A·V | A·I] = [A·V | A]."""
    out = attention(q, k, torch.cat([v, torch.eye(k.shape[-2], dtype=v.dtype)], dim=-1), mask)
    return out[..., v.shape[-1] :]  # (..., n_q, n_k)


def outputs_are_convex_combinations_of_value_rows(seed: int = 0, attention: Attention = attend) -> Evidence:
    """Every output coordinate lies between the smallest and largest value in that column of V."""
    q, k, v = _projections(seed)

    def overshoot(out: torch.Tensor) -> float:  # out: (n, d_k)
        above = (out - v.max(0).values).clamp_min(0).max()
        below = (v.min(0).values - out).clamp_min(0).max()
        return max(above.item(), below.item())

    return Evidence(
        measured=overshoot(attention(q, k, v)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="theory: non-negative weights summing to 1 average the value rows",
        counterfactual="the softmax's denominator forgotten: weights exp(s), non-negative but not normalised",
        counterfactual_measured=overshoot(torch.exp(attention_scores(q, k)) @ v),
    )


def figure_attention_weights() -> object:
    """Attention weights of one 6-token example: each row is a query's distribution over the keys and
    sums to 1; the columns need not."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q, k, _ = _projections()
    weights = attention_weights(q, k).numpy()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    image = ax.imshow(weights, cmap="viridis", vmin=0)
    for i in range(N_TOKENS):
        for j in range(N_TOKENS):
            ax.text(j, i, f"{weights[i, j]:.2f}", ha="center", va="center", color="w", fontsize=7)
    ax.set_xlabel("key position j")
    ax.set_ylabel("query position i")
    ax.set_title("softmax(QKᵀ/√d_k): rows sum to 1")
    fig.colorbar(image, ax=ax, label="weight α_ij")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
