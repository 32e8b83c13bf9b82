"""Mixture of experts: a router sends each token to its top-k expert FFNs out of E.

Only the chosen experts run for a token, so the compute per token follows the *active* parameters
(Mixtral 8x7B: about 12.9B), while memory must hold *all* of them (about 46.7B), and a batch of tokens
touches nearly every expert.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor, nn

from answers.evidence import Evidence
from answers.formulas.serving import moe_parameters
from answers.reference import FeedForward, MultiHeadAttention, RMSNorm, count_parameters, randn, seeded_module

__all__ = ["moe_parameters"]

D, HEADS, KV_HEADS, D_FF, EXPERTS, TOP_K, VOCAB, LAYERS = 32, 4, 2, 48, 8, 2, 50, 2
# Mixtral 8x7B's published config (Jiang et al. 2024; config.json of mistralai/Mixtral-8x7B-v0.1).
MIXTRAL = dict(layers=32, d_model=4096, d_ff=14336, experts=8, vocab=32000, n_heads=32, kv_heads=8)


class _MoE(nn.Module):
    """Router + E SwiGLU experts; each token's output is the softmax(top-k logits)-weighted sum of
    its k experts. ``dense=True`` runs every expert, weighted by the softmax over all logits."""

    def __init__(self, d: int, d_ff: int, experts: int, top_k: int, dense: bool = False) -> None:
        super().__init__()
        self.top_k, self.dense, self.calls = top_k, dense, [0] * experts
        self.router = nn.Linear(d, experts, bias=False)
        self.experts = nn.ModuleList(FeedForward(d, d_ff, "swiglu", bias=False) for _ in range(experts))

    def forward(self, x: Tensor) -> Tensor:  # (T, d) tokens
        logits = self.router(x)  # (T, E)
        k = len(self.experts) if self.dense else self.top_k
        top, chosen = logits.topk(k, dim=-1)
        weights = torch.softmax(top, dim=-1)  # (T, k)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            rows, slot = (chosen == e).nonzero(as_tuple=True)
            if len(rows):  # the expert runs only on the tokens routed to it
                self.calls[e] += len(rows)
                out[rows] += weights[rows, slot, None] * expert(x[rows])
        return out


class _MoEDecoder(nn.Module):
    """A Mixtral-shaped decoder: pre-norm GQA attention and an MoE FFN per layer, untied embeddings."""

    def __init__(self, layers, d_model, d_ff, experts, vocab, n_heads, kv_heads, top_k=TOP_K) -> None:
        super().__init__()
        self.embed = nn.Parameter(torch.empty(vocab, d_model))  # the (V, d) table of nn.Embedding
        self.head = nn.Linear(d_model, vocab, bias=False)
        self.attn = nn.ModuleList(MultiHeadAttention(d_model, n_heads, kv_heads, bias=False) for _ in range(layers))
        self.moe = nn.ModuleList(_MoE(d_model, d_ff, experts, top_k) for _ in range(layers))
        self.norms = nn.ModuleList(RMSNorm(d_model) for _ in range(2 * layers + 1))


def _expert_calls_per_token(dense: bool) -> float:
    moe = seeded_module(lambda: _MoE(D, D_FF, EXPERTS, TOP_K, dense=dense), seed=1)
    tokens = 64
    with torch.no_grad():
        moe(randn(tokens, D, seed=2))
    return sum(moe.calls) / tokens


def each_token_runs_only_its_top_k_experts() -> Evidence:
    """With top-2 routing over 8 experts, each token is processed by exactly 2 expert FFNs; a dense
    mixture runs all 8 (4× the FFN FLOPs)."""
    return Evidence(
        measured=_expert_calls_per_token(dense=False),
        expected=float(TOP_K),
        comparison="equal",
        derivation="definition of top-k routing: k experts per token",
        counterfactual="dense mixture: every expert weighted by the softmax over all logits",
        counterfactual_measured=_expert_calls_per_token(dense=True),
        unit="count",
    )


def _experts_touched(tokens: int) -> int:
    moe = seeded_module(lambda: _MoE(D, D_FF, EXPERTS, TOP_K), seed=3)
    with torch.no_grad():
        moe(randn(tokens, D, seed=4))
    return sum(c > 0 for c in moe.calls)


def a_batch_of_tokens_touches_every_expert() -> Evidence:
    """A batch of 64 tokens, each routed to 2 of 8 experts, uses all 8 experts, so serving a batch
    reads every expert's weights from memory; a single token reads only 2."""
    miss = (1 - TOP_K / EXPERTS) ** 64  # chance a given expert is skipped by 64 uniformly routed tokens
    return Evidence(
        measured=_experts_touched(64),
        expected=EXPERTS,
        comparison="equal",
        derivation=f"theory: with uniform routing an expert is unused with probability (6/8)^64 ≈ {miss:.0e}",
        counterfactual="a batch of one token",
        counterfactual_measured=_experts_touched(1),
        unit="count",
    )


def total_parameter_formula_matches_an_instantiated_moe() -> Evidence:
    """A toy Mixtral-shaped model has exactly the parameters the formula gives with all E experts;
    counting only the k active experts understates what must be held in memory."""
    model = _MoEDecoder(LAYERS, D, D_FF, EXPERTS, VOCAB, HEADS, KV_HEADS)
    shape = dict(layers=LAYERS, d_model=D, d_ff=D_FF, experts=EXPERTS, vocab=VOCAB, n_heads=HEADS, kv_heads=KV_HEADS)
    return Evidence(
        measured=count_parameters(model),
        expected=moe_parameters(**shape, experts_used=EXPERTS),
        comparison="equal",
        derivation="formula moe_parameters with experts_used = E",
        counterfactual="the active count (experts_used = k) taken as the model size",
        counterfactual_measured=moe_parameters(**shape, experts_used=TOP_K),
        unit="parameters",
    )


@functools.cache
def _mixtral_shaped(experts: int) -> int:
    """Parameters of a Mixtral-config model, built on the meta device (shapes only, no memory). Layers
    are identical, so a 1-layer and a 2-layer build give the embeddings and one layer's share."""
    with torch.device("meta"):
        one, two = (count_parameters(_MoEDecoder(**{**MIXTRAL, "experts": experts, "layers": n})) for n in (1, 2))
    return one + (MIXTRAL["layers"] - 1) * (two - one)


def mixtral_holds_47b_parameters_but_uses_13b_per_token() -> Evidence:
    """A meta-device model with Mixtral 8x7B's config has about 46.7B parameters, equal to the formula;
    a token uses about 12.9B. "8 × 7B" (eight Mistral-7B models) overstates the total."""
    active = moe_parameters(**MIXTRAL, experts_used=2)
    return Evidence(
        measured=_mixtral_shaped(8),
        expected=moe_parameters(**MIXTRAL, experts_used=8),
        comparison="equal",
        derivation="formula moe_parameters on Mixtral's config: only the FFNs are replicated",
        counterfactual="eight whole dense Mistral-7B-shaped models (8 × 7B)",
        counterfactual_measured=8 * _mixtral_shaped(1),
        unit="parameters",
        details={
            "active per token (billions)": active / 1e9,
            "fp16 weights (GiB)": 2 * _mixtral_shaped(8) / 2**30,
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
