"""Alternatives to softmax normalisation in attention."""

from __future__ import annotations

import math


def sigmoid_attention_bias(tokens: int) -> float:
    """The bias b = −log n of sigmoid attention (Ramapuram et al. 2024): σ(b) = 1/(n + 1), so a row of zero
    scores sums to n/(n + 1) ≈ 1 instead of n/2."""
    return -math.log(tokens)
