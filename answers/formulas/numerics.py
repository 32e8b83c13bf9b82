"""Floating-point formats from their bit layout: 1 sign bit, e exponent bits, m mantissa bits.

IEEE-style formats (fp32, fp16, bf16, fp8 E5M2) reserve the all-ones exponent for inf/NaN. The fp8 E4M3
format of Micikevicius et al. (2022) ("fn": finite, no inf) reserves only the all-ones bit pattern for NaN,
so the top exponent holds normal numbers and the largest value is 1.75 · 2^8 = 448.
"""

from __future__ import annotations


def _exponent_bias(exponent_bits: int) -> int:
    """The stored exponent is the true exponent plus 2^(e−1) − 1 (127 for fp32, 15 for fp16, 7 for E4M3)."""
    return 2 ** (exponent_bits - 1) - 1


def float_max(exponent_bits: int, mantissa_bits: int, ieee_special_values: bool = True) -> float:
    """Largest finite value. IEEE-style: the top exponent field is inf/NaN, so the largest normal has field
    2^e − 2 and a full mantissa: (2 − 2^−m) · 2^(2^e − 2 − bias). E4M3-fn style: the top field is usable
    except the all-ones mantissa (NaN): (2 − 2^(1−m)) · 2^(2^e − 1 − bias)."""
    bias = _exponent_bias(exponent_bits)
    if ieee_special_values:
        return (2 - 2.0**-mantissa_bits) * 2.0 ** (2**exponent_bits - 2 - bias)
    return (2 - 2.0 ** (1 - mantissa_bits)) * 2.0 ** (2**exponent_bits - 1 - bias)


def float_epsilon(mantissa_bits: int) -> float:
    """Machine epsilon: the gap between 1 and the next representable number, 2^−m."""
    return 2.0**-mantissa_bits


def float_smallest_normal(exponent_bits: int) -> float:
    """Smallest positive normal number: exponent field 1, so 2^(1 − bias)."""
    return 2.0 ** (1 - _exponent_bias(exponent_bits))


def float_smallest_subnormal(exponent_bits: int, mantissa_bits: int) -> float:
    """Smallest positive subnormal: exponent field 0, mantissa 0…01, so 2^(1 − bias − m)."""
    return 2.0 ** (1 - _exponent_bias(exponent_bits) - mantissa_bits)
