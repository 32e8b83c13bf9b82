"""Do heads have assigned roles, and is multi-head attention an ensemble?

Nothing in the architecture gives a head a job: relabelling heads (with their slice of W_O) leaves the
layer's function unchanged, and two heads that start identical receive identical gradients and stay
identical. Any specialisation is emergent, broken only by the random initialisation. Nor is MHA an
ensemble: the heads' outputs are mixed by one jointly trained W_O, so each head's contribution is fitted
given the others'. Separately fitted members each try to predict the whole target and double-count what
their inputs share, which no weighting of their predictions (average, sum or any other) undoes.
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


# The ensemble question on a task that needs two positions whose tokens are correlated, as neighbouring
# tokens are: x₀, x₁ ∈ ℝ², x₁ = ρ·x₀ + √(1 − ρ²)·z, target y = (x₀ + x₁, x₀ − x₁). Head i attends
# (sharply) to position i.
N_PAIRS = 4096
SHARP = 40.0  # score gap: the other position gets weight e^{-40} ≈ 4e-18
RHO = 0.5


def _two_head_outputs(seed: int, rho: float = RHO) -> tuple[list[torch.Tensor], torch.Tensor]:
    draws = randn(N_PAIRS, 2, 2, seed=seed)  # independent standard normals
    x = torch.stack([draws[:, 0], rho * draws[:, 0] + (1 - rho**2) ** 0.5 * draws[:, 1]], dim=1)  # (pairs, 2, 2)
    target = torch.cat([x[:, 0] + x[:, 1], x[:, 0] - x[:, 1]], dim=-1)
    keys = torch.eye(2, dtype=F64).expand(N_PAIRS, 2, 2)  # a one-hot position code per token
    heads = [
        attend(SHARP * torch.eye(2, dtype=F64)[i].expand(N_PAIRS, 1, 2), keys, x, scale=False)[:, 0] for i in (0, 1)
    ]
    return heads, target


def _least_squares_fit(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The prediction of the best affine map from ``features`` to ``target``: a fitted output projection."""
    design = torch.cat([features, torch.ones(len(features), 1, dtype=F64)], dim=-1)
    return design @ torch.linalg.lstsq(design, target).solution


def _best_weighted_ensemble(members: list[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
    """The members' predictions combined with the best weight for each member (fitted by least squares):
    this covers averaging (½), summing (1) and any other weighting, so the 1/h of an average is no handicap."""
    columns = torch.stack([m.reshape(-1) for m in members], dim=-1)
    weights = torch.linalg.lstsq(columns, target.reshape(-1, 1)).solution
    return (columns @ weights).reshape(target.shape)


def _unexplained(prediction: torch.Tensor, target: torch.Tensor) -> float:
    return ((target - prediction).pow(2).sum() / (target - target.mean(0)).pow(2).sum()).item()


def _ensemble_unexplained(seed: int, rho: float) -> float:
    heads, target = _two_head_outputs(seed, rho)
    return _unexplained(_best_weighted_ensemble([_least_squares_fit(h, target) for h in heads], target), target)


def an_ensemble_of_the_heads_leaves_part_unexplained(seed: int = 0) -> Evidence:
    """Target (x₀ + x₁, x₀ − x₁) with corr(x₀, x₁) = ρ, head i looking at position i. As an ensemble —
    each head with its own output map fitted alone to the whole target, the predictions then combined
    with the best weight per member — the heads leave ρ²(1 − ρ²)/(1 + 3ρ²) = 3/28 of the variance
    unexplained at ρ = ½. Each member, fitted alone, uses its token as a proxy for the other one (slope
    1 + ρ on the sum, 1 − ρ on the difference), so together they double-count what they share and no
    weighting undoes it. One output map fitted jointly over both heads, as MHA's W_O is, leaves none."""
    heads, target = _two_head_outputs(seed)
    members = [_least_squares_fit(h, target) for h in heads]
    # Theory (population): best common weight w = (1 + ρ²)/(1 + 3ρ²); residuals 1 − (1 + ρ)w on the sum
    # (variance 2 + 2ρ) and 1 − (1 − ρ)w on the difference (variance 2 − 2ρ), total variance 4.
    expected = RHO**2 * (1 - RHO**2) / (1 + 3 * RHO**2)
    # Sampling noise: the measured share is a smooth function of the sample covariances of 4,096 pairs ×
    # 2 coordinates, whose relative errors are ~1/√8192 ≈ 1.1 %; its sensitivity to them is below 1 (the
    # derivative in ρ is 0.1), so its standard deviation is ≲ 0.002; 0.01 is about 5σ.
    return Evidence(
        measured=_ensemble_unexplained(seed, RHO),
        expected=expected,
        comparison="abs",
        tolerance=0.01,
        derivation="theory: members predict ((1 + ρ)x_i, ±(1 − ρ)x_i); the best weighting leaves ρ²(1 − ρ²)/(1 + 3ρ²)",
        counterfactual="the same two heads mixed by one jointly fitted W_O (multi-head attention)",
        counterfactual_measured=_unexplained(_least_squares_fit(torch.cat(heads, dim=-1), target), target),
        unit="fraction of variance",
        details={
            "members averaged (theory (1 − ρ²)/4 = 0.1875)": _unexplained(torch.stack(members).mean(0), target),
            "independent tokens (ρ = 0), best-weighted ensemble (theory 0: the sum is exact)": _ensemble_unexplained(
                seed, rho=0.0
            ),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
