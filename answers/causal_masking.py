"""Causal masking: position t attends to positions 1 … t, itself included.

The mask is applied to the scores before the softmax: entries with j > i become −∞, so their weight is
exactly zero and each row is still a probability distribution over the positions it may see.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.reference import (
    MultiHeadAttention,
    attend,
    attention_scores,
    attention_weights,
    causal_mask,
    randn,
    seeded_module,
)

N, D = 6, 16


def _visibility_mismatches(mask: torch.Tensor) -> int:
    """How many (i, j) pairs differ from "i sees j exactly when j ≤ i" in the weights this mask gives.
    A fully masked row is NaN, which shows no visibility at all."""
    q, k = randn(1, N, D, seed=1), randn(1, N, D, seed=2)
    visible = attention_weights(q, k, mask)[0] > 0  # NaN > 0 is False
    return int((visible != causal_mask(N)).sum())


def each_position_attends_to_itself_and_the_past() -> Evidence:
    """Row t of the weights is positive exactly on columns 1 … t: the diagonal is visible."""
    return Evidence(
        measured=_visibility_mismatches(causal_mask(N)),
        expected=0,
        comparison="equal",
        derivation="definition: the lower triangle of an n×n matrix, diagonal included",
        counterfactual="mask that hides the diagonal (tokens 1 … t−1)",
        counterfactual_measured=_visibility_mismatches(causal_mask(N, include_diagonal=False)),
        details={
            "first row with the diagonal hidden": str(
                attention_weights(
                    randn(1, N, D, seed=1), randn(1, N, D, seed=2), causal_mask(N, include_diagonal=False)
                )[0, 0, :3].tolist()
            )
        },
    )


def _largest_change_in_the_past(mask: torch.Tensor | None) -> float:
    """Perturb token j and measure the largest change in any output at a position i < j."""
    layer = seeded_module(lambda: MultiHeadAttention(D, 2), seed=3)
    x = randn(1, N, D, seed=4)
    base = layer(x, mask=mask)
    worst = 0.0
    for j in range(1, N):
        bumped = x.clone()
        bumped[0, j] += randn(D, seed=10 + j)
        worst = max(worst, (layer(bumped, mask=mask) - base)[0, :j].abs().max().item())
    return worst


def future_tokens_cannot_change_past_outputs() -> Evidence:
    """Changing token j leaves every output at a position before j bit-for-bit unchanged."""
    with torch.no_grad():
        masked, unmasked = _largest_change_in_the_past(causal_mask(N)), _largest_change_in_the_past(None)
    return Evidence(
        measured=masked,
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # exp(−∞) is exactly 0, so not even rounding error may leak
        derivation="theory: a masked score contributes exp(−∞) = 0 to the softmax",
        counterfactual="no mask",
        counterfactual_measured=unmasked,
    )


def _distance_from_torch_causal(mask: torch.Tensor) -> float:
    q, k, v = (randn(2, 3, N, D, seed=s) for s in (5, 6, 7))
    return (attend(q, k, v, mask) - F.scaled_dot_product_attention(q, k, v, is_causal=True)).abs().max().item()


def strictly_upper_triangular_minus_infinity_matches_torch_is_causal() -> Evidence:
    """Masking the strict upper triangle reproduces ``F.scaled_dot_product_attention(is_causal=True)``;
    an upper-triangular mask that includes the diagonal does not."""
    # A bool mask that allows the lower triangle is the same as −∞ on the strict upper triangle.
    hides_diagonal_too = ~torch.triu(torch.ones(N, N, dtype=torch.bool))
    return Evidence(
        measured=_distance_from_torch_causal(causal_mask(N)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="torch's own F.scaled_dot_product_attention(is_causal=True), float64",
        counterfactual="−∞ on the whole upper triangle, diagonal included",
        counterfactual_measured=_distance_from_torch_causal(hides_diagonal_too),
    )


def _row_sum_error(after_softmax: bool) -> float:
    q, k = randn(1, N, D, seed=8), randn(1, N, D, seed=9)
    if after_softmax:  # zero the future weights once the softmax has already normalised the full row
        weights = torch.softmax(attention_scores(q, k), dim=-1) * causal_mask(N)
    else:
        weights = attention_weights(q, k, causal_mask(N))
    return (weights.sum(-1) - 1).abs().max().item()


def masking_before_the_softmax_keeps_rows_distributions() -> Evidence:
    """Masked before the softmax, every row still sums to 1; zeroing weights after it leaves rows short."""
    return Evidence(
        measured=_row_sum_error(after_softmax=False),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory: softmax over the visible entries sums to 1",
        counterfactual="mask applied after the softmax",
        counterfactual_measured=_row_sum_error(after_softmax=True),
    )


def _distance_from_infinite_fill(fill: float) -> float:
    q, k, v = (randn(1, N, D, seed=s) for s in (11, 12, 13))
    scores = attention_scores(q, k).masked_fill(~causal_mask(N), fill)
    return (torch.softmax(scores, -1) @ v - attend(q, k, v, causal_mask(N))).abs().max().item()


def large_finite_fill_acts_like_minus_infinity() -> Evidence:
    """A fill of −1e4 gives the same output as −∞ for ordinary scores, because exp(−1e4) underflows to 0;
    a fill that is not far below the scores leaks the future."""
    return Evidence(
        measured=_distance_from_infinite_fill(-1e4),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory: exp(−10⁴) is below the smallest float64 (≈ 5e−324)",
        counterfactual="fill of −1 instead of −∞",
        counterfactual_measured=_distance_from_infinite_fill(-1.0),
        details={"exp(−1e4) in float64": math.exp(-1e4)},
    )


def figure_attention_weights_with_and_without_the_mask():
    """Attention weights of one 6-token example without a mask (left) and with the causal mask (right):
    the mask zeroes the strict upper triangle and each row still sums to 1 over positions 1 … t."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q, k = randn(1, N, D, seed=1), randn(1, N, D, seed=2)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, mask, title in ((axes[0], None, "no mask"), (axes[1], causal_mask(N), "causal mask")):
        weights = attention_weights(q, k, mask)[0].numpy()
        image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=1)
        for i in range(N):
            for j in range(N):
                ax.text(j, i, f"{weights[i, j]:.2f}", ha="center", va="center", color="w", fontsize=7)
        ax.set_title(title)
        ax.set_xlabel("key position j")
        ax.set_ylabel("query position i")
    fig.colorbar(image, ax=axes, label="weight")
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
