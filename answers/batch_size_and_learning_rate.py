"""Batch size and learning rate: noise ∝ 1/B, SGD's linear rule, Adam's square-root rule, the critical batch.

A minibatch gradient is the mean of B per-example gradients, so its noise variance is tr(Σ)/B. For SGD,
k small steps at lr η ≈ one step with k× the batch at k·η (the linear scaling rule, Goyal et al. 2017),
while the step is small enough that the gradient barely changes. Adam divides by √v̂ ≈ √(G² + σ²/B): when
noise dominates, its mean step grows like √B, so k× the batch needs only √k× the lr (Malladi et al. 2022).
When G² ≫ σ²/B the normalised step saturates at lr and a bigger batch buys nothing per step: beyond the
critical batch B_noise = tr Σ/|G|² (McCandlish et al. 2018) more data per step is wasted.
"""

from __future__ import annotations

from functools import cache

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.optimization import adam_drift_gain, linear_scaled_lr, simple_noise_scale

__all__ = ["adam_drift_gain", "linear_scaled_lr", "simple_noise_scale"]

N, D = 4096, 8


def _data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, D, generator=g, dtype=torch.float64)
    y = x @ torch.randn(D, generator=g, dtype=torch.float64) + torch.randn(N, generator=g, dtype=torch.float64)
    return x, y


def _minibatch_gradient_variance(batch: int, reduction: str, seed: int, draws: int = 4000) -> float:
    """tr Cov of the gradient of F.mse_loss over ``draws`` random minibatches at w = 0, one backward pass:
    each minibatch gets its own copy of w, so autograd returns every minibatch's gradient at once."""
    x, y = _data(seed)
    g = torch.Generator().manual_seed(seed + 1)
    idx = torch.randint(0, N, (draws, batch), generator=g)
    w = torch.zeros(draws, D, dtype=torch.float64, requires_grad=True)
    pred = (x[idx] * w[:, None, :]).sum(-1)
    per_batch = F.mse_loss(pred, y[idx], reduction="none")
    per_batch = per_batch.mean(1) if reduction == "mean" else per_batch.sum(1)
    per_batch.sum().backward()
    return w.grad.var(0).sum().item()


def _variance_ratio(reduction: str, seed: int) -> float:
    return _minibatch_gradient_variance(8, reduction, seed) / _minibatch_gradient_variance(32, reduction, seed)


def gradient_noise_variance_falls_as_one_over_batch(seed: int = 0) -> Evidence:
    """The variance of a mean-reduced minibatch gradient falls as 1/B: 4× the batch (8 → 32), 1/4 the variance.
    With reduction='sum' it grows with B instead (ratio 1/4), which silently changes the effective lr."""
    return Evidence(
        measured=_variance_ratio("mean", seed),
        expected=4.0,
        comparison="rel",
        tolerance=0.1,
        derivation="theory: the mean of B i.i.d. per-example gradients has covariance Σ/B",
        counterfactual="loss with reduction='sum' (variance ∝ B)",
        counterfactual_measured=_variance_ratio("sum", seed),
        unit="ratio",
    )


def _sgd(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: float) -> torch.Tensor:
    w = w.clone().requires_grad_()
    opt = torch.optim.SGD([w], lr=lr)
    F.mse_loss(x @ w, y).backward()
    opt.step()
    return w.detach()


def linear_scaling_matches_k_small_sgd_steps(seed: int = 0) -> Evidence:
    """Four SGD steps at lr 0.005 on batches of 64 land within 3 % (of the distance moved) of one step on the
    256 examples together at the linearly scaled lr 0.02; at the unscaled lr 0.005 the big step moves only ¼."""
    x, y = _data(seed)
    w0 = torch.zeros(D, dtype=torch.float64)
    small, lr, k = 64, 0.005, 4
    w = w0
    for i in range(k):
        w = _sgd(w, x[i * small : (i + 1) * small], y[i * small : (i + 1) * small], lr)
    moved = (w - w0).norm()

    def miss(big_lr: float) -> float:
        return ((_sgd(w0, x[: k * small], y[: k * small], big_lr) - w).norm() / moved).item()

    return Evidence(
        measured=miss(linear_scaled_lr(lr, small, k * small)),
        expected=0.0,
        comparison="abs",
        tolerance=0.03,
        derivation="theory: k steps ≈ one step on the summed gradient while η·λ_max(H)·k ≪ 1 (here ≈ 0.04)",
        counterfactual="one step with the big batch at the unscaled lr 0.005",
        counterfactual_measured=miss(lr),
        unit="ratio",
    )


