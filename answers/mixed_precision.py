"""How mixed-precision training actually works.

The matmuls of both the forward and the backward pass run in fp16/bf16, so activations and activation
gradients are half precision; an fp32 master copy of the weights receives the updates, because fp16
cannot represent 1 + 10⁻⁴. With fp16 (5 exponent bits) small gradients also underflow to zero, so the
loss is multiplied by a large scale before backward and the gradients divided by it afterwards. Without
an fp32 master, Kahan summation or stochastic rounding keep bf16 weights moving. FP8 comes in two formats:
E4M3 (more precision, max 448) and E5M2 (more range, max 57,344).
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import randn, seeded_module

LOSS_SCALE = 2.0**16  # a typical initial dynamic loss scale (torch.amp.GradScaler starts at 2¹⁶)
STEPS, LR_UPDATE = 1000, 1e-4


def _tiny_gradient(scale: float) -> float:
    """d/dw of (w·a)·b with w·a in fp16 and the loss in fp32, a = b = 10⁻⁴: the true gradient a·b = 10⁻⁸
    is below fp16's smallest subnormal (2⁻²⁴ ≈ 6·10⁻⁸)."""
    w = torch.ones(1, dtype=torch.float16, requires_grad=True)
    a = torch.tensor(1e-4, dtype=torch.float16)
    hidden = (w * a).sum()  # fp16 activation; its gradient is fp16 too
    loss = hidden.float() * 1e-4  # the loss is computed in fp32, as autocast does
    (loss * scale).backward()
    return w.grad.float().item() / scale  # unscale in fp32, as GradScaler does


def loss_scaling_keeps_small_gradients_from_underflowing() -> Evidence:
    """A 10⁻⁸ gradient is 0 in fp16; scaling the loss by 2¹⁶ and unscaling in fp32 recovers it."""
    # The exact gradient is the product of the two fp16-rounded factors.
    exact = torch.tensor(1e-4, dtype=torch.float16).double().item() * torch.tensor(1e-4).double().item()
    return Evidence(
        measured=_tiny_gradient(LOSS_SCALE),
        expected=exact,
        comparison="rel",
        tolerance=2**-10,  # two fp16 roundings (b·S cast to fp16, then a·b·S), each ≤ 2⁻¹¹ relative
        derivation="float64 product of a (as rounded to fp16) and b (as rounded to fp32)",
        counterfactual="no loss scaling",
        counterfactual_measured=_tiny_gradient(1.0),
        details={"fp16 smallest subnormal": 2.0**-24, "fp16(1e-8)": torch.tensor(1e-8).half().item()},
    )


def _apply_updates(dtype: torch.dtype) -> float:
    weight = torch.ones(1, dtype=dtype)
    for _ in range(STEPS):
        weight += torch.tensor(LR_UPDATE, dtype=dtype)
    return weight.item()


def fp32_master_weights_accumulate_small_updates() -> Evidence:
    """1,000 updates of 10⁻⁴ move an fp32 weight from 1.0 to 1.1; applied to an fp16 weight they vanish."""
    return Evidence(
        measured=_apply_updates(torch.float32),
        expected=1.0 + STEPS * LR_UPDATE,
        comparison="abs",
        tolerance=1e-4,  # 1000 fp32 roundings of at most half an ulp (6e-8) each, plus fp32's 1e-4 ≠ 10⁻⁴
        derivation="theory: 1 + 1000 · 10⁻⁴",
        counterfactual="updates applied to the fp16 weights (no fp32 master copy)",
        counterfactual_measured=_apply_updates(torch.float16),
        details={"fp16 spacing just above 1.0": 2.0**-10},
    )


