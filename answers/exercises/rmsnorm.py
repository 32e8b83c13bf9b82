"""Exercise rmsnorm: RMSNorm, x / √(mean(x²) + ε) · weight."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from answers.exercises._kit import Case, Misconception, randn

ID = "rmsnorm"
CARD = "rmsnorm"
DIFFICULTY = "easy"
TITLE = "RMSNorm"
FUNCTION = "rms_norm"
IMPORTS = "import torch\n"
# The card's claims run on the learner's function too, passed as this keyword (see _claims.py).
CLAIM_PARAMETER = "rms_norm"
CARD_CLAIMS = (
    "rmsnorm_matches_torch_rmsnorm",
    "rmsnorm_equals_layernorm_on_zero_mean_inputs",
    "rmsnorm_is_invariant_to_the_input_scale",
)
FORBIDDEN = {
    "torch.nn.functional.rms_norm": "it is the function you are writing",
    "torch.rms_norm": "it is the function you are writing",
    "torch.nn.RMSNorm": "it computes RMSNorm for you",
}

_torch_rms_norm = F.rms_norm


def rms_norm(x, weight, eps: float = 1e-6):
    """RMSNorm over the last dim: x / √(mean(x², last dim) + eps) · weight.

    x: (..., d) floating point; weight: (d,), the learned gain; eps: added to the mean square, inside the
    square root. Returns (..., d) in x's dtype. No mean is subtracted and there is no bias (that would be
    LayerNorm). Do not call F.rms_norm or nn.RMSNorm.

    Example: x = [[3., 4.]], weight = [1., 2.], eps = 0
        mean(x²) = 12.5, √12.5 = 3.536, result = [[0.849, 2.263]]
    """
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def cases() -> list[Case]:
    names = ("x", "weight", "eps")
    ex = (torch.tensor([[3.0, 4.0]], dtype=torch.float64), torch.tensor([1.0, 2.0], dtype=torch.float64), 0.0)
    shifted = (randn(2, 3, 5, seed=1) + 3, randn(5, seed=2), 1e-6)
    tiny = (1e-3 * randn(4, 7, seed=3), randn(7, seed=4), 1e-5)
    f32 = (randn(3, 6, seed=5, dtype=torch.float32), randn(6, seed=6, dtype=torch.float32), 1e-6)
    return [
        Case("the worked example, eps = 0", ex, _torch_rms_norm(ex[0], (2,), ex[1], ex[2]), "the definition",
             arg_names=names),
        Case("(2, 3, 5) with a non-zero mean", shifted, _torch_rms_norm(shifted[0], (5,), shifted[1], 1e-6),
             "no mean is subtracted", arg_names=names),
        Case("tiny inputs (x ~ 1e-3), eps = 1e-5", tiny, _torch_rms_norm(tiny[0], (7,), tiny[1], 1e-5),
             "where eps goes matters when mean(x²) is close to it", arg_names=names),
        Case("float32 in, float32 out", f32, _torch_rms_norm(f32[0], (6,), f32[1], 1e-6), "the dtype is kept",
             atol=1e-6, rtol=1e-5, arg_names=names),
    ]  # fmt: skip


def layer_norm_style(x, weight, eps: float = 1e-6):
    centred = x - x.mean(-1, keepdim=True)
    return centred * torch.rsqrt(centred.pow(2).mean(-1, keepdim=True) + eps) * weight


def eps_outside_the_root(x, weight, eps: float = 1e-6):
    return x / (x.pow(2).mean(-1, keepdim=True).sqrt() + eps) * weight


def no_weight(x, weight, eps: float = 1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


def unbiased_std(x, weight, eps: float = 1e-6):
    return x / (x.std(-1, keepdim=True) + eps) * weight


MISCONCEPTIONS = [
    Misconception("LayerNorm's mean subtracted", layer_norm_style,
                  "you subtract the mean first: that is LayerNorm without a bias. RMSNorm only rescales",
                  "rmsnorm: “RMSNorm normalises each token to zero mean and unit variance.”"),
    Misconception("eps outside the square root", eps_outside_the_root,
                  "you add eps to √mean(x²) instead of to mean(x²): the same for ordinary inputs, not for tiny ones",
                  "rmsnorm: rmsnorm_matches_torch_rmsnorm"),
    Misconception("the weight forgotten", no_weight, "you never multiply by the learned gain weight",
                  "rmsnorm: rmsnorm_matches_torch_rmsnorm"),
    Misconception("divided by the standard deviation", unbiased_std,
                  "you divide by x.std() (centred, and unbiased: n−1) instead of the root mean square",
                  "rmsnorm: rmsnorm_equals_layernorm_on_zero_mean_inputs"),
]  # fmt: skip
