"""What an encoder-decoder keeps cached while decoding."""

from __future__ import annotations


def encoder_decoder_cache_bytes(
    layers: int,
    d_model: int,
    source_tokens: int,
    target_tokens: int,
    batch: int = 1,
    bytes_per_element: int = 2,
) -> int:
    """Decoder caches after ``target_tokens`` steps, per decoder layer K and V of width d_model: the
    cross-attention cache holds the source once (fixed), the self-attention cache one row per step:
    2 · layers · d_model · (source_tokens + target_tokens) · batch · bytes."""
    return 2 * layers * d_model * (source_tokens + target_tokens) * batch * bytes_per_element