def _dtypes(autocast: bool, seed: int) -> tuple[str, str, str]:
    """(activation, activation gradient, parameter gradient) dtypes of one Linear layer's forward and backward."""
    dtype = torch.float32 if autocast else torch.bfloat16
    layer = seeded_module(lambda: nn.Linear(16, 16), seed=seed, dtype=dtype)
    x = randn(4, 16, seed=seed + 1, dtype=dtype)
    seen = {}
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        out = layer(x)
    out.register_hook(lambda g: seen.update(grad=g.dtype))
    out.float().pow(2).sum().backward()
    return str(out.dtype), str(seen["grad"]), str(layer.weight.grad.dtype)


def autocast_computes_in_half_and_keeps_fp32_weight_gradients(seed: int = 0) -> Evidence:
    """Under autocast the matmul output AND the gradient flowing back through it are bf16; the parameters
    and their .grad stay fp32 — not "fp16 forward, fp32 gradients"."""
    return Evidence(
        measured=_dtypes(autocast=True, seed=seed),
        expected=("torch.bfloat16", "torch.bfloat16", "torch.float32"),
        comparison="equal",
        derivation="torch.autocast documentation: ops in lower precision, parameters untouched",
        counterfactual="the model cast to bf16 wholesale (no fp32 parameters)",
        counterfactual_measured=_dtypes(autocast=False, seed=seed),
    )


# ---- bf16 weights without an fp32 master copy: Kahan summation and stochastic rounding ------------------
# bf16 has 7 mantissa bits, so its spacing in [1, 2) is 2⁻⁷ ≈ 0.0078 and a 10⁻⁴ update vanishes even faster than
# in fp16. Two remedies keep the weights in bf16 (Zamirai et al. 2020): a bf16 compensation buffer that carries
# the rounding error (Kahan), or rounding each update up or down at random with the right odds.

BF16_SPACING_AT_1 = 2.0**-7


def _kahan_bf16(compensated: bool) -> float:
    weight, carry = torch.ones(1, dtype=torch.bfloat16), torch.zeros(1, dtype=torch.bfloat16)
    update = torch.tensor([LR_UPDATE], dtype=torch.bfloat16)
    for _ in range(STEPS):
        if compensated:  # Kahan: carry holds minus what the last addition lost
            y = update - carry
            total = weight + y
            carry = (total - weight) - y
            weight = total
        else:
            weight = weight + update
    return weight.item()


def kahan_summation_lets_bf16_weights_absorb_small_updates() -> Evidence:
    """1,000 updates of 10⁻⁴ on a bf16 weight: with a bf16 Kahan compensation buffer it ends within one bf16
    spacing of the exact 1.1; plain bf16 addition leaves it at 1.0."""
    update = torch.tensor(LR_UPDATE, dtype=torch.bfloat16).double().item()
    return Evidence(
        measured=_kahan_bf16(compensated=True),
        expected=1.0 + STEPS * update,
        comparison="abs",
        tolerance=BF16_SPACING_AT_1,  # the weight is a bf16 number; the sub-spacing rest sits in the carry
        derivation="theory: 1 + 1000 · bf16(10⁻⁴) in float64",
        counterfactual="plain bf16 addition (no compensation, no fp32 master)",
        counterfactual_measured=_kahan_bf16(compensated=False),
        details={"bf16 spacing in [1, 2)": BF16_SPACING_AT_1},
    )


SR_WEIGHTS = 4096


