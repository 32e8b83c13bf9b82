"""ALiBi: no position vectors at all, just a linear distance penalty on the attention scores.

Attention with Linear Biases adds −m_h·(i − j) to the score of query i and key j in head h, with slopes
m_h = 2^(−8h/H) forming a geometric sequence across heads (1/2 … 1/256 for 8 heads). The bias depends
only on the distance, so it is the same function at any length, and with equal content scores it turns
attention into an exponential recency weighting whose rate differs per head. BLOOM and MPT use it.
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.formulas.positional import alibi_slope
from answers.reference import additive_mask, alibi_bias, alibi_slopes, attention_scores, causal_mask, randn

HEADS, N = 8, 12


def alibi_slopes_form_a_geometric_sequence(heads: int = HEADS) -> Evidence:
    """The reference slopes equal the whiteboard formula 2^(−8h/H), h = 1 … H: 1/2, 1/4, …, 1/256 for
    8 heads, each head halving the previous one's slope."""
    reference = alibi_slopes(heads)
    formula = torch.tensor([alibi_slope(h, heads) for h in range(1, heads + 1)], dtype=torch.float64)
    linear = torch.linspace(formula[0].item(), formula[-1].item(), heads, dtype=torch.float64)
    return Evidence(
        measured=(reference - formula).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-15,  # powers of two are exact in float64
        derivation="formula alibi_slope(h, H) = 2^(−8h/H)",
        counterfactual="slopes spaced linearly between 1/2 and 1/256",
        counterfactual_measured=(reference - linear).abs().max().item(),
        details={"slopes × 256": str([int(s * 256) for s in reference.tolist()])},
    )


def _shift_mismatch(bias: torch.Tensor, shift: int = 3) -> float:
    """max |B[i + s, j + s] − B[i, j]|: zero exactly when the bias depends only on i − j."""
    return (bias[:, shift:, shift:] - bias[:, :-shift, :-shift]).abs().max().item()


def alibi_bias_depends_only_on_the_distance() -> Evidence:
    """Shifting query and key by the same amount leaves every head's bias unchanged (the matrix is
    constant along diagonals); a learned bias per (i, j) pair is not."""
    learned_like = randn(HEADS, N, N, seed=0)
    return Evidence(
        measured=_shift_mismatch(alibi_bias(N, HEADS)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: slope × small integer
        derivation="theory: −m·((i + s) − (j + s)) = −m·(i − j)",
        counterfactual="an arbitrary learned bias for each (i, j) pair",
        counterfactual_measured=_shift_mismatch(learned_like),
    )


def _neighbour_weight_ratio(bias: torch.Tensor) -> torch.Tensor:
    """(heads,) w[i, j−1] / w[i, j] in the last row, when all content scores are equal (zero queries)."""
    q, k = torch.zeros(1, N, 16, dtype=torch.float64), randn(1, N, 16, seed=1)
    scores = attention_scores(q, k) + bias + additive_mask(causal_mask(N))  # (heads, n, n)
    weights = torch.softmax(scores, dim=-1)[:, -1]  # the last query's distribution over its past
    return weights[:, :-1] / weights[:, 1:]  # (heads, n − 1): each key against the next-newer one


def equal_scores_become_a_per_head_recency_decay() -> Evidence:
    """With equal content scores, each step further into the past multiplies a key's weight by
    e^(−m_h): ALiBi is an exponential recency prior, steep in head 1 and nearly flat in head 8."""
    theory = torch.exp(-alibi_slopes(HEADS))[:, None]

    def error(bias: torch.Tensor) -> float:
        return (_neighbour_weight_ratio(bias) - theory).abs().max().item()

    return Evidence(
        measured=error(alibi_bias(N, HEADS)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: softmax weights ∝ e^(−m·(i − j)), so neighbours differ by e^(−m)",
        counterfactual="slope 0 (no ALiBi): uniform weights",
        counterfactual_measured=error(torch.zeros(HEADS, N, N, dtype=torch.float64)),
        details={"e^(−1/2), head 1": math.exp(-0.5), "e^(−1/256), head 8": math.exp(-1 / 256)},
    )


def _weights(bias: torch.Tensor) -> torch.Tensor:
    q, k = randn(1, N, 16, seed=2), randn(1, N, 16, seed=3)
    return torch.softmax(attention_scores(q, k) + bias + additive_mask(causal_mask(N)), dim=-1)


def only_the_key_position_part_of_the_bias_matters() -> Evidence:
    """Within a row, −m·(i − j) = −m·i + m·j and the softmax ignores the constant −m·i: the weights are the
    same as with the bias +m·j that simply favours later keys. Penalising later keys (−m·j) is the reverse."""
    slopes = alibi_slopes(HEADS)[:, None, None]
    key_position = torch.arange(N, dtype=torch.float64)[None, None, :]  # (1, 1, n)
    reference = _weights(alibi_bias(N, HEADS))
    return Evidence(
        measured=(_weights(slopes * key_position) - reference).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: softmax(s + c) = softmax(s) for a constant c per row",
        counterfactual="bias −m·j (penalising later keys)",
        counterfactual_measured=(_weights(-slopes * key_position) - reference).abs().max().item(),
    )


def figure_alibi_bias_matrices():
    """ALiBi bias with the causal mask for heads 1, 4 and 8 of 8 (slopes 1/2, 1/16, 1/256): each is
    constant along diagonals, and steeper heads look at a shorter recent window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bias = alibi_bias(N, HEADS).masked_fill(~causal_mask(N), math.nan)
    fig, axes = plt.subplots(1, 3, figsize=(7, 3), constrained_layout=True)
    low = bias[0].nan_to_num(0).min().item()  # one colour scale for all heads, so the slopes compare
    for ax, head in zip(axes, (1, 4, 8), strict=True):
        image = ax.imshow(bias[head - 1].numpy(), cmap="viridis", vmin=low, vmax=0)
        ax.set_title(f"head {head}: m = 1/{round(1 / alibi_slope(head, HEADS))}", fontsize=9)
        ax.set_xlabel("key j")
    axes[0].set_ylabel("query i")
    fig.colorbar(image, ax=axes, shrink=0.8, label="bias")
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
