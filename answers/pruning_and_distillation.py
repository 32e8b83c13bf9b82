"""Pruning and distillation: removing the weights that matter least, and teaching a small model with soft targets.

Magnitude pruning zeroes the smallest weights, which carry little of a layer's energy. Distillation
trains a student to match the teacher's softened distribution softmax(z/T); the gradient of that loss
shrinks like 1/T², which is why it is multiplied by T².
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.evidence import Evidence
from answers.reference import generator, randn

N_OUT, N_IN, TOKENS = 256, 256, 64


def _pruned_output_error(by_magnitude: bool, seed: int) -> float:
    """Relative change of x Wᵀ when half of W's entries are set to zero."""
    w, x = randn(N_OUT, N_IN, seed=seed), randn(TOKENS, N_IN, seed=seed + 1)
    if by_magnitude:
        keep = w.abs() > w.abs().median()
    else:
        keep = torch.rand(w.shape, generator=generator(seed + 2), dtype=w.dtype) < 0.5
    return ((x @ (w * keep).T - x @ w.T).norm() / (x @ w.T).norm()).item()


def _gaussian_energy_below_median() -> float:
    """Share of E[w²] carried by the half of N(0, 1) weights with the smallest |w|:
    ∫_{|w|<q} w² φ(w) dw = (2Φ(q) − 1) − 2qφ(q), with q the median of |w|."""
    q = math.sqrt(2) * torch.erfinv(torch.tensor(0.5, dtype=torch.float64)).item()  # median of |w|
    phi = math.exp(-q * q / 2) / math.sqrt(2 * math.pi)
    return math.erf(q / math.sqrt(2)) - 2 * q * phi


def magnitude_pruning_removes_little_of_the_output(seed: int = 0) -> Evidence:
    """Zeroing the smaller half of a Gaussian weight matrix changes the output by √(energy removed)
    ≈ 27%, against √½ ≈ 71% for zeroing a random half."""
    return Evidence(
        measured=_pruned_output_error(by_magnitude=True, seed=seed),
        expected=math.sqrt(_gaussian_energy_below_median()),
        comparison="rel",
        tolerance=0.03,  # 65,536 weights and 64 inputs: sampling error of the norms is about 1%
        derivation="theory: output error² ∝ energy of the removed weights, truncated-Gaussian integral",
        counterfactual="pruning a random half of the weights",
        counterfactual_measured=_pruned_output_error(by_magnitude=False, seed=seed),
        unit="ratio",
    )


def _kd_gradient(z_teacher: Tensor, z_student: Tensor, temperature: float, rescale: bool) -> Tensor:
    """∂/∂z_s of KL(softmax(z_t/T) ‖ softmax(z_s/T)), times T² when ``rescale``, by autograd."""
    z_student = z_student.clone().requires_grad_()
    p_teacher = F.softmax(z_teacher / temperature, dim=-1)
    loss = F.kl_div(F.log_softmax(z_student / temperature, dim=-1), p_teacher, reduction="sum")
    (grad,) = torch.autograd.grad(loss * (temperature**2 if rescale else 1.0), z_student)
    return grad


def _logits(seed: int) -> tuple[Tensor, Tensor]:
    return randn(32, seed=seed), randn(32, seed=seed + 1)  # teacher, student over V = 32


def t_squared_loss_has_gradient_t_times_p_s_minus_p_t(seed: int = 0) -> Evidence:
    """Autograd's gradient of T²·KL(p_t ‖ p_s) with respect to the student logits is T·(p_s − p_t), with
    p = softmax(z/T) (at T = 4 here); (p_s − p_t)/T is the gradient of the KL without the T² factor."""
    temperature = 4.0
    z_t, z_s = _logits(seed)
    grad = _kd_gradient(z_t, z_s, temperature, rescale=True)
    p_t, p_s = F.softmax(z_t / temperature, -1), F.softmax(z_s / temperature, -1)
    return Evidence(
        measured=(grad - temperature * (p_s - p_t)).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64
        derivation="theory: ∂KL/∂z_s = (p_s − p_t)/T by the chain rule through z/T; times T² gives T(p_s − p_t)",
        counterfactual="the gradient written as (p_s − p_t)/T for the T²-scaled loss",
        counterfactual_measured=(grad - (p_s - p_t) / temperature).abs().max().item(),
    )


def distillation_loss_needs_a_t_squared_factor(seed: int = 0) -> Evidence:
    """At high temperature the gradient of T²·KL tends to (z_s − z_t, centred) / V, whatever T: the
    T² factor keeps the soft term's size independent of T. Without it the gradient is T² = 40,000
    times smaller at T = 200."""
    z_t, z_s = _logits(seed)
    limit = ((z_s - z_t) - (z_s - z_t).mean()).norm().item() / 32  # Hinton et al. 2015, section 2.1
    return Evidence(
        measured=_kd_gradient(z_t, z_s, 200.0, rescale=True).norm().item(),
        expected=limit,
        comparison="rel",
        tolerance=0.02,  # the high-temperature expansion is exact up to O(|z|/T) ≈ 1%
        derivation="theory: T(p_s − p_t) → centred(z_s − z_t)/V as T grows (first-order expansion of softmax)",
        counterfactual="the same loss without the T² factor",
        counterfactual_measured=_kd_gradient(z_t, z_s, 200.0, rescale=False).norm().item(),
        unit="ratio",
        details={
            "T² · KL gradient norm at T = 20": _kd_gradient(z_t, z_s, 20.0, rescale=True).norm().item(),
            "KL gradient norm at T = 20, no T²": _kd_gradient(z_t, z_s, 20.0, rescale=False).norm().item(),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
