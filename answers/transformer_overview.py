"""The Transformer end to end: components, wiring, and why it scales.

Token embeddings plus positional encodings enter a stack of encoder layers (self-attention and a
position-wise FFN, each with a residual connection and LayerNorm). Every decoder layer runs masked
self-attention over the target, cross-attention to the FINAL encoder output, and an FFN; a linear
layer and a softmax turn the last decoder state into next-token probabilities. The same block, widened
and deepened, is what grows from 100 M to 100 B+ parameters.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import (
    DecoderBlock,
    DecoderLayer,
    EncoderLayer,
    causal_mask,
    count_parameters,
    randn,
    seeded_module,
    sinusoidal_encoding,
)

D_MODEL, N_HEADS, D_FF, N_LAYERS, N_SRC, N_TGT, VOCAB = 32, 4, 64, 2, 7, 5, 50


def _torch_transformer(seed: int = 0) -> nn.Transformer:
    return seeded_module(
        lambda: nn.Transformer(D_MODEL, N_HEADS, N_LAYERS, N_LAYERS, D_FF, dropout=0.0, batch_first=True), seed=seed
    )


def _embed(tokens: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Token embedding × √d plus the sinusoidal position encoding (added, not concatenated)."""
    return table[tokens] * math.sqrt(D_MODEL) + sinusoidal_encoding(tokens.shape[-1], D_MODEL)


def _inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    table = randn(VOCAB, D_MODEL, seed=seed + 5) / math.sqrt(D_MODEL)  # one shared (tied) embedding matrix
    src = torch.randint(VOCAB, (1, N_SRC), generator=torch.Generator().manual_seed(seed + 1))
    tgt = torch.randint(VOCAB, (1, N_TGT), generator=torch.Generator().manual_seed(seed + 2))
    return table, src, tgt


@torch.no_grad()
def _hand_pipeline(model: nn.Transformer, src: torch.Tensor, tgt: torch.Tensor, *, layerwise: bool = False):
    """Encoder stack → final norm → every decoder layer reads that memory (or, if ``layerwise``, the
    output of the encoder layer with the same index — a common misdrawing)."""
    encoders = [seeded_module(lambda: EncoderLayer(D_MODEL, N_HEADS, D_FF)).copy_from(t) for t in model.encoder.layers]
    decoders = [seeded_module(lambda: DecoderLayer(D_MODEL, N_HEADS, D_FF)).copy_from(t) for t in model.decoder.layers]
    x, per_layer = src, []
    for layer in encoders:
        x = layer(x)
        per_layer.append(x)
    memory = model.encoder.norm(x)
    y = tgt
    for i, layer in enumerate(decoders):
        y = layer(y, per_layer[i] if layerwise else memory, mask=causal_mask(tgt.shape[1]))
    return model.decoder.norm(y)


def hand_pipeline_reproduces_nn_transformer(seed: int = 0) -> Evidence:
    """Given the embedded inputs (nn.Transformer takes vectors, not token ids, so both sides get the same
    embeddings + PE): encoder layers → final memory → decoder layers (masked self-attention,
    cross-attention, FFN) reproduces nn.Transformer with a causal target mask."""
    model, (table, src, tgt) = _torch_transformer(seed), _inputs(seed)
    src_x, tgt_x = _embed(src, table), _embed(tgt, table)
    with torch.no_grad():
        torch_out = model(
            src_x, tgt_x, tgt_mask=nn.Transformer.generate_square_subsequent_mask(N_TGT, dtype=torch.float64)
        )
    logits = _hand_pipeline(model, src_x, tgt_x) @ table.T  # output layer tied to the embedding
    return Evidence(
        measured=(_hand_pipeline(model, src_x, tgt_x) - torch_out).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="torch's own implementation: nn.Transformer (post-norm, dropout 0, causal tgt_mask)",
        counterfactual="decoder layer ℓ reads encoder layer ℓ's output instead of the final memory",
        counterfactual_measured=(_hand_pipeline(model, src_x, tgt_x, layerwise=True) - torch_out).abs().max().item(),
        details={"max |row sum − 1| of softmax(logits)": (logits.softmax(-1).sum(-1) - 1).abs().max().item()},
    )


def the_decoder_sees_the_whole_source_but_only_the_target_prefix(seed: int = 0) -> Evidence:
    """Changing the LAST source token changes the decoder's first output (cross-attention reads the
    whole source); changing the last target token does not (masked self-attention)."""
    model, (table, src, tgt) = _torch_transformer(seed), _inputs(seed)
    src_x, tgt_x = _embed(src, table), _embed(tgt, table)
    src_changed, tgt_changed = src_x.clone(), tgt_x.clone()
    src_changed[0, -1] += 1.0
    tgt_changed[0, -1] += 1.0

    @torch.no_grad()
    def first_output_moves(mask: torch.Tensor | None) -> tuple[bool, bool]:
        base = model(src_x, tgt_x, tgt_mask=mask)[0, 0]
        by_src = (model(src_changed, tgt_x, tgt_mask=mask)[0, 0] - base).abs().max().item()
        by_tgt = (model(src_x, tgt_changed, tgt_mask=mask)[0, 0] - base).abs().max().item()
        return by_src > 0, by_tgt > 0  # (moved by the last source token, by the last target token)

    mask = nn.Transformer.generate_square_subsequent_mask(N_TGT, dtype=torch.float64)
    return Evidence(
        measured=first_output_moves(mask),
        expected=(True, False),
        comparison="equal",
        derivation="theory: cross-attention is unmasked; target position 0 may attend only to itself",
        counterfactual="nn.Transformer called without tgt_mask (it applies none by default)",
        counterfactual_measured=first_output_moves(None),
    )


def stacks_of_the_same_block_scale_as_12_l_d_squared(layers: int = 96, d_model: int = 12288) -> Evidence:
    """A GPT-style stack of L identical blocks (d_ff = 4d) has ≈ 12·L·d² parameters: at GPT-3's L = 96,
    d = 12,288 that is 174 B with no change to the block."""

    def stack_parameters(d_ff: int) -> int:
        with torch.device("meta"):  # shapes only: 175 B parameters without allocating any
            block = DecoderBlock(d_model, 96, d_ff)
        return layers * count_parameters(block)

    return Evidence(
        measured=stack_parameters(4 * d_model),
        expected=12 * layers * d_model**2,
        comparison="rel",
        tolerance=1e-3,  # biases and LayerNorms add 13·L·d, a 13/(12d) ≈ 1e-4 fraction
        derivation="theory: attention 4d² + FFN 2·d·4d = 12d² weights per block",
        counterfactual="FFN without the 4× expansion (d_ff = d)",
        counterfactual_measured=stack_parameters(d_model),
        unit="parameters",
        details={"GPT-2 small stack, L=12, d=768": 12 * count_parameters(_meta_block(768))},
    )


def _meta_block(d_model: int) -> DecoderBlock:
    with torch.device("meta"):
        return DecoderBlock(d_model, 12, 4 * d_model)


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
