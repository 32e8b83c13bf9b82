"""Optimiser, schedule and initialisation arithmetic: decoupled weight decay, EMA half-lives, Adam's step
after a gradient-scale jump, warm-up + cosine and warmup-stable-decay schedules, batch-size scaling rules,
GPT-2's residual init, and the post-training losses' closed forms."""

from __future__ import annotations

import math


def adamw_decay_factor(lr: float, weight_decay: float, steps: int) -> float:
    """AdamW multiplies every weight by (1 − lr·λ) each step, whatever its gradient: after T steps the
    decay alone leaves (1 − lr·λ)^T of it."""
    return (1 - lr * weight_decay) ** steps


def ema_half_life(beta: float) -> float:
    """Steps after which an exponential moving average with factor β has forgotten half of its past:
    β^k = 1/2, k = ln 2 / −ln β (13.5 steps for β = 0.95, 693 for 0.999)."""
    return math.log(2) / -math.log(beta)


def adam_step_after_gradient_jump(
    beta2: float, jump: float, steps: int, warm_steps: int = 1000, beta1: float = 0.9
) -> float:
    """Adam's step, in units of lr, ``steps`` steps after a constant gradient g = 1 jumps to g = ``jump``,
    having been 1 for ``warm_steps`` steps: m̂/√v̂ with both EMAs and their bias corrections in closed form.
    A settled Adam steps by lr; an under-estimated v makes it overshoot."""
    total = warm_steps + steps

    def ema(beta: float, old: float, new: float) -> float:
        # Σ (1−β) β^(t−i) g_i over the warm (old) and post-jump (new) steps, bias-corrected by 1 − β^t.
        recent = 1 - beta**steps
        early = beta**steps - beta**total
        return (old * early + new * recent) / (1 - beta**total)

    return ema(beta1, 1.0, jump) / math.sqrt(ema(beta2, 1.0, jump**2))


def warmup_cosine_lr(step: int, peak_lr: float, warmup: int, total: int, min_lr: float = 0.0) -> float:
    """Linear warm-up from 0 to ``peak_lr`` over ``warmup`` steps, then a half cosine from ``peak_lr`` to
    ``min_lr`` at ``total``: lr = min + (peak − min)·(1 + cos(π·(s − w)/(T − w)))/2; past ``total`` it holds
    ``min_lr`` (a cosine continued would climb back up)."""
    if step < warmup:
        return peak_lr * step / warmup
    progress = min(step - warmup, total - warmup) / (total - warmup)
    return min_lr + (peak_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2


def wsd_lr(step: int, peak_lr: float, warmup: int, decay_start: int, total: int, min_lr: float = 0.0) -> float:
    """Warmup-stable-decay: linear warm-up, a constant ``peak_lr`` until ``decay_start``, then a linear decay
    to ``min_lr`` at ``total``, held after it. The decay can be started from any stable-phase checkpoint."""
    if step < warmup:
        return peak_lr * step / warmup
    if step < decay_start:
        return peak_lr
    progress = min(step - decay_start, total - decay_start) / (total - decay_start)
    return peak_lr + (min_lr - peak_lr) * progress


def linear_scaled_lr(lr: float, batch: int, new_batch: int) -> float:
    """SGD's linear scaling rule (Goyal et al. 2017): k× the batch, k× the learning rate."""
    return lr * new_batch / batch


def residual_branch_init_std(layers: int, base_std: float = 0.02) -> float:
    """GPT-2 (§2.3) scales the weights of the projections that write into the residual stream by 1/√N, N the
    number of residual sublayers, 2 per block: std = 0.02/√(2L) (0.00408 for the 12-layer GPT-2 small)."""
    return base_std / math.sqrt(2 * layers)


def bradley_terry_probability(reward_gap: float) -> float:
    """P(chosen ≻ rejected) = σ(r_w − r_l) under the Bradley–Terry model."""
    return 1 / (1 + math.exp(-reward_gap))


def dpo_optimal_margin(preference: float, beta: float) -> float:
    """At DPO's optimum for a pair preferred with probability p, the log-ratio margin
    [log π/π_ref](y_w) − [log π/π_ref](y_l) equals logit(p)/β."""
    return math.log(preference / (1 - preference)) / beta


def qk_norm_logit_bound(d_head: int, gain: float = 1.0) -> float:
    """After RMSNorm on q and k, ‖q̂‖ = ‖k̂‖ = gain·√d_head, so |q̂·k̂|/√d_head ≤ gain²·√d_head (Cauchy–Schwarz)."""
    return gain**2 * math.sqrt(d_head)


def aligned_logit_at_width(logit: float, width: int, new_width: int, scale_power: float = 0.5) -> float:
    """An attention logit q·k·d^(−p) between q and k whose coordinates are correlated (as after training) grows
    like d^(1−p) with width: ×√(d'/d) under the standard 1/√d (p = 0.5), unchanged under μP's 1/d (p = 1)."""
    return logit * (new_width / width) ** (1 - scale_power)


def simple_noise_scale(gradient_noise_trace: float, gradient_norm_sq: float) -> float:
    """McCandlish et al.'s B_simple = tr(Σ)/|G|²: the batch size at which the minibatch gradient's noise
    tr(Σ)/B equals the squared true gradient. Well below it, doubling the batch nearly halves the steps
    needed; well above it, more batch buys almost nothing per step (the critical batch size)."""
    return gradient_noise_trace / gradient_norm_sq


def adam_drift_gain(batch: int, new_batch: int, noise_scale: float) -> float:
    """How much Adam's mean step along a gradient grows when the batch goes from B to B': the step is
    ≈ lr·G/√(G² + σ²/B), so the gain is √((1 + B_noise/B)/(1 + B_noise/B')), B_noise = σ²/G². It is √(B'/B)
    for B ≪ B_noise (the square-root rule) and → 1 for B ≫ B_noise."""
    return math.sqrt((1 + noise_scale / batch) / (1 + noise_scale / new_batch))
