"""LLM optimiser settings: AdamW with β₂ = 0.95, weight decay 0.1, and no decay on norms and biases.

β₂ sets how fast Adam's second-moment estimate v follows a change in gradient scale (half-life ln 2/−ln β₂:
13.5 steps at 0.95, 693 at 0.999). After a sudden jump in gradient size — the start of a loss spike — a slow
v is still small, so m̂/√v̂ overshoots and the step is many times the learning rate. Decoupled decay on a
norm gain pulls it towards 0, not towards its initial 1, so the usual parameter groups exempt every tensor
with fewer than two dimensions (gains and biases).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.optimization import adam_step_after_gradient_jump, adamw_decay_factor, ema_half_life
from answers.reference import MultiHeadAttention, RMSNorm

__all__ = ["adam_step_after_gradient_jump", "adamw_decay_factor", "ema_half_life"]

WARM, AFTER, JUMP, LR = 300, 20, 10.0, 1e-3


def _torch_step_after_jump(beta2: float, warm: int = WARM, after: int = AFTER) -> float:
    """The step torch.optim.Adam takes, in units of lr, ``after`` steps after the gradient jumps from 1 to 10
    (having been 1 for ``warm`` steps)."""
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=LR, betas=(0.9, beta2), eps=0.0)
    for t in range(warm + after):
        before = w.item()
        opt.zero_grad()
        (w * (1.0 if t < warm else JUMP)).sum().backward()
        opt.step()
    return (before - w.item()) / LR


def slow_second_moment_overshoots_after_a_gradient_jump(seed: int = 0) -> Evidence:
    """20 steps after the gradient grows 10×, torch's Adam with β₂ = 0.95 steps 1.11·lr, as the closed form
    m̂/√v̂ says; with β₂ = 0.999, v̂ still remembers the small gradients and the step is 3.1·lr
    (after 300 steps at the old scale)."""
    del seed  # deterministic
    return Evidence(
        measured=_torch_step_after_jump(0.95),
        expected=adam_step_after_gradient_jump(0.95, JUMP, AFTER, WARM),
        comparison="abs",
        tolerance=1e-6,
        derivation="theory (formula adam_step_after_gradient_jump): both EMAs and bias corrections in closed form",
        counterfactual="β₂ = 0.999 (Adam's default)",
        counterfactual_measured=_torch_step_after_jump(0.999),
        unit="ratio",
        details={
            "closed form for β₂ = 0.999": adam_step_after_gradient_jump(0.999, JUMP, AFTER, WARM),
            "half-life of v at β₂ = 0.95 (steps)": ema_half_life(0.95),
            "half-life of v at β₂ = 0.999 (steps)": ema_half_life(0.999),
        },
    )


# Early in training (a few steps of warm-up) the bias corrections 1/(1 − β^t) are far from 1.
EARLY = [(warm, after, beta2) for warm, after in ((1, 1), (3, 2), (10, 5), (30, 20)) for beta2 in (0.95, 0.999)]


def _uncorrected_step_after_jump(beta2: float, warm: int, after: int) -> float:
    """The same run with Adam's bias corrections left out (step m/√v, float64 loop): the slip the closed form
    must not share."""
    m = v = 0.0
    for t in range(warm + after):
        g = 1.0 if t < warm else JUMP
        m, v = 0.9 * m + 0.1 * g, beta2 * v + (1 - beta2) * g * g
    return m / math.sqrt(v)


def _worst_gap(step) -> float:
    """Largest |step − closed form| / closed form over the early (warm-up, after, β₂) cases."""
    return max(
        abs(step(beta2, warm, after) / adam_step_after_gradient_jump(beta2, JUMP, after, warm) - 1)
        for warm, after, beta2 in EARLY
    )


def closed_form_step_matches_torch_adam_from_the_first_steps(seed: int = 0) -> Evidence:
    """The closed form m̂/√v̂ also holds a few steps into training, where the bias corrections matter: after 1, 3,
    10 or 30 steps at gradient 1 and 1–20 steps at gradient 10, β₂ = 0.95 or 0.999, it equals torch's Adam step
    to 1e-9; the same run without the bias corrections steps up to 6.5× as far (or half as far)."""
    del seed  # deterministic
    return Evidence(
        measured=_worst_gap(_torch_step_after_jump),
        expected=0.0,
        comparison="abs",
        tolerance=1e-9,
        derivation="torch.optim.Adam (eps = 0) stepped on w·g, step read off the weight, against the closed form",
        counterfactual="Adam without its bias corrections (m/√v), a float64 loop",
        counterfactual_measured=_worst_gap(_uncorrected_step_after_jump),
        unit="ratio",
    )


def _torch_v_half_life(beta2: float) -> int:
    """Steps until torch.optim.Adam's exp_avg_sq (its raw v, before bias correction) falls to half of its
    value once the gradient drops from 1 to 0: counted off the optimiser state, not computed from β₂."""
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=LR, betas=(0.9, beta2))
    w.grad = torch.ones_like(w)
    opt.step()
    start = opt.state[w]["exp_avg_sq"].item()
    steps = 0
    while opt.state[w]["exp_avg_sq"].item() > start / 2:
        w.grad = torch.zeros_like(w)
        opt.step()
        steps += 1
    return steps


def second_moment_half_life_is_ln2_over_minus_ln_beta2(seed: int = 0) -> Evidence:
    """The formula ema_half_life, rounded up to a whole step (14 at β₂ = 0.95, 693 at 0.999), is the number of
    steps torch's Adam takes to forget half of v, counted on its optimiser state. The usual shortcut
    1/(1 − β₂) — the EMA's time constant, 20 and 1000 steps — is not the half-life."""
    del seed  # deterministic
    betas = (0.95, 0.999)
    return Evidence(
        measured=tuple(math.ceil(ema_half_life(b)) for b in betas),
        expected=tuple(_torch_v_half_life(b) for b in betas),
        comparison="equal",
        derivation="torch.optim.Adam's exp_avg_sq after the gradient drops to 0, steps counted until it halves",
        counterfactual="half-life taken as the time constant 1/(1 − β₂)",
        counterfactual_measured=tuple(round(1 / (1 - b)) for b in betas),
        unit="steps",
        details={"ln 2/(−ln 0.95)": ema_half_life(0.95), "ln 2/(−ln 0.999)": ema_half_life(0.999)},
    )


