"""What actually limits a Transformer's context window.

BERT's and GPT-1's 512 tokens were the size of a learned position table: position 513 has no row, so the
model cannot run at all, whatever the compute budget, while a sinusoidal model runs at any length. At
512 tokens attention is a small share of the FLOPs. Today the binding limits are the trained position
range, the KV cache that grows linearly with the context, training data and the quadratic compute —
not the quadratic score memory, which tiled kernels removed.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers.evidence import Evidence
from answers.formulas.attention import attention_flops_share
from answers.formulas.kv_cache import kv_cache_bytes
from answers.reference import (
    DecoderBlock,
    EncoderLayer,
    KVCache,
    attend,
    attention_weights,
    randn,
    seeded_module,
    sinusoidal_encoding,
)

TABLE, D = 512, 16  # a BERT/GPT-1-sized learned position table, small width
LENGTHS = (256, 512, 513, 4096)  # the lengths we try to run
HEADS = 4


def _longest_that_runs(positions) -> int:
    """The longest of LENGTHS for which ``positions(n)`` returns (n, D) position vectors without an error."""
    longest = 0
    for n in LENGTHS:
        try:
            positions(n)
        except IndexError:
            break
        longest = n
    return longest


def learned_position_table_is_a_hard_length_limit() -> Evidence:
    """A learned table of 512 positions cannot embed token 513 (IndexError); sinusoidal encodings run at any length."""
    table = seeded_module(lambda: nn.Embedding(TABLE, D))
    return Evidence(
        measured=_longest_that_runs(lambda n: table(torch.arange(n))),
        expected=TABLE,
        comparison="equal",
        unit="tokens",
        derivation="definition: an embedding table has one row per trained position",
        counterfactual="sinusoidal encodings, computed from the position",
        counterfactual_measured=_longest_that_runs(lambda n: sinusoidal_encoding(n, D)),
    )


def _attention_share(d_model: int, n: int, *, attention_only: bool = False) -> float:
    """Measured share of a layer's forward FLOPs spent in QKᵀ and PV."""
    x = randn(1, n, d_model)
    q = x.view(1, n, HEADS, d_model // HEADS).transpose(1, 2)  # (1, h, n, d_head)
    with FlopCounterMode(display=False) as attention:
        attend(q, q, q)
    if attention_only:  # a "layer" that is nothing but attention
        return attention.get_total_flops() / attention.get_total_flops()
    layer = seeded_module(lambda: EncoderLayer(d_model, HEADS, 4 * d_model))
    with FlopCounterMode(display=False) as whole:
        layer(x)
    return attention.get_total_flops() / whole.get_total_flops()


def attention_is_a_tenth_of_the_compute_at_bert_length(d_model: int = 96, n: int = 64) -> Evidence:
    """At BERT-base's shape (n = 512, d = 768: n/d = 2/3) attention is n/(6d + n) = 1/10 of a layer's FLOPs;
    measured with FlopCounterMode on a layer of the same n/d ratio."""
    return Evidence(
        measured=_attention_share(d_model, n),
        expected=attention_flops_share(512, 768),
        comparison="rel",
        tolerance=1e-12,  # both are n/(6d + n) with n/d = 2/3: ratios of exact integer counts
        derivation="theory: 4n²d / (24nd² + 4n²d) = n/(6d + n) at n = 512, d = 768",
        counterfactual="a model that is attention only (the 'everything is quadratic' view)",
        counterfactual_measured=_attention_share(d_model, n, attention_only=True),
    )


def _cache_bytes_per_token(n: int) -> float:
    block = seeded_module(lambda: DecoderBlock(64, HEADS, 256))
    cache = KVCache()
    block(randn(1, n, 64, seed=2), cache=cache)
    return cache.nbytes() / n


def _score_bytes_per_token(n: int) -> float:
    q = randn(1, HEADS, n, 64 // HEADS, seed=3)
    weights = attention_weights(q, q)  # (1, h, n, n)
    return weights.numel() * weights.element_size() / n


def kv_cache_grows_linearly_with_the_context() -> Evidence:
    """The KV cache costs the same bytes for every token — 2·layers·kv_heads·d_head·bytes — so it grows
    linearly with the context (0.5 MiB per token for a Llama-2-7B-shaped model in fp16); a materialised
    score matrix costs more per token the longer the context."""
    lengths = (32, 64, 128)
    per_token = kv_cache_bytes(layers=1, kv_heads=HEADS, head_dim=64 // HEADS, tokens=1, bytes_per_element=8)
    return Evidence(
        measured=tuple(_cache_bytes_per_token(n) for n in lengths),
        expected=tuple(float(per_token) for _ in lengths),
        comparison="equal",
        unit="bytes per token",
        derivation="kv_cache_bytes formula: 2 · layers · kv_heads · head_dim · tokens · bytes",
        counterfactual="a materialised float64 score matrix (h·n² entries)",
        counterfactual_measured=tuple(_score_bytes_per_token(n) for n in lengths),
        details={
            "Llama-2-7B shape, fp16, bytes per token": kv_cache_bytes(32, 32, 128, 1),
            "Llama-2-7B shape, fp16, 4096 tokens": kv_cache_bytes(32, 32, 128, 4096),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
