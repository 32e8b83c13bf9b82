"""AdamW vs Adam + L2: decoupled weight decay, measured with torch's own optimisers.

Adam + L2 (``torch.optim.Adam(weight_decay=λ)``) adds λ·w to the gradient, so the decay goes through Adam's
normalisation and is divided by √v̂: a weight with large gradients is barely regularised. AdamW
(``torch.optim.AdamW``) applies w ← (1 − lr·λ)·w outside the normalisation, the same for every weight.

The toy: a linear loss whose gradient g_t = s·(−1)^t does not depend on w, so Adam's own step is the same
for any starting weight and the decay can be read off by starting two runs from different weights:
(w_T(a) − w_T(b)) / (a − b) is exactly the contraction the decay applied over T steps.
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.formulas.optimization import adamw_decay_factor

__all__ = ["adamw_decay_factor"]

LR, WD, STEPS = 5e-2, 0.1, 60
SCALES = (1.0, 10.0)  # gradient scales of the two weights: √v̂ = s once v has settled


def _contraction(optimiser: type[torch.optim.Optimizer], scale: float) -> float:
    """(w_T(a) − w_T(b)) / (a − b) for one weight whose data gradient is s·(−1)^t, under ``optimiser``."""
    finals = []
    for start in (1.0, 0.5):
        w = torch.tensor([start], dtype=torch.float64, requires_grad=True)
        opt = optimiser([w], lr=LR, weight_decay=WD)
        for t in range(STEPS):
            opt.zero_grad()
            (scale * (-1) ** t * w).sum().backward()  # the gradient of a linear loss is the same for any w
            opt.step()
        finals.append(w.item())
    return (finals[0] - finals[1]) / 0.5


def adamw_shrinks_every_weight_by_one_minus_lr_lambda(seed: int = 0) -> Evidence:
    """torch.optim.AdamW contracts a weight whose gradients have scale 10 by exactly (1 − lr·λ)^T, the same as
    one with scale 1; torch.optim.Adam(weight_decay=λ) barely shrinks the large-gradient weight."""
    del seed  # deterministic gradients
    expected = adamw_decay_factor(LR, WD, STEPS)
    return Evidence(
        measured=_contraction(torch.optim.AdamW, SCALES[1]),
        expected=expected,
        comparison="abs",
        tolerance=1e-9,
        derivation="theory (formula adamw_decay_factor): decoupled decay multiplies w by (1 − lr·λ) each step",
        counterfactual="Adam + L2: torch.optim.Adam(weight_decay=λ), same weight (gradient scale 10)",
        counterfactual_measured=_contraction(torch.optim.Adam, SCALES[1]),
        unit="ratio",
        details={
            "AdamW, gradient scale 1": _contraction(torch.optim.AdamW, SCALES[0]),
            "Adam + L2, gradient scale 1": _contraction(torch.optim.Adam, SCALES[0]),
        },
    )


def l2_decay_under_adam_is_divided_by_the_gradient_scale(seed: int = 0) -> Evidence:
    """Under Adam + L2 the decay a weight feels is lr·λ/√v̂: ten times larger gradients give a ten times
    weaker decay (ratio of −ln contraction, scale 1 over scale 10, ≈ 10); under AdamW the ratio is 1."""
    del seed

    def ratio(opt: type[torch.optim.Optimizer]) -> float:
        return math.log(_contraction(opt, SCALES[0])) / math.log(_contraction(opt, SCALES[1]))

    return Evidence(
        measured=ratio(torch.optim.Adam),
        expected=SCALES[1] / SCALES[0],
        comparison="rel",
        tolerance=0.05,
        derivation="theory: the L2 gradient λw enters m̂ and is divided by √v̂ = s, the gradient scale",
        counterfactual="AdamW (decoupled decay), same two weights",
        counterfactual_measured=ratio(torch.optim.AdamW),
        unit="ratio",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
