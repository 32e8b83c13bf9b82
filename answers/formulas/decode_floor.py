"""The memory-bandwidth floor of one decoding step: every weight and every cached key/value is read once."""

from __future__ import annotations

from answers.formulas.kv_cache import kv_cache_bytes


def decode_step_bytes(
    weight_bytes: float,
    layers: int,
    kv_heads: int,
    head_dim: int,
    context_tokens: int,
    batch: int = 1,
    bytes_per_element: int = 2,
) -> float:
    """Bytes one decoding step must read: the weights once for the whole batch, plus each sequence's own
    KV cache of ``context_tokens`` tokens (2 · layers · kv_heads · head_dim · bytes per token)."""
    return weight_bytes + kv_cache_bytes(layers, kv_heads, head_dim, context_tokens, batch, bytes_per_element)


def decode_tokens_per_second_ceiling(
    parameters: float,
    layers: int,
    kv_heads: int,
    head_dim: int,
    context_tokens: int,
    batch: int,
    bandwidth_bytes_per_s: float,
    bytes_per_element: int = 2,
) -> float:
    """The most tokens per second a batch can generate when a step takes at least its bytes read over the
    memory bandwidth in bytes per second: batch / (decode_step_bytes / bandwidth)."""
    weight_bytes = parameters * bytes_per_element
    step = decode_step_bytes(weight_bytes, layers, kv_heads, head_dim, context_tokens, batch, bytes_per_element)
    return batch * bandwidth_bytes_per_s / step
