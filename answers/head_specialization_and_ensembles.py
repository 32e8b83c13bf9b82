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
from answers.reference import MultiHeadAttention, randn, seeded_module

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


def relabelling_heads_leaves_the_layer_unchanged() -> Evidence:
    """Swapping heads 0 and 1 — their Q/K/V slices and their columns of W_O — gives the same output:
    heads are interchangeable, so no role is built into a head's index."""
    layer, x = _layer(), randn(1, N_TOKENS, D_MODEL, seed=1)
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


def identical_heads_stay_identical_under_training(steps: int = 5) -> Evidence:
    """Two heads initialised identically get identical gradients and remain identical after SGD steps:
    only the random initialisation can make heads specialise."""

    def head_gap_after_training(tie: bool) -> float:
        layer = _layer()
        if tie:
            with torch.no_grad():  # head 1 := head 0, including its W_O columns
                for proj in (layer.w_q, layer.w_k, layer.w_v):
                    proj.weight[_head_block(1)] = proj.weight[_head_block(0)]
                    proj.bias[_head_block(1)] = proj.bias[_head_block(0)]
                layer.w_o.weight[:, _head_block(1)] = layer.w_o.weight[:, _head_block(0)]
        x, target = randn(4, N_TOKENS, D_MODEL, seed=2), randn(4, N_TOKENS, D_MODEL, seed=3)
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


def mha_is_a_sum_of_per_head_projections_not_an_average() -> Evidence:
    """MHA(x) = Σ_i head_i · W_O[:, block_i]ᵀ + b_O exactly; averaging the heads' projected outputs,
    as an ensemble would, does not give the layer's output."""
    layer, x = _layer(), randn(1, N_TOKENS, D_MODEL, seed=1)
    with torch.no_grad():
        heads = layer.heads(x)  # (1, h, n, d_head)
        contributions = [heads[:, i] @ layer.w_o.weight[:, _head_block(i)].T for i in range(N_HEADS)]
        summed = torch.stack(contributions).sum(0) + layer.w_o.bias
        averaged = torch.stack(contributions).mean(0) + layer.w_o.bias
        out = layer(x)
    return Evidence(
        measured=(summed - out).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: Concat(h_1 … h_h)·W_Oᵀ splits into one block of W_O per head",
        counterfactual="an ensemble: the average of the per-head contributions",
        counterfactual_measured=(averaged - out).abs().max().item(),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
