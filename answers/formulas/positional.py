"""Position-encoding numbers: sinusoid wavelengths, RoPE rotation angles, ALiBi slopes."""

from __future__ import annotations

import math


def sinusoidal_wavelength(pair_index: int, d_model: int, base: float = 10000.0) -> float:
    """Period, in positions, of pair i of the sinusoidal encoding: 2π · base^(2i/d_model).

    Pair 0 repeats every 2π ≈ 6.28 positions; the last pair (i = d/2 − 1) every 2π · base^((d−2)/d)."""
    return 2 * math.pi * base ** (2 * pair_index / d_model)


def _rope_angle(position: int, pair_index: int, head_dim: int, base: float = 10000.0) -> float:
    """Rotation angle, in radians, RoPE applies to pair i at a position: position · base^(−2i/head_dim)."""
    return position * base ** (-2 * pair_index / head_dim)


def rope_slowest_pair_angle(position: int, head_dim: int, base: float = 10000.0) -> float:
    """Angle of the slowest-rotating RoPE pair (i = head_dim/2 − 1) at a position:
    position · base^(−(head_dim − 2)/head_dim). The largest angle that pair ever sees in a context of
    n tokens is this at position n − 1."""
    return _rope_angle(position, head_dim // 2 - 1, head_dim, base)


def rope_pairs_completing_a_turn(tokens: int, head_dim: int, base: float = 10000.0) -> int:
    """How many of the head_dim/2 RoPE pairs rotate through at least one full turn (2π) within a context
    of ``tokens`` positions (0 … tokens − 1). The others only ever see part of their circle."""
    return sum(_rope_angle(tokens - 1, i, head_dim, base) >= 2 * math.pi for i in range(head_dim // 2))


def ntk_scaled_base(base: float, scale: float, head_dim: int) -> float:
    """NTK-aware RoPE base for stretching the context ``scale`` times: base · scale^(d/(d−2)).

    Chosen so the slowest pair's angle shrinks exactly ``scale`` times (as with position interpolation),
    while the fastest pair (i = 0, θ = 1) is left untouched."""
    return base * scale ** (head_dim / (head_dim - 2))


def alibi_slope(head: int, heads: int) -> float:
    """ALiBi slope of head h = 1 … heads: 2^(−8h/heads) (1/2, 1/4, …, 1/256 for 8 heads)."""
    return 2.0 ** (-8.0 * head / heads)


def t5_relative_position_bucket(
    relative_position: int, bidirectional: bool = True, num_buckets: int = 32, max_distance: int = 128
) -> int:
    """T5's bucket for a key at ``relative_position`` = key − query (Hugging Face's ``_relative_position_bucket``,
    one scalar at a time). Bidirectional: half the buckets for keys to the right, half for the left or same
    position. Within a half of B buckets, distances below B/2 get a bucket each; larger ones share
    logarithmically wider buckets up to ``max_distance``, beyond which all fall in the last bucket."""
    bucket = 0
    if bidirectional:
        num_buckets //= 2
        if relative_position > 0:
            bucket += num_buckets
        distance = max(relative_position, -relative_position)  # abs(), in a form the working can trace
    else:  # a decoder sees only the past; later keys are masked and share bucket 0
        distance = max(-relative_position, 0)
    max_exact = num_buckets // 2
    if distance < max_exact:
        return bucket + distance
    spread = math.log(distance / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    return bucket + min(max_exact + int(spread), num_buckets - 1)
