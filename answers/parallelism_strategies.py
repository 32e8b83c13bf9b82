"""Data, tensor and pipeline parallelism: what each one splits.

Data parallelism gives every replica the whole model and a shard of the same global batch, then
averages the gradients (all-reduce). Tensor parallelism splits the weight matrices inside a layer
(Megatron: the FFN's first matrix by columns, the second by rows, one all-reduce of partial sums).
Pipeline parallelism puts different layers on different devices and streams micro-batches through
them to keep the stages busy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from answers.evidence import Evidence
from answers.reference import FeedForward, randn, seeded_module

WORKERS, D, D_FF = 4, 32, 128


def _ffn(seed: int = 0) -> FeedForward:
    return seeded_module(lambda: FeedForward(D, D_FF, "gelu"), seed=seed)


def _tensor_parallel(ffn: FeedForward, x: torch.Tensor, *, split_first_by: str) -> torch.Tensor:
    """Each of 4 workers holds a slice of W1 and of W2; the partial outputs are summed (the all-reduce)."""
    partials = []
    if split_first_by == "columns":  # worker i owns hidden units i·32 … i·32+31 — GELU is per unit, so exact
        for w1, b1, w2 in zip(
            ffn.up.weight.chunk(WORKERS, 0), ffn.up.bias.chunk(WORKERS), ffn.down.weight.chunk(WORKERS, 1), strict=True
        ):
            partials.append(F.gelu(x @ w1.T + b1) @ w2.T)
    else:  # worker i owns input features: it can only form a partial pre-activation, and GELU is not linear
        for xi, w1 in zip(x.chunk(WORKERS, -1), ffn.up.weight.chunk(WORKERS, 1), strict=True):
            partials.append(F.gelu(xi @ w1.T + ffn.up.bias / WORKERS) @ ffn.down.weight.T)
    return torch.stack(partials).sum(0) + ffn.down.bias


def column_then_row_split_ffn_equals_the_full_ffn(seed: int = 0) -> Evidence:
    """Splitting W1 by columns and W2 by rows over 4 workers and summing their outputs reproduces the FFN exactly."""
    ffn, x = _ffn(seed), randn(10, D, seed=seed)
    with torch.no_grad():
        full = ffn(x)
        exact = (_tensor_parallel(ffn, x, split_first_by="columns") - full).abs().max().item()
        wrong = (_tensor_parallel(ffn, x, split_first_by="rows") - full).abs().max().item()
    return Evidence(
        measured=exact,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: the same products summed in a different order
        derivation="the reference FeedForward on one device",
        counterfactual="W1 split by rows (input features), GELU applied to partial sums",
        counterfactual_measured=wrong,
    )


def _gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    model.zero_grad()
    F.mse_loss(model(x), y).backward()  # mean over the examples given
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def _batch(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    return randn(16, D, seed=seed + 1), randn(16, D, seed=seed + 2)


def _shard_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(WORKERS, n_params): each replica's gradient on its quarter of the batch."""
    return torch.stack([_gradient(model, xs, ys) for xs, ys in zip(x.chunk(WORKERS), y.chunk(WORKERS), strict=True)])


def averaged_shard_gradients_equal_the_full_batch_gradient(seed: int = 0) -> Evidence:
    """4 replicas each take a quarter of the batch; the mean of their gradients is the full-batch gradient."""
    model, (x, y) = _ffn(seed), _batch(seed)
    full = _gradient(model, x, y)
    shards = _shard_gradients(model, x, y)
    return Evidence(
        measured=(shards.mean(0) - full).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="torch autograd on the whole batch",
        counterfactual="sum the replicas' gradients instead of averaging them",
        counterfactual_measured=(shards.sum(0) - full).abs().max().item(),
        details={"‖sum‖ / ‖full‖": (shards.sum(0).norm() / full.norm()).item()},
    )


def _displacement(optimiser: str, reduce: str, steps: int, seed: int, weight_decay: float = 0.0) -> torch.Tensor:
    """Train the FFN data-parallel for ``steps`` real optimiser steps, all-reducing the shard gradients by
    ``reduce`` (mean or sum) into ``p.grad``; return how far the weights moved."""
    model, (x, y) = _ffn(seed), _batch(seed)
    start = torch.cat([p.detach().flatten() for p in model.parameters()])
    params = list(model.parameters())
    opt = {
        "sgd": lambda: torch.optim.SGD(params, lr=LR),
        "adamw": lambda: torch.optim.AdamW(params, lr=LR),  # torch defaults: betas (0.9, 0.999), ε 1e-8, decay 0.01
        "adam+L2": lambda: torch.optim.Adam(params, lr=LR, weight_decay=weight_decay),  # L2 added to the gradient
    }[optimiser]()
    for _ in range(steps):
        shards = _shard_gradients(model, x, y)
        grad = shards.mean(0) if reduce == "mean" else shards.sum(0)
        model.zero_grad()
        offset = 0
        for p in params:
            p.grad = grad[offset : offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        opt.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()]) - start


LR, STEPS = 1e-3, 10


