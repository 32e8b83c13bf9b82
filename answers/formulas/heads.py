"""Multi-head attention whiteboard numbers: parameters, head size, MLA cache, tied embeddings."""

from __future__ import annotations


def head_dim(d_model: int, heads: int) -> int:
    """d_k = d_model / h: the heads split the model width, they do not each get all of it."""
    if d_model % heads:
        raise ValueError("d_model must be divisible by the number of heads")
    return d_model // heads


def mha_parameters(d_model: int, heads: int = 8, bias: bool = True) -> int:
    """W_Q, W_K, W_V, W_O, each d_model × d_model (+ a bias of d_model): 4d² + 4d with biases, 4d²
    without. ``heads`` does not appear: h heads of size d/h together span exactly d columns."""
    head_dim(d_model, heads)  # only checks that the split is possible
    return 4 * d_model * d_model + (4 * d_model if bias else 0)


def full_width_heads_parameters(d_model: int, heads: int, bias: bool = True) -> int:
    """The mistaken design where every head gets d_k = d_model: Q, K, V become d × h·d and W_O h·d × d,
    4·h·d² weights (+ 3·h·d + d biases)."""
    return 4 * heads * d_model * d_model + ((3 * heads + 1) * d_model if bias else 0)


def mla_cache_bytes(layers: int, latent_dim: int, rope_dim: int, tokens: int, bytes_per_element: int = 2) -> int:
    """Multi-head latent attention (DeepSeek-V2) caches, per layer and token, one latent c_KV of size
    d_c shared by all heads plus one decoupled RoPE key of size d_R: layers·(d_c + d_R)·tokens·bytes."""
    return layers * (latent_dim + rope_dim) * tokens * bytes_per_element


def tied_embedding_saving(vocab: int, d_model: int) -> int:
    """Parameters saved by sharing the input embedding with the output projection: one V × d matrix."""
    return vocab * d_model
