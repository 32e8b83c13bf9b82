"""Parameter count of a Llama-style decoder: GQA attention, SwiGLU FFN, RMSNorm, untied embeddings, no biases."""

from __future__ import annotations

from answers.formulas.heads import head_dim


def llama_parameters(layers: int, d_model: int, n_heads: int, kv_heads: int, d_ff: int, vocab: int) -> int:
    """Total parameters of a Llama / Mistral decoder.

    per layer: W_Q and W_O are d×d; W_K and W_V are d×(kv_heads·d_head) each (GQA); SwiGLU has gate, up
    and down, 3·d·d_ff; two RMSNorm gains, 2·d. Plus the input embedding and the untied output head,
    2·V·d, and the final RMSNorm, d. A width the heads do not divide is refused (``head_dim``), as the
    reference ``MultiHeadAttention`` refuses it, so the head size is always exact.
    """
    d_head = head_dim(d_model, n_heads)
    attention = 2 * d_model * d_model + 2 * d_model * kv_heads * d_head
    per_layer = attention + 3 * d_model * d_ff + 2 * d_model
    return layers * per_layer + 2 * vocab * d_model + d_model


def llama_non_embedding_share(layers: int, d_model: int, n_heads: int, kv_heads: int, d_ff: int, vocab: int) -> float:
    """Fraction of a Llama-style decoder's parameters outside the embedding and output matrices."""
    total = llama_parameters(layers, d_model, n_heads, kv_heads, d_ff, vocab)
    return 1 - 2 * vocab * d_model / total
