"""Label smoothing: a loss floor above zero, finite optimal logits, and why it hurts perplexity.

PyTorch's ``F.cross_entropy(..., label_smoothing=ε)`` trains against q = (1 − ε)·onehot + ε/V. The
cross-entropy H(q, p) = H(q) + KL(q ‖ p) is minimised at p = q, so the floor is H(q) > 0 and the optimal
logits are finite, with the correct class ahead of the others by ln(q_top / q_rest).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.regularisation import label_smoothing_loss_floor, label_smoothing_optimal_logit_gap

__all__ = ["label_smoothing_loss_floor", "label_smoothing_optimal_logit_gap"]

V, EPS, STEPS = 10, 0.1, 100  # the smoothed loss is convex in the logits: L-BFGS converges in a few dozen steps


def _optimised_logits(smoothing: float, seed: int) -> torch.Tensor:
    """Free logits for one example of class 0, trained by gradient descent on the (smoothed) cross-entropy."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(1, V, generator=g, dtype=torch.float64).requires_grad_()
    target = torch.zeros(1, dtype=torch.long)
    opt = torch.optim.LBFGS(
        [logits], lr=1.0, max_iter=STEPS, tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(logits, target, label_smoothing=smoothing)
        loss.backward()
        return loss

    opt.step(closure)
    return logits.detach()


def _smoothed_loss(logits: torch.Tensor) -> float:
    return F.cross_entropy(logits, torch.zeros(1, dtype=torch.long), label_smoothing=EPS).item()


def smoothed_loss_has_a_floor_of_the_target_entropy(seed: int = 0) -> Evidence:
    """Optimising free logits against F.cross_entropy(label_smoothing=0.1) over 10 classes converges to the
    entropy of the smoothed target, 0.500 nats, not 0; a model trained without smoothing (confident,
    near one-hot) scores worse on the smoothed loss."""
    plain = _optimised_logits(0.0, seed)
    return Evidence(
        measured=_smoothed_loss(_optimised_logits(EPS, seed)),
        expected=label_smoothing_loss_floor(V, EPS),
        comparison="abs",
        tolerance=1e-6,
        derivation="formula label_smoothing_loss_floor: H(q), q = 0.9·onehot + 0.1/V",
        counterfactual="logits trained on plain cross-entropy, scored on the smoothed loss",
        counterfactual_measured=_smoothed_loss(plain),
        unit="nats",
        details={
            "plain cross-entropy after training (nats)": F.cross_entropy(plain, torch.zeros(1, dtype=torch.long)).item()
        },
    )


def _gap(smoothing: float, seed: int) -> float:
    z = _optimised_logits(smoothing, seed)[0]
    return (z[0] - z[1:].max()).item()


def smoothing_keeps_the_optimal_logits_finite(seed: int = 0) -> Evidence:
    """With smoothing, the correct logit settles ln(1 + V(1−ε)/ε) = ln 91 ≈ 4.51 above every other; without
    it the gap has no optimum and keeps growing with training (far larger after the same optimiser budget)."""
    return Evidence(
        measured=_gap(EPS, seed),
        expected=label_smoothing_optimal_logit_gap(V, EPS),
        comparison="abs",
        tolerance=1e-4,
        derivation="formula label_smoothing_optimal_logit_gap: ln(q_top / q_rest)",
        counterfactual="plain cross-entropy (ε = 0), same optimiser budget",
        counterfactual_measured=_gap(0.0, seed),
        unit="nats",
    )


def smoothing_raises_the_perplexity_of_the_true_label(seed: int = 0) -> Evidence:
    """At the smoothed optimum the true class gets probability 1 − ε + ε/V = 0.91: its perplexity is
    1 / 0.91 = 1.099 instead of → 1, though the argmax (accuracy) is unchanged — label smoothing costs
    perplexity, as Vaswani et al. report (table 3), while their BLEU improves."""
    z = _optimised_logits(EPS, seed)
    nll = F.cross_entropy(z, torch.zeros(1, dtype=torch.long)).item()
    plain = F.cross_entropy(_optimised_logits(0.0, seed), torch.zeros(1, dtype=torch.long)).item()
    return Evidence(
        measured=math.exp(nll),
        expected=1 / (1 - EPS + EPS / V),
        comparison="abs",
        tolerance=1e-6,
        derivation="theory: the optimal prediction equals the smoothed target, p(true) = 1 − ε + ε/V",
        counterfactual="plain cross-entropy training (ε = 0)",
        counterfactual_measured=math.exp(plain),
        unit="perplexity",
        details={"argmax is the true class": bool(z.argmax().item() == 0)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
