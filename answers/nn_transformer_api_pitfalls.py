"""What ``nn.Transformer`` is, and is not: the encoder-decoder core only, and unmasked unless told.

``nn.Transformer(d_model=512, nhead=8, 6, 6, 2048)`` holds the two layer stacks and their final
LayerNorms: no token embeddings, no positional encoding, no output projection. Its decoder applies no
causal mask unless ``tgt_mask`` is passed.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.architecture import (
    decoder_layer_parameters,
    encoder_layer_parameters,
    nn_transformer_parameters,
)
from answers.reference import count_parameters, randn, seeded_module

__all__ = ["decoder_layer_parameters", "encoder_layer_parameters", "nn_transformer_parameters"]

VOCAB = 37_000  # the paper's shared source/target BPE vocabulary (WMT 2014 English–German)


def _base_transformer() -> nn.Transformer:
    # The meta device allocates no memory: shapes only, enough to count 44 M parameters instantly.
    return nn.Transformer(512, 8, 6, 6, 2048, batch_first=True, device="meta")


def _paper_layout() -> nn.Module:
    """The 2017 paper's post-norm stacks built from torch's own layers: each layer already ends in a
    LayerNorm, and neither stack has a final one (``norm=None``)."""
    encoder_layer = nn.TransformerEncoderLayer(512, 8, 2048, batch_first=True, device="meta")
    decoder_layer = nn.TransformerDecoderLayer(512, 8, 2048, batch_first=True, device="meta")
    return nn.ModuleList([nn.TransformerEncoder(encoder_layer, 6), nn.TransformerDecoder(decoder_layer, 6)])


def _count_and_embeddings(module: nn.Module) -> tuple[int, int]:
    return count_parameters(module), sum(isinstance(m, nn.Embedding) for m in module.modules())


def nn_transformer_base_holds_only_the_layer_stacks() -> Evidence:
    """``nn.Transformer(512, 8, 6, 6, 2048)`` has exactly the parameters of 6 encoder layers, 6 decoder
    layers and a final LayerNorm after each stack, and no ``nn.Embedding`` at all. The final LayerNorms are
    torch's addition: the paper's post-norm stacks, built from the same torch layers, lack those 2,048."""
    return Evidence(
        measured=_count_and_embeddings(_base_transformer()),
        expected=(nn_transformer_parameters(512, 2048, 6, 6), 0),
        comparison="equal",
        unit="(parameters, embedding modules)",
        derivation="theory: 6·(4d² + 2d·d_ff + 9d + d_ff) + 6·(8d² + 2d·d_ff + 15d + d_ff) + 4d, and no embedding",
        counterfactual="the paper's post-norm stacks (torch's layers, no final LayerNorm after either stack)",
        counterfactual_measured=_count_and_embeddings(_paper_layout()),
        details={
            "encoder layer": encoder_layer_parameters(512, 2048),
            "decoder layer": decoder_layer_parameters(512, 2048),
            "children": ", ".join(name for name, _ in _base_transformer().named_children()),
            "a complete model adds the shared 37,000 × 512 embedding": VOCAB * 512,
        },
    )


_CONFIGS = ((16, 32, 1, 1), (24, 40, 2, 3), (32, 64, 3, 1), (8, 8, 0, 2), (40, 96, 2, 2))  # d, d_ff, E, D


def _torch_counts() -> list[int]:
    return [
        count_parameters(nn.Transformer(d, 2, enc, dec, d_ff, batch_first=True, device="meta"))
        for d, d_ff, enc, dec in _CONFIGS
    ]


def _formula_matches(counts: list[int], decoder_formula) -> int:
    """How many of the configurations the formula counts exactly."""
    matches = 0
    for (d, d_ff, enc, dec), count in zip(_CONFIGS, counts, strict=True):
        matches += count == enc * encoder_layer_parameters(d, d_ff) + dec * decoder_formula(d, d_ff) + 4 * d
    return matches


def layer_formulas_match_torch_for_other_sizes() -> Evidence:
    """The per-layer formulas count ``nn.Transformer`` exactly for five other widths and depths."""
    counts = _torch_counts()
    return Evidence(
        measured=_formula_matches(counts, decoder_layer_parameters),
        expected=len(_CONFIGS),
        comparison="equal",
        derivation="torch's own nn.Transformer, parameters counted one by one",
        counterfactual="decoder layer counted like an encoder layer (cross-attention and third LayerNorm forgotten)",
        counterfactual_measured=_formula_matches(counts, encoder_layer_parameters),
    )


def _inputs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    return randn(1, 5, 16, seed=seed + 2), randn(1, 6, 16, seed=seed + 3)  # (src, tgt)


def _change_at_first_target_position(model: nn.Transformer, tgt_mask: torch.Tensor | None, seed: int) -> float:
    """Change target token 5 and measure how much the decoder output at position 0 moves."""
    src, tgt = _inputs(seed)
    bumped = tgt.clone()
    bumped[0, 5] += randn(16, seed=seed + 4)
    with torch.no_grad():
        change = model(src, bumped, tgt_mask=tgt_mask) - model(src, tgt, tgt_mask=tgt_mask)
    return change[0, 0].abs().max().item()


def decoder_is_not_causal_unless_tgt_mask_is_passed(seed: int = 0) -> Evidence:
    """With ``tgt_mask=generate_square_subsequent_mask(6)`` the output at target position 0 ignores
    target token 5; called without it, the decoder attends to the future."""
    model = _model(seed)
    mask = nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64)
    return Evidence(
        measured=_change_at_first_target_position(model, mask, seed),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # a masked score gets weight exp(−∞) = 0 exactly
        derivation="theory: a causal decoder's output 0 is a function of target token 0 only",
        counterfactual="model(src, tgt) called without tgt_mask",
        counterfactual_measured=_change_at_first_target_position(model, None, seed),
    )


@functools.cache  # built once per seed: both masking claims probe the same small model
def _model(seed: int) -> nn.Transformer:
    return seeded_module(lambda: nn.Transformer(16, 2, 2, 2, 32, dropout=0.0, batch_first=True), seed=seed + 1)


def _gap_to_unmasked_call(model: nn.Transformer, seed: int, **kwargs) -> float:
    """Largest difference between ``model(src, tgt, **kwargs)`` and the plain unmasked call."""
    src, tgt = _inputs(seed)
    with torch.no_grad():
        return (model(src, tgt, **kwargs) - model(src, tgt)).abs().max().item()


def _error_with_autograd_on(model: nn.Transformer, seed: int) -> str:
    try:
        model(*_inputs(seed), tgt_is_causal=True)
    except RuntimeError as error:
        return f"RuntimeError: {str(error).split('.')[0]}"
    return "accepted"


def tgt_is_causal_alone_builds_no_mask(seed: int = 0) -> Evidence:
    """``tgt_is_causal=True`` is only a hint that the ``tgt_mask`` passed is causal. Without a mask,
    under ``torch.no_grad()`` it is accepted silently and the output is exactly the unmasked one; with
    autograd on, torch refuses it."""
    model = _model(seed)
    mask = nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64)
    return Evidence(
        measured=_gap_to_unmasked_call(model, seed, tgt_is_causal=True),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # same computation, same order: bit-for-bit identical
        derivation="torch's own nn.Transformer called without any mask",
        counterfactual="a real causal tgt_mask passed",
        counterfactual_measured=_gap_to_unmasked_call(model, seed, tgt_mask=mask, tgt_is_causal=True),
        details={"same call with autograd on": _error_with_autograd_on(model, seed)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
