"""How many scores and FLOPs attention costs."""

from __future__ import annotations


def attention_score_count(tokens: int, causal: bool = False) -> int:
    """Query–key scores one head computes in one layer: n², or n(n+1)/2 that a causal mask leaves."""
    return tokens * (tokens + 1) // 2 if causal else tokens * tokens


def attention_matmul_flops(tokens: int, d_model: int) -> int:
    """FLOPs of QKᵀ and of PV over all heads of one layer: 2·n²·d each (a multiply and an add per
    term), 4·n²·d in all. Independent of the number of heads, since h·d_head = d_model."""
    return 4 * tokens * tokens * d_model


def attention_score_bytes(tokens: int, heads: int = 1, bytes_per_element: int = 2) -> int:
    """Bytes of materialised n×n score matrices for ``heads`` heads of one layer."""
    return tokens * tokens * heads * bytes_per_element


def layer_flops(tokens: int, d_model: int, d_ff: int | None = None) -> int:
    """Forward FLOPs of one encoder/decoder layer on ``tokens`` tokens (matmuls only, 2 per multiply-add):

    Q, K, V, O projections 4·(2·n·d²) + FFN 2·(2·n·d·d_ff) + attention 4·n²·d.
    With d_ff = 4·d that is 24·n·d² + 4·n²·d. Softmax, norms and biases are O(n·d) or O(h·n²) and left out.
    """
    d_ff = 4 * d_model if d_ff is None else d_ff
    projections = 8 * tokens * d_model * d_model
    ffn = 4 * tokens * d_model * d_ff
    return projections + ffn + attention_matmul_flops(tokens, d_model)


def context_doubling_ratio(tokens: int, d_model: int) -> float:
    """How many times more FLOPs a layer (d_ff = 4·d) costs at 2n tokens than at n:
    (48·n·d² + 16·n²·d) / (24·n·d² + 4·n²·d) = 2·(6d + 2n) / (6d + n). It is 4 only when n ≫ 6d."""
    return layer_flops(2 * tokens, d_model) / layer_flops(tokens, d_model)


def attention_flops_share(tokens: int, d_model: int) -> float:
    """Fraction of a layer's FLOPs (d_ff = 4·d) spent on QKᵀ and PV: 4n²d / (24nd² + 4n²d) = n / (6d + n)."""
    return attention_matmul_flops(tokens, d_model) / layer_flops(tokens, d_model)