def _per_example_gradients(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example gradients of the squared error at a point near the least-squares fit (the regime late in
    training, where the true gradient is small against its noise), taken by autograd on each row."""
    x, y = _data(seed)
    w_ls = torch.linalg.lstsq(x, y[:, None]).solution[:, 0]
    g = torch.Generator().manual_seed(seed + 2)
    offset = torch.randn(D, generator=g, dtype=torch.float64)
    w = (w_ls + 0.3 * offset / offset.norm()).repeat(N, 1).requires_grad_()
    F.mse_loss((x * w).sum(-1), y, reduction="sum").backward()
    return x, w.grad  # row i: the gradient of example i's loss


def _noise_to_signal_at(batch: int, grads: torch.Tensor, seed: int, draws: int = 4000) -> float:
    """E|g_B − G|² / |G|² over ``draws`` minibatches of ``batch`` examples drawn with replacement."""
    true = grads.mean(0)
    idx = torch.randint(0, N, (draws, batch), generator=torch.Generator().manual_seed(seed + 3))
    return ((grads[idx].mean(1) - true) ** 2).sum(-1).mean().item() / true.pow(2).sum().item()


def noise_scale_is_the_batch_where_noise_equals_signal(seed: int = 0) -> Evidence:
    """B_simple = tr Σ/|G|², from the per-example gradients' covariance (formula simple_noise_scale), is the
    batch at which a sampled minibatch gradient's squared error E|g_B − G|² equals |G|² (ratio 1). Estimating
    tr Σ from batch-mean gradients (of 8 examples) without multiplying by the batch gives a B_noise 8× too
    small, where the noise is 8× the signal."""
    _, grads = _per_example_gradients(seed)
    true = grads.mean(0)
    trace_per_example = (grads - true).pow(2).sum(-1).mean().item()
    idx = torch.randint(0, N, (4000, 8), generator=torch.Generator().manual_seed(seed + 4))
    trace_of_8_means = grads[idx].mean(1).var(0).sum().item()  # the spread of 8-example batch gradients
    b_noise = round(simple_noise_scale(trace_per_example, true.pow(2).sum().item()))
    b_wrong = max(1, round(simple_noise_scale(trace_of_8_means, true.pow(2).sum().item())))
    return Evidence(
        measured=_noise_to_signal_at(b_noise, grads, seed),
        expected=1.0,
        comparison="rel",
        tolerance=0.1,
        derivation="definition: at B = B_simple the minibatch noise tr Σ/B equals the squared true gradient",
        counterfactual="B_noise from the covariance of 8-example batch means, not rescaled by 8",
        counterfactual_measured=_noise_to_signal_at(b_wrong, grads, seed),
        unit="ratio",
        details={"B_simple (examples)": b_noise, "mis-estimated B_noise": b_wrong},
    )


G, SIGMA, DIM, STEPS, BURN_IN = 0.02, 1.0, 2048, 140, 20
B_NOISE = simple_noise_scale(SIGMA**2, G**2)  # 2500


@cache  # the two Adam claims share the run below the noise scale
def _adam_drift(batch: float, seed: int, optimiser: str = "adam") -> float:
    """Mean step per lr along the true gradient G, for DIM independent coordinates whose minibatch gradient is
    G + σ·ξ/√B (a linear loss, so the gradient does not depend on w), after BURN_IN steps."""
    g = torch.Generator().manual_seed(seed)
    w = torch.zeros(DIM, dtype=torch.float64, requires_grad=True)
    lr = 1e-3
    opt = torch.optim.Adam([w], lr=lr) if optimiser == "adam" else torch.optim.SGD([w], lr=lr)
    start = None
    for t in range(STEPS):
        if t == BURN_IN:
            start = w.detach().clone()
        opt.zero_grad()
        grad = G + SIGMA * torch.randn(DIM, generator=g, dtype=torch.float64) / batch**0.5
        (w * grad).sum().backward()
        opt.step()
    return ((start - w.detach()).mean() / (lr * (STEPS - BURN_IN))).item()


def _drift_gain(batch: float, seed: int, optimiser: str = "adam") -> float:
    return _adam_drift(4 * batch, seed, optimiser) / _adam_drift(batch, seed, optimiser)


def adam_progress_per_step_grows_as_sqrt_batch(seed: int = 0) -> Evidence:
    """Below the noise scale (B = B_noise/25), 4× the batch makes Adam's mean step along the gradient 1.89×
    longer — the formula adam_drift_gain, → √4 = 2 as B/B_noise → 0 — so k× the batch with k× fewer steps
    needs ≈ √k× the lr; SGD's mean step does not change with the batch (ratio 1), so SGD needs k× the lr."""
    return Evidence(
        measured=_drift_gain(B_NOISE / 25, seed),
        expected=adam_drift_gain(B_NOISE / 25, 4 * B_NOISE / 25, B_NOISE),
        comparison="rel",
        tolerance=0.1,
        derivation="theory (formula adam_drift_gain): step ≈ lr·G/√(G² + σ²/B), ∝ √B when σ²/B ≫ G²",
        counterfactual="SGD, same gradients (its mean step is lr·G whatever the batch)",
        counterfactual_measured=_drift_gain(B_NOISE / 25, seed, "sgd"),
        unit="ratio",
    )


def bigger_batches_stop_paying_beyond_the_noise_scale(seed: int = 0) -> Evidence:
    """Well above the critical batch (B = 10·B_noise), 4× the batch makes Adam's step only 1.04× longer —
    the formula adam_drift_gain's √((1 + 1/10)/(1 + 1/40)) — against 1.89× below it: the extra data buys
    almost nothing per step."""
    return Evidence(
        measured=_drift_gain(10 * B_NOISE, seed),
        expected=adam_drift_gain(10 * B_NOISE, 40 * B_NOISE, B_NOISE),
        comparison="abs",
        tolerance=0.05,
        derivation="theory (formula adam_drift_gain): step ≈ lr·G/√(G² + σ²/B), saturating at lr",
        counterfactual="the same 4× batch increase below the noise scale (B = B_noise/25)",
        counterfactual_measured=_drift_gain(B_NOISE / 25, seed),
        unit="ratio",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
