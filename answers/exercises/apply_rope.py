"""Exercise apply-rope: rotary position embedding, each pair of dimensions rotated by position × frequency."""

from __future__ import annotations

import cmath

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "apply-rope"
CARD = "rope-relative-rotation"
DIFFICULTY = "medium"
TITLE = "Apply RoPE to queries or keys"
FUNCTION = "apply_rope"
IMPORTS = "import torch\n"
# The card's claims run on the learner's function too, passed as this keyword (see _claims.py).
CLAIM_PARAMETER = "rope"
CARD_CLAIMS = (
    "rope_scores_depend_only_on_the_offset",
    "rope_preserves_vector_norms",
    "complex_multiplication_is_the_same_rotation",
    "rope_attention_is_unchanged_by_a_global_shift",
)
FORBIDDEN: dict[str, str] = {}


def apply_rope(x, positions, base: float = 10000.0):
    """Rotary position embedding (RoFormer; Meta's Llama code): rotate each pair of dimensions of x.

    x: (..., n, d) floating point, queries or keys of one head (the leading dims may be batch and heads),
    d even. positions: (n,) integer tensor, the position of each of the n tokens (not always 0 … n−1:
    decoding with a cache starts later). base: the frequency base (10000; Llama 3 uses 500000).
    The pairs are adjacent dimensions (2i, 2i+1), i = 0 … d/2 − 1, read as the complex number
    z = x[2i] + 1j·x[2i+1] and multiplied by e^(1j·p·θ_i) with θ_i = base^(−2i/d): a rotation by the
    angle p·θ_i, counter-clockwise. So
        out[2i]   = x[2i]·cos(p·θ_i) − x[2i+1]·sin(p·θ_i)
        out[2i+1] = x[2i]·sin(p·θ_i) + x[2i+1]·cos(p·θ_i)
    Returns the shape and dtype of x, to float64 precision when x is float64: compute the angles in float64
    (in float32, position 900 with base 500000 and d = 12 gets angles off by 8e-6 rad).
    Hugging Face's Llama pairs i with i + d/2 instead ("rotate_half"): another layout, used with weights
    permuted to match, and not what is asked here.

    Example: x = [[1., 0., 1., 0.]], positions = [1], base = 10000 (θ = 1, 0.01)
        out = [[cos 1, sin 1, cos 0.01, sin 0.01]] = [[0.5403, 0.8415, 0.99995, 0.0100]]
    """
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    angles = positions.to(torch.float64)[:, None] * theta  # (n, d/2)
    cos, sin = torch.cos(angles).to(x.dtype), torch.sin(angles).to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


