"""Cross-attention: queries from the decoder, keys and values from the encoder's output.

Self-attention reads Q, K and V from one sequence. In cross-attention each target (decoder) position
asks a question of the source: its query meets the keys of the encoder memory, so the weight matrix is
target × source and the output keeps the decoder's length, whatever the source length.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import DecoderLayer, MultiHeadAttention, attention_weights, randn, seeded_module

D, HEADS, D_FF = 16, 2, 32
TGT, SRC = 3, 7  # decoder tokens, encoder (memory) tokens


def _layer() -> MultiHeadAttention:
    return seeded_module(lambda: MultiHeadAttention(D, HEADS), seed=1)


def _cross_weights(tgt: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
    """Per-head cross-attention weights (B, h, n_tgt, n_src): queries from ``tgt``, keys from ``memory``."""
    layer = _layer()
    q = layer.split_heads(layer.w_q(tgt), HEADS)
    k = layer.split_heads(layer.w_k(memory), HEADS)
    return attention_weights(q, k)


def _decoder_and_memory(src_len: int = SRC) -> tuple[torch.Tensor, torch.Tensor]:
    return randn(1, TGT, D, seed=2), randn(1, src_len, D, seed=3)


def cross_attention_weights_are_target_by_source() -> Evidence:
    """The weight matrix has one row per decoder token and one column per encoder token; each row is a
    probability distribution over the source."""
    tgt, memory = _decoder_and_memory()
    with torch.no_grad():
        weights = _cross_weights(tgt, memory)  # (1, h, 3, 7)
        swapped = _cross_weights(memory, tgt)  # queries from the encoder: (1, h, 7, 3)
    return Evidence(
        measured=tuple(weights.shape[-2:]),
        expected=(TGT, SRC),
        comparison="equal",
        derivation="definition: Q (n_tgt × d) times Kᵀ (d × n_src)",
        counterfactual="queries taken from the encoder, keys from the decoder",
        counterfactual_measured=tuple(swapped.shape[-2:]),
        details={"largest |row sum − 1|": (weights.sum(-1) - 1).abs().max().item()},
    )


@torch.no_grad()
def _output_lengths(queries_from_decoder: bool) -> tuple[int, ...]:
    layer, lengths = _layer(), []
    for src_len in (2, 7, 11):
        tgt, memory = _decoder_and_memory(src_len)
        out = layer(tgt, memory=memory) if queries_from_decoder else layer(memory, memory=tgt)
        lengths.append(out.shape[1])
    return tuple(lengths)


def output_has_the_decoder_length_whatever_the_source_length() -> Evidence:
    """For sources of 2, 7 and 11 tokens, the cross-attention output always has the decoder's 3 rows."""
    return Evidence(
        measured=_output_lengths(queries_from_decoder=True),
        expected=(TGT, TGT, TGT),
        comparison="equal",
        derivation="theory: one output row per query, and the queries are the decoder's",
        counterfactual="queries from the encoder (roles swapped)",
        counterfactual_measured=_output_lengths(queries_from_decoder=False),
    )


def _torch_decoder_layer() -> nn.TransformerDecoderLayer:
    return seeded_module(lambda: nn.TransformerDecoderLayer(D, HEADS, D_FF, dropout=0.0, batch_first=True), seed=4)


def _causal_tgt_mask(n: int) -> torch.Tensor:
    return nn.Transformer.generate_square_subsequent_mask(n, dtype=torch.float64)  # −∞ above the diagonal


@torch.no_grad()
def _decoder_positions_moved_by_memory(layer: nn.TransformerDecoderLayer) -> int:
    """Change encoder token 4 and count the decoder positions whose output changes at all."""
    tgt, memory = _decoder_and_memory()
    bumped = memory.clone()
    bumped[0, 4] += randn(D, seed=5)
    mask = _causal_tgt_mask(TGT)
    change = layer(tgt, bumped, tgt_mask=mask) - layer(tgt, memory, tgt_mask=mask)  # (1, 3, d)
    return int((change.abs().amax(-1) > 0).sum())


def every_decoder_output_depends_on_the_memory() -> Evidence:
    """In torch's ``nn.TransformerDecoderLayer``, changing one encoder token changes the output at every
    decoder position: each query gives every source key a positive weight."""
    layer = _torch_decoder_layer()
    no_cross = copy.deepcopy(layer)
    with torch.no_grad():  # remove the cross-attention sublayer: its output is exactly zero
        no_cross.multihead_attn.out_proj.weight.zero_()
        no_cross.multihead_attn.out_proj.bias.zero_()
    return Evidence(
        measured=_decoder_positions_moved_by_memory(layer),
        expected=TGT,
        comparison="equal",
        derivation="theory: softmax weights are strictly positive, so every target row mixes every source value",
        counterfactual="cross-attention sublayer removed (output projection zeroed)",
        counterfactual_measured=_decoder_positions_moved_by_memory(no_cross),
    )


class _SelfInsteadOfCross(DecoderLayer):
    """The classic confusion: the second attention reads the decoder's own states, not the memory."""

    def forward(self, x: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.norm1(x + self.self_attn(x, mask=mask))
        x = self.norm2(x + self.cross_attn(x, mask=mask))
        return self.norm3(x + self.ffn(x))


@torch.no_grad()
def _distance_from_torch(layer_class: type[DecoderLayer]) -> float:
    theirs = _torch_decoder_layer()
    mine = seeded_module(lambda: layer_class(D, HEADS, D_FF), seed=0).copy_from(theirs)
    tgt, memory = _decoder_and_memory()
    causal = torch.tril(torch.ones(TGT, TGT, dtype=torch.bool))  # True = may attend
    expected = theirs(tgt, memory, tgt_mask=_causal_tgt_mask(TGT))
    return (mine(tgt, memory, mask=causal) - expected).abs().max().item()


def reference_decoder_layer_matches_torch() -> Evidence:
    """The reference decoder layer (masked self-attention, cross-attention to the memory, FFN, each with
    Add & Norm), with weights copied from ``nn.TransformerDecoderLayer``, reproduces torch's output."""
    return Evidence(
        measured=_distance_from_torch(DecoderLayer),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only rounding differences between two orderings of the same sums
        derivation="torch's own nn.TransformerDecoderLayer (post-norm, dropout 0), float64",
        counterfactual="second attention reads the decoder states (self-attention) instead of the memory",
        counterfactual_measured=_distance_from_torch(_SelfInsteadOfCross),
    )


def figure_cross_attention_weights():
    """Cross-attention weights of one head: 3 decoder positions (rows) over 7 encoder positions (columns).
    Every row is a distribution over the whole source — no causal mask applies to the memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with torch.no_grad():
        weights = _cross_weights(*_decoder_and_memory())[0, 0]  # (3, 7)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    image = ax.imshow(weights.numpy(), cmap="viridis", vmin=0)
    ax.set_xlabel("encoder (source) position — keys and values")
    ax.set_ylabel("decoder (target) position — queries")
    ax.set_xticks(range(SRC))
    ax.set_yticks(range(TGT))
    ax.set_title("Cross-attention weights: target × source")
    fig.colorbar(image, ax=ax, label="weight")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
