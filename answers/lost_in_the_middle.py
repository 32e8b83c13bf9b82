"""Nominal versus effective context: what a softmax and a position bias do to one relevant token.

A model accepts n tokens (nominal context), but one relevant key competes in the softmax with every other
key: its weight e^Δ / (e^Δ + n − 1) falls as the context grows. A recency bias (ALiBi, and on average
RoPE's decay) also lowers it with distance. These are mechanisms a CPU can measure. The U-shaped "lost in
the middle" curve of trained models (Liu et al. 2023) is a learned behaviour and is cited, not measured.
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.formulas.effective_context import alibi_needle_attention_mass, needle_attention_mass
from answers.reference import alibi_slopes, attention_weights, randn

__all__ = ["alibi_needle_attention_mass", "needle_attention_mass"]

D_HEAD, GAP = 16, 4.0  # the needle's score exceeds every distractor's by 4 (e^4 ≈ 55)
LENGTHS = (16, 56, 1024, 16384)
SLOPE_HEAD, HEADS = 8, 16  # ALiBi head 8 of 16: slope 2^(−8·8/16) = 1/16
ALIBI_N, DISTANCES = 1024, (0, 16, 40, 64, 256)


def _query_and_keys(n: int, needle_at: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A query, and n random keys made orthogonal to it (score 0) except the needle, which scores GAP."""
    q = randn(1, D_HEAD, seed=seed)
    keys = randn(n, D_HEAD, seed=seed + 1)
    keys -= (keys @ q.T) / (q @ q.T) * q  # remove the component along q: scores exactly 0 up to rounding
    keys[needle_at] += GAP * math.sqrt(D_HEAD) / (q @ q.T).item() * q[0]  # its scaled score q·k/√d is GAP
    return q, keys


def _needle_mass(n: int, seed: int, hard: bool = False) -> float:
    q, keys = _query_and_keys(n, n // 2, seed)  # the needle in the middle; without a position bias it does not matter
    weights = attention_weights(q, keys)[0]
    if hard:  # retrieval as an argmax: the best match takes all the attention
        weights = torch.nn.functional.one_hot(weights.argmax(), n).to(weights.dtype)
    return weights[n // 2].item()


def _largest_relative_gap(measured: list[float], expected: list[float]) -> float:
    return max(abs(m - e) / e for m, e in zip(measured, expected, strict=True))


def a_longer_context_dilutes_the_needle(seed: int = 0) -> Evidence:
    """A key scoring 4 above n − 1 equal distractors keeps e^4 / (e^4 + n − 1) of the attention: 0.78 at
    16 tokens, 0.5 at 56, 0.05 at 1,024 and 0.003 at 16,384, with nothing but the context length changed."""
    expected = [needle_attention_mass(GAP, n) for n in LENGTHS]
    measured = [_needle_mass(n, seed) for n in LENGTHS]
    return Evidence(
        measured=_largest_relative_gap(measured, expected),
        expected=0.0,
        comparison="abs",
        tolerance=1e-9,  # float64 softmax over up to 16,384 keys; the distractor scores are 0 to ~1e-16
        derivation="formula needle_attention_mass: e^Δ / (e^Δ + n − 1), at n = 16, 56, 1,024 and 16,384",
        counterfactual="hard (argmax) retrieval, the mental model of attention as an exact lookup",
        counterfactual_measured=_largest_relative_gap([_needle_mass(n, seed, hard=True) for n in LENGTHS], expected),
        unit="relative error",
        details={f"needle mass at n = {n}": m for n, m in zip(LENGTHS, measured, strict=True)},
    )


def _alibi_needle_mass(distance: int, seed: int, bias_scale: float = 1.0) -> float:
    """The last query's weight on a needle ``distance`` tokens back, through ALiBi head 8 of 16 (the
    reference slopes, bias −m·(i − j)) over 1,024 tokens."""
    q, keys = _query_and_keys(ALIBI_N, ALIBI_N - 1 - distance, seed)
    slope = alibi_slopes(HEADS)[SLOPE_HEAD - 1]  # 2^(−8·8/16) = 1/16
    distance_back = ALIBI_N - 1 - torch.arange(ALIBI_N, dtype=torch.float64)
    bias = -bias_scale * slope * distance_back  # the last row of −m·(i − j)
    scores = (q @ keys.T)[0] / math.sqrt(D_HEAD) + bias
    return torch.softmax(scores, -1)[ALIBI_N - 1 - distance].item()


def alibi_recency_bias_hides_a_distant_needle(seed: int = 0) -> Evidence:
    """Through an ALiBi head of slope 1/16, the same needle keeps 0.78 of the attention next to the query,
    0.55 at 16 tokens back, 0.21 at 40, 0.057 at 64 and 4e-7 at 256, as e^(Δ − m·d) over the geometric sum
    of the distractors predicts. Without the bias the needle would keep 0.05 at every distance."""
    expected = [alibi_needle_attention_mass(GAP, 1 / 16, d) for d in DISTANCES]
    measured = [_alibi_needle_mass(d, seed) for d in DISTANCES]
    return Evidence(
        measured=_largest_relative_gap(measured, expected),
        expected=0.0,
        comparison="abs",
        tolerance=1e-9,  # the formula's past is unbounded; 1,024 tokens leave out e^(−64) of it
        derivation="formula alibi_needle_attention_mass: e^(Δ − m·d) / (e^(Δ − m·d) − e^(−m·d) + 1/(1 − e^(−m)))",
        counterfactual="the same head without the ALiBi bias (content alone decides, the bias 'only breaks ties')",
        counterfactual_measured=_largest_relative_gap([_alibi_needle_mass(d, seed, 0.0) for d in DISTANCES], expected),
        unit="relative error",
        details={f"needle mass {d} tokens back": m for d, m in zip(DISTANCES, measured, strict=True)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
