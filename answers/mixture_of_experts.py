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
from answers.reference import (
    FeedForward,
    MultiHeadAttention,
    RMSNorm,
    causal_mask,
    count_parameters,
    generator,
    randn,
    seeded_module,
)

__all__ = ["moe_parameters"]

D, HEADS, KV_HEADS, D_FF, EXPERTS, TOP_K, VOCAB, LAYERS = 32, 4, 2, 48, 8, 2, 50, 2
# Mixtral 8x7B's published config (Jiang et al. 2024; config.json of mistralai/Mixtral-8x7B-v0.1).
# Mixtral paper, table 1: dim 4096, n_layers 32, head_dim 128, hidden_dim 14336, n_heads 32, n_kv_heads 8,
# context_len 32768, vocab_size 32000, num_experts 8, top_k_experts 2.
MIXTRAL = dict(layers=32, d_model=4096, d_ff=14336, experts=8, vocab=32000, n_heads=32, kv_heads=8)
# Mistral AI's announcement "Mixtral of experts" (11 Dec 2023): "46.7B total parameters but only uses
# 12.9B parameters per token". The paper (section 2) rounds them to 47B and 13B.
MIXTRAL_PUBLISHED_TOTAL, MIXTRAL_PUBLISHED_ACTIVE = 46.7e9, 12.9e9


class _MoE(nn.Module):
    """Router + E SwiGLU experts; each token's output is the softmax(top-k logits)-weighted sum of
    its k experts. ``compute_all=True`` is the naive vectorised version: every expert runs on every
    token and the unchosen ones get weight 0 (same output, all the FLOPs)."""

    def __init__(self, d: int, d_ff: int, experts: int, top_k: int, compute_all: bool = False) -> None:
        super().__init__()
        self.top_k, self.compute_all, self.calls = top_k, compute_all, [0] * experts
        self.router = nn.Linear(d, experts, bias=False)
        self.experts = nn.ModuleList(FeedForward(d, d_ff, "swiglu", bias=False) for _ in range(experts))

    def forward(self, x: Tensor) -> Tensor:  # (T, d) tokens
        logits = self.router(x)  # (T, E)
        top, chosen = logits.topk(self.top_k, dim=-1)
        weights = torch.softmax(top, dim=-1)  # (T, k)
        if self.compute_all:
            gates = torch.zeros_like(logits).scatter(-1, chosen, weights)  # (T, E), zero off the top k
            return sum(gates[:, e, None] * expert(x) for e, expert in enumerate(self.experts))
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
        embed = torch.empty(vocab, d_model)  # the (V, d) table of nn.Embedding
        if not embed.is_meta:  # randn/normal_ on meta go through torch._refs and import dynamo (seconds)
            embed.normal_()
        self.embed = nn.Parameter(embed)
        self.head = nn.Linear(d_model, vocab, bias=False)
        self.attn = nn.ModuleList(MultiHeadAttention(d_model, n_heads, kv_heads, bias=False) for _ in range(layers))
        self.moe = nn.ModuleList(_MoE(d_model, d_ff, experts, top_k) for _ in range(layers))
        self.norms = nn.ModuleList(RMSNorm(d_model) for _ in range(2 * layers + 1))

    def forward(self, tokens: Tensor) -> Tensor:  # (n,) token ids → (n, V) logits
        x = self.embed[tokens]  # (n, d)
        for i, (attn, moe) in enumerate(zip(self.attn, self.moe, strict=True)):
            x = x + attn(self.norms[2 * i](x)[None], mask=causal_mask(len(tokens)))[0]
            x = x + moe(self.norms[2 * i + 1](x))
        return self.head(self.norms[-1](x))


