"""Exercise layernorm: LayerNorm, (x − mean) / √(var + ε) · weight + bias, over each token's features."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from answers.exercises._kit import Case, Misconception, randn

ID = "layernorm"
CARD = "layer-normalization"
DIFFICULTY = "easy"
TITLE = "LayerNorm"
FUNCTION = "layer_norm"
IMPORTS = "import torch\n"
# The card's claims run on the learner's function too, passed as this keyword (see _claims.py).
CLAIM_PARAMETER = "layer_norm"
CARD_CLAIMS = (
    "layernorm_formula_matches_torch",
    "layernorm_is_computed_per_token",
)
FORBIDDEN = {
    "torch.nn.functional.layer_norm": "it is the function you are writing",
    "torch.layer_norm": "it is the function you are writing",
    "torch.native_layer_norm": "it is the function you are writing",
    "torch.nn.LayerNorm": "it computes LayerNorm for you",
    "torch.nn.functional.group_norm": "GroupNorm with one group is LayerNorm",
}

# Torch's own implementation, bound before any check replaces the public name with a refusal.
_torch_layer_norm = F.layer_norm


def layer_norm(x, weight, bias, eps: float = 1e-5):
    """LayerNorm over the last dim: (x − mean) / √(var + eps) · weight + bias, for each token on its own.

    x: (..., d) floating point, the last dim the features of one token; weight, bias: (d,), the learned
    gain and shift. mean and var are taken over the last dim only; var is the biased (population)
    variance, mean((x − mean)²), dividing by d, not d − 1; eps goes inside the square root. Returns
    (..., d) in x's dtype. Do not call F.layer_norm or nn.LayerNorm.

    Example: x = [[1., 2., 3.]], weight = [1., 1., 2.], bias = [0., 0., 1.], eps = 0
        mean = 2, var = 2/3, √var = 0.816, result = [[-1.225, 0., 3.449]]
    """
    mean = x.mean(-1, keepdim=True)
    var = (x - mean).pow(2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def cases() -> list[Case]:
    names = ("x", "weight", "bias", "eps")

    def case(name: str, args: tuple, why: str, **tolerance: float) -> Case:
        x, weight, bias, eps = args
        expected = _torch_layer_norm(x, (x.shape[-1],), weight, bias, eps)
        return Case(name, args, expected, why, arg_names=names, **tolerance)

    example = tuple(torch.tensor(v, dtype=torch.float64) for v in ([[1.0, 2.0, 3.0]], [1.0, 1.0, 2.0], [0.0, 0.0, 1.0]))
    return [
        case("the worked example, eps = 0", (*example, 0.0), "the definition"),
        case("(2, 3, 5): batch 2, 3 tokens, 5 features, shifted by 4", (randn(2, 3, 5, seed=1) * 3 + 4,
             randn(5, seed=2), randn(5, seed=3), 1e-5), "each token's 5 features are normalised on their own"),
        case("(4, 7) with features on very different scales", (randn(4, 7, seed=4) * torch.arange(1.0, 8.0),
             randn(7, seed=5), randn(7, seed=6), 1e-5), "statistics over the last dim, not over the tokens"),
        case("tiny inputs (x ~ 1e-3), eps = 1e-5", (1e-3 * randn(3, 6, seed=7), randn(6, seed=8),
             randn(6, seed=9), 1e-5), "where eps goes matters when var is close to it"),
        case("float32 in, float32 out", (randn(2, 9, seed=10, dtype=torch.float32),
             randn(9, seed=11, dtype=torch.float32), randn(9, seed=12, dtype=torch.float32), 1e-5),
             "the dtype is kept", atol=1e-5, rtol=1e-4),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def unbiased_variance(x, weight, bias, eps: float = 1e-5):
    centred = x - x.mean(-1, keepdim=True)
    return centred / torch.sqrt(x.var(-1, keepdim=True) + eps) * weight + bias


def eps_outside_the_root(x, weight, bias, eps: float = 1e-5):
    centred = x - x.mean(-1, keepdim=True)
    return centred / (centred.pow(2).mean(-1, keepdim=True).sqrt() + eps) * weight + bias


def over_the_batch(x, weight, bias, eps: float = 1e-5):
    mean = x.mean(0, keepdim=True)
    var = (x - mean).pow(2).mean(0, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def mean_not_subtracted(x, weight, bias, eps: float = 1e-5):
    return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight + bias


MISCONCEPTIONS = [
    Misconception("unbiased variance (n − 1)", unbiased_variance,
                  "x.var() and x.std() divide by d − 1 by default; LayerNorm uses the population variance, dividing "
                  "by d (x.var(-1, unbiased=False)). With few features the outputs shrink by √((d − 1)/d)",
                  "layer-normalization: “LayerNorm divides by the sample standard deviation (n − 1).”"),
    Misconception("eps outside the square root", eps_outside_the_root,
                  "you add eps to √var instead of to var: the same for ordinary inputs, not when var is near eps",
                  "layer-normalization: layernorm_formula_matches_torch"),
    Misconception("normalised over the batch (dim 0)", over_the_batch,
                  "you take the mean and variance over dim 0, across the batch, as BatchNorm does; LayerNorm "
                  "normalises each token over its own features, the last dim",
                  "layer-normalization: “LayerNorm normalises each feature across the batch.”"),
    Misconception("the mean not subtracted (RMSNorm)", mean_not_subtracted,
                  "you divide by the root mean square without centring: that is RMSNorm (plus a bias). LayerNorm "
                  "subtracts each token's mean first", "rmsnorm: rmsnorm_equals_layernorm_on_zero_mean_inputs"),
]  # fmt: skip
