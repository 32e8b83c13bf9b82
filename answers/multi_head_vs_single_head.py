"""Why several heads instead of one wide head — and what it costs.

With d_k = d/h the h heads together have exactly the parameters and FLOPs of one head of width d:
multi-head attention is not a capacity add-on. What changes is the function: one head gives each
query a single attention distribution, so it can only return one weighted average of the values; h
heads return h averages over different positions, each in its own subspace.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers.evidence import Evidence
from answers.formulas.heads import full_width_heads_parameters, mha_parameters
from answers.reference import F64, MultiHeadAttention, attend, count_parameters, randn

__all__ = ["full_width_heads_parameters", "mha_parameters"]

N_PAIRS = 4096  # random (x₀, x₁) sequences for the routing task
SHARP = 40.0  # score gap that makes a head look at one position: the other gets weight e^{-40} ≈ 4e-18


def _on_meta(factory):
    """Build a module on the meta device: shapes only, no memory, no initialisation cost."""
    with torch.device("meta"):
        return factory()


def _full_width_heads(d_model: int, heads: int) -> nn.ModuleList:
    """The mistaken design: every head a full-width attention (Q, K, V of d × h·d; W_O of h·d × d)."""
    projections = [nn.Linear(d_model, heads * d_model) for _ in range(3)]
    return nn.ModuleList([*projections, nn.Linear(heads * d_model, d_model)])


def mha_parameters_do_not_depend_on_the_number_of_heads(d_model: int = 512, heads: int = 8) -> Evidence:
    """nn.MultiheadAttention(512, 8) has exactly the parameters of nn.MultiheadAttention(512, 1): 4d² + 4d."""

    def torch_count(h: int) -> int:
        return count_parameters(_on_meta(lambda: nn.MultiheadAttention(d_model, h)))

    return Evidence(
        measured=torch_count(heads),
        expected=mha_parameters(d_model, heads),
        comparison="equal",
        derivation="formula: W_Q, W_K, W_V, W_O of d × d plus biases = 4d² + 4d, no h in it",
        counterfactual=f"{heads} heads of full width d_k = d_model",
        counterfactual_measured=count_parameters(_on_meta(lambda: _full_width_heads(d_model, heads))),
        unit="parameters",
        details={
            "nn.MultiheadAttention(512, 1)": torch_count(1),
            "full-width formula": full_width_heads_parameters(d_model, heads),
        },
    )


def _forward_flops(attn: MultiHeadAttention, d_model: int, n: int) -> int:
    """FLOPs of one forward pass on n tokens, counted by torch on the meta device (shapes only)."""
    with FlopCounterMode(display=False) as counter:
        attn(torch.empty(1, n, d_model, device="meta"))
    return counter.get_total_flops()


def mha_flops_do_not_depend_on_the_number_of_heads(d_model: int = 64, n: int = 32, heads: int = 8) -> Evidence:
    """The forward pass of 8 heads of 8 costs the same FLOPs as one head of 64: 8nd² + 4n²d."""
    multi = _on_meta(lambda: MultiHeadAttention(d_model, heads))
    single = _on_meta(lambda: MultiHeadAttention(d_model, 1))
    wide = _on_meta(lambda: MultiHeadAttention(heads * d_model, heads))  # heads of size d_model …
    wide.w_q, wide.w_k, wide.w_v, wide.w_o = _on_meta(lambda: _full_width_heads(d_model, heads))  # … fed by x
    return Evidence(
        measured=_forward_flops(multi, d_model, n),
        expected=8 * n * d_model**2 + 4 * n * n * d_model,  # 4 projections 2nd² each; QKᵀ and AV 2n²d each
        comparison="equal",
        derivation="theory: 4 projections × 2nd² + (QKᵀ, AV) × 2n²·d_k·h, with h·d_k = d",
        counterfactual=f"{heads} heads of full width",
        counterfactual_measured=_forward_flops(wide, d_model, n),
        unit="FLOPs",
        details={"one head of width 64": _forward_flops(single, d_model, n)},
    )


def _routing_task(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two tokens x₀, x₁ ∈ ℝ⁴ per sequence; the target is y = (x₀[:2], x₁[2:]) — half from each position."""
    x = randn(N_PAIRS, 2, 4, seed=seed)  # (pairs, positions, features)
    target = torch.cat([x[:, 0, :2], x[:, 1, 2:]], dim=-1)
    keys = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=F64)  # a one-hot position code per token
    return x, target, keys


def _unexplained(features: torch.Tensor, target: torch.Tensor) -> float:
    """Share of the target's variance a least-squares W_O (with bias) cannot explain from ``features``."""
    design = torch.cat([features, torch.ones(len(features), 1, dtype=F64)], dim=-1)
    w_o = torch.linalg.lstsq(design, target).solution
    residual = target - design @ w_o
    return (residual.pow(2).sum() / (target - target.mean(0)).pow(2).sum()).item()


def _single_head_unexplained(mix: float) -> float:
    """One head: one attention distribution (mix, 1 − mix) per query, any linear map of the average."""
    x, target, _ = _routing_task()
    averaged = mix * x[:, 0] + (1 - mix) * x[:, 1]  # (pairs, 4): all the head can return
    return _unexplained(averaged, target)


def two_heads_route_two_positions_one_head_cannot() -> Evidence:
    """Target (x₀[:2], x₁[2:]): two heads reproduce it exactly; the best single head of full width
    leaves half of its variance unexplained, whatever its attention weights."""
    x, target, keys = _routing_task()
    query = torch.tensor([[SHARP, 0.0], [0.0, SHARP]], dtype=F64)  # head 0 looks at position 0, head 1 at 1
    values = x[:, None].expand(-1, 2, -1, -1)  # (pairs, heads, positions, 4)
    heads = attend(query[:, None, :].expand(N_PAIRS, -1, -1, -1), keys.expand(N_PAIRS, 2, -1, -1), values, scale=False)
    two_heads = heads.reshape(N_PAIRS, 8)  # concat of both heads' outputs
    best_single = min(_single_head_unexplained(m) for m in torch.linspace(0, 1, 11).tolist())
    return Evidence(
        measured=_unexplained(two_heads, target),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 least squares; the other position's weight is e^{-40}
        derivation="construction: head i attends to position i, W_O picks dims 0–1 of head 0 and 2–3 of head 1",
        counterfactual="one head (the best of 11 mixing weights a, least-squares W_O)",
        counterfactual_measured=best_single,
        unit="fraction of variance",
        details={"theory for one head, any a": 0.5},
    )


def figure_single_head_cannot_route() -> object:
    """Routing (x₀[:2], x₁[2:]): whatever weight a a single head puts on position 0, about half of the
    target's variance stays unexplained (theory: exactly ½); two heads explain all of it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mixes = torch.linspace(0, 1, 21).tolist()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(mixes, [_single_head_unexplained(m) for m in mixes], "o-", label="one head, best W_O")
    ax.axhline(0.0, color="C2", label="two heads")
    ax.set_xlabel("single head's weight a on position 0")
    ax.set_ylabel("unexplained variance")
    ax.set_ylim(-0.05, 1.05)
    ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
