"""Exercise stable-softmax: a softmax that survives logits that overflow exp."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "stable-softmax"
CARD = "softmax-numerical-stability"
DIFFICULTY = "easy"
TITLE = "A numerically stable softmax"
FUNCTION = "softmax"
IMPORTS = "import torch\n"
# The card's claims run on the learner's function too, passed as this keyword (see _claims.py).
CLAIM_PARAMETER = "softmax"
CARD_CLAIMS = (
    "the_shifted_softmax_survives_logits_that_overflow_exp",
    "subtracting_the_row_maximum_leaves_the_softmax_unchanged",
)
FORBIDDEN = {
    name: "it is the function you are writing; use exp, max and sum"
    for name in (
        "torch.softmax",
        "torch.log_softmax",
        "torch.nn.functional.softmax",
        "torch.nn.functional.log_softmax",
        "torch.special.softmax",
        "torch.Tensor.softmax",
        "torch.Tensor.log_softmax",
    )
}

_torch_softmax = torch.softmax


def softmax(x, dim: int = -1):
    """softmax(x)_i = exp(x_i) / Σ_j exp(x_j) along ``dim``, without overflow.

    x: floating point tensor of any shape (float32 or float64); dim: the axis to normalise (negative counts
    from the end). Returns the same shape and dtype; every slice along dim sums to 1. Logits may be huge
    (1000 in float64, 100 in float32, where exp overflows) and may be −∞ (a masked entry: probability 0)
    as long as each slice has one finite entry. Do not call torch.softmax / F.softmax / x.softmax.

    Example:
        softmax(tensor([1., 2., 3.])) = [0.090, 0.245, 0.665]
        softmax(tensor([1000., 1001.])) = [0.269, 0.731]   (exp(1000) alone is inf)
    """
    shifted = x - x.amax(dim=dim, keepdim=True)
    e = shifted.exp()
    return e / e.sum(dim=dim, keepdim=True)


def _loop(rows: list[list[float]]) -> Tensor:
    """Row by row in Python floats, shifted by the row maximum (exact in exact arithmetic)."""
    out = []
    for row in rows:
        top = max(row)
        e = [math.exp(v - top) for v in row]
        out.append([v / sum(e) for v in e])
    return torch.tensor(out, dtype=torch.float64)


def cases() -> list[Case]:
    names = ("x", "dim")
    small = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    scales = torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1003.0]], dtype=torch.float64)
    masked = torch.tensor([[0.5, -math.inf, 1.5], [-math.inf, -math.inf, 2.0]], dtype=torch.float64)
    cube = randn(2, 5, 3, seed=1)
    f32 = 40 * randn(3, 7, seed=2, dtype=torch.float32)
    return [
        Case("the worked example", (small, -1), _loop(small.tolist()), "the definition", arg_names=names),
        Case("rows far apart in scale: 1000 and −1000", (scales, -1), _loop(scales.tolist()),
             "each row needs its own maximum", arg_names=names),
        Case("−∞ entries (masked) get probability 0", (masked, -1), _loop(masked.tolist()),
             "exp(−∞) = 0, as long as a row has a finite entry", arg_names=names),
        Case("(2, 5, 3) along dim 1", (cube, 1), _torch_softmax(cube, 1), "not always the last dim", arg_names=names),
        Case("float32 logits up to ~100", (f32, -1), _torch_softmax(f32, -1), "exp overflows float32 at 88.7",
             atol=1e-6, rtol=1e-5, arg_names=names),
    ]  # fmt: skip


def unshifted(x, dim: int = -1):
    e = x.exp()
    return e / e.sum(dim=dim, keepdim=True)


def global_max(x, dim: int = -1):
    e = (x - x.max()).exp()
    return e / e.sum(dim=dim, keepdim=True)


def last_dim_only(x, dim: int = -1):
    e = (x - x.amax(-1, keepdim=True)).exp()
    return e / e.sum(-1, keepdim=True)


MISCONCEPTIONS = [
    Misconception("exp without the maximum", unshifted,
                  "you compute exp(x) directly: exp(1000) is inf in float64 (exp(89) in float32) and inf/inf is NaN. "
                  "Subtracting the maximum is exact, not an approximation",
                  "softmax-numerical-stability: “Subtracting the maximum is an approximation that trades a little "
                  "accuracy for stability.”"),
    Misconception("one maximum for the whole tensor", global_max,
                  "you subtract the maximum of the whole tensor, not of each slice: a row far below it underflows to "
                  "all zeros, and 0/0 is NaN",
                  "softmax-numerical-stability: subtracting_the_row_maximum_leaves_the_softmax_unchanged"),
    Misconception("always the last dim", last_dim_only,
                  "you normalise along dim −1 whatever dim is asked for",
                  "softmax-numerical-stability: subtracting_the_row_maximum_leaves_the_softmax_unchanged"),
]  # fmt: skip
