"""Why attention divides the scores by √d_k.

With query and key entries of unit variance, q·k is a sum of d_k unit-variance products, so its variance
is d_k. Unscaled logits therefore grow with the head size, the softmax saturates towards one-hot, and its
Jacobian diag(p) − ppᵀ — the gradient every score receives — shrinks towards zero. Dividing by √d_k
puts the logits back at unit variance for every d_k.
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.reference import generator

N_KEYS = 64  # keys per query: one softmax row
KEY_SETS, QUERIES_PER_SET = 40, 50  # 2,000 softmax rows; each key set is shared by 50 queries


def _scores(d_k: int, *, scale: bool, query_gain: float = 1.0, seed: int = 0) -> torch.Tensor:
    """(2000, N_KEYS) attention logits for q, k with independent N(0, 1) entries."""
    g = generator(seed)
    q = torch.randn(KEY_SETS, QUERIES_PER_SET, d_k, generator=g, dtype=torch.float64) * query_gain
    k = torch.randn(KEY_SETS, N_KEYS, d_k, generator=g, dtype=torch.float64)
    logits = (q @ k.transpose(1, 2)).reshape(-1, N_KEYS)
    return logits / math.sqrt(d_k) if scale else logits


def _saturated_fraction(logits: torch.Tensor, threshold: float = 0.99) -> float:
    """Share of softmax rows that put more than ``threshold`` of their mass on one key."""
    return (torch.softmax(logits, dim=-1).amax(dim=-1) > threshold).double().mean().item()


def _median_jacobian_norm(logits: torch.Tensor) -> float:
    """Median Frobenius norm of the softmax Jacobian diag(p) − ppᵀ over the rows."""
    # ‖diag(p) − ppᵀ‖²_F = Σp² − 2Σp³ + (Σp²)², exact, without building the 64×64 matrices.
    p = torch.softmax(logits, dim=-1)
    p2, p3 = p.pow(2).sum(-1), p.pow(3).sum(-1)
    return (p2 - 2 * p3 + p2.pow(2)).clamp_min(0).sqrt().median().item()  # rounding can dip below 0


def scaled_scores_have_unit_variance_for_any_d_k(seed: int = 0, d_k: int = 512) -> Evidence:
    """Var(q·k/√d_k) = 1: theory says Var(q·k) = d_k for unit-variance entries, so the scale cancels it."""
    scaled = _scores(d_k, scale=True, seed=seed).var().item()
    unscaled = _scores(d_k, scale=False, seed=seed).var().item()
    return Evidence(
        measured=scaled,
        expected=1.0,
        comparison="rel",
        tolerance=0.05,  # the sample variance of 128,000 draws is within ~1 % of the truth
        derivation="theory: q·k sums d_k independent products of variance 1",
        counterfactual="no 1/√d_k scale",
        counterfactual_measured=unscaled,
        details={f"Var(q·k), d_k={d}": _scores(d, scale=False, seed=seed + 1).var().item() for d in (16, 64, 256)},
    )


def unscaled_softmax_saturates_as_d_k_grows(seed: int = 0, d_k: int = 512) -> Evidence:
    """With the scale, almost no softmax row is one-hot; without it, most are at d_k = 512."""
    # A row puts > 0.99 on its top key only if Σ_{j≠top} e^{−(gap_j)} < 1/99, so at the very least the gap
    # to the runner-up must exceed ln 99 ≈ 4.6 (and ln(99·63) ≈ 8.7 if the other keys were tied with it).
    # The top two of 64 unit-variance logits are typically ~0.4 apart; a gap of 4.6 is vanishingly rare.
    return Evidence(
        measured=_saturated_fraction(_scores(d_k, scale=True, seed=seed)),
        expected=0.01,
        comparison="at_most",
        derivation="theory: a 0.99 row needs a gap of at least ln 99 ≈ 4.6 between unit-variance logits",
        counterfactual="no 1/√d_k scale",
        counterfactual_measured=_saturated_fraction(_scores(d_k, scale=False, seed=seed)),
        details={
            f"unscaled rows > 0.99, d_k={d}": _saturated_fraction(_scores(d, scale=False, seed=seed))
            for d in (64, 128, 512)
        },
    )


def scaled_softmax_gradient_does_not_depend_on_d_k(seed: int = 0) -> Evidence:
    """The softmax Jacobian is as large at d_k = 512 as at d_k = 16 with the scale, not without it."""

    # With the scale the logits have the same distribution for every d_k, so any statistic of the softmax
    # — here the median Jacobian norm — has a ratio of 1 between head sizes.
    def ratio(scale: bool) -> float:
        return _median_jacobian_norm(_scores(512, scale=scale, seed=seed)) / _median_jacobian_norm(
            _scores(16, scale=scale, seed=seed + 1)
        )

    return Evidence(
        measured=ratio(scale=True),
        expected=1.0,
        comparison="rel",
        tolerance=0.1,
        derivation="theory: scaled logits are N(0, 1) whatever d_k is",
        counterfactual="no 1/√d_k scale",
        counterfactual_measured=ratio(scale=False),
        details={
            "median ‖J‖, d_k=512, scaled": _median_jacobian_norm(_scores(512, scale=True, seed=seed)),
            "median ‖J‖, d_k=512, unscaled": _median_jacobian_norm(_scores(512, scale=False, seed=seed)),
        },
    )


def _aligned_score(d_k: int, *, power: float, rho: float, seed: int) -> float:
    """Mean score q·k/d_k^power of a key correlated with its query (k = ρq + √(1 − ρ²)·z), over 2,000
    pairs: what learned projections produce once a query is meant to find a particular key."""
    g = generator(seed)
    q = torch.randn(KEY_SETS * QUERIES_PER_SET, d_k, generator=g, dtype=torch.float64)
    k = rho * q + math.sqrt(1 - rho**2) * torch.randn(q.shape, generator=g, dtype=torch.float64)
    return ((q * k).sum(-1) / d_k**power).mean().item()


def scaling_does_not_bound_logits_that_grow_in_training(seed: int = 0, rho: float = 0.5) -> Evidence:
    """The scale fixes the variance of independent q and k only. Once training correlates a query with
    its key (correlation ρ), q·k has mean ρ·d_k, so the scaled score grows like ρ√d_k: from d_k = 16 to
    512 it grows √32 ≈ 5.7×, enough to saturate the softmax again. The 1/d_k scale of μP keeps it fixed."""
    small, large = 16, 512

    def growth(power: float) -> float:
        return _aligned_score(large, power=power, rho=rho, seed=seed) / _aligned_score(
            small, power=power, rho=rho, seed=seed + 1
        )

    # Each mean is over 2,000 pairs of a score with mean ρ√d and standard deviation √(1 + ρ²) (per pair,
    # after the scale), so its relative error is about √(1 + ρ²)/(ρ√d·√2000) ≤ 1.3 % at d = 16; a 5 %
    # tolerance on the ratio of the two means is about 4σ.
    return Evidence(
        measured=growth(0.5),
        expected=math.sqrt(large / small),
        comparison="rel",
        tolerance=0.05,
        derivation="theory: E[q·k] = ρ·d_k for k = ρq + √(1 − ρ²)z, so E[q·k/√d_k] = ρ√d_k",
        counterfactual="the 1/d_k scale of μP (Yang et al. 2022) instead of 1/√d_k",
        counterfactual_measured=growth(1.0),
        unit="ratio",
        details={
            f"mean scaled score of the aligned key, d_k={d}": _aligned_score(d, power=0.5, rho=rho, seed=seed)
            for d in (small, 64, large)
        },
    )


def figure_softmax_saturation_against_d_k():
    """How the softmax behaves as the head size grows, with and without the 1/√d_k scale: the share of
    rows that put more than 0.99 of their mass on one key (left) and the median norm of the softmax
    Jacobian, the gradient each score receives (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [16, 32, 64, 128, 256, 512]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for scale, style, label in ((True, "o-", "scaled by 1/√d_k"), (False, "s--", "unscaled")):
        scores = [_scores(d, scale=scale) for d in sizes]
        left.plot(sizes, [_saturated_fraction(s) for s in scores], style, label=label)
        right.plot(sizes, [_median_jacobian_norm(s) for s in scores], style, label=label)
    left.set_ylabel("rows with max weight > 0.99")
    right.set_ylabel("median softmax Jacobian norm")
    right.set_yscale("log")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("head size d_k")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
