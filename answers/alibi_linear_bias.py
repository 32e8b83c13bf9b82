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


# Press et al. (2022), section 3 (paraphrased): 8 heads use the geometric sequence 1/2^1, 1/2^2, …, 1/2^8;
# 16 heads interpolate those by geometrically averaging consecutive pairs, the sequence that starts at
# 1/√2 with ratio 1/√2 (1/2^0.5, 1/2^1, …, 1/2^8). Written out here, not computed by the formula.
PAPER_SLOPES = {
    8: [1 / 2**k for k in range(1, 9)],
    16: [1 / 2 ** (k / 2) for k in range(1, 17)],
}


def _largest_error(slopes_for) -> float:
    """Largest difference from the paper's literal slopes, over both head counts the paper lists."""
    return max(
        (slopes_for(heads) - torch.tensor(paper, dtype=torch.float64)).abs().max().item()
        for heads, paper in PAPER_SLOPES.items()
    )


def alibi_slopes_form_a_geometric_sequence() -> Evidence:
    """The reference slopes and the whiteboard formula 2^(−8h/H) (h = 1 … H) both give the paper's literal
    lists: 1/2, 1/4, …, 1/256 for 8 heads and 1/2^0.5 … 1/2^8 for 16. Numbering the heads from 0, the
    common slip, gives 1, 1/2, …, 1/128."""

    def formula(heads: int) -> torch.Tensor:
        return torch.tensor([alibi_slope(h, heads) for h in range(1, heads + 1)], dtype=torch.float64)

    def from_zero(heads: int) -> torch.Tensor:
        return torch.tensor([2.0 ** (-8.0 * h / heads) for h in range(heads)], dtype=torch.float64)

    return Evidence(
        measured=max(_largest_error(alibi_slopes), _largest_error(formula)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-15,  # powers of two are exact in float64; 2^(−k/2) is correctly rounded
        derivation="Press et al. (2022), section 3: the slopes listed for 8 and 16 heads",
        counterfactual="heads numbered from 0: 2^(−8h/H), h = 0 … H − 1",
        counterfactual_measured=_largest_error(from_zero),
        details={"slopes × 256, 8 heads": str([int(s * 256) for s in alibi_slopes(8).tolist()])},
    )


def _loop_bias(n: int, heads: int, distance) -> torch.Tensor:
    """(heads, n, n) bias written as a float64 loop from the paper's literal slopes: −m_h·distance(i, j)."""
    bias = torch.zeros(heads, n, n, dtype=torch.float64)
    for h, slope in enumerate(PAPER_SLOPES[heads]):
        for i in range(n):
            for j in range(i + 1):  # the causal part: keys at or before the query
                bias[h, i, j] = -slope * distance(i, j)
    return bias


def alibi_bias_depends_only_on_the_distance() -> Evidence:
    """The reference bias equals −m_h·(i − j) written out entry by entry from the paper's slopes, so it is
    constant along every diagonal and needs no table: any length gets more of the same function. Building
    it transposed, −m_h·(j − i), the slip of swapping query and key axes, rewards distance instead."""
    visible = causal_mask(N)
    reference = alibi_bias(N, HEADS)

    def error(loop: torch.Tensor) -> float:
        return (reference - loop).masked_fill(~visible, 0.0).abs().max().item()

    return Evidence(
        measured=error(_loop_bias(N, HEADS, lambda i, j: i - j)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: slope × small integer
        derivation="a float64 loop over (h, i, j ≤ i) from Press et al.'s slopes, section 3",
        counterfactual="the bias built on transposed axes, −m·(j − i)",
        counterfactual_measured=error(_loop_bias(N, HEADS, lambda i, j: j - i)),
        details={"distinct values on each diagonal of head 1": int(reference[0].diagonal(-3).unique().numel())},
    )


def _neighbour_weight_ratio(bias: torch.Tensor, seed: int) -> torch.Tensor:
    """(heads,) w[i, j−1] / w[i, j] in the last row, when all content scores are equal (zero queries)."""
    q, k = torch.zeros(1, N, 16, dtype=torch.float64), randn(1, N, 16, seed=seed + 1)
    scores = attention_scores(q, k) + bias + additive_mask(causal_mask(N))  # (heads, n, n)
    weights = torch.softmax(scores, dim=-1)[:, -1]  # the last query's distribution over its past
    return weights[:, :-1] / weights[:, 1:]  # (heads, n − 1): each key against the next-newer one


def equal_scores_become_a_per_head_recency_decay(seed: int = 0) -> Evidence:
    """With equal content scores, each step further into the past multiplies a key's weight by
    e^(−m_h): ALiBi is an exponential recency prior, steep in head 1 and nearly flat in head 8."""
    theory = torch.exp(-alibi_slopes(HEADS))[:, None]

    def error(bias: torch.Tensor) -> float:
        return (_neighbour_weight_ratio(bias, seed) - theory).abs().max().item()

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


def _weights(bias: torch.Tensor, seed: int) -> torch.Tensor:
    q, k = randn(1, N, 16, seed=seed + 2), randn(1, N, 16, seed=seed + 3)
    return torch.softmax(attention_scores(q, k) + bias + additive_mask(causal_mask(N)), dim=-1)


def only_the_key_position_part_of_the_bias_matters(seed: int = 0) -> Evidence:
    """Within a row, −m·(i − j) = −m·i + m·j and the softmax ignores the constant −m·i: the weights are the
    same as with the bias +m·j that simply favours later keys. Penalising later keys (−m·j) is the reverse."""
    slopes = alibi_slopes(HEADS)[:, None, None]
    key_position = torch.arange(N, dtype=torch.float64)[None, None, :]  # (1, 1, n)
    reference = _weights(alibi_bias(N, HEADS), seed)
    return Evidence(
        measured=(_weights(slopes * key_position, seed) - reference).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: softmax(s + c) = softmax(s) for a constant c per row",
        counterfactual="bias −m·j (penalising later keys)",
        counterfactual_measured=(_weights(-slopes * key_position, seed) - reference).abs().max().item(),
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
