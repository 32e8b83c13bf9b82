"""Dropout arithmetic: the scale inverted dropout applies to the activations it keeps."""

from __future__ import annotations


def inverted_dropout_scale(p: float) -> float:
    """Inverted dropout zeroes each activation with probability p and multiplies the survivors by 1/(1 − p), so the
    expectation is unchanged in training and evaluation is the identity (1.111 for the 2017 model's p = 0.1)."""
    return 1 / (1 - p)
