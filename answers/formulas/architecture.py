"""How many parameters an encoder-decoder Transformer core (``nn.Transformer``) has."""

from __future__ import annotations


def encoder_layer_parameters(d_model: int, d_ff: int) -> int:
    """Self-attention 4d² + 4d (Q, K, V, O with biases) + FFN 2·d·d_ff + d_ff + d + two LayerNorms 4d
    = 4d² + 2·d·d_ff + 9d + d_ff."""
    return 4 * d_model**2 + 2 * d_model * d_ff + 9 * d_model + d_ff


def decoder_layer_parameters(d_model: int, d_ff: int) -> int:
    """Self- and cross-attention 2·(4d² + 4d) + FFN 2·d·d_ff + d_ff + d + three LayerNorms 6d
    = 8d² + 2·d·d_ff + 15d + d_ff."""
    return 8 * d_model**2 + 2 * d_model * d_ff + 15 * d_model + d_ff


def nn_transformer_parameters(d_model: int, d_ff: int, encoder_layers: int, decoder_layers: int) -> int:
    """``nn.Transformer``: the layers plus one final LayerNorm (2d) after each stack. No embeddings,
    positional encodings or output projection; the number of heads does not change the count."""
    return (
        encoder_layers * encoder_layer_parameters(d_model, d_ff)
        + decoder_layers * decoder_layer_parameters(d_model, d_ff)
        + 4 * d_model
    )
