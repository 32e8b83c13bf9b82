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


def _ffn() -> FeedForward:
    return seeded_module(lambda: FeedForward(D, D_FF, "gelu"))


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


def column_then_row_split_ffn_equals_the_full_ffn() -> Evidence:
    """Splitting W1 by columns and W2 by rows over 4 workers and summing their outputs reproduces the FFN exactly."""
    ffn, x = _ffn(), randn(10, D)
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


def averaged_shard_gradients_equal_the_full_batch_gradient() -> Evidence:
    """4 replicas each take a quarter of the batch; the mean of their gradients is the full-batch gradient."""
    model, x, y = _ffn(), randn(16, D, seed=1), randn(16, D, seed=2)
    full = _gradient(model, x, y)
    shards = torch.stack([_gradient(model, xs, ys) for xs, ys in zip(x.chunk(WORKERS), y.chunk(WORKERS), strict=True)])
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
