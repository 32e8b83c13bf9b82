"""DeepSeekMoE's two changes to an MoE layer: fine-grained expert segmentation and shared experts.

Segmentation splits each of N experts into m experts with 1/m of its hidden units and routes each token to mK of
the mN instead of K of N: the same parameters and FLOPs, but C(mN, mK) expert combinations instead of C(N, K).
Shared experts are K_s experts every token passes through; taking K_s off the routed top-k keeps the compute fixed.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from answers.evidence import Evidence
from answers.formulas.moe import expert_combinations
from answers.reference import F64, FeedForward, count_parameters, randn, seeded_module

__all__ = ["expert_combinations"]

D, D_FF, EXPERTS, TOP_K, SEGMENTS = 32, 64, 8, 2, 4


class _MoE(nn.Module):
    """Router over ``routed`` SwiGLU experts of width d_ff (top-k, softmax gates over the chosen), plus ``shared``
    experts that every token passes through with gate 1 (DeepSeekMoE, section 3.2)."""

    def __init__(self, d: int, d_ff: int, routed: int, top_k: int, shared: int = 0) -> None:
        super().__init__()
        self.top_k = top_k
        self.router = nn.Linear(d, routed, bias=False)
        self.routed = nn.ModuleList(FeedForward(d, d_ff, "swiglu", bias=False) for _ in range(routed))
        self.shared = nn.ModuleList(FeedForward(d, d_ff, "swiglu", bias=False) for _ in range(shared))

    def forward(self, x: Tensor) -> Tensor:  # (T, d)
        top, chosen = self.router(x).topk(self.top_k, dim=-1)
        gates = torch.softmax(top, dim=-1)  # (T, k)
        out = sum((expert(x) for expert in self.shared), torch.zeros_like(x))
        for e, expert in enumerate(self.routed):
            rows, slot = (chosen == e).nonzero(as_tuple=True)
            if len(rows):  # an expert runs only on its tokens
                out[rows] += gates[rows, slot, None] * expert(x[rows])
        return out


def _params_and_flops(factory, seed: int = 0, tokens: int = 64) -> tuple[int, float]:
    """Parameters of an instantiated layer and its matmul FLOPs per token, counted from the input shape of every
    nn.Linear call (2 FLOPs per multiply-add) over a batch of seeded tokens."""
    layer = seeded_module(factory, seed=seed)
    flops = [0]

    def count(linear: nn.Module, inputs: tuple[Tensor, ...], _output: Tensor) -> None:
        flops[0] += 2 * inputs[0].shape[:-1].numel() * linear.in_features * linear.out_features

    for module in layer.modules():
        if isinstance(module, nn.Linear):
            module.register_forward_hook(count)
    with torch.no_grad():
        layer(randn(tokens, D, seed=seed + 1))
    return count_parameters(layer), flops[0] / tokens


def _experts_only(params_flops: tuple[int, float], routed: int) -> tuple[int, float]:
    """Remove the router (d·E parameters, 2·d·E FLOPs per token), whose size grows with the expert count."""
    params, flops = params_flops
    return params - D * routed, flops - 2 * D * routed


def fine_grained_segmentation_keeps_parameters_and_flops(seed: int = 0) -> Evidence:
    """8 experts of width 64 with top-2 routing and 32 experts of width 16 with top-8 routing, both instantiated,
    hold the same expert parameters and execute the same expert FLOPs per token (only the router grows, from d·8
    to d·32). Multiplying the expert count by 4 without narrowing the experts (32 of width 64, top-8) gives 4× both."""
    coarse = _experts_only(_params_and_flops(lambda: _MoE(D, D_FF, EXPERTS, TOP_K), seed), EXPERTS)
    m_experts, m_top_k = SEGMENTS * EXPERTS, SEGMENTS * TOP_K
    fine = _experts_only(_params_and_flops(lambda: _MoE(D, D_FF // SEGMENTS, m_experts, m_top_k), seed), m_experts)
    wide = _experts_only(_params_and_flops(lambda: _MoE(D, D_FF, m_experts, m_top_k), seed), m_experts)
    return Evidence(
        measured=fine,
        expected=coarse,
        comparison="equal",
        derivation="an instantiated 8-expert top-2 layer of width 64, parameters and hooked FLOPs per token",
        counterfactual="32 experts of the full width 64, top-8",
        counterfactual_measured=wide,
        unit="(expert parameters, expert FLOPs per token)",
    )


def segmentation_multiplies_the_expert_combinations() -> Evidence:
    """Choosing 2 of 16 experts allows C(16, 2) = 120 combinations; splitting each expert in 4 and choosing 8 of 64
    allows C(64, 8) = 4,426,165,368, the figures DeepSeekMoE gives (section 3.1). Splitting the experts but
    keeping top-2 (2 of 64) gives only 2,016, with a quarter of the compute."""
    return Evidence(
        measured=(expert_combinations(16, 2), expert_combinations(64, 8)),
        expected=(120, 4_426_165_368),  # DeepSeekMoE, section 3.1, the example of N = 16, K = 2, m = 4
        comparison="equal",
        derivation="DeepSeekMoE (Dai et al. 2024), section 3.1: 120 and 4,426,165,368 combinations",
        counterfactual="segmented experts without scaling k: 2 of 64",
        counterfactual_measured=(expert_combinations(16, 2), expert_combinations(64, 2)),
        unit="combinations",
    )


def slices_of_an_expert_sum_to_the_expert(seed: int = 0) -> Evidence:
    """A SwiGLU FFN is a sum over its hidden units, so cutting one expert's 64 hidden units into 4 slices of 16 gives
    4 experts whose outputs sum exactly to the original's: a coarse expert is the special case in which a token
    picks all of its slices with the same gate, so segmentation loses nothing. Gates normalised over the chosen
    slices (a softmax over 4 equal logits, ¼ each) return only a quarter of it; the scale must be kept."""
    expert = seeded_module(lambda: FeedForward(D, D_FF, "swiglu", bias=False), seed=seed)
    x = randn(16, D, seed=seed + 1)
    width = D_FF // SEGMENTS
    pieces = []
    for s in range(SEGMENTS):
        piece = FeedForward(D, width, "swiglu", bias=False).to(F64)
        rows = slice(s * width, (s + 1) * width)
        with torch.no_grad():
            piece.up.weight.copy_(expert.up.weight[rows])
            piece.gate.weight.copy_(expert.gate.weight[rows])
            piece.down.weight.copy_(expert.down.weight[:, rows])
        pieces.append(piece)
    with torch.no_grad():
        whole = expert(x)
        summed = sum(piece(x) for piece in pieces)
        normalised = sum(0.25 * piece(x) for piece in pieces)
        return Evidence(
            measured=(summed - whole).abs().max().item(),
            expected=0.0,
            comparison="abs",
            tolerance=1e-12,
            derivation="theory: FFN(x) = Σ_j silu(g_j·x)(u_j·x) w_j, a sum over hidden units j",
            counterfactual="the 4 slices combined with gates normalised to ¼ each",
            counterfactual_measured=(normalised - whole).abs().max().item(),
            unit="",
            details={"max |expert output|": whole.abs().max().item()},
        )


def shared_experts_replace_routed_ones_at_equal_compute(seed: int = 0) -> Evidence:
    """DeepSeekMoE's shared-expert isolation: 1 shared expert plus top-7 of 31 routed experts (all of width 16)
    executes the same expert FLOPs per token and holds the same expert parameters as top-8 of 32. Adding the
    shared expert on top of an unchanged top-8 costs an extra expert per token (9/8 of the FLOPs)."""
    m_experts, m_top_k, width = SEGMENTS * EXPERTS, SEGMENTS * TOP_K, D_FF // SEGMENTS
    routed_only = _experts_only(_params_and_flops(lambda: _MoE(D, width, m_experts, m_top_k), seed), m_experts)
    isolated = _experts_only(
        _params_and_flops(lambda: _MoE(D, width, m_experts - 1, m_top_k - 1, shared=1), seed), m_experts - 1
    )
    added = _experts_only(
        _params_and_flops(lambda: _MoE(D, width, m_experts - 1, m_top_k, shared=1), seed), m_experts - 1
    )
    return Evidence(
        measured=isolated,
        expected=routed_only,
        comparison="equal",
        derivation="an instantiated top-8-of-32 layer of width 16, parameters and hooked FLOPs per token",
        counterfactual="a shared expert added without lowering the routed top-k (top-8 of 31 + 1 shared)",
        counterfactual_measured=added,
        unit="(expert parameters, expert FLOPs per token)",
        details={"ratio of combinations, C(31, 7) / C(32, 8)": expert_combinations(31, 7) / expert_combinations(32, 8)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
