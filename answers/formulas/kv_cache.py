"""How much memory the KV cache takes."""

from __future__ import annotations


def kv_cache_bytes(
    layers: int,
    kv_heads: int,
    head_dim: int,
    tokens: int,
    batch: int = 1,
    bytes_per_element: int = 2,
) -> int:
    """2 (K and V) · layers · KV heads · head size · tokens · batch · bytes per element."""
    return 2 * layers * kv_heads * head_dim * tokens * batch * bytes_per_element


def kv_cache_saving(query_heads: int, kv_heads: int) -> float:
    """How many times smaller the cache is with ``kv_heads`` shared K/V heads than with one per query head."""
    return query_heads / kv_heads
