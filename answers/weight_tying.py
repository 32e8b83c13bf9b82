"""Weight tying: one matrix for the input embedding and the output projection.

The embedding maps a token id to a row of E (V × d); the output layer scores a hidden state against
every token with logits = h·Eᵀ. Tying uses the same E for both, saving V·d parameters — about a
third of GPT-2 small — and the shared matrix receives the sum of the gradients of both uses.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.heads import tied_embedding_saving
from answers.formulas.parameters import gpt_parameters
from answers.reference import DecoderBlock, count_parameters, seeded_module

__all__ = ["tied_embedding_saving"]


def _embedding(rows: int, d_model: int) -> nn.Embedding:
    """nn.Embedding with GPT-2's N(0, 0.02²) init, skipped on the meta device (where normal_ alone costs ~1 s)."""
    table = torch.empty(rows, d_model)
    if table.device.type != "meta":
        nn.init.normal_(table, std=0.02)
    return nn.Embedding(rows, d_model, _weight=table)


class _TinyGPT(nn.Module):
    """Token + learned position embeddings, pre-norm blocks, final LayerNorm, bias-free output layer."""

    def __init__(self, vocab: int, d_model: int, layers: int, context: int, heads: int, *, tied: bool) -> None:
        super().__init__()
        self.tokens, self.positions = _embedding(vocab, d_model), _embedding(context, d_model)
        self.blocks = nn.ModuleList(DecoderBlock(d_model, heads, 4 * d_model) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)
        if tied:
            self.head.weight = self.tokens.weight  # one Parameter, two uses

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[-1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))  # (B, n, V) logits


def _gpt2_small(tied: bool) -> _TinyGPT:
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        return _TinyGPT(50257, 768, 12, 1024, 12, tied=tied)


def _state_dict_numel(model: nn.Module) -> int:
    """The naive count: every state-dict entry, so a tied matrix is counted under both of its names."""
    return sum(t.numel() for t in model.state_dict().values())


def tying_saves_vocab_times_d_model_parameters() -> Evidence:
    """Tying GPT-2 small's output layer to its embedding removes exactly V·d = 50,257 × 768 parameters."""
    tied, untied = _gpt2_small(tied=True), _gpt2_small(tied=False)
    return Evidence(
        measured=count_parameters(untied) - count_parameters(tied),
        expected=tied_embedding_saving(50257, 768),
        comparison="equal",
        derivation="formula: the output projection is one V × d matrix, shared instead of separate",
        counterfactual="counting every state_dict entry (the tied matrix counted twice)",
        counterfactual_measured=_state_dict_numel(untied) - _state_dict_numel(tied),
        unit="parameters",
    )


def gpt2_small_has_124_m_parameters_only_when_tied() -> Evidence:
    """GPT-2 small's well-known 124 M parameters assume the output layer is tied to the embedding."""
    return Evidence(
        measured=count_parameters(_gpt2_small(tied=True)),
        expected=gpt_parameters(layers=12, d_model=768, vocab=50257, context=1024),
        comparison="equal",
        derivation="formula: L(12d² + 13d) + (V + context)·d + 2d with a tied output layer",
        counterfactual="a separate (untied) output projection",
        counterfactual_measured=count_parameters(_gpt2_small(tied=False)),
        unit="parameters",
    )


def _loss_gradients(model: _TinyGPT, ids: torch.Tensor) -> None:
    model.zero_grad()
    logits = model(ids[:, :-1])
    nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1)).backward()


def the_shared_matrix_gets_the_sum_of_both_gradients(seed: int = 0) -> Evidence:
    """With tying, ∂L/∂E is the embedding-use gradient plus the output-use gradient, which an untied copy
    of the same weights computes separately."""
    ids = torch.randint(20, (2, 7), generator=torch.Generator().manual_seed(1000 * seed + 1))
    tied = seeded_module(lambda: _TinyGPT(20, 8, 1, 8, 2, tied=True), seed=seed)
    untied = seeded_module(lambda: _TinyGPT(20, 8, 1, 8, 2, tied=False), seed=seed)
    untied.load_state_dict(tied.state_dict())  # identical values, now two separate Parameters
    _loss_gradients(tied, ids)
    _loss_gradients(untied, ids)
    both_uses = untied.tokens.weight.grad + untied.head.weight.grad
    return Evidence(
        measured=(tied.tokens.weight.grad - both_uses).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64; autograd accumulates the same two terms
        derivation="autograd on an untied copy with the same values: embedding grad + output grad",
        counterfactual="the embedding-use gradient alone (what an untied embedding would receive)",
        counterfactual_measured=(untied.tokens.weight.grad - both_uses).abs().max().item(),
        details={"tied: same tensor for both uses": tied.head.weight is tied.tokens.weight},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
