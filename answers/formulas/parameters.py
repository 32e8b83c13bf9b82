"""How many parameters a Transformer has: encoder–decoder (2017) and decoder-only (GPT) models."""

from __future__ import annotations


def attention_parameters(d_model: int) -> int:
    """One multi-head attention: W_Q, W_K, W_V, W_O of d×d plus their biases, 4d² + 4d (any head count)."""
    return 4 * d_model * d_model + 4 * d_model


def feed_forward_parameters(d_model: int, d_ff: int) -> int:
    """d → d_ff → d with biases: 2·d·d_ff + d_ff + d."""
    return 2 * d_model * d_ff + d_ff + d_model


def _encoder_layer(d_model: int, d_ff: int) -> int:
    """Self-attention + FFN + two LayerNorms (a gain and a bias each, 2d)."""
    return attention_parameters(d_model) + feed_forward_parameters(d_model, d_ff) + 2 * 2 * d_model


def _decoder_layer(d_model: int, d_ff: int) -> int:
    """Masked self-attention + cross-attention + FFN + three LayerNorms."""
    return 2 * attention_parameters(d_model) + feed_forward_parameters(d_model, d_ff) + 3 * 2 * d_model


def transformer_parameters(
    d_model: int = 512,
    encoder_layers: int = 6,
    decoder_layers: int = 6,
    d_ff: int = 2048,
    vocab: int = 37000,
    embedding_matrices: int = 1,
) -> int:
    """Encoder–decoder Transformer as in Vaswani et al. (2017): the layer stacks, one final LayerNorm per
    stack (as nn.Transformer has), and ``embedding_matrices`` vocab×d tables — 1 when the source
    embedding, target embedding and pre-softmax projection share one matrix (the paper), 3 if untied,
    0 for nn.Transformer alone. Sinusoidal positions have no parameters."""
    stacks = encoder_layers * _encoder_layer(d_model, d_ff)
    stacks += decoder_layers * _decoder_layer(d_model, d_ff)
    final_norms = 2 * 2 * d_model
    return stacks + final_norms + embedding_matrices * vocab * d_model


def gpt_parameters(layers: int, d_model: int, vocab: int, context: int, d_ff: int | None = None) -> int:
    """Decoder-only GPT with learned positions and an output layer tied to the token embedding.

    Per layer: attention 4d² + 4d, FFN 2·d·d_ff + d_ff + d, two LayerNorms 4d; with d_ff = 4d that is
    12d² + 13d. Plus token embeddings V·d, positions context·d and a final LayerNorm 2d:
    N = L(12d² + 13d) + (V + context)·d + 2d.
    """
    d_ff = 4 * d_model if d_ff is None else d_ff
    per_layer = attention_parameters(d_model) + feed_forward_parameters(d_model, d_ff) + 4 * d_model
    return layers * per_layer + (vocab + context) * d_model + 2 * d_model


def gpt_non_embedding_parameters(layers: int, d_model: int) -> int:
    """The rule of thumb 12·L·d²: the layer weight matrices only (Kaplan et al.'s N)."""
    return 12 * layers * d_model * d_model
