"""Attention-logit growth and entropy collapse, and the three fixes: QK-norm, logit soft-capping, z-loss.

When W_Q and W_K grow during training, attention logits grow with the product of their norms and the
softmax collapses onto one key (entropy → 0), a known precursor of loss spikes (Dehghani et al. 2023,
Wortsman et al. 2023). QK-norm normalises q and k per head before the dot product, so the logits no longer
depend on the weights' scale and are bounded by Cauchy–Schwarz. Gemma 2 soft-caps logits with c·tanh(z/c).
PaLM's z-loss 1e-4·log²Z pins the output softmax's normaliser at log Z = 0.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.optimization import qk_norm_logit_bound
from answers.reference import RMSNorm

__all__ = ["qk_norm_logit_bound"]

D, D_HEAD, N = 64, 16, 32  # model width, head size, sequence length


def _queries_and_keys(weight_scale: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One head's q and k for N random tokens, with W_Q and W_K multiplied by ``weight_scale`` (their growth
    during training)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, D, generator=g, dtype=torch.float64)
    w_q = torch.randn(D, D_HEAD, generator=g, dtype=torch.float64) / math.sqrt(D) * weight_scale
    w_k = torch.randn(D, D_HEAD, generator=g, dtype=torch.float64) / math.sqrt(D) * weight_scale
    return x @ w_q, x @ w_k


def _logits(weight_scale: float, qk_norm: bool, seed: int) -> torch.Tensor:
    """One head's attention logits q·k/√d_head, optionally with RMSNorm on q and k (QK-norm)."""
    q, k = _queries_and_keys(weight_scale, seed)
    if qk_norm:
        norm = RMSNorm(D_HEAD, eps=0.0).double()  # gain 1, as at initialisation
        q, k = norm(q), norm(k)
    return (q @ k.T / math.sqrt(D_HEAD)).detach()


def _entropy(logits: torch.Tensor) -> float:
    p = logits.softmax(-1)
    return -(p * p.clamp_min(1e-300).log()).sum(-1).mean().item()


def _entropy_ratio(qk_norm: bool, seed: int) -> float:
    return _entropy(_logits(10.0, qk_norm, seed)) / _entropy(_logits(1.0, qk_norm, seed))


def qk_norm_makes_attention_independent_of_weight_growth(seed: int = 0) -> Evidence:
    """With QK-norm, W_Q and W_K growing 10× leave the attention entropy unchanged (ratio 1); without it the
    logits grow 100× and the entropy collapses towards 0 (attention on a single key)."""
    return Evidence(
        measured=_entropy_ratio(True, seed),
        expected=1.0,
        comparison="abs",
        tolerance=1e-9,
        derivation="theory: RMSNorm(c·q) = RMSNorm(q), so the logits do not depend on the weights' scale",
        counterfactual="no QK-norm: logits q·k/√d grow with the square of the weight scale",
        counterfactual_measured=_entropy_ratio(False, seed),
        unit="ratio",
        details={
            "entropy at init, no QK-norm (nats)": _entropy(_logits(1.0, False, seed)),
            "entropy with 10× weights, no QK-norm (nats)": _entropy(_logits(10.0, False, seed)),
            "uniform attention, ln n (nats)": math.log(N),
        },
    )


def qk_norm_bounds_the_logits_by_the_square_root_of_d_head(seed: int = 0) -> Evidence:
    """After RMSNorm ‖q‖ = ‖k‖ = √d_head, so by Cauchy–Schwarz |q·k|/√d_head ≤ √d_head = 4 (unit gains), for any
    weights; without QK-norm, 10× weights give logits far beyond it."""
    return Evidence(
        measured=_logits(10.0, True, seed).abs().max().item(),
        expected=qk_norm_logit_bound(D_HEAD),
        comparison="at_most",
        derivation="theory (formula qk_norm_logit_bound): Cauchy–Schwarz, ‖q̂‖·‖k̂‖/√d_head = √d_head",
        counterfactual="no QK-norm, same 10× weights",
        counterfactual_measured=_logits(10.0, False, seed).abs().max().item(),
    )


GAINS = (0.5, 1.5)  # learned RMSNorm gains move away from 1 in training


def _aligned_logits(gain: float, qk_norm: bool, seed: int) -> torch.Tensor:
    """Logits q̂·k̂/√d_head of N queries each against a key parallel to it (k = q, the worst case of
    Cauchy–Schwarz), after torch's own nn.RMSNorm with every gain set to ``gain``, or with no QK-norm."""
    q, _ = _queries_and_keys(10.0, seed)
    if qk_norm:
        norm = torch.nn.RMSNorm(D_HEAD, eps=0.0, dtype=torch.float64)
        with torch.no_grad():
            norm.weight.fill_(gain)
        q = norm(q).detach()
    return (q * q).sum(-1) / math.sqrt(D_HEAD)


