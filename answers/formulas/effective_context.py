"""How much of one query's attention a single relevant key ("needle") keeps among many irrelevant ones."""

from __future__ import annotations

from answers.formulas._trace import exp


def needle_attention_mass(score_gap: float, tokens: int) -> float:
    """Softmax weight of one key scoring ``score_gap`` above ``tokens − 1`` equal distractors:
    e^Δ / (e^Δ + n − 1). It halves once n − 1 reaches e^Δ: the same key is diluted by a longer context."""
    return exp(score_gap) / (exp(score_gap) + tokens - 1)


def alibi_needle_attention_mass(score_gap: float, slope: float, distance: int) -> float:
    """The same weight under an ALiBi head of slope m, the needle ``distance`` tokens back in an unbounded
    past of equal distractors: e^(Δ − m·d) / (e^(Δ − m·d) − e^(−m·d) + 1 / (1 − e^(−m)))."""
    needle = exp(score_gap - slope * distance)
    others = 1 / (1 - exp(-slope)) - exp(-slope * distance)  # Σ_{j ≥ 0, j ≠ d} e^(−m·j)
    return needle / (needle + others)
