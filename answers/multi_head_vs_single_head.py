"""Why several heads instead of one wide head — and what it costs.

With d_k = d/h the h heads together have exactly the parameters and FLOPs of one head of width d:
multi-head attention is not a capacity add-on. What changes is the function: one head gives each
query a single attention distribution, so it can only return one weighted average of the values; h
heads return h averages over different positions, each in its own subspace.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
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


def _full_width_heads(d_model: int, heads: int, bias: bool = True) -> nn.ModuleList:
    """The mistaken design: every head a full-width attention (Q, K, V of d × h·d; W_O of h·d × d)."""
    projections = [nn.Linear(d_model, heads * d_model, bias=bias) for _ in range(3)]
    return nn.ModuleList([*projections, nn.Linear(heads * d_model, d_model, bias=bias)])


def mha_parameters_do_not_depend_on_the_number_of_heads(d_model: int = 512, heads: int = 8) -> Evidence:
    """nn.MultiheadAttention(512, 8) and nn.MultiheadAttention(512, 1) both have exactly 4d² + 4d parameters."""

    def torch_count(h: int) -> int:
        return count_parameters(_on_meta(lambda: nn.MultiheadAttention(d_model, h)))

    return Evidence(
        measured=(torch_count(heads), torch_count(1)),
        expected=(mha_parameters(d_model, heads), mha_parameters(d_model, 1)),
        comparison="equal",
        derivation="formula: W_Q, W_K, W_V, W_O of d × d plus biases = 4d² + 4d, no h in it",
        counterfactual=f"{heads} heads of full width d_k = d_model (beside the one-head count)",
        counterfactual_measured=(count_parameters(_on_meta(lambda: _full_width_heads(d_model, heads))), torch_count(1)),
        unit="parameters",
    )


def full_width_heads_cost_about_h_times_the_parameters(d_model: int = 512, heads: int = 8) -> Evidence:
    """h heads that each get the full width (d_k = d_model) have 4hd² + (3h + 1)d parameters with biases and
    4hd² without, about h× MHA's."""

    def counted(bias: bool) -> int:
        return count_parameters(_on_meta(lambda: _full_width_heads(d_model, heads, bias)))

    def torch_mha(bias: bool) -> int:
        return count_parameters(_on_meta(lambda: nn.MultiheadAttention(d_model, heads, bias=bias)))

    return Evidence(
        measured=(counted(True), counted(False)),
        expected=(full_width_heads_parameters(d_model, heads), full_width_heads_parameters(d_model, heads, bias=False)),
        comparison="equal",
        derivation="formula: Q, K, V of d × h·d (+ h·d biases each) and W_O of h·d × d (+ d), with and without biases",
        counterfactual="the same number of heads with d_k = d/h (nn.MultiheadAttention)",
        counterfactual_measured=(torch_mha(True), torch_mha(False)),
        unit="parameters",
        details={"ratio to 4d² + 4d": full_width_heads_parameters(d_model, heads) / mha_parameters(d_model, heads)},
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
    formula = 8 * n * d_model**2 + 4 * n * n * d_model  # 4 projections 2nd² each; QKᵀ and AV 2n²d each
    return Evidence(
        measured=(_forward_flops(multi, d_model, n), _forward_flops(single, d_model, n)),
        expected=(formula, formula),
        comparison="equal",
        derivation="theory: 4 projections × 2nd² + (QKᵀ, AV) × 2n²·d_k·h, with h·d_k = d",
        counterfactual=f"{heads} heads of full width (beside the one-head count)",
        counterfactual_measured=(_forward_flops(wide, d_model, n), _forward_flops(single, d_model, n)),
        unit="FLOPs",
    )


class _SoftmaxElements(TorchDispatchMode):
    """Counts the elements of every softmax torch computes: the attention weights a layer materialises."""

    def __init__(self) -> None:
        super().__init__()
        self.elements = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func.overloadpacket is torch.ops.aten._softmax:
            self.elements += out.numel()
        return out


def _attention_weight_elements(heads: int, d_model: int, n: int) -> int:
    attn = _on_meta(lambda: MultiHeadAttention(d_model, heads))
    with _SoftmaxElements() as counter:
        attn(torch.empty(1, n, d_model, device="meta"))
    return counter.elements


def eight_heads_compute_eight_score_matrices(d_model: int = 64, n: int = 32, heads: int = 8) -> Evidence:
    """What the equal FLOP count hides: 8 heads compute (and, unfused, store) 8 n × n softmaxes, 8n² scores
    and exponentials, where one head computes n²."""
    return Evidence(
        measured=_attention_weight_elements(heads, d_model, n),
        expected=heads * n * n,
        comparison="equal",
        derivation="theory: one n × n score matrix and softmax per head and sequence",
        counterfactual="one head of width 64 (what the equal FLOPs suggest)",
        counterfactual_measured=_attention_weight_elements(1, d_model, n),
        unit="elements",
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


def _single_head_unexplained(mix: float, seed: int = 0) -> float:
    """One head: one attention distribution (mix, 1 − mix) per query, any linear map of the average."""
    x, target, _ = _routing_task(seed)
    averaged = mix * x[:, 0] + (1 - mix) * x[:, 1]  # (pairs, 4): all the head can return
    return _unexplained(averaged, target)


def _two_heads_unexplained(seed: int) -> float:
    x, target, keys = _routing_task(seed)
    query = torch.tensor([[SHARP, 0.0], [0.0, SHARP]], dtype=F64)  # head 0 looks at position 0, head 1 at 1
    values = x[:, None].expand(-1, 2, -1, -1)  # (pairs, heads, positions, 4)
    heads = attend(query[:, None, :].expand(N_PAIRS, -1, -1, -1), keys.expand(N_PAIRS, 2, -1, -1), values, scale=False)
    return _unexplained(heads.reshape(N_PAIRS, 8), target)  # concat of both heads' outputs


MIXES = torch.linspace(0, 1, 11).tolist()  # the single head's weight a on position 0


def two_heads_route_two_positions_exactly(seed: int = 0) -> Evidence:
    """Target (x₀[:2], x₁[2:]): two heads, each looking at one position, reproduce it exactly with a
    least-squares W_O; the best single head of full width does not."""
    return Evidence(
        measured=_two_heads_unexplained(seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 least squares; the other position's weight is e^{-40}
        derivation="construction: head i attends to position i, W_O picks dims 0–1 of head 0 and 2–3 of head 1",
        counterfactual="one head (the best of 11 mixing weights a, least-squares W_O)",
        counterfactual_measured=min(_single_head_unexplained(m, seed) for m in MIXES),
        unit="fraction of variance",
    )


def one_head_leaves_half_unexplained_for_every_weight(seed: int = 0) -> Evidence:
    """For every mixing weight a, the best single head leaves ½ of the routing target's variance
    unexplained: a²/(a² + (1 − a)²) of one half is explained and (1 − a)²/(…) of the other."""
    # Sampling noise: the unexplained share is a ratio of sums of squares over n pairs; at a = 1 it is
    # (S₃ + S₄)/(S₁ + … + S₄) with Sᵢ ≈ n(1 + δᵢ), Var δᵢ = 2/n, so its standard deviation is 1/√(8n)
    # ≈ 0.0055 at n = 4096 (other a are no noisier). 5σ over 11 weights is never reached by chance.
    tolerance = 5 / math.sqrt(8 * N_PAIRS)
    return Evidence(
        measured=max(abs(_single_head_unexplained(m, seed) - 0.5) for m in MIXES),
        expected=0.0,
        comparison="abs",
        tolerance=tolerance,
        derivation="theory: independent standard-normal tokens, best linear map of a·x₀ + (1 − a)·x₁",
        counterfactual="two heads (the gap between their unexplained share and ½)",
        counterfactual_measured=abs(_two_heads_unexplained(seed) - 0.5),
        unit="fraction of variance",
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