def _complex_loop(x: Tensor, positions: Tensor, base: float = 10000.0) -> Tensor:
    """The complex form written out in Python complex numbers: z_i · e^(1j·p·base^(−2i/d)), pair by pair."""
    d = x.shape[-1]
    flat = x.double().reshape(-1, x.shape[-2], d)
    out = torch.empty_like(flat)
    for row in range(flat.shape[0]):
        for t, p in enumerate(positions.tolist()):
            for i in range(d // 2):
                z = complex(flat[row, t, 2 * i], flat[row, t, 2 * i + 1]) * cmath.exp(1j * p * base ** (-2 * i / d))
                out[row, t, 2 * i], out[row, t, 2 * i + 1] = z.real, z.imag
    return out.reshape(x.shape).to(x.dtype)


def cases() -> list[Case]:
    names = ("x", "positions", "base")
    example = (torch.tensor([[1.0, 0.0, 1.0, 0.0]], dtype=torch.float64), torch.tensor([1]), 10000.0)
    small = (randn(5, 8, seed=1), torch.arange(5), 10000.0)
    heads = (randn(2, 3, 7, 6, seed=2), torch.arange(7), 10000.0)
    later = (randn(2, 4, 10, seed=3), torch.tensor([37, 38, 39, 40]), 10000.0)
    llama3 = (randn(3, 12, seed=4), torch.tensor([0, 5, 900]), 500000.0)
    f32 = (randn(2, 6, 8, seed=5, dtype=torch.float32), torch.arange(6), 10000.0)
    return [
        Case("the worked example", example, _complex_loop(*example), "the definition", arg_names=names),
        Case("n = 5, d = 8, positions 0 … 4", small, _complex_loop(*small), "pairs (2i, 2i+1), θ_i = base^(−2i/d)",
             arg_names=names),
        Case("batch 2 × 3 heads, n = 7, d = 6 (three pairs)", heads, _complex_loop(*heads),
             "leading dims, and an odd number of pairs", arg_names=names),
        Case("positions 37 … 40 (decoding after a prompt)", later, _complex_loop(*later),
             "the angle is the token's position, not its index in x", arg_names=names),
        Case("base 500000 (Llama 3), positions 0, 5, 900", llama3, _complex_loop(*llama3),
             "the base is a parameter", arg_names=names),
        Case("float32 in, float32 out", f32, _complex_loop(*f32), "the dtype is kept", atol=1e-5, rtol=1e-4,
             arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _rotate_pairs(first: Tensor, second: Tensor, angles: Tensor) -> tuple[Tensor, Tensor]:
    cos, sin = torch.cos(angles).to(first.dtype), torch.sin(angles).to(first.dtype)
    return first * cos - second * sin, first * sin + second * cos


def _angles(x: Tensor, positions: Tensor, exponents: Tensor, base: float) -> Tensor:
    return positions.to(torch.float64)[:, None] * base ** (-exponents.to(torch.float64))


def half_split_pairs(x, positions, base: float = 10000.0):
    d = x.shape[-1]
    angles = _angles(x, positions, torch.arange(0, d, 2) / d, base)
    first, second = _rotate_pairs(x[..., : d // 2], x[..., d // 2 :], angles)
    return torch.cat([first, second], dim=-1)


def _interleaved(x: Tensor, angles: Tensor) -> Tensor:
    first, second = _rotate_pairs(x[..., 0::2], x[..., 1::2], angles)
    return torch.stack([first, second], dim=-1).flatten(-2)


def exponent_without_the_two(x, positions, base: float = 10000.0):
    d = x.shape[-1]
    return _interleaved(x, _angles(x, positions, torch.arange(d // 2) / d, base))


def exponent_over_half_the_width(x, positions, base: float = 10000.0):
    d = x.shape[-1]
    return _interleaved(x, _angles(x, positions, torch.arange(0, d, 2) / (d // 2), base))


def base_ignored(x, positions, base: float = 10000.0):
    d = x.shape[-1]
    return _interleaved(x, _angles(x, positions, torch.arange(0, d, 2) / d, 10000.0))


def clockwise(x, positions, base: float = 10000.0):
    d = x.shape[-1]
    return _interleaved(x, -_angles(x, positions, torch.arange(0, d, 2) / d, base))


def index_not_position(x, positions, base: float = 10000.0):
    d = x.shape[-1]
    return _interleaved(x, _angles(x, torch.arange(x.shape[-2]), torch.arange(0, d, 2) / d, base))


MISCONCEPTIONS = [
    Misconception("half-split pairs (rotate_half)", half_split_pairs,
                  "you pair dimension i with i + d/2 (Hugging Face's rotate_half layout); the complex form pairs "
                  "adjacent dimensions 2i and 2i + 1. Each layout is a valid RoPE, but only with weights laid out "
                  "for it: swapping one for the other silently scrambles a trained model's positions",
                  "rope-relative-rotation: “All RoPE implementations are interchangeable.”"),
    Misconception("exponent i/d (the 2 forgotten)", exponent_without_the_two,
                  "your frequencies are base^(−i/d) for pair i; they are base^(−2i/d): your slowest pair turns "
                  "at base^(−1/2) instead of nearly base^(−1), so long distances get no slow rotation",
                  "rope-relative-rotation: complex_multiplication_is_the_same_rotation"),
    Misconception("exponent 2i/(d/2)", exponent_over_half_the_width,
                  "you divide the exponent by the number of pairs d/2 instead of by d, so the frequencies fall "
                  "twice as fast and the slow pairs barely turn",
                  "rope-relative-rotation: complex_multiplication_is_the_same_rotation"),
    Misconception("the base ignored (always 10000)", base_ignored,
                  "you hard-code 10000; the base is a parameter (Llama 3: 500000, and NTK scaling changes it)",
                  "rope-scaling-ntk-yarn: ntk_scaling_leaves_the_fastest_pair_untouched"),
    Misconception("rotated clockwise", clockwise,
                  "you rotate by −p·θ (sin with the wrong sign): scores still depend only on offsets, but the sign "
                  "of every offset flips, a different model from the one trained with e^(+1j·p·θ)",
                  "rope-relative-rotation: complex_multiplication_is_the_same_rotation"),
    Misconception("the index, not the position", index_not_position,
                  "you rotate row t by t, ignoring positions: right only when positions are 0 … n−1, wrong for a "
                  "token decoded at position 37", "kv-cache-decoding: cached_decoding_reproduces_the_full_forward"),
]  # fmt: skip
