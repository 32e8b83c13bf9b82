"""Causal masking: position t attends to positions 1 … t, itself included.

The mask is applied to the scores before the softmax: entries with j > i become −∞, so their weight is
exactly zero and each row is still a probability distribution over the positions it may see.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.reference import (
    MultiHeadAttention,
    additive_mask,
    attend,
    attention_scores,
    attention_weights,
    causal_mask,
    randn,
    seeded_module,
)

N, D = 6, 16
# The mechanisms a claim may be handed instead of the reference (quiz code check passes the learner's):
# make_mask(n), the causal-mask exercise's bool mask; attention(q, k, v, mask=None), the sdpa exercise's.
MakeMask = Callable[[int], torch.Tensor]
Attention = Callable[..., torch.Tensor]


def _draws(seed: int, count: int, *shape: int) -> list[torch.Tensor]:
    """``count`` independent float64 normal tensors of ``shape``, all from one generator seeded by ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=generator, dtype=torch.float64) for _ in range(count)]


def _visibility_mismatches(mask: torch.Tensor, seed: int) -> int:
    """How many (i, j) pairs differ from "i sees j exactly when j ≤ i" in the weights this mask gives.
    A fully masked row is NaN, which shows no visibility at all."""
    q, k = _draws(seed, 2, 1, N, D)
    visible = attention_weights(q, k, mask)[0] > 0  # NaN > 0 is False
    return int((visible != causal_mask(N)).sum())


def each_position_attends_to_itself_and_the_past(seed: int = 0, make_mask: MakeMask = causal_mask) -> Evidence:
    """Row t of the weights is positive exactly on columns 1 … t: the diagonal is visible."""
    q, k = _draws(seed, 2, 1, N, D)
    return Evidence(
        measured=_visibility_mismatches(make_mask(N), seed),
        expected=0,
        comparison="equal",
        derivation="definition: the lower triangle of an n×n matrix, diagonal included",
        counterfactual="mask that hides the diagonal (tokens 1 … t−1)",
        counterfactual_measured=_visibility_mismatches(causal_mask(N, include_diagonal=False), seed),
        details={
            "first row with the diagonal hidden": str(
                attention_weights(q, k, causal_mask(N, include_diagonal=False))[0, 0, :3].tolist()
            )
        },
    )


def _largest_change_in_the_past(mask: torch.Tensor | None, seed: int) -> float:
    """Perturb token j and measure the largest change in any output at a position i < j."""
    layer = seeded_module(lambda: MultiHeadAttention(D, 2), seed=seed)
    x, *bumps = _draws(seed, 1 + N, 1, N, D)
    base = layer(x, mask=mask)
    worst = 0.0
    for j in range(1, N):
        bumped = x.clone()
        bumped[0, j] += bumps[j][0, 0]
        worst = max(worst, (layer(bumped, mask=mask) - base)[0, :j].abs().max().item())
    return worst


def future_tokens_cannot_change_past_outputs(seed: int = 0, make_mask: MakeMask = causal_mask) -> Evidence:
    """Changing token j leaves every output at a position before j bit-for-bit unchanged."""
    with torch.no_grad():
        masked = _largest_change_in_the_past(make_mask(N), seed)
        unmasked = _largest_change_in_the_past(None, seed)
    return Evidence(
        measured=masked,
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # exp(−∞) is exactly 0, so not even rounding error may leak
        derivation="theory: a masked score contributes exp(−∞) = 0 to the softmax",
        counterfactual="no mask",
        counterfactual_measured=unmasked,
    )


def _distance_from_torch_causal(mask: torch.Tensor, seed: int) -> float:
    q, k, v = _draws(seed, 3, 2, 3, N, D)
    return (attend(q, k, v, mask) - F.scaled_dot_product_attention(q, k, v, is_causal=True)).abs().max().item()


