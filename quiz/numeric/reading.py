"""Reading a typed answer: the approximate-sign, the number (``scanner``), then the suffix that scales it into the
question's unit ("GiB", "B params", "%", "million"), each liberty taken noted."""

from __future__ import annotations

import math
from dataclasses import dataclass

from quiz.numeric.scanner import MAX_ANSWER, AnswerFormatError, Scanner, shown
from quiz.numeric.units import (
    ALL_WORDS,
    BINARY,
    BYTE_WORDS,
    COUNT_SUFFIXES,
    DECIMAL,
    EXAMPLES,
    FLOP_WORDS,
    OTHER_CONVENTION,
)

_LARGEST = 1e300  # beyond any quantity a question asks (the largest is ~1e25 FLOPs)
_APPROX = ("~", "≈", "about ", "approx. ", "approx ", "approximately ", "around ", "roughly ", "ca. ", "circa ")


@dataclass(frozen=True)
class Reading:
    """A typed answer as understood: its value in the question's base unit, and every liberty taken reading it."""

    value: float
    notes: tuple[str, ...] = ()
    # The value had its prefix been meant in the other convention (64 KB read with K = 1024), when it has one.
    other_convention: float | None = None


def parse_quantity(text: str, unit: str) -> float:
    """The value of ``text`` in the base unit of ``unit`` (bytes, FLOPs, parameters…).

    Raises AnswerFormatError with a message saying what would be understood.
    """
    return read_quantity(text, unit).value


def read_quantity(text: str, unit: str) -> Reading:
    """The value of ``text`` and the notes on how it was read ("2,5 read as 2.5", "~ ignored")."""
    raw = " ".join(text.split())  # tabs, no-break and thin spaces become one plain space
    if len(raw) > MAX_ANSWER:
        raise AnswerFormatError(f"that is {len(text):,} characters; type just the number, like {EXAMPLES[unit]}")
    if not raw:
        raise AnswerFormatError(f"type a number, like {EXAMPLES[unit]}")
    notes: list[str] = []
    lower = raw.lower()
    for prefix in _APPROX:
        if lower.startswith(prefix):
            raw = raw[len(prefix) :].strip()
            notes.append(f"read '{prefix.strip()}' as 'about'; graded as the number itself")
            break
    scanner = Scanner(raw, unit)
    value = scanner.expression()
    rest = raw[scanner.pos :].strip()
    notes += scanner.notes
    if not math.isfinite(value) or abs(value) > _LARGEST:
        raise AnswerFormatError(f"'{shown(raw)}' is out of range for an answer here")
    factor, unit_notes = _scale(rest, unit, raw)
    other = OTHER_CONVENTION.get(factor)
    value *= factor
    if not math.isfinite(value) or abs(value) > _LARGEST:
        raise AnswerFormatError(f"'{shown(raw)}' is out of range for an answer here")
    return Reading(value, tuple(notes + unit_notes), value / factor * other if other else None)


def _scale(rest: str, unit: str, raw: str) -> tuple[float, list[str]]:
    """The factor a suffix such as 'GiB', 'B params', 'TFLOPs', '%' or 'million' stands for, and what was assumed."""
    words = rest.replace("-", " ").split()
    if not words:
        return 1.0, []
    if rest == "%":
        if unit != "ratio":
            raise AnswerFormatError(f"'%' only makes sense for a ratio; this answer is in {unit}")
        return 0.01, []
    joined = " ".join(words).lower()
    if joined in ALL_WORDS and ALL_WORDS[joined] == unit:
        return 1.0, []
    # The last word may name the unit ("params", "FLOPs", "tokens"); it must be this question's unit.
    last = words[-1].lower()
    # For counts "B" is a billion ("175B"), so it names the unit only in a question about bytes.
    if last in ALL_WORDS and not (last == "b" and unit != "bytes"):
        named = ALL_WORDS[last]
        if named != unit and not (unit == "count" and named in ("parameters", "tokens")):
            raise AnswerFormatError(f"'{shown(words[-1])}' is a unit of {named}, but this answer is in {unit}")
        words = words[:-1]
        if not words:
            return 1.0, []
    if len(words) != 1:
        raise AnswerFormatError(
            f"cannot read '{shown(raw)}'; put one multiplier after the number, like {EXAMPLES[unit]}"
        )
    word = words[0]
    lower = word.lower()
    if unit == "bytes":
        return _bytes_factor(word, lower)
    if unit == "FLOPs" and "flop" in lower and lower.endswith(("flop", "flops")):
        prefix = lower[: lower.index("flop")]
        if prefix in DECIMAL:
            return DECIMAL[prefix], []
        if prefix in FLOP_WORDS:
            return FLOP_WORDS[prefix], []
    if lower in COUNT_SUFFIXES:
        return COUNT_SUFFIXES[lower], []
    if lower.endswith("ib") and lower[:-1] in BINARY:
        raise AnswerFormatError(f"'{shown(word)}' is a size in bytes, but this answer is in {unit}")
    raise AnswerFormatError(
        f"unknown multiplier '{shown(word)}'; use K, M, B (billion), T or Ki (×1024), or forms like {EXAMPLES[unit]}"
    )


def _bytes_factor(word: str, lower: str) -> tuple[float, list[str]]:
    singular = lower[:-1] if lower.endswith("s") else lower
    if singular in BYTE_WORDS:
        return float(BYTE_WORDS[singular]), []
    if singular in ("bit", "kilobit", "megabit", "gigabit", "terabit") or (
        len(word) >= 2 and word.endswith("b") and word[-2] != "i" and word[:-1].lower() in DECIMAL and word[0].isupper()
    ):
        prefix = {"bit": 1, "kilobit": 1e3, "megabit": 1e6, "gigabit": 1e9, "terabit": 1e12}.get(singular)
        size = prefix if prefix is not None else DECIMAL[word[:-1].lower()]
        return size / 8, [f"read '{shown(word)}' as bits (÷ 8); write B for bytes"]
    if len(word) == 3 and word.endswith("ib") and word[0].isupper():  # "Gib" is gibibits
        return BINARY[lower[:2]] / 8 if lower[:2] in BINARY else 0, [f"read '{word}' as bits (÷ 8); write B"]
    if lower.endswith("ib") and lower[:-1] in BINARY:
        return float(BINARY[lower[:-1]]), []
    if lower in BINARY:
        return float(BINARY[lower]), []
    if lower.endswith("b") and lower[:-1] in DECIMAL:
        return DECIMAL[lower[:-1]], []
    if lower in DECIMAL:
        return DECIMAL[lower], []
    raise AnswerFormatError(f"unknown size '{shown(word)}'; use B, kB/MB/GB/TB (×1000) or KiB/MiB/GiB/TiB (×1024)")
