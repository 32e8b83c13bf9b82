"""Exercise int8-quantize: symmetric per-output-channel int8 quantisation of a weight matrix."""

from __future__ import annotations

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "int8-quantize"
CARD = "quantization"
DIFFICULTY = "medium"
TITLE = "Per-channel symmetric int8 quantisation"
FUNCTION = "quantize_int8"
IMPORTS = "import torch\n"
FORBIDDEN = {
    name: "it quantises for you"
    for name in (
        "torch.quantize_per_channel",
        "torch.quantize_per_tensor",
        "torch.fake_quantize_per_channel_affine",
        "torch.fake_quantize_per_tensor_affine",
    )
}

_torch_fake_quantize = torch.fake_quantize_per_channel_affine


def quantize_int8(weight):
    """Quantise a linear layer's weight to int8 with one symmetric scale per output channel (row).

    weight: (out_features, in_features) float32, nn.Linear's layout. For each row i:
        scale[i] = max_j |weight[i, j]| / 127      (so the row's largest magnitude maps to ±127)
        q[i, j]  = round(weight[i, j] / scale[i]), clamped to [−127, 127]   (round to nearest, not floor)
    Returns (q, scale): q int8 (out_features, in_features); scale (out_features, 1) in weight's dtype, so that
    q * scale (the dequantised weight) broadcasts back to weight's shape. Symmetric: no zero point, and −128 is
    never used. A row of zeros has q = 0 and scale 0 (guard the division: 0/0 is NaN, and casting NaN to
    int8 gives whatever the CPU gives).
    Do not call torch.quantize_per_channel or torch.fake_quantize_*.

    Example: weight = [[0.3, -1.0, 0.6], [2.0, 0.5, -1.3]]
        scale = [[1/127], [2/127]] = [[0.00787], [0.01575]]
        q = [[38, -127, 76], [127, 32, -83]]     (0.3 · 127 = 38.1, 0.5 · 63.5 = 31.75, −1.3 · 63.5 = −82.55)
    """
    scale = weight.abs().amax(dim=1, keepdim=True) / 127
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    q = torch.round(weight / safe).clamp(-127, 127).to(torch.int8)
    return q, scale


# ------------------------------------------------------------------------------------------ the checks


def _reference(weight: Tensor) -> tuple[Tensor, Tensor]:
    """Scales from a Python loop (the definition), the rounding and clamping by torch's own per-channel fake
    quantiser (q · scale, from which q is read back exactly: |q| ≤ 127 is far inside float32's exact range)."""
    scales = [max(abs(v) for v in row) / 127 for row in weight.tolist()]
    as_used = torch.tensor([s if s > 0 else 1.0 for s in scales], dtype=torch.float32)
    zero_points = torch.zeros(len(scales), dtype=torch.int32)
    fake = _torch_fake_quantize(weight.float(), as_used, zero_points, 0, -127, 127)
    q = (fake / as_used.unsqueeze(1)).round().to(torch.int8)
    return q, torch.tensor(scales, dtype=weight.dtype).unsqueeze(1)


def _dequantised(weight: Tensor) -> Tensor:
    q, scale = _reference(weight)
    return q.to(weight.dtype) * scale


def cases() -> list[Case]:
    names = ("weight",)
    example = torch.tensor([[0.3, -1.0, 0.6], [2.0, 0.5, -1.3]])
    rows = randn(5, 7, seed=1, dtype=torch.float32) * torch.tensor([[0.1], [1.0], [3.0], [0.5], [20.0]])
    outlier_column = randn(6, 9, seed=2, dtype=torch.float32)
    outlier_column[:, 4] *= 50  # an outlier input feature: every row's scale is set by it
    zero_row = randn(4, 5, seed=3, dtype=torch.float32)
    zero_row[2] = 0
    dense = randn(8, 16, seed=4, dtype=torch.float32)
    return [
        Case("the worked example", (example,), _reference(example), "the definition", rtol=1e-6, arg_names=names),
        Case("(5, 7), rows of very different ranges", (rows,), _reference(rows),
             "one scale per output row, each row using its full −127 … 127 range", rtol=1e-6, arg_names=names),
        Case("(6, 9) with an outlier input column", (outlier_column,), _reference(outlier_column),
             "the scale runs along the rows (dim 1 reduced), whatever the columns hold", rtol=1e-6,
             arg_names=names),
        Case("dequantised (8, 16): q * scale", (dense,), _dequantised(dense),
             "q * scale reconstructs the weight to within half a step per row", rtol=1e-6, arg_names=names,
             post=lambda out: out[0].to(torch.float32) * out[1], post_label="your q * scale"),
        Case("a row of zeros", (zero_row,), _reference(zero_row), "a zero row: q = 0, scale 0", rtol=1e-6,
             arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _quantised(weight: Tensor, scale: Tensor, rounding, low: int = -127) -> Tensor:
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    return rounding(weight / safe).clamp(low, 127).to(torch.int8)


def per_tensor_scale(weight):
    scale = weight.abs().amax() / 127  # one 0-dim scale, as per-tensor code writes it
    return _quantised(weight, scale, torch.round), scale


def per_input_column(weight):
    scale = weight.abs().amax(dim=0, keepdim=True) / 127
    return _quantised(weight, scale, torch.round), scale


def floored(weight):
    scale = weight.abs().amax(dim=1, keepdim=True) / 127
    return _quantised(weight, scale, torch.floor), scale


def truncated_by_the_cast(weight):
    scale = weight.abs().amax(dim=1, keepdim=True) / 127
    return _quantised(weight, scale, torch.trunc), scale


def divided_by_128(weight):
    scale = weight.abs().amax(dim=1, keepdim=True) / 128
    return _quantised(weight, scale, torch.round, low=-128), scale


MISCONCEPTIONS = [
    Misconception("one scale for the whole tensor", per_tensor_scale,
                  "you take the maximum over the whole matrix: a row of small weights then uses a few of the 255 "
                  "levels. Reduce over each row (dim 1), one scale per output channel",
                  "quantization: “One scale for the whole tensor is enough.”"),
    Misconception("scales along the wrong axis", per_input_column,
                  "you reduce over dim 0, one scale per input column, shape (1, in_features). An int8 GEMM rescales "
                  "its outputs, so the scales are per output channel: reduce over dim 1",
                  "quantization: per_output_channel_scales_do_not_fix_an_outlier_input_feature"),
    Misconception("floor instead of round", floored,
                  "you floor w / scale: every value moves down by up to a whole step, a bias of half a step, and the "
                  "error variance grows. Round to nearest",
                  "quantization: rounding_error_matches_uniform_noise_of_a_half_step"),
    Misconception("truncated by the int8 cast", truncated_by_the_cast,
                  "you cast w / scale straight to int8, which truncates towards zero: up to a whole step of error "
                  "instead of half. torch.round first, then cast",
                  "quantization: rounding_error_matches_uniform_noise_of_a_half_step"),
    Misconception("divided by 128", divided_by_128,
                  "you scale by max/128 because int8 reaches −128: then +max maps to 128, which int8 cannot hold and "
                  "is clipped, while −max uses −128. Symmetric quantisation uses ±127, scale = max/127",
                  "quantization: rounding_error_matches_uniform_noise_of_a_half_step (its step is the row peak / 127)"),
]  # fmt: skip
