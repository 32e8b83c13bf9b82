"""Bytes per token of a quantised KV cache."""

from __future__ import annotations


def quantized_kv_bytes_per_token(layers: int, kv_heads: int, head_dim: int, bits: int, scale_bytes: int = 2) -> float:
    """K and V of one token in every layer and KV head, ``bits`` per element plus one scale per vector
    (per-token, per-head quantisation): 2 · layers · kv_heads · (head_dim · bits / 8 + scale_bytes)."""
    return 2 * layers * kv_heads * (head_dim * bits / 8 + scale_bytes)
