"""Weight quantisation: int8 and int4 weights with one scale per row, what they save and what they cost.

Symmetric quantisation stores round(w / s) in b bits with s = max|w| / (2^(b−1) − 1). Each weight is
off by at most s/2, an error that behaves like uniform noise of variance s²/12. Memory drops 2× (int8)
or 4× (int4) against fp16, and how finely the scales are chosen decides whether a few outliers ruin it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from answers.evidence import Evidence
from answers.formulas.serving import quantized_weight_bytes
from answers.reference import randn

__all__ = ["quantized_weight_bytes"]

ROWS, COLS = 256, 256


def _quantize(w: Tensor, bits: int, dim: int | None = 1, rounding=torch.round) -> tuple[Tensor, Tensor]:
    """Integer codes and scales; dim=1: one scale per row, dim=0: per column, None: one for the tensor."""
    q_max = 2 ** (bits - 1) - 1  # 127 for int8, 7 for int4
    peak = w.abs().amax() if dim is None else w.abs().amax(dim=dim, keepdim=True)
    scale = peak / q_max
    return rounding(w / scale).clamp(-q_max, q_max), scale


def _weights() -> Tensor:
    return 0.02 * randn(ROWS, COLS, seed=1)  # (out, in), a typical init scale


def _relative_weight_error(bits: int, rounding=torch.round) -> tuple[float, float]:
    """Measured rms error / rms weight, and the uniform-noise prediction √(mean s²/12) / rms weight."""
    w = _weights()
    codes, scale = _quantize(w, bits, rounding=rounding)
    rms = w.pow(2).mean().sqrt()
    measured = ((codes * scale - w).pow(2).mean().sqrt() / rms).item()
    predicted = ((scale.pow(2) / 12).mean().sqrt() / rms).item()
    return measured, predicted


def rounding_error_matches_uniform_noise_of_a_half_step() -> Evidence:
    """Per-row int8 quantisation perturbs the weights by uniform noise of variance s²/12 — well under
    1% of their size; truncating instead of rounding doubles the error and biases it."""
    measured, predicted = _relative_weight_error(8)
    return Evidence(
        measured=measured,
        expected=predicted,
        comparison="rel",
        tolerance=0.02,  # 65,536 errors: the rms estimate fluctuates by ~0.2%; 2% is ten times that
        derivation="theory: rounding error uniform on [−s/2, s/2], variance s²/12, from the actual scales",
        counterfactual="truncation toward zero instead of rounding",
        counterfactual_measured=_relative_weight_error(8, rounding=torch.trunc)[0],
        unit="ratio",
        details={"int4 measured": _relative_weight_error(4)[0], "int4 predicted": _relative_weight_error(4)[1]},
    )


def _stored_bytes(bits: int, pack: bool = True) -> int:
    """Bytes of the stored codes (int8, or two int4 codes packed per byte) plus fp16 per-row scales."""
    codes, scale = _quantize(_weights(), bits)
    stored = codes.to(torch.int8)
    if bits == 4 and pack:  # two signed 4-bit codes per byte: low nibble, high nibble
        nibbles = (stored & 0xF).to(torch.uint8)
        stored = nibbles[:, 0::2] | (nibbles[:, 1::2] << 4)
    return stored.numel() * stored.element_size() + scale.to(torch.float16).numel() * 2


def stored_bytes_match_the_bits_formula() -> Evidence:
    """int8 and packed int4 weights with fp16 row scales take rows·cols·bits/8 + 2·rows bytes: about ½
    and ¼ of fp16; int4 codes left one per byte save nothing over int8."""
    return Evidence(
        measured=(_stored_bytes(8), _stored_bytes(4)),
        expected=(int(quantized_weight_bytes(ROWS, COLS, 8)), int(quantized_weight_bytes(ROWS, COLS, 4))),
        comparison="equal",
        derivation="formula quantized_weight_bytes: rows·cols·bits/8 + rows·2 bytes of fp16 scales",
        counterfactual="int4 codes stored one per byte (not packed)",
        counterfactual_measured=(_stored_bytes(8), _stored_bytes(4, pack=False)),
        unit="bytes",
        details={"fp16 bytes": ROWS * COLS * 2},
    )


def _output_error(dim: int | None) -> tuple[float, float]:
    """Relative output error of x Wᵀ with one input column of W 100× larger, and the prediction of
    uniform noise with the per-column scales."""
    w = _weights()
    w[:, 7] *= 100  # an outlier input channel
    x = randn(16, COLS, seed=2)  # (tokens, in)
    codes, scale = _quantize(w, 8, dim=dim)
    y = x @ w.T
    error = (x @ (codes * scale - w).T).norm() / y.norm()
    _, col_scale = _quantize(w, 8, dim=0)  # (1, in)
    predicted = math.sqrt(((x.pow(2) * col_scale.pow(2) / 12).sum(-1) * ROWS).sum()) / y.norm()
    return error.item(), float(predicted)


def an_outlier_channel_needs_its_own_scale() -> Evidence:
    """With a 100× outlier input channel, one int8 scale per input column keeps the output error at the
    uniform-noise level; a single scale for the tensor rounds most ordinary weights to zero."""
    measured, predicted = _output_error(dim=0)
    return Evidence(
        measured=measured,
        expected=predicted,
        comparison="rel",
        tolerance=0.1,  # 16×256 outputs, each a 256-term noise sum: the norm estimate is good to a few %
        derivation="theory: error of each output = Σ_j x_j e_j, e_j uniform with variance s_j²/12",
        counterfactual="one scale for the whole tensor",
        counterfactual_measured=_output_error(dim=None)[0],
        unit="ratio",
        details={"one scale per row (output channel)": _output_error(dim=1)[0]},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
