"""fp32, fp16, bf16 and fp8 (E4M3, E5M2): bit layouts, ranges and epsilons.

Each number is read from torch (``torch.finfo``, or the value torch decodes from a raw bit pattern) and
compared with the formula derived from the layout: 1 sign bit, e exponent bits with bias 2^(e−1) − 1,
m mantissa bits with an implicit leading 1 for normal numbers.
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.formulas.numerics import float_epsilon, float_max, float_smallest_normal, float_smallest_subnormal

__all__ = ["float_epsilon", "float_max", "float_smallest_normal", "float_smallest_subnormal"]

# name: (dtype, exponent bits, mantissa bits, IEEE-style inf/NaN, integer dtype of the same width)
FORMATS = {
    "fp32": (torch.float32, 8, 23, True, torch.int32),
    "fp16": (torch.float16, 5, 10, True, torch.int16),
    "bf16": (torch.bfloat16, 8, 7, True, torch.int16),
    "fp8 E4M3": (torch.float8_e4m3fn, 4, 3, False, torch.uint8),
    "fp8 E5M2": (torch.float8_e5m2, 5, 2, True, torch.uint8),
}


def _from_bits(pattern: int, name: str) -> float:
    """The value torch decodes from a raw bit pattern of the format."""
    dtype, _, _, _, int_dtype = FORMATS[name]
    return torch.tensor([pattern], dtype=int_dtype).view(dtype).double().item()


def _ieee_max_pattern(name: str) -> int:
    """The bit pattern IEEE conventions name as the largest finite value: exponent field 2^e − 2 (all-ones is
    reserved for inf/NaN) and an all-ones mantissa."""
    _, e, m, _, _ = FORMATS[name]
    return ((2**e - 2) << m) | (2**m - 1)


def largest_values_match_the_bit_layout() -> Evidence:
    """torch.finfo(dtype).max equals the layout's largest finite value for all five formats: 3.4e38 (fp32),
    65,504 (fp16), 3.39e38 (bf16), 448 (E4M3) and 57,344 (E5M2). The counterfactual decodes, with torch, the
    bit pattern IEEE conventions call the maximum (exponent field 2^e − 2, full mantissa): right for the
    IEEE-style formats, 240 for E4M3, whose top exponent field holds numbers."""
    return Evidence(
        measured=tuple(torch.finfo(f[0]).max for f in FORMATS.values()),
        expected=tuple(float_max(e, m, ieee) for _, e, m, ieee, _ in FORMATS.values()),
        comparison="equal",
        derivation="formula float_max from exponent and mantissa bits (E4M3-fn: no inf, one NaN pattern)",
        counterfactual="torch's decoding of the IEEE-style maximum pattern 0.(1…10).(1…1) in every format",
        counterfactual_measured=tuple(_from_bits(_ieee_max_pattern(name), name) for name in FORMATS),
        details={
            **{name: torch.finfo(f[0]).max for name, f in FORMATS.items()},
            "E4M3 pattern 0.1111.110": _from_bits(0b01111110, "fp8 E4M3"),
            "E4M3 pattern 0.1111.111 is NaN": math.isnan(_from_bits(0b01111111, "fp8 E4M3")),
        },
    )


def _gap_above_one(name: str) -> float:
    """The smallest 2^−k such that 1 + 2^−k rounds to something other than 1 in the format."""
    dtype = FORMATS[name][0]
    gap = 1.0
    while torch.tensor(1.0 + gap / 2, dtype=torch.float64).to(dtype).double().item() != 1.0:
        gap /= 2
    return gap


def epsilon_is_two_to_the_minus_mantissa_bits() -> Evidence:
    """The gap between 1 and the next representable number, found by rounding 1 + 2^−k into each format, is
    2^−m: 1.2e-7 (fp32), 9.8e-4 (fp16), 7.8e-3 (bf16), 0.125 (E4M3), 0.25 (E5M2). torch.finfo's
    ``resolution`` (10^−digits) is a different, decimal quantity."""
    return Evidence(
        measured=tuple(_gap_above_one(name) for name in FORMATS),
        expected=tuple(float_epsilon(m) for _, _, m, _, _ in FORMATS.values()),
        comparison="equal",
        derivation="formula float_epsilon: 2^−mantissa_bits",
        counterfactual="torch.finfo(dtype).resolution, the decimal resolution often mistaken for epsilon",
        counterfactual_measured=tuple(torch.finfo(f[0]).resolution for f in FORMATS.values()),
        details={f"{name} finfo.eps": torch.finfo(f[0]).eps for name, f in FORMATS.items()},
    )


def smallest_normals_and_subnormals_match_the_bit_layout() -> Evidence:
    """Decoding the bit patterns 0…01 (smallest subnormal) and exponent field 1 with a zero mantissa
    (smallest normal) gives 2^(1 − bias − m) and 2^(1 − bias) in every format: fp16 goes down to 6e-8 only
    through subnormals, E4M3 to 2^−9. torch.finfo(dtype).tiny is the smallest *normal*, not the smallest
    positive number."""
    measured, expected = [], []
    for name, (_, e, m, _, _) in FORMATS.items():
        measured += [_from_bits(1, name), _from_bits(1 << m, name)]
        expected += [float_smallest_subnormal(e, m), float_smallest_normal(e)]
    return Evidence(
        measured=tuple(measured),
        expected=tuple(expected),
        comparison="equal",
        derivation="formulas float_smallest_subnormal 2^(1−bias−m) and float_smallest_normal 2^(1−bias)",
        counterfactual="torch.finfo(dtype).tiny taken as the smallest positive value",
        counterfactual_measured=tuple(torch.finfo(f[0]).tiny for f in FORMATS.values() for _ in range(2)),
        details={f"{name} smallest subnormal": _from_bits(1, name) for name in FORMATS},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
