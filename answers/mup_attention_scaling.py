"""μP's 1/d attention scaling: why the logit scale should depend on whether q and k are aligned.

At initialisation q and k are independent, q·k is a sum of d zero-mean terms, its size ∝ √d, and 1/√d keeps
logits O(1). After training q and k are correlated (a query looks for a key): q·k ≈ ρ·d grows ∝ d, so under
1/√d the logits grow like √d with width, and a learning rate tuned on a narrow model over-saturates a wide
one. μP (Yang et al., Tensor Programs V, §4 and appendix) uses 1/d, which keeps aligned logits
width-independent, so hyperparameters tuned at small width transfer.
"""

from __future__ import annotations

import math
from functools import cache

import torch

from answers.evidence import Evidence
from answers.formulas.optimization import aligned_logit_at_width

__all__ = ["aligned_logit_at_width"]

NARROW, WIDE, PAIRS, RHO = 32, 512, 4096, 0.5


@cache  # the 1/√d and 1/d variants rescale the same dot products
def _dots(d: int, aligned: bool, seed: int) -> torch.Tensor:
    """PAIRS dot products q·k with unit-variance coordinates; aligned: corr(q_i, k_i) = ρ = 0.5."""
    g = torch.Generator().manual_seed(seed * 1000 + d)
    q = torch.randn(PAIRS, d, generator=g, dtype=torch.float64)
    noise = torch.randn(PAIRS, d, generator=g, dtype=torch.float64)
    k = RHO * q + math.sqrt(1 - RHO**2) * noise if aligned else noise
    return (q * k).sum(-1)


def _logits(d: int, scale_power: float, aligned: bool, seed: int) -> torch.Tensor:
    return _dots(d, aligned, seed) / d**scale_power


def _growth(scale_power: float, aligned: bool, seed: int) -> float:
    """How much the typical logit grows from width 32 to 512: mean for aligned pairs, std for independent."""
    stat = (lambda t: t.mean()) if aligned else (lambda t: t.std())
    wide, narrow = _logits(WIDE, scale_power, aligned, seed), _logits(NARROW, scale_power, aligned, seed)
    return (stat(wide) / stat(narrow)).item()


def one_over_d_keeps_aligned_logits_width_independent(seed: int = 0) -> Evidence:
    """For correlated q, k (ρ = 0.5, as after training), the logit q·k/d is the same at width 512 as at 32
    (ratio 1); under the standard 1/√d it grows √16 = 4×."""
    return Evidence(
        measured=_growth(1.0, True, seed),
        expected=aligned_logit_at_width(1.0, NARROW, WIDE, scale_power=1.0),
        comparison="abs",
        tolerance=0.05,
        derivation="theory (formula aligned_logit_at_width, p = 1): E[q·k] = ρ·d, so ρ·d/d = ρ at every width",
        counterfactual="the standard 1/√d scaling",
        counterfactual_measured=_growth(0.5, True, seed),
        unit="ratio",
        details={"formula for 1/√d: ×(512/32)^0.5": aligned_logit_at_width(1.0, NARROW, WIDE, scale_power=0.5)},
    )


def _worst_prediction_gap(predict, seed: int) -> float:
    """Largest relative gap, over 1/√d and 1/d, between the measured mean aligned logit at width 512 and
    ``predict(mean at width 32, p)``."""
    gaps = []
    for p in (0.5, 1.0):
        narrow, wide = (_logits(d, p, True, seed).mean().item() for d in (NARROW, WIDE))
        gaps.append(abs(predict(narrow, p) / wide - 1))
    return max(gaps)


def aligned_logit_formula_predicts_the_wide_logit_from_the_narrow_one(seed: int = 0) -> Evidence:
    """From the mean aligned logit measured at width 32 (ρ·√32 ≈ 2.8 under 1/√d, ρ = 0.5 under 1/d), the formula
    aligned_logit_at_width predicts the mean at width 512 (≈ 11.3 and 0.5) within 3 %, under both scalings.
    The init-time rule — the logit moves like √d/d^p, as for independent q and k — predicts no growth under
    1/√d and a 4× shrink under 1/d, off by 75 %."""
    return Evidence(
        measured=_worst_prediction_gap(lambda x, p: aligned_logit_at_width(x, NARROW, WIDE, scale_power=p), seed),
        expected=0.0,
        comparison="abs",
        tolerance=0.03,  # 4096 pairs: the mean's standard error is 0.6 % at width 32, 0.15 % at 512
        derivation="theory: E[q·k] = ρ·d for correlated unit coordinates; both widths measured on 4096 pairs",
        counterfactual="the independent-q, k scaling (d'/d)^(0.5 − p) applied to aligned pairs",
        counterfactual_measured=_worst_prediction_gap(lambda x, p: x * (WIDE / NARROW) ** (0.5 - p), seed),
        unit="ratio",
    )


def one_over_sqrt_d_keeps_independent_logits_width_independent(seed: int = 0) -> Evidence:
    """For independent q, k (initialisation) the logit's spread is √d/d^p: 1/√d keeps it the same at widths
    32 and 512 (ratio 1), while 1/d shrinks it 4× — attention starts out uniform in wide μP models, which
    is why μP is fine with (or even uses) zero-initialised queries."""
    return Evidence(
        measured=_growth(0.5, False, seed),
        expected=1.0,
        comparison="abs",
        tolerance=0.1,
        derivation="theory: Var(q·k) = d for independent unit-variance coordinates",
        counterfactual="μP's 1/d on independent q, k",
        counterfactual_measured=_growth(1.0, False, seed),
        unit="ratio",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
