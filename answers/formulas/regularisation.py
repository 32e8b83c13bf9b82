"""Regularisation arithmetic: the loss floor of label smoothing."""

from __future__ import annotations

import math


def label_smoothing_loss_floor(classes: int, epsilon: float = 0.1) -> float:
    """Minimum cross-entropy against the smoothed target q = (1 − ε)·onehot + ε/V (PyTorch's convention):
    the entropy of q, reached when the prediction equals q.
    H(q) = −(1 − ε + ε/V)·ln(1 − ε + ε/V) − (V − 1)·(ε/V)·ln(ε/V)."""
    top, rest = 1 - epsilon + epsilon / classes, epsilon / classes
    return -top * math.log(top) - (classes - 1) * rest * math.log(rest)


def label_smoothing_optimal_logit_gap(classes: int, epsilon: float = 0.1) -> float:
    """At the optimum the softmax equals q, so the correct logit exceeds every other by ln(q_top / q_rest)."""
    return math.log((1 - epsilon + epsilon / classes) / (epsilon / classes))
