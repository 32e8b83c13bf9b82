"""RMSNorm: LayerNorm without the mean subtraction and without the bias.

RMSNorm(x) = x / √(mean(x²) + ε) · g. It only rescales each token to unit root-mean-square: it is invariant to
the input's scale but not to a shift, equals LayerNorm (without bias) exactly when the token already has
zero mean, and needs d parameters instead of 2d. Llama, Mistral and most recent LLMs use it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.sublayers import layernorm_parameters, rmsnorm_parameters
from answers.reference import RMSNorm, count_parameters, randn

__all__ = ["layernorm_parameters", "rmsnorm_parameters"]

N, D, EPS = 6, 32, 1e-6
# The mechanism a claim proves, with the rmsnorm exercise's signature: rms_norm(x, weight, eps)
# (quiz code check passes the learner's).
RmsNorm = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]


def _gain(seed: int = 0) -> torch.Tensor:
    return randn(D, seed=1000 * seed + 1)  # a non-trivial learned gain


def _ours(seed: int = 0) -> RMSNorm:
    norm = RMSNorm(D, eps=EPS).to(torch.float64)
    with torch.no_grad():
        norm.weight.copy_(_gain(seed))
    return norm


def reference_rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """The reference RMSNorm module with this gain and ε, applied to x."""
    norm = RMSNorm(x.shape[-1], eps=eps).to(x.dtype)
    with torch.no_grad():
        norm.weight.copy_(weight)
        return norm(x)


def _distance_from_torch(normalise, seed: int = 0) -> float:
    torch_norm = nn.RMSNorm(D, eps=EPS, dtype=torch.float64)
    with torch.no_grad():
        torch_norm.weight.copy_(_gain(seed))
        x = randn(N, D, seed=1000 * seed + 2) + 3.0  # a clear non-zero mean, so centring would show
        return (normalise(x) - torch_norm(x)).abs().max().item()


def rmsnorm_matches_torch_rmsnorm(seed: int = 0, rms_norm: RmsNorm = reference_rms_norm) -> Evidence:
    """x / √(mean(x²) + ε) · g is exactly torch's nn.RMSNorm; dividing by the standard deviation instead
    (centred statistics, as LayerNorm does) is not."""
    norm = _ours(seed)

    def by_std(x: torch.Tensor) -> torch.Tensor:
        return x / torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + EPS) * norm.weight

    with torch.no_grad():
        return Evidence(
            measured=_distance_from_torch(lambda x: rms_norm(x, _gain(seed), EPS), seed),
            expected=0.0,
            comparison="abs",
            tolerance=1e-12,  # float64 rounding only
            derivation="torch's own nn.RMSNorm",
            counterfactual="dividing by the standard deviation (centred) instead of the RMS",
            counterfactual_measured=_distance_from_torch(by_std, seed),
        )


def _gap_to_layernorm(x: torch.Tensor, seed: int = 0, rms_norm: RmsNorm = reference_rms_norm) -> float:
    layernorm = nn.LayerNorm(D, eps=EPS, bias=False, dtype=torch.float64)
    with torch.no_grad():
        layernorm.weight.copy_(_gain(seed))
        return (rms_norm(x, _gain(seed), EPS) - layernorm(x)).abs().max().item()


def rmsnorm_equals_layernorm_on_zero_mean_inputs(seed: int = 0, rms_norm: RmsNorm = reference_rms_norm) -> Evidence:
    """On tokens whose features already have zero mean, RMSNorm and a bias-free LayerNorm are the same function;
    on tokens with a non-zero mean they are not."""
    x = randn(N, D, seed=1000 * seed + 3)
    centred = x - x.mean(-1, keepdim=True)
    return Evidence(
        measured=_gap_to_layernorm(centred, seed, rms_norm),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # with μ = 0 the two formulas coincide term by term
        derivation="theory: μ = 0 makes the RMS equal the standard deviation",
        counterfactual="inputs with a non-zero mean (x + 3)",
        counterfactual_measured=_gap_to_layernorm(x + 3.0, seed),
    )


def _scale_change(take_root: bool, seed: int = 0, rms_norm: RmsNorm = reference_rms_norm) -> float:
    """Largest relative change in the output when the input is multiplied by 1000; without ``take_root`` the
    token is divided by its mean square instead of its root mean square (a dropped rsqrt)."""
    x = randn(N, D, seed=1000 * seed + 4)
    norm = _ours(seed)

    def by_mean_square(z: torch.Tensor) -> torch.Tensor:
        return z / (z.pow(2).mean(-1, keepdim=True) + norm.eps) * norm.weight

    f = (lambda z: rms_norm(z, norm.weight, norm.eps)) if take_root else by_mean_square
    with torch.no_grad():
        return ((f(1000 * x) - f(x)).abs().max() / f(x).abs().max()).item()


def rmsnorm_is_invariant_to_the_input_scale(seed: int = 0, rms_norm: RmsNorm = reference_rms_norm) -> Evidence:
    """Multiplying a token by 1000 leaves its RMSNorm output unchanged (up to the ε term); dividing by the mean
    square instead of its square root leaves the output scaled by 1/1000."""
    return Evidence(
        measured=_scale_change(take_root=True, seed=seed, rms_norm=rms_norm),
        expected=0.0,
        comparison="abs",
        tolerance=1e-5,  # ε = 1e-6 against mean(x²) ≈ 1 changes the output by at most ~ε/2 relative
        derivation="theory: (cx)/RMS(cx) = x/RMS(x) for c > 0 when ε is negligible",
        counterfactual="dividing by the mean square, without the square root",
        counterfactual_measured=_scale_change(take_root=False, seed=seed),
    )


def rmsnorm_has_half_the_parameters_of_layernorm() -> Evidence:
    """RMSNorm keeps a gain per feature and drops the bias: d parameters against LayerNorm's 2d."""
    return Evidence(
        measured=rmsnorm_parameters(D),
        expected=count_parameters(nn.RMSNorm(D)),
        comparison="equal",
        unit="parameters",
        derivation="count_parameters on torch's own nn.RMSNorm(d): one gain per feature",
        counterfactual="nn.LayerNorm (gain and bias)",
        counterfactual_measured=count_parameters(nn.LayerNorm(D)),
        details={"layernorm_parameters formula": layernorm_parameters(D)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
