"""LayerNorm: normalise each token's feature vector, then rescale with a learned gain and bias.

LN(x) = (x − μ) / √(σ² + ε) · γ + β, with μ and σ² the mean and (biased) variance over the d features of one
token. Whatever the scale or offset of its input, every token leaves with zero mean and unit variance
before the affine step, and no other token or sample in the batch affects it — unlike BatchNorm.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.sublayers import layernorm_parameters
from answers.reference import count_parameters, randn, seeded_module

__all__ = ["layernorm_parameters"]

BATCH, N, D = 4, 6, 32


def _by_hand(x: torch.Tensor, norm: nn.LayerNorm, *, unbiased: bool = False) -> torch.Tensor:
    """(x − mean) / sqrt(var + eps) · gain + bias over the last dimension."""
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, unbiased=unbiased)
    return (x - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


def layernorm_formula_matches_torch() -> Evidence:
    """(x − μ)/√(σ² + ε)·γ + β with the biased variance (divide by d) is exactly torch's nn.LayerNorm."""
    norm = seeded_module(lambda: nn.LayerNorm(D))
    with torch.no_grad():
        norm.weight.copy_(randn(D, seed=1)), norm.bias.copy_(randn(D, seed=2))  # a non-trivial affine step
        x = randn(BATCH, N, D, seed=3)
        reference = norm(x)
        return Evidence(
            measured=(_by_hand(x, norm) - reference).abs().max().item(),
            expected=0.0,
            comparison="abs",
            tolerance=1e-12,  # float64 rounding only
            derivation="torch's own nn.LayerNorm",
            counterfactual="the unbiased variance (divide by d − 1)",
            counterfactual_measured=(_by_hand(x, norm, unbiased=True) - reference).abs().max().item(),
            details={"parameters (γ and β)": count_parameters(norm), "formula": layernorm_parameters(D)},
        )


def _worst_moment_error(normalise: bool) -> float:
    """Largest deviation of any token's mean from 0 or variance from 1, for inputs scaled ×1000 and shifted."""
    x = randn(BATCH, N, D, seed=4) * 1000 + 50
    if normalise:
        x = nn.functional.layer_norm(x, (D,))  # gain 1, bias 0: the normalisation step alone
    mean_error = x.mean(-1).abs().max()
    var_error = (x.var(-1, unbiased=False) - 1).abs().max()
    return max(mean_error, var_error).item()


def layernorm_gives_every_token_zero_mean_and_unit_variance() -> Evidence:
    """Inputs multiplied by 1000 and shifted by 50 leave LayerNorm with mean 0 and variance 1 for every token."""
    return Evidence(
        measured=_worst_moment_error(normalise=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-9,  # variance is σ²/(σ² + ε) = 1 − ε/σ², ε = 1e-5, σ² ≈ 1e6: off by ~1e-11
        derivation="theory: (x − μ)/σ has mean 0 and variance 1 over the features",
        counterfactual="no normalisation",
        counterfactual_measured=_worst_moment_error(normalise=False),
    )


def _change_from_other_rows(norm: nn.Module) -> float:
    """Largest change in sample 0's output when every other sample in the batch is replaced."""
    x = randn(BATCH, D, seed=5)
    other = x.clone()
    other[1:] = randn(BATCH - 1, D, seed=6) * 10
    with torch.no_grad():
        return (norm(x)[0] - norm(other)[0]).abs().max().item()


def layernorm_is_computed_per_token() -> Evidence:
    """A token's LayerNorm output depends on that token alone: replacing the rest of the batch changes nothing.
    BatchNorm, which normalises each feature over the batch, changes."""
    batchnorm = nn.BatchNorm1d(D).to(torch.float64).train()  # training mode: batch statistics
    return Evidence(
        measured=_change_from_other_rows(nn.LayerNorm(D).to(torch.float64)),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # the same numbers go through the same operations
        derivation="definition: μ and σ² are taken over one token's features",
        counterfactual="BatchNorm (statistics over the batch)",
        counterfactual_measured=_change_from_other_rows(batchnorm),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
