"""How many parameters a Transformer layer's sublayers hold."""

from __future__ import annotations


def ffn_parameters(d_model: int, d_ff: int, bias: bool = True) -> int:
    """Position-wise FFN d → d_ff → d: weights 2·d·d_ff, plus biases d_ff + d."""
    return 2 * d_model * d_ff + (d_ff + d_model if bias else 0)


def layernorm_parameters(d_model: int) -> int:
    """LayerNorm: a gain and a bias per feature, 2·d."""
    return 2 * d_model


def rmsnorm_parameters(d_model: int) -> int:
    """RMSNorm: a gain per feature and no bias, d."""
    return d_model


def swiglu_ffn_parameters(d_model: int, d_ff: int) -> int:
    """SwiGLU FFN (Llama): gate, up (d → d_ff) and down (d_ff → d) projections, no biases: 3·d·d_ff."""
    return 3 * d_model * d_ff


def ffn_parameter_share(d_model: int, d_ff: int) -> float:
    """Fraction of an encoder layer's attention + FFN parameters (with biases) held by the FFN; ≈ 2/3 at d_ff = 4d."""
    ffn = ffn_parameters(d_model, d_ff)
    attention = 4 * d_model * d_model + 4 * d_model  # W_Q, W_K, W_V, W_O and their biases
    return ffn / (ffn + attention)