def _worst_gap_to_the_bound(qk_norm: bool, seed: int) -> float:
    return max(
        (_aligned_logits(gain, qk_norm, seed) / qk_norm_logit_bound(D_HEAD, gain) - 1).abs().max().item()
        for gain in GAINS
    )


def qk_norm_bound_is_reached_and_scales_with_the_square_of_the_gain(seed: int = 0) -> Evidence:
    """With torch's nn.RMSNorm on q and k and learned gains g = 0.5 or 1.5, a key parallel to its query reaches
    the bound g²·√d_head exactly (1 and 9 at d_head = 16): the bound is tight and moves with g², so a gain that
    grows in training loosens it. Without QK-norm the same pairs' logits are nowhere near it."""
    return Evidence(
        measured=_worst_gap_to_the_bound(True, seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory: for k = q, q̂·q̂ = g²·‖q/rms(q)‖² = g²·d_head, so the logit is g²·√d_head (tight bound)",
        counterfactual="no QK-norm on the same query–key pairs",
        counterfactual_measured=_worst_gap_to_the_bound(False, seed),
        unit="ratio",
        details={f"bound at g = {g}": qk_norm_logit_bound(D_HEAD, g) for g in GAINS},
    )


CAP = 50.0  # Gemma 2's attention-logit soft-cap (its final-logit cap is 30)


def _cap_report(cap_fn, seed: int) -> tuple[float, float, float]:
    """(largest |output| over inputs up to 10⁴, largest change of a logit in [−5, 5], the worst of the two
    relative to its budget: c for the bound, z³/(3c²) at z = 5 for the small logits)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(10_000, generator=g, dtype=torch.float64) * 1e3
    z[0] = 1e4
    small = torch.linspace(-5, 5, 101, dtype=torch.float64)
    largest = cap_fn(z).abs().max().item()
    moved = (cap_fn(small) - small).abs().max().item()
    return largest, moved, max(largest / CAP, moved / (5**3 / (3 * CAP**2)))


def soft_capping_bounds_logits_and_keeps_small_ones(seed: int = 0) -> Evidence:
    """c·tanh(z/c) with c = 50 never exceeds 50 whatever the logit (inputs up to 10⁴), while a logit of 5 moves
    by at most z³/(3c²) = 0.017: both within budget (worst ratio ≤ 1). A temperature that brings the same
    largest logit down to 50 (z·50/10⁴) is bounded too, but shrinks a logit of 5 to 0.025."""
    largest, moved, worst = _cap_report(lambda z: CAP * torch.tanh(z / CAP), seed)
    _, t_moved, t_worst = _cap_report(lambda z: z * CAP / 1e4, seed)
    return Evidence(
        measured=worst,
        expected=1.0,
        comparison="at_most",
        derivation="theory: |tanh| < 1, and c·tanh(z/c) − z = −z³/(3c²) + O(z⁵/c⁴), an alternating series",
        counterfactual="a temperature instead: logits × 50/10⁴, the same bound on the largest input",
        counterfactual_measured=t_worst,
        unit="ratio",
        details={
            "largest |capped logit|": largest,
            "largest change of a logit in [−5, 5], soft-cap": moved,
            "largest change of a logit in [−5, 5], temperature": t_moved,
            "bound z³/(3c²) at z = 5": 5**3 / (3 * CAP**2),
        },
    )


def _gradient_norm(offset: float, z_loss: float, seed: int) -> float:
    """‖∇(cross-entropy + z_loss·log²Z)‖ at logits log q + offset, q a random soft target per example: every
    offset is an optimum of the cross-entropy (the softmax is q), only offset 0 has log Z = 0."""
    g = torch.Generator().manual_seed(seed)
    targets = torch.randn(8, 10, generator=g, dtype=torch.float64).softmax(-1)
    logits = (targets.log() + offset).requires_grad_()
    loss = F.cross_entropy(logits, targets) + z_loss * logits.logsumexp(-1).pow(2).mean()
    loss.backward()
    return logits.grad.norm().item()


def z_loss_selects_the_self_normalised_optimum(seed: int = 0) -> Evidence:
    """Cross-entropy has a line of optima, log q + c, one per common shift c; its gradient is 0 on all of them.
    Adding PaLM's 1e-4·log²Z leaves exactly one stationary point, c = 0 (log Z = 0): the gradient is 0 there
    and non-zero at c = 5, pointing back towards log Z = 0."""
    return Evidence(
        measured=_gradient_norm(0.0, 1e-4, seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory: at softmax = q, CE's gradient p − q is 0 and z-loss's 2·1e-4·log Z·p is 0 iff log Z = 0",
        counterfactual="the CE optimum shifted by 5 nats (log Z = 5), which CE alone cannot tell apart",
        counterfactual_measured=_gradient_norm(5.0, 1e-4, seed),
        details={"cross-entropy gradient at the shifted optimum": _gradient_norm(5.0, 0.0, seed)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
