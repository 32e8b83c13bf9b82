"""Numeric answers: reading what a person types ("2 GiB", "175B params", "3.1e23 FLOPs"), checking it
against a formula's value within a relative tolerance, and drawing fresh configurations of a generated
question.

Pure Python and cheap to import: the formulas are imported only when a numeric question is asked.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from quiz.errors import QuizError

if TYPE_CHECKING:
    from quiz.cache import NumericView


class AnswerFormatError(QuizError):
    """A typed answer the quiz cannot read; the person is asked again rather than marked wrong."""


# Units as they appear in NumericQuestion.unit, with the words a person may type after the number.
UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "bytes": ("b", "byte", "bytes"),
    "FLOPs": ("flop", "flops"),
    "parameters": ("param", "params", "parameter", "parameters", "weights"),
    "count": (),
    "ratio": ("x", "×", "times"),
    "nats": ("nat", "nats"),
    "radians": ("rad", "rads", "radian", "radians"),
    "tokens": ("tok", "toks", "token", "tokens"),
}
_ALL_WORDS = {word: unit for unit, words in UNIT_WORDS.items() for word in words}

_BINARY = {"ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}
_DECIMAL = {"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15, "e": 1e18}
# For counts (parameters, tokens, FLOPs) "B" is a billion, as in "175B params"; for bytes it is the byte.
_COUNT_SUFFIXES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "g": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
    "p": 1e15,
    "quadrillion": 1e15,
}

_NUMBER = re.compile(
    r"""^\s*(?P<sign>[-+−]?)\s*
    (?P<mantissa>(?:\d[\d,_]*(?:\.\d*)?|\.\d+))
    (?:\s*(?:e|E)\s*(?P<exp>[-+−]?\d+)
      |\s*(?:[x×*·]\s*10\s*(?:\^|\*\*)\s*(?P<exp10>[-+−]?\d+)))?
    (?:\s*\^\s*(?P<power>\d+))?
    \s*(?P<rest>.*?)\s*$""",
    re.X,
)


def parse_quantity(text: str, unit: str) -> float:
    """The value of ``text`` in the base unit of ``unit`` (bytes, FLOPs, parameters…).

    Raises AnswerFormatError with a message saying what would be understood.
    """
    raw = text.strip()
    if not raw:
        raise AnswerFormatError("type a number, like 2 GiB, 175B or 3.1e23")
    match = _NUMBER.match(raw)
    if not match:
        raise AnswerFormatError(f"cannot read '{raw}' as a number; try forms like 2 GiB, 175B, 3.1e23 or 1,024")
    mantissa = match["mantissa"].replace(",", "").replace("_", "")
    try:
        value = float(mantissa)
    except ValueError:
        raise AnswerFormatError(f"cannot read '{match['mantissa']}' as a number") from None
    exponent = match["exp"] or match["exp10"]
    if exponent:
        value *= 10.0 ** int(exponent.replace("−", "-"))
    if match["power"]:
        value = value ** int(match["power"])  # "2^31"
    if match["sign"] in ("-", "−"):
        value = -value
    return value * _scale(match["rest"], unit, raw)


def _scale(rest: str, unit: str, raw: str) -> float:
    """The factor a suffix such as 'GiB', 'B params', 'TFLOPs', '%' or 'million' stands for."""
    words = rest.replace("-", " ").split()
    if not words:
        return 1.0
    if words == ["%"] or rest == "%":
        if unit != "ratio":
            raise AnswerFormatError(f"'%' only makes sense for a ratio; this answer is in {unit}")
        return 0.01
    # The last word may name the unit ("params", "FLOPs", "tokens"); it must be this question's unit.
    last = words[-1].lower()
    # For counts "B" is a billion ("175B"), so it names the unit only in a question about bytes.
    if last in _ALL_WORDS and not (last == "b" and unit != "bytes"):
        named = _ALL_WORDS[last]
        if named != unit and not (unit == "count" and named in ("parameters", "tokens")):
            raise AnswerFormatError(f"'{words[-1]}' is a unit of {named}, but this answer is in {unit}")
        words = words[:-1]
        if not words:
            return 1.0
    if len(words) != 1:
        raise AnswerFormatError(f"cannot read '{raw}'; put one multiplier after the number, like 2 GiB or 175B")
    word = words[0]
    lower = word.lower()
    if unit == "bytes":
        if lower.endswith("ib") and lower[:-1] in _BINARY:
            return float(_BINARY[lower[:-1]])
        if lower in _BINARY:
            return float(_BINARY[lower])
        if lower.endswith("b") and lower[:-1] in _DECIMAL:
            return _DECIMAL[lower[:-1]]
        if lower in _DECIMAL:
            return _DECIMAL[lower]
        raise AnswerFormatError(f"unknown size '{word}'; use B, kB/MB/GB/TB (×1000) or KiB/MiB/GiB/TiB (×1024)")
    if unit == "FLOPs" and lower.endswith(("flop", "flops")):
        prefix = lower[: lower.index("flop")]
        if prefix in _DECIMAL:
            return _DECIMAL[prefix]
    if lower in _COUNT_SUFFIXES:
        return _COUNT_SUFFIXES[lower]
    if lower.endswith("ib") and lower[:-1] in _BINARY:
        raise AnswerFormatError(f"'{word}' is a size in bytes, but this answer is in {unit}")
    raise AnswerFormatError(f"unknown multiplier '{word}'; use K, M, B (billion) or T, or write 3.1e23")


def close_enough(given: float, expected: float, tolerance: float) -> bool:
    """Within ``tolerance`` relative to the expected value (absolute when the expected value is 0)."""
    if not math.isfinite(given):
        return False
    if expected == 0:
        return abs(given) <= tolerance
    return abs(given - expected) <= tolerance * abs(expected)


# --------------------------------------------------------------------------------------------------
# Showing values


def _trim(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def format_quantity(value: float, unit: str) -> str:
    """A value the way an interviewer would say it, with the exact figure beside a rounded one."""
    if unit == "bytes":
        for name, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(value) >= size:
                return f"{_trim(value / size)} {name} ({value:,.0f} B)"
        return f"{value:,.0f} B"
    if unit == "ratio":
        return f"{value:.4g}×"
    if unit in ("nats", "radians"):
        return f"{value:.4g} {unit}"
    word = {"FLOPs": " FLOPs", "parameters": " parameters", "tokens": " tokens", "count": ""}.get(unit, "")
    for name, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= size:
            exact = f"{value:,.0f}" if abs(value) < 1e16 else f"{value:.3e}"
            return f"{_trim(value / size)}{name}{word} ({exact})"
    return f"{value:,.0f}{word}" if float(value).is_integer() else f"{value:.4g}{word}"


def format_param(value: Any) -> str:
    """A parameter as it reads in a question: 4096, 7,000,000,000 → '7B'-free exact digits, booleans as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 100_000 else str(value)
    return f"{value:g}"


