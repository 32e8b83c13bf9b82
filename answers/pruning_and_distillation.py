"""Pruning and distillation: removing the weights that matter least, and teaching a small model with soft targets.

Magnitude pruning zeroes the smallest weights, which carry little of a layer's energy. Distillation
trains a student to match the teacher's softened distribution softmax(z/T); the gradient of that loss
shrinks like 1/T², which is why it is multiplied by T².
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.reference import generator, randn

N_OUT, N_IN, TOKENS = 256, 256, 64


def _pruned_output_error(by_magnitude: bool) -> float:
    """Relative change of x Wᵀ when half of W's entries are set to zero."""
    w, x = randn(N_OUT, N_IN, seed=1), randn(TOKENS, N_IN, seed=2)
    if by_magnitude:
        keep = w.abs() > w.abs().median()
    else:
        keep = torch.rand(w.shape, generator=generator(3), dtype=w.dtype) < 0.5
    return ((x @ (w * keep).T - x @ w.T).norm() / (x @ w.T).norm()).item()


def _gaussian_energy_below_median() -> float:
    """Share of E[w²] carried by the half of N(0, 1) weights with the smallest |w|:
    ∫_{|w|<q} w² φ(w) dw = (2Φ(q) − 1) − 2qφ(q), with q the median of |w|."""
    q = math.sqrt(2) * torch.erfinv(torch.tensor(0.5, dtype=torch.float64)).item()  # median of |w|
    phi = math.exp(-q * q / 2) / math.sqrt(2 * math.pi)
    return math.erf(q / math.sqrt(2)) - 2 * q * phi


def magnitude_pruning_removes_little_of_the_output() -> Evidence:
    """Zeroing the smaller half of a Gaussian weight matrix changes the output by √(energy removed)
    ≈ 27%, against √½ ≈ 71% for zeroing a random half."""
    return Evidence(
        measured=_pruned_output_error(by_magnitude=True),
        expected=math.sqrt(_gaussian_energy_below_median()),
        comparison="rel",
        tolerance=0.03,  # 65,536 weights and 64 inputs: sampling error of the norms is about 1%
        derivation="theory: output error² ∝ energy of the removed weights, truncated-Gaussian integral",
        counterfactual="pruning a random half of the weights",
        counterfactual_measured=_pruned_output_error(by_magnitude=False),
        unit="ratio",
    )


def _kd_gradient_norm(temperature: float, rescale: bool) -> float:
    """‖∂/∂z_s KL(softmax(z_t/T) ‖ softmax(z_s/T))‖, times T² when ``rescale``."""
    z_teacher = randn(32, seed=4)
    z_student = randn(32, seed=5).requires_grad_()
    p_teacher = F.softmax(z_teacher / temperature, dim=-1)
    loss = F.kl_div(F.log_softmax(z_student / temperature, dim=-1), p_teacher, reduction="sum")
    (grad,) = torch.autograd.grad(loss * (temperature**2 if rescale else 1.0), z_student)
    return grad.norm().item()


def distillation_loss_needs_a_t_squared_factor() -> Evidence:
    """At high temperature the distillation gradient is (z_s − z_t, centred) / (V·T²); multiplying the
    loss by T² keeps its size independent of T. Without the factor it is T² = 40,000 times smaller."""
    z_t, z_s = randn(32, seed=4), randn(32, seed=5)
    limit = ((z_s - z_t) - (z_s - z_t).mean()).norm().item() / 32  # Hinton et al. 2015, section 2.1
    return Evidence(
        measured=_kd_gradient_norm(200.0, rescale=True),
        expected=limit,
        comparison="rel",
        tolerance=0.02,  # the high-temperature expansion is exact up to O(1/T) = 0.5%
        derivation="theory: ∂KL/∂z_s = (p_s − p_t)/T → centred(z_s − z_t)/(V·T²) as T grows",
        counterfactual="the same loss without the T² factor",
        counterfactual_measured=_kd_gradient_norm(200.0, rescale=False),
        unit="ratio",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
