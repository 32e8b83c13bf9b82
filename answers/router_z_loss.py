"""ST-MoE's router z-loss: L_z = (1/T) Σ_tokens (log Σ_j e^{x_j})², with x the router logits of a token.

Softmax, and so the routing, ignores a constant added to all of a token's logits; the z-loss does not. It pulls
the log-normaliser towards 0, which keeps the largest logits near 0, where the exponential and a low-precision copy
of the logits are accurate, without changing which expert wins.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from answers.evidence import Evidence
from answers.formulas.moe import router_z_loss_equal_logits
from answers.reference import F64, generator

__all__ = ["router_z_loss_equal_logits"]

TOKENS, EXPERTS = 64, 8
ST_MOE_Z_COEFFICIENT = 1e-3  # ST-MoE, section 3.3: c_z = 0.001


def _z_loss(logits: Tensor) -> Tensor:
    """Mean over tokens of logsumexp² of the router logits (T, E) (Zoph et al. 2022, section 3.3)."""
    return (torch.logsumexp(logits, dim=-1) ** 2).mean()


def softmax_ignores_a_logit_shift_but_the_z_loss_does_not(seed: int = 0) -> Evidence:
    """Adding 5 to every router logit of every token leaves the routing probabilities unchanged to rounding
    (softmax(x + c) = e^c·e^x / (e^c·Σ e^x)) and the top-2 choices identical, so the task loss cannot see the
    shift. The z-loss on the same shift changes by 2c·mean(lse) + c², so only it can pull the logits down."""
    logits = torch.randn(TOKENS, EXPERTS, generator=generator(seed), dtype=F64)
    shifted = logits + 5.0
    lse = torch.logsumexp(logits, -1)
    return Evidence(
        measured=(torch.softmax(shifted, -1) - torch.softmax(logits, -1)).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory: softmax(x + c·1) = softmax(x)",
        counterfactual="the z-loss under the same shift",
        counterfactual_measured=abs(_z_loss(shifted) - _z_loss(logits)).item(),
        unit="",
        details={
            "top-2 choices unchanged": bool((shifted.topk(2, -1).indices == logits.topk(2, -1).indices).all().item()),
            "z-loss change predicted, 2c·mean(lse) + c²": (2 * 5.0 * lse.mean() + 25.0).item(),
        },
    )


def z_loss_gradient_lowers_each_logit_by_its_probability(seed: int = 0) -> Evidence:
    """Autograd's gradient of the z-loss equals (2/T)·lse·softmax(x): every logit of a token with lse > 0 is
    pushed down in proportion to its probability, and the push sums to (2/T)·lse over the experts, so descent
    drives lse, and with it the largest logit, towards 0. The unsquared mean lse, sometimes written for it, has
    gradient softmax(x)/T: a push that never stops, with no fixed point, whatever the scale."""
    logits = (3 + 2 * torch.randn(TOKENS, EXPERTS, generator=generator(seed), dtype=F64)).requires_grad_()
    (grad,) = torch.autograd.grad(_z_loss(logits), logits)
    (unsquared,) = torch.autograd.grad(torch.logsumexp(logits, -1).mean(), logits)
    with torch.no_grad():
        lse, probs = torch.logsumexp(logits, -1, keepdim=True), torch.softmax(logits, -1)
        analytic = 2 / TOKENS * lse * probs
        return Evidence(
            measured=(grad - analytic).abs().max().item(),
            expected=0.0,
            comparison="abs",
            tolerance=1e-12,
            derivation="theory: ∂(lse²)/∂x_j = 2·lse·p_j, averaged over T tokens",
            counterfactual="the unsquared mean logsumexp",
            counterfactual_measured=(unsquared - analytic).abs().max().item(),
            unit="",
            details={"largest gradient entry": grad.abs().max().item()},
        )


BF16_HALF_STEP_BELOW_4 = 2.0**-7  # bf16 keeps 8 significant bits: numbers in [2, 4) are 2^-6 apart


def small_logits_survive_bf16_but_shifted_ones_do_not(seed: int = 0) -> Evidence:
    """Router logits with |x| < 4 stored in bfloat16 give probabilities within e^{2·2⁻⁷} − 1 = 1.6% of the exact
    ones (each logit moves by at most half a bf16 step, 2⁻⁷, so each ratio p'/p lies within e^{±2⁻⁶}). The same
    logits shifted by +100, which exact arithmetic routes identically, sit where bf16 steps are 0.5 apart, and
    their probabilities are off by tens of percent: the roundoff ST-MoE's z-loss is meant to avoid."""
    logits = torch.randn(TOKENS, EXPERTS, generator=generator(seed), dtype=F64).clamp(-3.9, 3.9)
    exact = torch.softmax(logits, -1)

    def relative_error(x: Tensor) -> float:
        return ((torch.softmax(x.to(torch.bfloat16).to(F64), -1) - exact).abs() / exact).max().item()

    return Evidence(
        measured=relative_error(logits),
        expected=math.exp(2 * BF16_HALF_STEP_BELOW_4) - 1,
        comparison="at_most",
        derivation="theory: |δ_j| ≤ 2⁻⁷ per logit ⇒ p'_j/p_j = e^{δ_j}/Σ p_k e^{δ_k} ∈ [e^{−2⁻⁶}, e^{2⁻⁶}]",
        counterfactual="the same logits + 100 (identical softmax in exact arithmetic)",
        counterfactual_measured=relative_error(logits + 100),
        unit="relative error",
        details={"100.3 stored in bf16": torch.tensor(100.3, dtype=torch.bfloat16).item()},
    )


def _train_router(z_coefficient: float, seed: int) -> tuple[float, float, float]:
    """A linear router (16 → 8, no bias) trained with Adam for 150 steps to send tokens of 8 clusters to their
    own expert (cross-entropy), plus c_z times the z-loss. Tokens share a common offset, as hidden states do.
    Returns, on 2048 fresh tokens, the accuracy, the mean z-loss and the largest logit."""
    g, d = generator(seed), 16
    centres = 2 * torch.randn(EXPERTS, d, generator=g, dtype=F64)
    offset = torch.randn(d, generator=g, dtype=F64)
    offset = 3 * offset / offset.norm()
    router = (0.1 * torch.randn(d, EXPERTS, generator=g, dtype=F64)).requires_grad_()
    optimiser = torch.optim.Adam([router], lr=5e-2)

    def batch(n: int) -> tuple[Tensor, Tensor]:
        target = torch.randint(EXPERTS, (n,), generator=g)
        return offset + centres[target] + torch.randn(n, d, generator=g, dtype=F64), target

    for _ in range(150):
        x, target = batch(128)
        logits = x @ router
        loss = torch.nn.functional.cross_entropy(logits, target) + z_coefficient * _z_loss(logits)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        x, target = batch(2048)
        logits = x @ router
        accuracy = (logits.argmax(-1) == target).double().mean().item()
        return accuracy, _z_loss(logits).item(), logits.max().item()


Z_LOSS_BOUND = 8.0**2  # rms logsumexp ≤ 8: above 8, bf16 logits are rounded in steps of 1/16 or coarser


def z_loss_keeps_the_log_normaliser_small_without_changing_routing(seed: int = 0) -> Evidence:
    """A router trained with ST-MoE's c_z = 10⁻³ ends with a mean z-loss under 8² (rms log-normaliser below 8);
    trained without it, its logits drift up as the margins grow and the z-loss ends above 100. Routing accuracy
    is the same within a percent both ways: the z-loss moves the logits along the direction softmax ignores."""
    accuracy, z_loss, top_logit = _train_router(ST_MOE_Z_COEFFICIENT, seed)
    accuracy_without, z_loss_without, top_logit_without = _train_router(0.0, seed)
    return Evidence(
        measured=z_loss,
        expected=Z_LOSS_BOUND,
        comparison="at_most",
        derivation="bound: rms logsumexp ≤ 8, below the range where bf16 steps reach 1/16",
        counterfactual="the same router trained without the z-loss (c_z = 0)",
        counterfactual_measured=z_loss_without,
        unit="",
        details={
            "routing accuracy with z-loss": accuracy,
            "routing accuracy without": accuracy_without,
            "largest logit with z-loss": top_logit,
            "largest logit without": top_logit_without,
        },
    )


def z_loss_formula_matches_torch_on_tied_logits() -> Evidence:
    """For a token whose 8 logits all equal c, torch's logsumexp² equals the formula (c + ln 8)² for c in
    −2, 0, 2 and 10 (at c = 0 the z-loss is ln² 8 = 4.32, not 0). Taking the largest logit for the
    log-normaliser (lse ≈ max x) misses the ln E that ties add."""
    values = (-2.0, 0.0, 2.0, 10.0)
    measured = [_z_loss(torch.full((1, EXPERTS), c, dtype=F64)).item() for c in values]
    formula = [router_z_loss_equal_logits(EXPERTS, c) for c in values]
    return Evidence(
        measured=max(abs(m - f) for m, f in zip(measured, formula, strict=True)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-9,
        derivation="torch.logsumexp on tied logits against formula router_z_loss_equal_logits",
        counterfactual="the max logit squared taken for the z-loss",
        counterfactual_measured=max(abs(c**2 - f) for c, f in zip(values, formula, strict=True)),
        unit="",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
