"""Exercise swiglu-ffn: the Llama feed-forward block, (SiLU(x W_gate) ⊙ x W_up) W_down."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn
from answers.reference import FeedForward

ID = "swiglu-ffn"
CARD = "swiglu-ffn"
DIFFICULTY = "easy"
TITLE = "The SwiGLU feed-forward block"
FUNCTION = "swiglu_ffn"
IMPORTS = "import torch\nimport torch.nn.functional as F\n"
# torch has no SwiGLU function to forbid: F.silu is an allowed building block, the gate structure is the exercise.
FORBIDDEN: dict[str, str] = {}


def swiglu_ffn(x, w_gate, w_up, w_down):
    """The SwiGLU FFN of Llama and Mistral: (SiLU(x @ w_gate) * (x @ w_up)) @ w_down, no biases.

    x: (..., d_model)   w_gate, w_up: (d_model, d_ff)   w_down: (d_ff, d_model)   one floating dtype.
    The weights are in the x @ W layout (nn.Linear stores their transposes). SiLU(z) = z · sigmoid(z)
    (F.silu). The gate branch goes through SiLU; the up branch does not; they are multiplied element-wise.
    Returns (..., d_model) in x's dtype. d_ff ≠ d_model in general (Llama-2-7B: 4096 → 11008).

    Example: d_model = 1, d_ff = 2, x = [[1.]], w_gate = [[1., -1.]], w_up = [[2., 3.]], w_down = [[1.], [1.]]
        SiLU(x w_gate) = [0.731, -0.269], x w_up = [2., 3.], product = [1.462, -0.807], output = [[0.655]]
    """
    return (F.silu(x @ w_gate) * (x @ w_up)) @ w_down


# ------------------------------------------------------------------------------------------ the checks


def _loop(x: Tensor, w_gate: Tensor, w_up: Tensor, w_down: Tensor) -> Tensor:
    """Row by row in Python floats, SiLU written as z / (1 + e^(−z))."""
    rows = x.reshape(-1, x.shape[-1]).tolist()
    d_ff, d_out = w_down.shape
    out = []
    for row in rows:
        hidden = []
        for j in range(d_ff):
            g = sum(row[i] * float(w_gate[i, j]) for i in range(len(row)))
            u = sum(row[i] * float(w_up[i, j]) for i in range(len(row)))
            hidden.append(g / (1 + math.exp(-g)) * u)
        out.append([sum(hidden[j] * float(w_down[j, c]) for j in range(d_ff)) for c in range(d_out)])
    return torch.tensor(out, dtype=x.dtype).reshape(*x.shape[:-1], d_out)


def _module(x: Tensor, w_gate: Tensor, w_up: Tensor, w_down: Tensor) -> Tensor:
    """The bank's Llama FFN module (nn.Linear layers) with the weights copied in."""
    d_model, d_ff = w_gate.shape
    ffn = FeedForward(d_model, d_ff, "swiglu", bias=False).to(x.dtype)
    with torch.no_grad():
        ffn.gate.weight.copy_(w_gate.T)
        ffn.up.weight.copy_(w_up.T)
        ffn.down.weight.copy_(w_down.T)
        return ffn(x)


def _weights(d_model: int, d_ff: int, seed: int, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor, Tensor]:
    return (randn(d_model, d_ff, seed=seed, dtype=dtype), randn(d_model, d_ff, seed=seed + 1, dtype=dtype),
            randn(d_ff, d_model, seed=seed + 2, dtype=dtype))  # fmt: skip


def cases() -> list[Case]:
    names = ("x", "w_gate", "w_up", "w_down")
    f64 = torch.float64
    example = (torch.tensor([[1.0]], dtype=f64), torch.tensor([[1.0, -1.0]], dtype=f64),
               torch.tensor([[2.0, 3.0]], dtype=f64), torch.tensor([[1.0], [1.0]], dtype=f64))  # fmt: skip
    small = (randn(3, 4, seed=1), *_weights(4, 7, seed=2))
    batched = (randn(2, 5, 6, seed=5), *_weights(6, 11, seed=6))
    f32 = (randn(3, 8, seed=9, dtype=torch.float32), *_weights(8, 5, seed=10, dtype=torch.float32))
    return [
        Case("the worked example", example, _loop(*example), "the definition", arg_names=names),
        Case("3 tokens, d_model 4 → d_ff 7", small, _loop(*small), "a float64 loop, d_ff ≠ d_model", arg_names=names),
        Case("batch 2 × 5 tokens, d_model 6 → d_ff 11", batched, _module(*batched),
             "leading dims; equals the bank's Llama FFN module with these weights", arg_names=names),
        Case("float32 in, float32 out", f32, _module(*f32), "the dtype is kept", atol=1e-5, rtol=1e-4,
             arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def plain_silu_ffn(x, w_gate, w_up, w_down):
    return F.silu(x @ w_up) @ w_down


def gate_and_up_swapped(x, w_gate, w_up, w_down):
    return (F.silu(x @ w_up) * (x @ w_gate)) @ w_down


def sigmoid_gate(x, w_gate, w_up, w_down):
    return (torch.sigmoid(x @ w_gate) * (x @ w_up)) @ w_down


def silu_after_the_product(x, w_gate, w_up, w_down):
    return F.silu((x @ w_gate) * (x @ w_up)) @ w_down


MISCONCEPTIONS = [
    Misconception("a plain SiLU FFN", plain_silu_ffn,
                  "you apply SiLU to one projection and never multiply by the other: that is a two-matrix SiLU FFN. "
                  "SwiGLU multiplies SiLU(x W_gate) element-wise by a second projection x W_up",
                  "swiglu-ffn: “SwiGLU just swaps ReLU for the Swish/SiLU activation.”"),
    Misconception("gate and up swapped", gate_and_up_swapped,
                  "SiLU goes on x W_up and the linear branch is x W_gate: the same shapes, a different function of "
                  "the trained weights. SiLU belongs on the gate projection",
                  "swiglu-ffn: swiglu_is_silu_gate_times_up_projection"),
    Misconception("sigmoid gate (GLU, not SwiGLU)", sigmoid_gate,
                  "you gate with sigmoid(x W_gate): that is the original GLU. SwiGLU's gate is SiLU, z · sigmoid(z)",
                  "swiglu-ffn: swiglu_is_silu_gate_times_up_projection"),
    Misconception("SiLU after the product", silu_after_the_product,
                  "you multiply the two projections first and apply SiLU to the product; SiLU acts on the gate "
                  "projection alone, before the multiplication",
                  "swiglu-ffn: swiglu_is_silu_gate_times_up_projection"),
]  # fmt: skip
