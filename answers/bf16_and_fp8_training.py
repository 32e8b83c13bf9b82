"""Why bf16 needs no loss scaling and what fp8 training needs: range vs precision, and per-tensor scaling."""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.formulas.numerics import float_max, float_smallest_subnormal

E4M3_MAX = float_max(4, 3, ieee_special_values=False)  # 448


def _gradients(seed: int) -> torch.Tensor:
    """Gradient-like magnitudes spread log-uniformly over 1e-10 … 1e-3, random signs (float64)."""
    g = torch.Generator().manual_seed(seed)
    magnitude = 10 ** (torch.rand(10_000, generator=g, dtype=torch.float64) * 7 - 10)
    sign = torch.randint(0, 2, (10_000,), generator=g).double() * 2 - 1
    return sign * magnitude


def _flushed(dtype: torch.dtype, seed: int) -> float:
    grads = _gradients(seed)
    return (grads.to(dtype) == 0).double().mean().item()


def bf16_keeps_small_gradients_that_fp16_flushes(seed: int = 0) -> Evidence:
    """Of gradients spread over 1e-10 … 1e-3, none becomes 0 in bf16 (its smallest subnormal is 9e-41, fp32's
    exponent range); in fp16 every one below half its smallest subnormal (3e-8) does — what loss scaling
    exists to prevent."""
    return Evidence(
        measured=_flushed(torch.bfloat16, seed),
        expected=0.0,
        comparison="equal",
        derivation="theory: bf16's smallest subnormal 2^−133 ≈ 9e-41 is far below 1e-10",
        counterfactual="the same gradients cast to fp16 (smallest subnormal 2^−24 ≈ 6e-8)",
        counterfactual_measured=_flushed(torch.float16, seed),
        unit="fraction flushed to zero",
        details={"fp16 threshold (half its smallest subnormal)": float_smallest_subnormal(5, 10) / 2},
    )


def _activations(seed: int) -> torch.Tensor:
    """A small-magnitude activation tensor (standard deviation 1e-4), float64."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(4096, generator=g, dtype=torch.float64) * 1e-4


def _e4m3_relative_error(scaled: bool, seed: int) -> float:
    """Relative RMS error of the activation tensor cast to E4M3, with or without a per-tensor scale."""
    x = _activations(seed)
    scale = E4M3_MAX / x.abs().max() if scaled else torch.tensor(1.0, dtype=torch.float64)
    y = (x * scale).to(torch.float8_e4m3fn).double() / scale
    return ((y - x).norm() / x.norm()).item()


def _rounding_error_bound(seed: int) -> float:
    """Worst-case relative RMS error of round-to-nearest E4M3 on the scaled tensor, from the layout alone.
    A normal value (|s| ≥ 2^−6) errs by at most half its spacing, 2^−4·|s|; a subnormal one by at most half
    the subnormal spacing 2^−9, so |error_i| ≤ max(2^−4·|s_i|, 2^−10) for every element."""
    x = _activations(seed)
    s = x * (E4M3_MAX / x.abs().max())
    per_element = torch.maximum(s.abs() * 2.0**-4, torch.full_like(s, float_smallest_subnormal(4, 3) / 2))
    return (per_element.norm() / s.norm()).item()


def fp8_needs_a_per_tensor_scale(seed: int = 0) -> Evidence:
    """A tensor of magnitude 1e-4 cast to E4M3 with a per-tensor scale (amax → 448) stays within the
    round-to-nearest bound derived from the layout (2^−4 relative for normal values, half the subnormal
    spacing 2^−10 absolute for the few scaled values below 2^−6: ≈ 2^−4 in all); cast directly, every value
    is below E4M3's smallest subnormal (2^−9) and becomes 0 — relative error 1."""
    return Evidence(
        measured=_e4m3_relative_error(scaled=True, seed=seed),
        expected=_rounding_error_bound(seed),
        comparison="at_most",
        derivation="theory: per-element round-to-nearest bound max(2^−4·|s|, 2^−10) over the scaled tensor",
        counterfactual="the same tensor cast to E4M3 without a scale",
        counterfactual_measured=_e4m3_relative_error(scaled=False, seed=seed),
        unit="relative RMS error",
        details={
            "share of values that are 0 after the unscaled cast": float(
                (_activations(seed).to(torch.float8_e4m3fn).double() == 0).double().mean().item()
            )
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