def summed_gradients_quadruple_an_sgd_step(seed: int = 0) -> Evidence:
    """With plain SGD the update is −lr·g, linear in g: summing 4 replicas' gradients instead of averaging
    them moves the weights exactly 4× as far, the same as a 4× learning rate."""
    ratio = {
        name: (_displacement(name, "sum", 1, seed).norm() / _displacement(name, "mean", 1, seed).norm()).item()
        for name in ("sgd", "adamw")
    }
    return Evidence(
        measured=ratio["sgd"],
        expected=float(WORKERS),
        comparison="rel",
        tolerance=1e-9,  # float64; SGD's step is linear in the gradient
        derivation="theory: an SGD step −lr·g is linear in g, so a 4× gradient is a 4× step",
        counterfactual="the same step with torch.optim.AdamW, the optimiser Transformers actually use",
        counterfactual_measured=ratio["adamw"],
        unit="ratio",
    )


def _relative_change(moved: torch.Tensor, reference: torch.Tensor) -> float:
    return ((moved - reference).norm() / reference.norm()).item()


def adamw_barely_notices_summed_gradients(seed: int = 0) -> Evidence:
    """Adam(W)'s update m̂/(√v̂ + ε) is invariant to a constant gradient scale except through ε (AdamW's decoupled
    decay −lr·λ·w does not see g at all): after 10 real torch.optim.AdamW steps, summed and averaged gradients
    give the same update, not one 4× as long."""
    moved = {
        (name, reduce): _displacement(name, reduce, STEPS, seed)
        for name in ("adamw", "sgd")
        for reduce in ("sum", "mean")
    }
    return Evidence(
        # The whole update vector, not only its length: a direction change would show here too.
        measured=_relative_change(moved["adamw", "sum"], moved["adamw", "mean"]),
        expected=0.0,
        comparison="abs",
        # Only ε = 1e-8 breaks the scale invariance: it shifts each coordinate's step by about ε/√v̂ relative, and
        # √v̂ ≈ |g| is ≳ 1e-6 for all but a negligible share of coordinates here, so the update moves by ≪ 1e-3.
        tolerance=1e-3,
        derivation="theory: Adam's step lr·m̂/(√v̂+ε) is unchanged when g → 4g, up to ε",
        counterfactual="the '4× learning rate' model: the same 10 steps with torch.optim.SGD (≈ 3 = 4 − 1)",
        counterfactual_measured=_relative_change(moved["sgd", "sum"], moved["sgd", "mean"]),
        details={
            "‖Δw_sum‖ / ‖Δw_mean‖, AdamW": (moved["adamw", "sum"].norm() / moved["adamw", "mean"].norm()).item(),
            "‖Δw_sum‖ / ‖Δw_mean‖, SGD": (moved["sgd", "sum"].norm() / moved["sgd", "mean"].norm()).item(),
        },
    )


L2 = 0.1


def summed_gradients_quarter_a_coupled_l2_penalty(seed: int = 0) -> Evidence:
    """torch.optim.Adam(weight_decay=λ) adds λw to the gradient before normalising it. Adam is blind to a constant
    scale, so Adam(4g + λw) takes Adam(g + (λ/4)w)'s step: summing the replicas' gradients quietly divides a coupled
    L2 penalty by 4."""
    summed = _displacement("adam+L2", "sum", STEPS, seed, weight_decay=L2)
    averaged = {lam: _displacement("adam+L2", "mean", STEPS, seed, weight_decay=lam) for lam in (L2 / WORKERS, L2)}
    return Evidence(
        measured=_relative_change(summed, averaged[L2 / WORKERS]),
        expected=0.0,
        comparison="abs",
        tolerance=1e-3,  # the same ε argument as for AdamW
        derivation="theory: Adam(4g + λw) = Adam(4·(g + λw/4)) = Adam(g + λw/4) up to ε",
        counterfactual="assume summing leaves the penalty alone: compare with averaged gradients at the same λ",
        counterfactual_measured=_relative_change(summed, averaged[L2]),
    )


def _bubble_fraction(stages: int, micro_batches: int) -> float:
    """Idle share of a forward pipeline: stage s can run micro-batch m only after stage s−1 finished it."""
    finish = {}
    for m in range(micro_batches):
        for s in range(stages):
            ready = max(finish.get((s - 1, m), 0), finish.get((s, m - 1), 0))
            finish[(s, m)] = ready + 1  # one time unit per stage per micro-batch
    makespan = max(finish.values())
    return 1 - stages * micro_batches / (stages * makespan)


def micro_batches_shrink_the_pipeline_bubble(stages: int = 4, micro_batches: int = 16) -> Evidence:
    """With 4 stages and 16 micro-batches the devices idle (p−1)/(m+p−1) ≈ 16 % of the time; feeding
    the whole batch at once leaves 3 of 4 devices idle."""
    expected = (stages - 1) / (micro_batches + stages - 1)
    return Evidence(
        measured=_bubble_fraction(stages, micro_batches),
        expected=expected,
        comparison="abs",
        tolerance=1e-12,  # exact schedule arithmetic
        derivation="theory (GPipe): bubble = (p − 1) / (m + p − 1)",
        counterfactual="the whole batch as one micro-batch",
        counterfactual_measured=_bubble_fraction(stages, 1),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