def _moe_flops_per_token(compute_all: bool, seed: int) -> tuple[float, Tensor]:
    """Matmul FLOPs per token of the MoE layer (router and experts) over 64 tokens, counted from the
    shapes every nn.Linear actually receives (2 FLOPs per multiply-add), and the layer's output.
    Forward hooks see each call, so an expert that runs on more tokens than were routed to it shows."""
    moe = seeded_module(lambda: _MoE(D, D_FF, EXPERTS, TOP_K, compute_all=compute_all), seed=seed)
    flops = [0]

    def count(linear: nn.Module, inputs: tuple[Tensor, ...], _output: Tensor) -> None:
        flops[0] += 2 * inputs[0].shape[:-1].numel() * linear.in_features * linear.out_features

    for module in moe.modules():
        if isinstance(module, nn.Linear):
            module.register_forward_hook(count)
    tokens = 64
    with torch.no_grad():
        out = moe(randn(tokens, D, seed=seed + 1))
    return flops[0] / tokens, out


def moe_flops_follow_the_k_active_experts(seed: int = 0) -> Evidence:
    """The matmul FLOPs a top-2-of-8 MoE layer executes are, per token, the router's 2·d·E plus 2
    SwiGLU experts, 2 · 3·2·d·d_ff: only the chosen experts run. The naive vectorised layer that runs
    all 8 experts on every token and zero-weights 6 gives the same output at 4× the expert FLOPs."""
    expert_flops = 3 * 2 * D * D_FF  # three d×d_ff matmuls (gate, up, down), 2 FLOPs per multiply-add
    sparse, out = _moe_flops_per_token(compute_all=False, seed=seed)
    naive, naive_out = _moe_flops_per_token(compute_all=True, seed=seed)
    return Evidence(
        measured=sparse,
        expected=float(2 * D * EXPERTS + TOP_K * expert_flops),
        comparison="equal",
        derivation="theory: router 2·d·E + k experts × 3 matmuls of 2·d·d_ff; measured from each call's shapes",
        counterfactual="every expert runs on every token, the unchosen ones weighted 0 (the naive vectorised layer)",
        counterfactual_measured=naive,
        unit="FLOPs",
        details={
            "naive / sparse expert FLOPs (E / k)": EXPERTS / TOP_K,
            "max |output difference|, naive vs sparse": (out - naive_out).abs().max().item(),
        },
    )


def _experts_touched(tokens: int, seed: int) -> int:
    moe = seeded_module(lambda: _MoE(D, D_FF, EXPERTS, TOP_K), seed=seed)
    with torch.no_grad():
        moe(randn(tokens, D, seed=seed + 1))
    return sum(c > 0 for c in moe.calls)


def a_batch_of_tokens_touches_every_expert(seed: int = 0) -> Evidence:
    """A batch of 64 tokens, each routed to 2 of 8 experts by a random (untrained) router, uses all 8
    experts, so serving a batch reads every expert's weights from memory; a single token reads only 2."""
    miss = (1 - TOP_K / EXPERTS) ** 64  # chance a given expert is skipped by 64 uniformly routed tokens
    return Evidence(
        measured=_experts_touched(64, seed),
        expected=EXPERTS,
        comparison="equal",
        derivation=f"theory: with uniform, independent routing an expert is unused w.p. (6/8)^64 ≈ {miss:.0e}",
        counterfactual="a batch of one token",
        counterfactual_measured=_experts_touched(1, seed),
        unit="count",
    )


def _shape() -> dict[str, int]:
    return dict(layers=LAYERS, d_model=D, d_ff=D_FF, experts=EXPERTS, vocab=VOCAB, n_heads=HEADS, kv_heads=KV_HEADS)


def total_parameter_formula_matches_an_instantiated_moe() -> Evidence:
    """A toy Mixtral-shaped model has exactly the parameters the formula gives with all E experts;
    counting only the k active experts understates what must be held in memory."""
    model = _MoEDecoder(**_shape())
    return Evidence(
        measured=count_parameters(model),
        expected=moe_parameters(**_shape(), experts_used=EXPERTS),
        comparison="equal",
        derivation="formula moe_parameters with experts_used = E",
        counterfactual="the active count (experts_used = k) taken as the model size",
        counterfactual_measured=moe_parameters(**_shape(), experts_used=TOP_K),
        unit="parameters",
    )


