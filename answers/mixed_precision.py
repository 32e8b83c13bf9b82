"""How mixed-precision training actually works.

The matmuls of both the forward and the backward pass run in fp16/bf16, so activations and activation
gradients are half precision; an fp32 master copy of the weights receives the updates, because fp16
cannot represent 1 + 10⁻⁴. With fp16 (5 exponent bits) small gradients also underflow to zero, so the
loss is multiplied by a large scale before backward and the gradients divided by it afterwards.
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


def _dtypes(autocast: bool) -> tuple[str, str, str]:
    """(activation, activation gradient, parameter gradient) dtypes of one Linear layer's forward and backward."""
    layer = seeded_module(lambda: nn.Linear(16, 16), dtype=torch.float32 if autocast else torch.bfloat16)
    x = randn(4, 16, dtype=torch.float32 if autocast else torch.bfloat16)
    seen = {}
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        out = layer(x)
    out.register_hook(lambda g: seen.update(grad=g.dtype))
    out.float().pow(2).sum().backward()
    return str(out.dtype), str(seen["grad"]), str(layer.weight.grad.dtype)


def autocast_computes_in_half_and_keeps_fp32_weight_gradients() -> Evidence:
    """Under autocast the matmul output AND the gradient flowing back through it are bf16; the parameters
    and their .grad stay fp32 — not "fp16 forward, fp32 gradients"."""
    return Evidence(
        measured=_dtypes(autocast=True),
        expected=("torch.bfloat16", "torch.bfloat16", "torch.float32"),
        comparison="equal",
        derivation="torch.autocast documentation: ops in lower precision, parameters untouched",
        counterfactual="the model cast to bf16 wholesale (no fp32 parameters)",
        counterfactual_measured=_dtypes(autocast=False),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