def _to_bf16(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """fp32 → bf16, round-to-nearest (torch's cast) or stochastic: add 16 random low bits, then truncate."""
    if generator is None:
        return x.to(torch.bfloat16)
    bits = x.view(torch.int32)
    noise = torch.randint(0, 1 << 16, bits.shape, generator=generator, dtype=torch.int32)
    return ((bits + noise) & ~0xFFFF).view(torch.float32).to(torch.bfloat16)  # exact: low bits are zero


def _stochastic_bf16_mean(stochastic: bool, seed: int) -> float:
    g = torch.Generator().manual_seed(seed) if stochastic else None
    weights = torch.ones(SR_WEIGHTS, dtype=torch.bfloat16)
    for _ in range(STEPS):
        weights = _to_bf16(weights.float() + LR_UPDATE, g)
    return weights.double().mean().item()


def stochastic_rounding_makes_bf16_updates_right_on_average(seed: int = 0) -> Evidence:
    """Rounding w + 10⁻⁴ to bf16 up with probability (distance to the lower grid point) / spacing makes the
    rounding unbiased: after 1,000 updates 4,096 bf16 weights average 1.1; round-to-nearest leaves them at 1.0."""
    # Each step adds an independent zero-mean error of variance p(1 − p)s² ≤ u·s (p = u/s); over the steps the
    # variances add, and the mean over K weights divides by K.
    sd = (STEPS * LR_UPDATE * BF16_SPACING_AT_1 / SR_WEIGHTS) ** 0.5
    return Evidence(
        measured=_stochastic_bf16_mean(stochastic=True, seed=seed),
        expected=1.0 + STEPS * LR_UPDATE,
        comparison="abs",
        tolerance=6 * sd,
        derivation="theory: stochastic rounding is unbiased, so E[w] = 1 + 1000 · 10⁻⁴; bound 6 standard deviations",
        counterfactual="round-to-nearest bf16 (torch's default cast)",
        counterfactual_measured=_stochastic_bf16_mean(stochastic=False, seed=seed),
        details={"standard deviation bound": sd},
    )


# ---- FP8 ----------------------------------------------------------------------------------------------------


def _finite_range(values: torch.Tensor) -> tuple[float, float]:
    finite = values[torch.isfinite(values)]
    return finite.max().item(), finite[finite > 0].min().item()


def _ieee_decode(bits: torch.Tensor, exponent_bits: int, mantissa_bits: int) -> torch.Tensor:
    """Decode 8-bit patterns with IEEE-754 rules: the all-ones exponent is reserved for inf and NaN."""
    bias = 2 ** (exponent_bits - 1) - 1
    b = bits.long()
    sign = torch.where(b >> 7 == 1, -1.0, 1.0).double()
    exponent = (b >> mantissa_bits) & (2**exponent_bits - 1)
    mantissa = (b & (2**mantissa_bits - 1)).double() / 2**mantissa_bits
    normal_value = sign * (1 + mantissa) * torch.pow(2.0, (exponent - bias).double())
    subnormal = sign * mantissa * 2.0 ** (1 - bias)
    value = torch.where(exponent == 0, subnormal, normal_value)
    return torch.where(exponent == 2**exponent_bits - 1, torch.nan, value)


def fp8_e4m3_trades_range_for_precision_against_e5m2() -> Evidence:
    """Decoding all 256 bit patterns: E4M3 spans 2⁻⁹ … 448 (spacing 1/8 at 1.0), E5M2 spans 2⁻¹⁶ … 57,344
    (spacing 1/4). E4M3 reaches 448, not the 240 that IEEE rules would give, because it gives up infinities and
    keeps a single NaN mantissa pattern."""
    every_byte = torch.arange(256, dtype=torch.uint8)
    e4m3 = _finite_range(every_byte.view(torch.float8_e4m3fn).double())
    e5m2 = _finite_range(every_byte.view(torch.float8_e5m2).double())
    ieee_e4m3 = _finite_range(_ieee_decode(every_byte, 4, 3))
    ieee_e5m2 = _finite_range(_ieee_decode(every_byte, 5, 2))
    return Evidence(
        measured=(*e4m3, *e5m2),
        expected=(448.0, 2.0**-9, 57344.0, 2.0**-16),
        comparison="equal",
        derivation="Micikevicius et al. 2022, FP8 Formats for Deep Learning, Table 1 (max normal, min subnormal)",
        counterfactual="the same bits decoded with IEEE-754 rules (top exponent reserved for inf/NaN)",
        counterfactual_measured=(*ieee_e4m3, *ieee_e5m2),
        details={
            "torch.finfo(float8_e4m3fn).eps": torch.finfo(torch.float8_e4m3fn).eps,
            "torch.finfo(float8_e5m2).eps": torch.finfo(torch.float8_e5m2).eps,
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