def _parameters_reached(tokens: int, seed: int) -> int:
    """Parameters of the toy decoder that ``tokens`` seeded tokens actually use: the tensors autograd
    reaches from the logits (an expert no token was routed to is never in the graph)."""
    model = seeded_module(lambda: _MoEDecoder(**_shape()), seed=seed)
    ids = torch.randint(VOCAB, (tokens,), generator=generator(seed + 1))
    model(ids).sum().backward()
    return sum(p.numel() for p in model.parameters() if p.grad is not None)


def active_parameter_formula_matches_what_one_token_reaches(seed: int = 0) -> Evidence:
    """The active-parameter formula (experts_used = k) equals the parameters one token actually reaches
    through an instantiated 2-layer MoE decoder (autograd finds them: embeddings, attention, router,
    norms and the 2 chosen experts per layer); a 64-token batch reaches every expert."""
    return Evidence(
        measured=_parameters_reached(1, seed),
        expected=moe_parameters(**_shape(), experts_used=TOP_K),
        comparison="equal",
        derivation="formula moe_parameters with experts_used = k, against autograd's graph of a real forward",
        counterfactual="a batch of 64 tokens (every expert is reached, the total count)",
        counterfactual_measured=_parameters_reached(64, seed),
        unit="parameters",
    )


@functools.cache
def _mixtral_shaped(experts: int) -> int:
    """Parameters of a Mixtral-config model, built on the meta device (shapes only, no memory). Layers
    are identical, so a 1-layer and a 2-layer build give the embeddings and one layer's share."""
    with torch.device("meta"):
        one, two = (count_parameters(_MoEDecoder(**{**MIXTRAL, "experts": experts, "layers": n})) for n in (1, 2))
    return one + (MIXTRAL["layers"] - 1) * (two - one)


def _mixtral_expert() -> int:
    """Parameters of one Mixtral expert (a SwiGLU FFN 4096 → 14336 → 4096), instantiated on meta."""
    with torch.device("meta"):
        return count_parameters(FeedForward(MIXTRAL["d_model"], MIXTRAL["d_ff"], "swiglu", bias=False))


def mixtral_holds_47b_parameters() -> Evidence:
    """A meta-device model with Mixtral 8x7B's configuration has Mistral AI's published 46.7B
    parameters; eight whole Mistral-7B-shaped models ("8 × 7B") would be about 58B."""
    return Evidence(
        measured=_mixtral_shaped(8),
        expected=MIXTRAL_PUBLISHED_TOTAL,
        comparison="rel",
        tolerance=0.002,  # the published figure is rounded to 0.1B: ±0.05 / 46.7 ≈ 0.1%
        derivation="Mistral AI, 'Mixtral of experts' (Dec 2023): 46.7B total parameters",
        counterfactual="eight whole dense Mistral-7B-shaped models (8 × 7B)",
        counterfactual_measured=8 * _mixtral_shaped(1),
        unit="parameters",
        details={
            "formula moe_parameters (all 8 experts)": moe_parameters(**MIXTRAL, experts_used=8),
            "fp16 weights (GiB)": 2 * _mixtral_shaped(8) / 2**30,
        },
    )


def mixtral_uses_13b_parameters_per_token() -> Evidence:
    """Removing the 6 experts a token skips in each of the 32 layers from the meta-device Mixtral leaves
    Mistral AI's published 12.9B active parameters, the formula's value with experts_used = 2. Scaling
    the total by k/E (2/8 of 46.7B ≈ 11.7B) forgets that attention and embeddings are shared."""
    total, unused = _mixtral_shaped(8), MIXTRAL["layers"] * (8 - 2) * _mixtral_expert()
    return Evidence(
        measured=total - unused,
        expected=MIXTRAL_PUBLISHED_ACTIVE,
        comparison="rel",
        tolerance=0.004,  # the published figure is rounded to 0.1B: ±0.05 / 12.9 ≈ 0.4%
        derivation="Mistral AI, 'Mixtral of experts' (Dec 2023): 12.9B parameters per token",
        counterfactual="total × k/E, as if every parameter were replicated per expert",
        counterfactual_measured=total * 2 / 8,
        unit="parameters",
        details={"formula moe_parameters (experts_used = 2)": moe_parameters(**MIXTRAL, experts_used=2)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