# --------------------------------------------------------------------------------------------------
# Drawing a question


@dataclass(frozen=True)
class NumericInstance:
    """One concrete numeric question: the parameters drawn, the text shown and the value expected."""

    prompt: str
    formula: str
    params: dict[str, Any]
    expected: float
    unit: str
    tolerance: float

    def check(self, text: str) -> tuple[bool, float]:
        """(right?, the value read). Raises AnswerFormatError when ``text`` cannot be read."""
        given = parse_quantity(text, self.unit)
        return close_enough(given, self.expected, self.tolerance), given


def draw(numeric: NumericView, rng: random.Random) -> NumericInstance:
    """A configuration of a NumericQuestion: one value per parameter, drawn with ``rng``."""
    from quiz.evaluate import FormulaError, evaluate

    params = {name: (values[0] if len(values) == 1 else rng.choice(values)) for name, values in numeric.params.items()}
    expected = evaluate(numeric.formula, params)  # FormulaError, one line, for what `quiz check` lets through
    try:
        prompt = numeric.prompt.format(**{name: format_param(v) for name, v in params.items()})
    except (LookupError, ValueError) as exc:
        raise FormulaError(f"the prompt {numeric.prompt[:60]!r} cannot be filled in ({exc})") from None
    return NumericInstance(prompt, numeric.formula, params, expected, str(numeric.unit), float(numeric.tolerance))
