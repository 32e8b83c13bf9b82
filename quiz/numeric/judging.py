"""Judging a value: right, a unit-convention slip, close (and by how much), or off by a factor the question explains."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quiz.numeric.reading import Reading


def close_enough(given: float, expected: float, tolerance: float) -> bool:
    """Within ``tolerance`` relative to the expected value (absolute when the expected value is 0)."""
    if not math.isfinite(given):
        return False
    if expected == 0:
        return abs(given) <= tolerance
    return abs(given - expected) <= tolerance * abs(expected)


@dataclass(frozen=True)
class Judgement:
    """``status`` is "right", "convention" (the right figure in the other unit convention: KB for KiB, 8K for
    8,192), "close" (within 10 %) or "wrong"; ``gap`` says in words how the answer differs, when it can."""

    status: str
    gap: str = ""


CLOSE = 0.10


def judge(
    given: float,
    expected: float,
    tolerance: float,
    params: dict[str, Any] | None = None,
    reading: Reading | None = None,
) -> Judgement:
    """How ``given`` compares with ``expected``: within tolerance, a unit-convention slip, close, or a named factor."""
    if close_enough(given, expected, tolerance):
        return Judgement("right")
    other = reading.other_convention if reading is not None else None
    if other is not None and close_enough(other, expected, tolerance):
        decimal = other > given
        convention = (
            "1000s (K, M, G = 10³, 10⁶, 10⁹); this answer counts in 1024s (Ki, Mi, Gi = 2¹⁰, 2²⁰, 2³⁰)"
            if decimal
            else "1024s (Ki, Mi, Gi); this answer counts in 1000s (K, M, G)"
        )
        return Judgement(
            "convention",
            f"the right figure in the other convention: your prefix counts in {convention}, "
            f"{abs(1 - given / expected):.1%} apart",
        )
    if expected == 0 or given == 0 or not math.isfinite(given):
        return Judgement("wrong")
    ratio = given / expected
    off = abs(ratio - 1)
    if off <= CLOSE:
        side = "over" if ratio > 1 else "under"
        return Judgement("close", f"close: {off:.1%} {side}; within {percent(tolerance)} counts as right")
    return Judgement("wrong", _factor(ratio, tolerance, params or {}))


def _factor(ratio: float, tolerance: float, params: dict[str, Any]) -> str:
    """The gap as a factor a candidate could have slipped on: a drawn parameter, a ratio of two, 2, 8, 10³ⁿ."""
    big, word = (ratio, "too large") if ratio > 1 else (1 / ratio, "too small")
    numeric = {k: v for k, v in params.items() if not isinstance(v, bool) and isinstance(v, int | float) and v > 1}
    candidates: list[tuple[float, str]] = [(v, f"{k} = {v:g}") for k, v in numeric.items()]
    for a, va in numeric.items():
        for b, vb in numeric.items():
            if a != b and va > vb:
                candidates.append((va / vb, f"{a}/{b} = {va / vb:g}"))
    candidates += [(2.0, "2"), (8.0, "8 (bits for bytes?)"), (1e3, "1000"), (1e6, "a million"), (1e9, "a billion")]
    for value, name in candidates:
        if value > 1 and close_enough(big, value, max(tolerance, 1e-9)):
            return f"{word} by a factor of exactly {name}"
    return f"{word} by a factor of {big:.3g}"


def percent(tolerance: float) -> str:
    """±1%, ±0.1%, ±2.5%: as many digits as the tolerance has (never ±0%)."""
    return f"±{tolerance * 100:.3g}%"
