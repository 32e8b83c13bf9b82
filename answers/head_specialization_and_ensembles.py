"""Do heads have assigned roles, and is multi-head attention an ensemble?

Nothing in the architecture gives a head a job: relabelling heads (with their slice of W_O) leaves the
layer's function unchanged, and two heads that start identical receive identical gradients and stay
identical. Any specialisation is emergent, broken only by the random initialisation. Nor is MHA an
ensemble: the heads' outputs are concatenated and mixed by one jointly trained W_O, so the layer is the
SUM of per-head contributions head_i·W_O,i, not an average of separate predictions.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.reference import F64, MultiHeadAttention, attend, randn, seeded_module

D_MODEL, N_HEADS, N_TOKENS = 32, 4, 8
D_HEAD = D_MODEL // N_HEADS


def _layer(seed: int = 0) -> MultiHeadAttention:
    return seeded_module(lambda: MultiHeadAttention(D_MODEL, N_HEADS), seed=seed)


def _head_block(i: int) -> slice:
    return slice(i * D_HEAD, (i + 1) * D_HEAD)


@torch.no_grad()
def _swap_heads(layer: MultiHeadAttention, a: int, b: int, *, with_w_o: bool = True) -> MultiHeadAttention:
    """A copy with heads a and b exchanged: their rows of W_Q, W_K, W_V (and columns of W_O)."""
    swapped = seeded_module(lambda: MultiHeadAttention(D_MODEL, N_HEADS))
    swapped.load_state_dict(layer.state_dict())
    order = list(range(D_MODEL))
    order[_head_block(a)], order[_head_block(b)] = order[_head_block(b)], order[_head_block(a)]
    for proj in (swapped.w_q, swapped.w_k, swapped.w_v):
        proj.weight.copy_(proj.weight[order])
        proj.bias.copy_(proj.bias[order])
    if with_w_o:
        swapped.w_o.weight.copy_(swapped.w_o.weight[:, order])
    return swapped


def relabelling_heads_leaves_the_layer_unchanged(seed: int = 0) -> Evidence:
    """Swapping heads 0 and 1 — their Q/K/V slices and their columns of W_O — gives the same output:
    heads are interchangeable, so no role is built into a head's index."""
    layer, x = _layer(seed), randn(1, N_TOKENS, D_MODEL, seed=seed + 1)
    with torch.no_grad():
        out = layer(x)
        swapped = (_swap_heads(layer, 0, 1)(x) - out).abs().max().item()
        half_swapped = (_swap_heads(layer, 0, 1, with_w_o=False)(x) - out).abs().max().item()
    return Evidence(
        measured=swapped,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64; only the order of the W_O sum changes
        derivation="theory: Concat(…)·W_O is a sum over heads, invariant to relabelling them",
        counterfactual="Q/K/V slices swapped but W_O's columns left in place",
        counterfactual_measured=half_swapped,
    )


def identical_heads_stay_identical_under_training(seed: int = 0, steps: int = 5) -> Evidence:
    """Two heads initialised identically get identical gradients and remain identical after SGD steps:
    only the random initialisation can make heads specialise."""

    def head_gap_after_training(tie: bool) -> float:
        layer = _layer(seed)
        if tie:
            with torch.no_grad():  # head 1 := head 0, including its W_O columns
                for proj in (layer.w_q, layer.w_k, layer.w_v):
                    proj.weight[_head_block(1)] = proj.weight[_head_block(0)]
                    proj.bias[_head_block(1)] = proj.bias[_head_block(0)]
                layer.w_o.weight[:, _head_block(1)] = layer.w_o.weight[:, _head_block(0)]
        x, target = randn(4, N_TOKENS, D_MODEL, seed=seed + 2), randn(4, N_TOKENS, D_MODEL, seed=seed + 3)
        for _ in range(steps):  # plain SGD, lr 0.1 (torch.optim's first import alone costs ~1 s)
            layer.zero_grad()
            (layer(x) - target).pow(2).mean().backward()
            with torch.no_grad():
                for p in layer.parameters():
                    p -= 0.1 * p.grad
        w = layer.w_q.weight
        return (w[_head_block(0)] - w[_head_block(1)]).abs().max().item()

    return Evidence(
        measured=head_gap_after_training(tie=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64; identical heads get identical gradients up to summation order
        derivation="theory: the loss is symmetric in the two heads, so their gradients coincide",
        counterfactual="heads initialised independently (the usual random init)",
        counterfactual_measured=head_gap_after_training(tie=False),
        details={"SGD steps": steps},
    )


# The ensemble question on a task that needs two positions: two tokens x₀, x₁ ∈ ℝ⁴, target
# y = (x₀[:2], x₁[2:]). Head i attends (sharply) to position i.
N_PAIRS = 4096
SHARP = 40.0  # score gap: the other position gets weight e^{-40} ≈ 4e-18


def _two_head_outputs(seed: int) -> tuple[list[torch.Tensor], torch.Tensor]:
    x = randn(N_PAIRS, 2, 4, seed=seed)  # (pairs, positions, features), independent standard normals
    target = torch.cat([x[:, 0, :2], x[:, 1, 2:]], dim=-1)
    keys = torch.eye(2, dtype=F64).expand(N_PAIRS, 2, 2)  # a one-hot position code per token
    heads = [
        attend(SHARP * torch.eye(2, dtype=F64)[i].expand(N_PAIRS, 1, 2), keys, x, scale=False)[:, 0] for i in (0, 1)
    ]
    return heads, target


def _least_squares_fit(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The prediction of the best affine map from ``features`` to ``target``: a fitted output projection."""
    design = torch.cat([features, torch.ones(len(features), 1, dtype=F64)], dim=-1)
    return design @ torch.linalg.lstsq(design, target).solution


def _unexplained(prediction: torch.Tensor, target: torch.Tensor) -> float:
    return ((target - prediction).pow(2).sum() / (target - target.mean(0)).pow(2).sum()).item()


def an_ensemble_of_the_heads_leaves_a_quarter_unexplained(seed: int = 0) -> Evidence:
    """Target (x₀[:2], x₁[2:]), head i looking at position i. As an ensemble — each head with its own
    output map fitted alone to the whole target, predictions averaged — the two heads leave 1/4 of the
    variance unexplained. Mixed by one output map fitted jointly over both heads, as MHA's W_O is, they
    leave none: jointly trained heads split the work, ensemble members each try to do all of it."""
    heads, target = _two_head_outputs(seed)
    ensemble = torch.stack([_least_squares_fit(h, target) for h in heads]).mean(0)
    joint = _least_squares_fit(torch.cat(heads, dim=-1), target)
    # Each member predicts its own half exactly and 0 for the other, so the average is y/2 and misses
    # (½)² of the variance. The residual is y/2 itself, so sampling noise cancels between numerator and
    # denominator; what remains is each member's overfit of the other half, 5 coefficients per output
    # out of n samples: O(5/n) ≈ 1e-3, bounded here by 5e-3.
    return Evidence(
        measured=_unexplained(ensemble, target),
        expected=0.25,
        comparison="abs",
        tolerance=5e-3,
        derivation="theory: the averaged members return y/2, leaving (1/2)² = 1/4 of the variance",
        counterfactual="the same two heads mixed by one jointly fitted W_O (multi-head attention)",
        counterfactual_measured=_unexplained(joint, target),
        unit="fraction of variance",
        details={"one head alone, its own fitted map": _unexplained(_least_squares_fit(heads[0], target), target)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
