"""The Switch Transformer load-balancing loss: α · N · Σ_i f_i · P_i.

f_i is the fraction of tokens whose top-1 expert is i (a count, no gradient) and P_i the router probability
for expert i averaged over the batch (differentiable). The loss is 1 at perfectly balanced routing and N when
every token goes to one expert; without it a router trained by gradient descent collapses onto few experts.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor

from answers.evidence import Evidence
from answers.formulas.moe import switch_balance_loss_hot_expert
from answers.reference import F64, generator

__all__ = ["switch_balance_loss_hot_expert"]

EXPERTS = 8
# Saturated logits make the router's probabilities one-hot to float64 precision (e^-60 ≈ 1e-26).
ONE_HOT_LOGIT = 60.0


def _switch_loss(logits: Tensor) -> Tensor:
    """N · Σ_i f_i · P_i for router logits (T, N), top-1 routing (Fedus et al. 2021, eq. 4-6)."""
    probs = torch.softmax(logits, dim=-1)  # (T, N)
    n_experts = logits.shape[-1]
    fractions = torch.bincount(probs.argmax(-1), minlength=n_experts).to(probs.dtype) / len(logits)  # f, no grad
    return n_experts * (fractions * probs.mean(0)).sum()


def _soft_balance_loss(logits: Tensor) -> Tensor:
    """The same loss with the token fractions counted softly (f = P): N · Σ_i P_i², which gradient descent can
    minimise directly."""
    mean_probs = torch.softmax(logits, dim=-1).mean(0)
    return logits.shape[-1] * (mean_probs**2).sum()


def _grid_minimum_three_experts(steps: int = 60) -> float:
    """Minimum of 3 · Σ P_i² over a grid on the 3-expert simplex (P_i = a/steps)."""
    best = float("inf")
    for a, b in itertools.product(range(steps + 1), repeat=2):
        if a + b <= steps:
            p = (a / steps, b / steps, (steps - a - b) / steps)
            best = min(best, 3 * sum(x * x for x in p))
    return best


def _collapsed_logits(tokens: int, experts: int) -> Tensor:
    """Every token sends all its router probability to expert 0."""
    logits = torch.zeros(tokens, experts, dtype=F64)
    logits[:, 0] = ONE_HOT_LOGIT
    return logits


def _skewed_logits(seed: int) -> Tensor:
    """Router logits of 64 tokens that mostly favour expert 0: a random start far from balance."""
    logits = torch.randn(64, EXPERTS, generator=generator(seed), dtype=F64)
    logits[:, 0] += 3
    return logits


def _descend(loss_fn, seed: int) -> Tensor:
    """200 Adam steps on the router logits of the skewed start, minimising ``loss_fn``; returns the final logits.
    A loss that does not depend differentiably on the logits leaves them where they started."""
    logits = _skewed_logits(seed).requires_grad_()
    optimiser = torch.optim.Adam([logits], lr=0.1)
    for _ in range(200):
        loss = loss_fn(logits)
        if not loss.requires_grad:  # no path from the loss to the logits: nothing to step
            break
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return logits.detach()


def _counts_only_loss(logits: Tensor) -> Tensor:
    """The loss with P replaced by the same argmax counts as f (N·Σ f_i²): the argmax has no gradient, so no
    signal reaches the router. This is why Switch multiplies the counts by the differentiable P."""
    counts = torch.bincount(logits.argmax(-1), minlength=logits.shape[-1]).to(logits.dtype) / len(logits)
    return logits.shape[-1] * (counts**2).sum()


def uniform_routing_minimises_the_balance_loss(seed: int = 0) -> Evidence:
    """Gradient descent on the router logits of 64 tokens (from a random, strongly skewed start, loss 4.2 to 5.0)
    drives N · Σ f_i P_i, with the fractions counted softly (f = P), down to 1: by Cauchy–Schwarz Σ P_i² ≥
    (Σ P_i)²/N = 1/N, with equality only at P_i = 1/N. Using the argmax counts in place of P as well
    (N · Σ f_i²) gives the router no gradient, and the same descent leaves the loss where it started."""
    start = _skewed_logits(seed)
    reached = _descend(_soft_balance_loss, seed)
    counts_only = _descend(_counts_only_loss, seed)
    return Evidence(
        measured=_soft_balance_loss(reached).item(),
        expected=1.0,
        comparison="abs",
        tolerance=1e-3,
        derivation="theory: N·Σ P_i² ≥ N·(Σ P_i)²/N = 1 (Cauchy–Schwarz), equality at P_i = 1/N",
        counterfactual="P replaced by the argmax counts (N·Σ f_i², no gradient to the router)",
        counterfactual_measured=_counts_only_loss(counts_only).item(),
        unit="",
        details={
            "loss at the skewed start": _switch_loss(start).item(),
            "hard-count loss N·Σ f_i·P_i at the end": _switch_loss(reached).item(),
            "collapsed router (every token on expert 0)": _switch_loss(_collapsed_logits(64, EXPERTS)).item(),
            "grid minimum of 3·Σ P_i² over the 3-expert simplex (step 1/60)": _grid_minimum_three_experts(),
        },
    )


def _routing_with_hot_expert(tokens: int, experts: int, hot_fraction: float) -> Tensor:
    """One-hot router logits: the first hot_fraction·T tokens go to expert 0, the rest round-robin to the
    other N − 1 experts (so they share the remainder evenly)."""
    hot = round(hot_fraction * tokens)
    targets = torch.cat([torch.zeros(hot, dtype=torch.long), 1 + torch.arange(tokens - hot) % (experts - 1)])
    logits = torch.zeros(tokens, experts, dtype=F64)
    logits[torch.arange(tokens), targets] = ONE_HOT_LOGIT
    return logits


HOT_FRACTIONS = (1 / 8, 1 / 4, 1 / 2, 1.0)
TOKENS = 560  # 7 · 80: every split above leaves a remainder the 7 other experts share evenly


def balance_loss_grows_from_one_to_n_as_routing_collapses() -> Evidence:
    """Switch's loss computed from router logits, for one expert taking 1/8, 1/4, 1/2 and all of 560 tokens
    (the rest spread evenly over the other 7), equals N·(h² + (1 − h)²/(N − 1)): 1 when balanced, 8 when
    collapsed. Dropping the factor N (Σ f_i P_i alone, 1/N when balanced) makes the value depend on the
    number of experts, so a coefficient α tuned for 8 experts no longer fits 64."""
    measured = [_switch_loss(_routing_with_hot_expert(TOKENS, EXPERTS, h)).item() for h in HOT_FRACTIONS]
    expected = [switch_balance_loss_hot_expert(EXPERTS, h) for h in HOT_FRACTIONS]
    return Evidence(
        measured=max(abs(m - e) for m, e in zip(measured, expected, strict=True)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-9,
        derivation="formula switch_balance_loss_hot_expert: f_i = P_i for one-hot routing, N·(h² + (1−h)²/(N−1))",
        counterfactual="the loss without the factor N: Σ f_i P_i",
        counterfactual_measured=max(abs(m / EXPERTS - e) for m, e in zip(measured, expected, strict=True)),
        unit="",
        details={f"loss, hot expert takes {h:g}": m for h, m in zip(HOT_FRACTIONS, measured, strict=True)},
    )


def _train_toy_router(alpha: float, seed: int) -> tuple[float, float]:
    """A top-1 MoE layer (4 linear experts, a linear router, output = gate · expert(x), as in Switch) trained
    with Adam on a regression y = A·x that any single expert can fit. Tokens share a common direction μ, as
    hidden states do, so a bias-free router can send them all to one expert. Returns the busiest expert's share
    of 2048 fresh tokens and their balance loss."""
    g, d, experts = generator(seed), 8, 4
    target = torch.randn(d, d, generator=g, dtype=F64) / d**0.5
    mu = torch.randn(d, generator=g, dtype=F64)
    mu = 2 * mu / mu.norm()
    router = (0.01 * torch.randn(d, experts, generator=g, dtype=F64)).requires_grad_()
    weights = (0.01 * torch.randn(experts, d, d, generator=g, dtype=F64)).requires_grad_()
    optimiser = torch.optim.Adam([router, weights], lr=3e-2)
    for _ in range(100):
        x = mu + torch.randn(128, d, generator=g, dtype=F64)
        logits = x @ router
        gate, chosen = torch.softmax(logits, -1).max(-1)
        out = gate[:, None] * torch.bmm(x[:, None], weights[chosen])[:, 0]
        loss = ((out - x @ target) ** 2).mean() + alpha * _switch_loss(logits)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        logits = (mu + torch.randn(2048, d, generator=g, dtype=F64)) @ router
        share = torch.bincount(logits.argmax(-1), minlength=experts).max().item() / 2048
        return share, _switch_loss(logits).item()


def a_router_trained_without_the_loss_collapses(seed: int = 0) -> Evidence:
    """Trained with the balance loss (α = 1 against this task's mean-squared error), the busiest of 4 experts
    gets at most 1.5/N = 0.375 of the tokens; trained without it, the same router sends over 90% to one expert
    (rich get richer: the expert that wins early tokens learns fastest, so the router prefers it more)."""
    balanced, balanced_loss = _train_toy_router(1.0, seed)
    collapsed, collapsed_loss = _train_toy_router(0.0, seed)
    return Evidence(
        measured=balanced,
        expected=1.5 / 4,
        comparison="at_most",
        derivation="bound: 1.5 × the uniform share 1/N for N = 4",
        counterfactual="the same router trained without the balance loss (α = 0)",
        counterfactual_measured=collapsed,
        unit="of tokens",
        details={
            "balance loss with α = 1": balanced_loss,
            "balance loss with α = 0 (N = 4 is total collapse)": collapsed_loss,
        },
    )


def _two_expert_counterexample() -> Tensor:
    """N = 2: three quarters of the tokens barely prefer expert 0 (P ≈ ½, ½), one quarter is sure of expert 1."""
    unsure = torch.tensor([[1e-9, 0.0]], dtype=F64).expand(3, 2)
    sure = torch.tensor([[0.0, ONE_HOT_LOGIT]], dtype=F64)
    return torch.cat([unsure, sure])


def hard_counts_let_the_loss_dip_below_one() -> Evidence:
    """With top-1 counts for f the loss is not bounded below by 1: for 2 experts, a quarter of the tokens sure of
    expert 1 and three quarters barely preferring expert 0 give f = (¾, ¼), P = (⅜, ⅝) and
    2·(¾·⅜ + ¼·⅝) = 7/8, the minimum of 2·(a² − 1.5a + 1) over the share a. Counting f softly (f = P) on the same
    tokens gives 2·Σ P_i² = 17/16 ≥ 1. The loss is a pressure towards balance, not a certificate of it."""
    logits = _two_expert_counterexample()
    return Evidence(
        measured=_switch_loss(logits).item(),
        expected=7 / 8,
        comparison="abs",
        tolerance=1e-6,
        derivation="theory: f = (a, 1−a), P = (a/2, 1 − a/2) gives 2(a² − 1.5a + 1), minimal 7/8 at a = 3/4",
        counterfactual="the same tokens with soft fractions f = P",
        counterfactual_measured=_soft_balance_loss(logits).item(),
        unit="",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
