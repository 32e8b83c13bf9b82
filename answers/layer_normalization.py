"""LayerNorm: normalise each token's feature vector, then rescale with a learned gain and bias.

LN(x) = (x − μ) / √(σ² + ε) · γ + β, with μ and σ² the mean and (biased) variance over the d features of one
token. Whatever the scale or offset of its input, every token leaves with zero mean and unit variance
before the affine step, and no other token or sample in the batch affects it — unlike BatchNorm.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.sublayers import layernorm_parameters
from answers.reference import count_parameters, randn, seeded_module

__all__ = ["layernorm_parameters"]

BATCH, N, D = 4, 6, 32
# The mechanism a claim proves, with the layernorm exercise's signature: layer_norm(x, weight, bias, eps)
# (quiz code check passes the learner's).
LayerNorm = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor]


def _by_hand(x: torch.Tensor, norm: nn.LayerNorm, *, unbiased: bool = False) -> torch.Tensor:
    """(x − mean) / sqrt(var + eps) · gain + bias over the last dimension."""
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, unbiased=unbiased)
    return (x - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


def by_hand(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """(x − mean) / sqrt(var + eps) · weight + bias over the last dimension, the biased variance."""
    mean = x.mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + eps) * weight + bias


def layernorm_formula_matches_torch(seed: int = 0, layer_norm: LayerNorm = by_hand) -> Evidence:
    """(x − μ)/√(σ² + ε)·γ + β with the biased variance (divide by d) is exactly torch's nn.LayerNorm."""
    norm = seeded_module(lambda: nn.LayerNorm(D), seed=seed)
    with torch.no_grad():
        # a non-trivial affine step
        norm.weight.copy_(randn(D, seed=1000 * seed + 1)), norm.bias.copy_(randn(D, seed=1000 * seed + 2))
        x = randn(BATCH, N, D, seed=1000 * seed + 3)
        reference = norm(x)
        return Evidence(
            measured=(layer_norm(x, norm.weight, norm.bias, norm.eps) - reference).abs().max().item(),
            expected=0.0,
            comparison="abs",
            tolerance=1e-12,  # float64 rounding only
            derivation="torch's own nn.LayerNorm",
            counterfactual="the unbiased variance (divide by d − 1)",
            counterfactual_measured=(_by_hand(x, norm, unbiased=True) - reference).abs().max().item(),
        )


def _worst_moment_error(axis: int, seed: int = 0) -> float:
    """Largest deviation of any token's mean from 0 or variance from 1 over its features, after normalising
    inputs scaled ×1000 and shifted by 50 over ``axis`` (−1: the features, as LayerNorm does)."""
    x = randn(BATCH, N, D, seed=1000 * seed + 4) * 1000 + 50
    # gain 1, bias 0: the normalisation step alone, before any learned affine step
    x = nn.functional.layer_norm(x.transpose(axis, -1), (D if axis == -1 else N,)).transpose(axis, -1)
    mean_error = x.mean(-1).abs().max()
    var_error = (x.var(-1, unbiased=False) - 1).abs().max()
    return max(mean_error, var_error).item()


def layernorm_gives_every_token_zero_mean_and_unit_variance(seed: int = 0) -> Evidence:
    """Inputs multiplied by 1000 and shifted by 50 leave LayerNorm's normalisation step (before γ and β) with
    mean 0 and variance 1 for every token; normalising over the positions instead does not."""
    return Evidence(
        measured=_worst_moment_error(axis=-1, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-9,  # variance is σ²/(σ² + ε) = 1 − ε/σ², ε = 1e-5, σ² ≈ 1e6: off by ~1e-11
        derivation="theory: (x − μ)/σ has mean 0 and variance 1 over the features",
        counterfactual="the wrong axis: each feature normalised over the sequence positions",
        counterfactual_measured=_worst_moment_error(axis=-2, seed=seed),
    )


def _change_from_other_rows(norm: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> float:
    """Largest change in sample 0's output when every other sample in the batch is replaced."""
    x = randn(BATCH, D, seed=1000 * seed + 5)
    other = x.clone()
    other[1:] = randn(BATCH - 1, D, seed=1000 * seed + 6) * 10
    with torch.no_grad():
        return (norm(x)[0] - norm(other)[0]).abs().max().item()


def layernorm_is_computed_per_token(seed: int = 0, layer_norm: LayerNorm | None = None) -> Evidence:
    """A token's LayerNorm output depends on that token alone: replacing the rest of the batch changes nothing.
    BatchNorm, which normalises each feature over the batch, changes."""
    batchnorm = nn.BatchNorm1d(D).to(torch.float64).train()  # training mode: batch statistics
    norm: Callable[[torch.Tensor], torch.Tensor] = nn.LayerNorm(D).to(torch.float64)
    if layer_norm is not None:  # gain 1, bias 0 and ε = 1e-5, as nn.LayerNorm(D) starts
        ones, zeros = torch.ones(D, dtype=torch.float64), torch.zeros(D, dtype=torch.float64)
        norm = lambda x: layer_norm(x, ones, zeros, 1e-5)  # noqa: E731
    return Evidence(
        measured=_change_from_other_rows(norm, seed),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # the same numbers go through the same operations
        derivation="definition: μ and σ² are taken over one token's features",
        counterfactual="BatchNorm (statistics over the batch)",
        counterfactual_measured=_change_from_other_rows(batchnorm, seed),
    )


NUMERIC_WIDTHS = (512, 768, 1024, 4096)  # the numeric question's d_model values


def layernorm_parameter_formula_matches_torch() -> Evidence:
    """layernorm_parameters(d) = 2d equals the parameter count of torch's nn.LayerNorm(d) at every width the
    numeric question asks about; a bias-free LayerNorm (nn.LayerNorm(d, bias=False)) has d."""
    return Evidence(
        measured=tuple(layernorm_parameters(d) for d in NUMERIC_WIDTHS),
        expected=tuple(count_parameters(nn.LayerNorm(d)) for d in NUMERIC_WIDTHS),
        comparison="equal",
        unit="parameters",
        derivation="count_parameters on torch's own nn.LayerNorm(d): the gain γ and the bias β",
        counterfactual="counting the gain only, as in a bias-free LayerNorm",
        counterfactual_measured=tuple(count_parameters(nn.LayerNorm(d, bias=False)) for d in NUMERIC_WIDTHS),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
