"""Inference caching in an encoder-decoder: two caches per decoder layer, one fixed and one growing.

The encoder runs once over the source. Each decoder layer's cross-attention projects that memory to keys
and values once and keeps them for every step: n_src rows, whatever the number of generated tokens. Its
masked self-attention caches the keys and values of the target tokens generated so far, one row per step,
exactly like a decoder-only model. Both are needed: the cross cache alone loses the target history.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.encoder_decoder import encoder_decoder_cache_bytes
from answers.reference import DecoderLayer, KVCache, attend, randn, seeded_module

__all__ = ["encoder_decoder_cache_bytes"]

D, HEADS, D_FF, LAYERS, SRC, TGT, BATCH = 32, 4, 64, 2, 9, 6, 2


def _torch_transformer() -> nn.Transformer:
    return nn.Transformer(D, HEADS, LAYERS, LAYERS, D_FF, dropout=0.0, batch_first=True)


def _model_and_inputs(seed: int) -> tuple[nn.Transformer, torch.Tensor, torch.Tensor]:
    model = seeded_module(_torch_transformer, seed=seed)
    return model, randn(BATCH, SRC, D, seed=seed + 1), randn(BATCH, TGT, D, seed=seed + 2)


def _merge(layer, heads: torch.Tensor) -> torch.Tensor:
    batch, _, n, _ = heads.shape
    return layer.w_o(heads.transpose(1, 2).reshape(batch, n, D))


@torch.no_grad()
def _incremental(seed: int, self_cache: bool = True, cross_appended_each_step: bool = False):
    """Decode TGT steps one token at a time through reference DecoderLayers holding torch's weights. The
    memory's K/V are projected once into a cross cache; the target's K/V go into a self cache. Returns the
    per-step outputs (B, TGT, D) and the (self, cross) cache bytes after each step."""
    model, src, tgt = _model_and_inputs(seed)
    memory = model.encoder(src)  # the encoder runs once
    layers = [DecoderLayer(D, HEADS, D_FF).to(torch.float64).copy_from(t) for t in model.decoder.layers]
    self_caches, cross_caches = [KVCache() for _ in layers], [KVCache() for _ in layers]
    for layer, cross in zip(layers, cross_caches, strict=True):
        attn = layer.cross_attn
        cross.append(attn.split_heads(attn.w_k(memory), HEADS), attn.split_heads(attn.w_v(memory), HEADS))
    outputs, sizes = [], []
    for t in range(TGT):
        x = tgt[:, t : t + 1]
        for layer, own, cross in zip(layers, self_caches, cross_caches, strict=True):
            # one query sees every cached target token, so the causal mask is all True
            x = layer.norm1(x + layer.self_attn(x, cache=own if self_cache else KVCache()))
            if cross_appended_each_step and t > 0:  # the slip of treating the cross cache like the self cache
                cross.append(cross.keys[:, :, :SRC], cross.values[:, :, :SRC])
            q = layer.cross_attn.split_heads(layer.cross_attn.w_q(x), HEADS)
            x = layer.norm2(x + _merge(layer.cross_attn, attend(q, cross.keys, cross.values)))
            x = layer.norm3(x + layer.ffn(x))
        outputs.append(model.decoder.norm(x))
        sizes.append((sum(c.nbytes() for c in self_caches), sum(c.nbytes() for c in cross_caches)))
    return torch.cat(outputs, dim=1), sizes


@torch.no_grad()
def _torch_full_decoder(seed: int) -> torch.Tensor:
    model, src, tgt = _model_and_inputs(seed)
    mask = nn.Transformer.generate_square_subsequent_mask(TGT, dtype=torch.float64)
    return model.decoder(tgt, model.encoder(src), tgt_mask=mask, tgt_is_causal=True)


def cached_decoding_matches_nn_transformer(seed: int = 0) -> Evidence:
    """Decoding 6 tokens one at a time, with the memory's K/V projected once and the target's K/V cached,
    reproduces torch's nn.Transformer decoder run over the whole target with a causal mask; keeping only
    the cross cache (no self-attention cache) does not."""
    expected = _torch_full_decoder(seed)
    return Evidence(
        measured=(_incremental(seed)[0] - expected).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64
        derivation="torch's nn.Transformer: encoder, then decoder over all 6 targets with a causal tgt_mask",
        counterfactual="the cross-attention cache only: each step's self-attention sees no earlier target token",
        counterfactual_measured=(_incremental(seed, self_cache=False)[0] - expected).abs().max().item(),
    )


def self_cache_grows_per_step_and_cross_cache_is_fixed(seed: int = 0) -> Evidence:
    """Per step the self-attention caches grow by 2·L·d·B·bytes and the cross-attention caches not at all:
    after t steps the decoder holds 2·L·d·(n_src + t)·B·bytes. Re-appending the memory's K/V every step
    leaves the outputs unchanged (duplicated keys get equal shares) but grows the cross cache by n_src a step."""
    element = torch.zeros((), dtype=torch.float64).element_size()
    _, sizes = _incremental(seed)
    outputs, wasteful = _incremental(seed, cross_appended_each_step=True)
    return Evidence(
        measured=tuple(own + cross for own, cross in sizes),
        expected=tuple(encoder_decoder_cache_bytes(LAYERS, D, SRC, t, BATCH, element) for t in range(1, TGT + 1)),
        comparison="equal",
        derivation="formula encoder_decoder_cache_bytes: 2 · layers · d_model · (n_src + t) · batch · bytes",
        counterfactual="the memory's K/V appended to the cross cache again at every step",
        counterfactual_measured=tuple(own + cross for own, cross in wasteful),
        unit="bytes",
        details={
            "cross cache bytes, each step": str(sorted({cross for _, cross in sizes})),
            "re-appending: largest output change": (outputs - _incremental(seed)[0]).abs().max().item(),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
