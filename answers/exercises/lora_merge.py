"""Exercise lora-merge: fold a LoRA adapter into its base weight, W + (α/r)·B·A."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "lora-merge"
CARD = "lora-low-rank-adaptation"
DIFFICULTY = "easy"
TITLE = "Merge a LoRA adapter into the base weight"
FUNCTION = "lora_merge"
IMPORTS = "import torch\n"
FORBIDDEN: dict[str, str] = {}


def lora_merge(weight, lora_a, lora_b, alpha: float):
    """The merged weight W + (alpha / r) · B @ A of a LoRA-adapted linear layer, in nn.Linear's layout.

    weight: (d_out, d_in), the frozen base weight (y = x @ weight.T, as nn.Linear); lora_a: (r, d_in), the
    down-projection A; lora_b: (d_out, r), the up-projection B (PEFT's layout: lora_A.weight, lora_B.weight).
    The rank r is lora_a.shape[0]; the adapter's output is scaled by alpha / r (Hu et al. 2021, §4.1).
    Returns (d_out, d_in) in weight's dtype, so that x @ merged.T equals x @ weight.T + (alpha/r)·x @ A.T @ B.T.
    d_in ≠ d_out in general.

    Example: weight = [[1., 0.], [0., 1.]], lora_a = [[1., 2.]] (r = 1), lora_b = [[1.], [0.]], alpha = 2
        B @ A = [[1., 2.], [0., 0.]], α/r = 2, merged = [[3., 4.], [0., 1.]]
    """
    rank = lora_a.shape[0]
    return weight + (alpha / rank) * (lora_b @ lora_a)


# ------------------------------------------------------------------------------------------ the checks


def _loop(weight: Tensor, lora_a: Tensor, lora_b: Tensor, alpha: float) -> Tensor:
    """Every entry in Python floats: W[i, j] + α/r · Σ_k B[i, k] A[k, j]."""
    rank = lora_a.shape[0]
    rows = [[float(weight[i, j]) + alpha / rank * sum(float(lora_b[i, k]) * float(lora_a[k, j]) for k in range(rank))
             for j in range(weight.shape[1])] for i in range(weight.shape[0])]  # fmt: skip
    return torch.tensor(rows, dtype=weight.dtype)


def _adapter_forward(x: Tensor, weight: Tensor, lora_a: Tensor, lora_b: Tensor, alpha: float) -> Tensor:
    """The unmerged layer as PEFT runs it: base(x) + lora_B(lora_A(x)) · α/r."""
    return F.linear(x, weight) + F.linear(F.linear(x, lora_a), lora_b) * (alpha / lora_a.shape[0])


def cases() -> list[Case]:
    names = ("weight", "lora_a", "lora_b", "alpha")
    f64 = torch.float64
    example = (torch.eye(2, dtype=f64), torch.tensor([[1.0, 2.0]], dtype=f64), torch.tensor([[1.0], [0.0]], dtype=f64),
               2.0)  # fmt: skip
    rect = (randn(5, 7, seed=1), randn(3, 7, seed=2), randn(5, 3, seed=3), 16.0)
    square = (randn(6, 6, seed=4), randn(2, 6, seed=5), randn(6, 2, seed=6), 8.0)
    wide = (randn(9, 4, seed=7), randn(4, 4, seed=8), randn(9, 4, seed=9), 1.0)
    x = randn(3, 7, seed=10)
    f32 = tuple(t.float() if isinstance(t, Tensor) else t for t in rect)
    return [
        Case("the worked example", example, _loop(*example), "the definition", arg_names=names),
        Case("d_out 5, d_in 7, r = 3, α = 16", rect, _loop(*rect), "a float64 loop, d_in ≠ d_out", arg_names=names),
        Case("square 6 × 6, r = 2, α = 8", square, _loop(*square), "B·A, not its transpose", arg_names=names),
        Case("d_out 9, d_in 4, r = 4, α = 1 (scale 1/4)", wide, _loop(*wide), "α/r below one", arg_names=names),
        Case("the merged layer gives the adapter's outputs", rect, _adapter_forward(x, *rect),
             "x @ merged.T = base(x) + lora_B(lora_A(x))·α/r, as PEFT computes it unmerged", arg_names=names,
             post=lambda merged: F.linear(x, merged), post_label="x @ your merged.T"),
        Case("float32 in, float32 out", f32, _loop(*f32), "the dtype is kept", atol=1e-5, rtol=1e-5, arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def scale_forgotten(weight, lora_a, lora_b, alpha: float):
    return weight + lora_b @ lora_a


def scaled_by_alpha(weight, lora_a, lora_b, alpha: float):
    return weight + alpha * (lora_b @ lora_a)


def scaled_by_r_over_alpha(weight, lora_a, lora_b, alpha: float):
    return weight + (lora_a.shape[0] / alpha) * (lora_b @ lora_a)


def transposed_update(weight, lora_a, lora_b, alpha: float):
    return weight + (alpha / lora_a.shape[0]) * (lora_a.T @ lora_b.T)


MISCONCEPTIONS = [
    Misconception("α/r forgotten", scale_forgotten,
                  "you add B·A unscaled: the adapter was trained with its output multiplied by α/r, so the merged "
                  "model is not the fine-tuned one unless α = r",
                  "lora-low-rank-adaptation: merged_weights_give_identical_outputs"),
    Misconception("scaled by α, not α/r", scaled_by_alpha,
                  "you multiply B·A by α alone; the scale is α divided by the rank r (r = lora_a.shape[0])",
                  "lora-low-rank-adaptation: merged_weights_give_identical_outputs"),
    Misconception("scaled by r/α", scaled_by_r_over_alpha, "your scale is upside down: it is α/r",
                  "lora-low-rank-adaptation: merged_weights_give_identical_outputs"),
    Misconception("the update transposed (Aᵀ·Bᵀ)", transposed_update,
                  "you add Aᵀ·Bᵀ = (B·A)ᵀ, the update in the x @ W layout, to a weight stored as nn.Linear's (d_out, "
                  "d_in): it only fits when the layer is square, and is then the wrong matrix. In this layout the "
                  "update is B @ A, (d_out, r) @ (r, d_in)",
                  "lora-low-rank-adaptation: merged_weights_give_identical_outputs"),
]  # fmt: skip