def strictly_upper_triangular_minus_infinity_matches_torch_is_causal(
    seed: int = 0, make_mask: MakeMask = causal_mask
) -> Evidence:
    """Masking the strict upper triangle reproduces ``F.scaled_dot_product_attention(is_causal=True)``;
    an upper-triangular mask that includes the diagonal does not."""
    # A bool mask that allows the lower triangle is the same as −∞ on the strict upper triangle.
    hides_diagonal_too = ~torch.triu(torch.ones(N, N, dtype=torch.bool))
    return Evidence(
        measured=_distance_from_torch_causal(make_mask(N), seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="torch's own F.scaled_dot_product_attention(is_causal=True), float64",
        counterfactual="−∞ on the whole upper triangle, diagonal included",
        counterfactual_measured=_distance_from_torch_causal(hides_diagonal_too, seed),
    )


def _row_sum_error(after_softmax: bool, seed: int, attention: Attention = attend) -> float:
    q, k = _draws(seed, 2, 1, N, D)
    if after_softmax:  # zero the future weights once the softmax has already normalised the full row
        weights = torch.softmax(attention_scores(q, k), dim=-1) * causal_mask(N)
    else:  # the weights the mechanism used, read through its output on one-hot values: A·I = A exactly
        weights = attention(q, k, torch.eye(N, dtype=q.dtype)[None], causal_mask(N))
    return (weights.sum(-1) - 1).abs().max().item()


def masking_before_the_softmax_keeps_rows_distributions(seed: int = 0, attention: Attention = attend) -> Evidence:
    """Masked before the softmax, every row still sums to 1; zeroing weights after it leaves rows short."""
    return Evidence(
        measured=_row_sum_error(after_softmax=False, seed=seed, attention=attention),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory: softmax over the visible entries sums to 1",
        counterfactual="mask applied after the softmax",
        counterfactual_measured=_row_sum_error(after_softmax=True, seed=seed),
    )


def _distance_from_infinite_fill(masked_scores, seed: int) -> float:
    """Output with ``masked_scores(scores, allowed)`` in place of the −∞ fill, against the exact −∞ output."""
    q, k, v = _draws(seed, 3, 1, N, D)
    scores = masked_scores(attention_scores(q, k), causal_mask(N))
    return (torch.softmax(scores, -1) @ v - attend(q, k, v, causal_mask(N))).abs().max().item()


def large_finite_fill_acts_like_minus_infinity(seed: int = 0) -> Evidence:
    """A fill of −1e4 gives the same output as −∞ for ordinary scores, because exp(−1e4) underflows to 0.
    Multiplying the scores by the 0/1 mask, a common slip, fills the future with 0, which is an ordinary
    score: the future leaks."""
    return Evidence(
        measured=_distance_from_infinite_fill(lambda s, allowed: s.masked_fill(~allowed, -1e4), seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory: exp(−10⁴) is below the smallest float64 (≈ 5e−324)",
        counterfactual="scores multiplied by the 0/1 mask (future scores become 0, not −∞)",
        counterfactual_measured=_distance_from_infinite_fill(lambda s, allowed: s * allowed, seed),
        details={
            "exp(−1e4) in float64": math.exp(-1e4),
            "two float16 masks filled with −65,504, added": (torch.tensor(-65504.0, dtype=torch.float16) * 2).item(),
        },
    )


def _first_row_with_the_diagonal_hidden(attention, seed: int) -> torch.Tensor:
    """Output row 0 when the mask also hides the diagonal, so query 0 may see no key at all."""
    q, k, v = _draws(seed, 3, 1, 2, N, D)
    return attention(q, k, v, causal_mask(N, include_diagonal=False))[0, :, 0]  # (h, D)


def _mha_fully_masked_row(seed: int) -> float:
    """``nn.MultiheadAttention`` with every key padded out: its output row (NaN in this torch)."""
    layer = seeded_module(lambda: torch.nn.MultiheadAttention(D, 2, batch_first=True), seed=seed)
    x = _draws(seed, 1, 1, N, D)[0]
    return layer(x, x, x, key_padding_mask=torch.ones(1, N, dtype=torch.bool))[0][0, 0, 0].item()


def fully_masked_row_is_zero_in_sdpa_but_nan_by_hand(seed: int = 0) -> Evidence:
    """A query row with every key masked has no softmax: a hand-written −∞ softmax computes 0/0 = NaN
    (as does ``nn.MultiheadAttention``), while ``F.scaled_dot_product_attention`` in this torch returns a
    silent row of zeros, for a boolean mask and for an additive −∞ mask alike."""

    def sdpa(q, k, v, allowed):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)

    def sdpa_additive(q, k, v, allowed):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=additive_mask(allowed))

    return Evidence(
        measured=_first_row_with_the_diagonal_hidden(sdpa, seed).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,
        derivation=f"torch {torch.__version__}'s own F.scaled_dot_product_attention on an all-masked row",
        counterfactual="the hand-written softmax(QKᵀ/√d + mask)·V with a −∞ fill",
        counterfactual_measured=_first_row_with_the_diagonal_hidden(attend, seed).abs().max().item(),
        details={
            "SDPA with an additive −∞ mask, row 0 max |·|": _first_row_with_the_diagonal_hidden(sdpa_additive, seed)
            .abs()
            .max()
            .item(),
            "nn.MultiheadAttention, all keys padded, one output": _mha_fully_masked_row(seed),
        },
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