def _toy_block() -> nn.Module:
    torch.manual_seed(0)
    return nn.ModuleDict(
        {"norm": RMSNorm(16), "ln": nn.LayerNorm(16), "attn": MultiHeadAttention(16, 4), "out": nn.Linear(16, 16)}
    )


def _groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """The usual LLM rule (nanoGPT, Llama recipes): decay only tensors with ≥ 2 dimensions (matrices)."""
    params = list(model.parameters())
    return [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]


def _gain_after(groups_by_rule: bool, steps: int) -> float:
    """Mean RMSNorm gain after ``steps`` AdamW steps (λ = 0.1) with no data gradient: only the decay acts."""
    model = _toy_block()
    groups = _groups(model, 0.1) if groups_by_rule else [{"params": list(model.parameters()), "weight_decay": 0.1}]
    opt = torch.optim.AdamW(groups, lr=LR)
    for _ in range(steps):
        opt.zero_grad()
        for p in model.parameters():
            p.grad = torch.zeros_like(p)  # a zero data gradient: whatever moves the gain is the decay
        opt.step()
    return model["norm"].weight.mean().item()


def decay_pulls_a_norm_gain_towards_zero_unless_exempt(seed: int = 0) -> Evidence:
    """With decay 0.1 on every tensor, AdamW shrinks an RMSNorm gain by (1 − lr·λ)^T towards 0 (not its
    init 1); the ndim < 2 parameter group leaves gains and biases untouched (gain stays 1.000)."""
    del seed
    steps = 50
    return Evidence(
        measured=_gain_after(True, steps),
        expected=1.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory: a norm gain initialised to 1 with no data gradient stays 1 if nothing decays it",
        counterfactual="one parameter group with weight_decay = 0.1 on everything (gain × (1 − lr·λ)^T)",
        counterfactual_measured=_gain_after(False, steps),
        details={"(1 − lr·λ)^T": adamw_decay_factor(LR, 0.1, steps)},
    )


def ndim_rule_exempts_exactly_the_norms_and_biases(seed: int = 0) -> Evidence:
    """The ndim < 2 rule puts exactly the norm gains and LayerNorm/linear biases in the no-decay group,
    counted from the module types; decaying by name (`'bias' in name`) would miss the norm gains."""
    del seed
    model = _toy_block()
    by_type = sum(
        p.numel()
        for m in model.modules()
        for name, p in m.named_parameters(recurse=False)
        if isinstance(m, RMSNorm | nn.LayerNorm) or name == "bias"
    )
    by_ndim = sum(p.numel() for p in _groups(model, 0.1)[1]["params"])
    by_name = sum(p.numel() for name, p in model.named_parameters() if "bias" in name)
    return Evidence(
        measured=by_ndim,
        expected=by_type,
        comparison="equal",
        derivation="count of norm gains and biases found by module type",
        counterfactual="exempting parameters whose name contains 'bias' (misses RMSNorm and LayerNorm gains)",
        counterfactual_measured=by_name,
        unit="parameters",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
