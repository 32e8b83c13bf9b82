"""What actually limits a Transformer's context window.

BERT's and GPT-1's 512 tokens were the size of a learned position table: position 513 has no row, so the
model cannot run at all, whatever the compute budget, while a sinusoidal model runs at any length. The
table was kept short because long training sequences are expensive; at 512 tokens attention is a tenth of
a layer's FLOPs, but only because 512 is short: at 16× the length it is most of them. Today the binding
limits are the trained position range, the KV cache that grows linearly with the context, training data,
the quadratic compute, and how much of the advertised context the model actually uses.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.attention import attention_flops_share
from answers.formulas.kv_cache import kv_cache_bytes
from answers.reference import (
    DecoderBlock,
    EncoderLayer,
    KVCache,
    MultiHeadAttention,
    attend,
    attention_weights,
    count_flops,
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


def learned_position_table_is_a_hard_length_limit(seed: int = 0) -> Evidence:
    """A learned table of 512 positions cannot embed token 513 (IndexError); sinusoidal encodings run at any length."""
    table = seeded_module(lambda: nn.Embedding(TABLE, D), seed=seed)
    return Evidence(
        measured=_longest_that_runs(lambda n: table(torch.arange(n))),
        expected=TABLE,
        comparison="equal",
        unit="tokens",
        derivation="definition: an embedding table has one row per trained position",
        counterfactual="sinusoidal encodings, computed from the position",
        counterfactual_measured=_longest_that_runs(lambda n: sinusoidal_encoding(n, D)),
    )


def _attention_share(d_model: int, n: int, *, without_ffn: bool = False) -> float:
    """Share of a real encoder layer's forward FLOPs (FlopCounterMode) spent in QKᵀ and PV. Shape-only 'meta'
    tensors: FLOPs depend on shapes alone, and long contexts cost no arithmetic to count. ``without_ffn``
    divides by the attention sublayer alone (projections and scores), leaving the FFN out of the layer."""
    with torch.device("meta"):
        x = torch.empty(1, n, d_model)
        layer = MultiHeadAttention(d_model, HEADS) if without_ffn else EncoderLayer(d_model, HEADS, 4 * d_model)
    q = x.view(1, n, HEADS, d_model // HEADS).transpose(1, 2)  # (1, h, n, d_head)
    return count_flops(attend, q, q, q) / count_flops(layer, x)


def attention_is_a_tenth_of_the_compute_at_bert_length(d_model: int = 96, n: int = 64) -> Evidence:
    """At BERT-base's shape (n = 512, d = 768: n/d = 2/3) attention is n/(6d + n) = 1/10 of a layer's FLOPs,
    measured with FlopCounterMode on a layer of the same n/d ratio. It is small because 512 is short: the
    same layer at 16× the context (n/d = 32/3, 8,192 tokens at d = 768) spends 64 % of its FLOPs on attention."""
    lengths = (n, 16 * n)
    return Evidence(
        measured=tuple(_attention_share(d_model, length) for length in lengths),
        expected=(attention_flops_share(512, 768), attention_flops_share(16 * 512, 768)),
        comparison="equal",  # each side is a ratio of exact integer counts of the same rational number
        derivation="theory: 4n²d / (24nd² + 4n²d) = n/(6d + n) at d = 768, n = 512 and 8,192",
        counterfactual="the layer's FFN left out (attention sublayer only: 8nd² + 4n²d)",
        counterfactual_measured=tuple(_attention_share(d_model, length, without_ffn=True) for length in lengths),
        details={
            "measured share at 4× the context (2,048 tokens at d = 768)": _attention_share(d_model, 4 * n),
            "formula share at 2,048 tokens, d = 768": attention_flops_share(2048, 768),
            "BERT-base attention probabilities kept for backward, fp32, MiB": 12 * 12 * 512 * 512 * 4 / 2**20,
        },
    )


def _cache_bytes_per_token(n: int, seed: int) -> float:
    block = seeded_module(lambda: DecoderBlock(64, HEADS, 256), seed=seed)
    cache = KVCache()
    block(randn(1, n, 64, seed=seed + 1), cache=cache)
    return cache.nbytes() / n


def _score_bytes_per_token(n: int, seed: int) -> float:
    q = randn(1, HEADS, n, 64 // HEADS, seed=seed)
    weights = attention_weights(q, q)  # (1, h, n, n)
    return weights.numel() * weights.element_size() / n


def kv_cache_grows_linearly_with_the_context(seed: int = 0) -> Evidence:
    """The KV cache costs the same bytes for every token — 2·layers·kv_heads·d_head·bytes — so it grows
    linearly with the context (0.5 MiB per token for a Llama-2-7B-shaped model in fp16); a materialised
    score matrix costs more per token the longer the context."""
    lengths = (32, 64, 128)
    per_token = kv_cache_bytes(layers=1, kv_heads=HEADS, head_dim=64 // HEADS, tokens=1, bytes_per_element=8)
    return Evidence(
        measured=tuple(_cache_bytes_per_token(n, seed) for n in lengths),
        expected=tuple(float(per_token) for _ in lengths),
        comparison="equal",
        unit="bytes per token",
        derivation="kv_cache_bytes formula: 2 · layers · kv_heads · head_dim · tokens · bytes",
        counterfactual="a materialised float64 score matrix (h·n² entries)",
        counterfactual_measured=tuple(_score_bytes_per_token(n, seed) for n in lengths),
        details={
            "Llama-2-7B shape, fp16, bytes per token": kv_cache_bytes(32, 32, 128, 1),
            "Llama-2-7B shape, fp16, 4096 tokens": kv_cache_bytes(32, 32, 128, 4096),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
