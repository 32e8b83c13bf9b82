"""Encoder-only, decoder-only, encoder-decoder: three ways to wire the same layers.

An encoder-only model (BERT) lets every token see both sides; a decoder-only model (GPT, Llama) is the
same kind of layer with a causal mask and no cross-attention; an encoder-decoder (T5, BART) joins a
bidirectional encoder to a causal decoder through cross-attention. The dependency patterns show it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import DecoderBlock, causal_mask, count_parameters, randn, seeded_module

N, D, HEADS, D_FF = 6, 16, 2, 32
SRC = 5


def _influence(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """(n_out, n_in): how far output i moves when input token j is perturbed (0 = no dependence)."""
    with torch.no_grad():
        base = fn(x)
        columns = []
        for j in range(x.shape[1]):
            bumped = x.clone()
            bumped[0, j] += randn(x.shape[-1], seed=1000 * seed + 100 + j)
            columns.append((fn(bumped) - base)[0].abs().amax(-1))  # (n_out,)
    return torch.stack(columns, dim=1)


@functools.cache  # one seeded layer per seed, shared by the claims and the figure; never modified
def _encoder_layer(seed: int) -> nn.TransformerEncoderLayer:
    return seeded_module(
        lambda: nn.TransformerEncoderLayer(D, HEADS, D_FF, dropout=0.0, batch_first=True), seed=1000 * seed + 1
    )


def _layer_influence(causal: bool, seed: int = 0) -> torch.Tensor:
    mask = ~causal_mask(N) if causal else None  # torch masks where True
    layer = _encoder_layer(seed)
    return _influence(lambda x: layer(x, src_mask=mask), randn(1, N, D, seed=1000 * seed + 2), seed)


def encoder_only_outputs_see_both_directions(seed: int = 0) -> Evidence:
    """Without a mask (BERT-style) every output depends on every input token: all n² pairs."""
    return Evidence(
        measured=int((_layer_influence(causal=False, seed=seed) > 0).sum()),
        expected=N * N,
        comparison="equal",
        derivation="theory: unmasked softmax weights are strictly positive, so all n² pairs connect",
        counterfactual="the same layer with a causal mask",
        counterfactual_measured=int((_layer_influence(causal=True, seed=seed) > 0).sum()),
    )


def decoder_only_outputs_see_only_the_past(seed: int = 0) -> Evidence:
    """With a causal mask (GPT-style) output i depends on exactly the inputs j ≤ i: the dependency
    pattern is the lower triangle, diagonal included."""

    def mismatches(causal: bool) -> int:
        return int(((_layer_influence(causal, seed) > 0) != causal_mask(N)).sum())

    return Evidence(
        measured=mismatches(causal=True),
        expected=0,
        comparison="equal",
        derivation="definition: the lower triangle of an n×n matrix, diagonal included",
        counterfactual="no mask (bidirectional, encoder-style)",
        counterfactual_measured=mismatches(causal=False),
    )


def _gpt_block_distance(mask: torch.Tensor | None, seed: int) -> tuple[float, int, int]:
    """Distance between the reference GPT block and a pre-norm GELU encoder layer given ``mask``."""
    torch_layer = seeded_module(
        lambda: nn.TransformerEncoderLayer(
            D, HEADS, D_FF, dropout=0.0, activation="gelu", norm_first=True, batch_first=True
        ),
        seed=1000 * seed + 3,
    )
    block = seeded_module(lambda: DecoderBlock(D, HEADS, D_FF, activation="gelu"), seed=seed)
    with torch.no_grad():
        block.attn.copy_from(torch_layer.self_attn)
        block.ffn.up.load_state_dict(torch_layer.linear1.state_dict())
        block.ffn.down.load_state_dict(torch_layer.linear2.state_dict())
        block.norm1.load_state_dict(torch_layer.norm1.state_dict())
        block.norm2.load_state_dict(torch_layer.norm2.state_dict())
        x = randn(1, N, D, seed=1000 * seed + 4)
        distance = (block(x) - torch_layer(x, src_mask=mask)).abs().max().item()
    return distance, count_parameters(block), count_parameters(torch_layer)


def decoder_only_block_is_an_encoder_layer_with_a_causal_mask(seed: int = 0) -> Evidence:
    """A GPT-style block (pre-norm causal self-attention + FFN, no cross-attention) is exactly torch's
    encoder layer with a causal mask: same parameters, same outputs."""
    masked, block_params, layer_params = _gpt_block_distance(~causal_mask(N), seed)
    unmasked, _, _ = _gpt_block_distance(None, seed)
    decoder_layer = nn.TransformerDecoderLayer(D, HEADS, D_FF, batch_first=True, device="meta")
    return Evidence(
        measured=masked,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="torch's own nn.TransformerEncoderLayer(norm_first=True, gelu) with a causal src_mask",
        counterfactual="the same encoder layer without the causal mask",
        counterfactual_measured=unmasked,
        details={
            "GPT block parameters": block_params,
            "nn.TransformerEncoderLayer parameters": layer_params,
            "nn.TransformerDecoderLayer parameters (has cross-attention)": count_parameters(decoder_layer),
        },
    )


@functools.cache
def _seq2seq(seed: int) -> nn.Transformer:
    return seeded_module(
        lambda: nn.Transformer(D, HEADS, 1, 1, D_FF, dropout=0.0, batch_first=True), seed=1000 * seed + 5
    )


def _seq2seq_dependencies(tgt_mask: torch.Tensor | None, seed: int) -> tuple[int, int]:
    """(source pairs, target pairs) on which the decoder's outputs depend."""
    model, src, tgt = _seq2seq(seed), randn(1, SRC, D, seed=1000 * seed + 6), randn(1, N, D, seed=1000 * seed + 7)
    on_source = _influence(lambda s: model(s, tgt, tgt_mask=tgt_mask), src, seed)  # (N, SRC)
    on_target = _influence(lambda t: model(src, t, tgt_mask=tgt_mask), tgt, seed)  # (N, N)
    return int((on_source > 0).sum()), int((on_target > 0).sum())


def encoder_decoder_sees_all_the_source_and_only_the_target_past(seed: int = 0) -> Evidence:
    """In an encoder-decoder, each decoder output depends on every source token (through
    cross-attention) and on the target tokens up to its own position only."""
    mask = nn.Transformer.generate_square_subsequent_mask(N, dtype=torch.float64)
    return Evidence(
        measured=_seq2seq_dependencies(mask, seed),
        expected=(N * SRC, N * (N + 1) // 2),
        comparison="equal",
        derivation="theory: cross-attention is unmasked (n_tgt·n_src), self-attention causal (n(n+1)/2)",
        counterfactual="decoder called without tgt_mask",
        counterfactual_measured=_seq2seq_dependencies(None, seed),
    )


def figure_dependency_patterns():
    """Which input token each output depends on (how far it moves when that input is perturbed), for one
    encoder layer without a mask (BERT-style, full) and with a causal mask (GPT-style, lower triangle).
    Colour is log₁₀ of the change; white cells are exactly zero."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(6, 3.5))
    for ax, causal, title in ((axes[0], False, "encoder-only (no mask)"), (axes[1], True, "decoder-only (causal)")):
        influence = _layer_influence(causal).numpy()
        # log scale so weak off-diagonal dependence shows; exact zeros (no dependence) stay white
        shown = np.ma.masked_where(influence == 0, np.log10(np.maximum(influence, 1e-300)))
        ax.imshow(shown, cmap="viridis")
        ax.set_title(title)
        ax.set_xlabel("input token j")
        ax.set_ylabel("output position i")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
