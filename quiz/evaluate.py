"""Computing a formula of answers/formulas on a card's parameters, as one line when it cannot be done.

A deck chooses the parameters and the project's formulas are ordinary Python: a zero where a formula divides,
an integer too large for a float, or a head_dim of 2e12 that a formula loops over would end ``quiz take`` with a
traceback, or never. ``quiz check`` computes every combination of a question's values through here (rule
NUM007), and ``numeric.draw`` does the same for the one it draws, so neither can happen to a checked deck.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from quiz.errors import QuizError
from quiz.timelimit import time_limit

# The slowest real formula takes microseconds; a second is a loop that should not be there.
TIME_LIMIT = 1.0


class FormulaError(QuizError):
    """A formula that raises, gives a value that is not a finite number, or takes too long."""


class _OutOfTime(BaseException):  # not an Exception: a formula's own ``except Exception`` cannot swallow it
    pass


def _time_limit(seconds: float):
    return time_limit(seconds, _OutOfTime)


def shown_params(params: Mapping[str, Any]) -> str:
    def short(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= 24 else f"{text[:20]}…({len(text)} characters)"

    return ", ".join(f"{name}={short(value)}" for name, value in params.items())


def evaluate(formula: str, params: Mapping[str, Any], seconds: float = TIME_LIMIT) -> float:
    """The formula's value on ``params`` as a finite float; FormulaError (one line) otherwise."""
    from answers.formulas import FORMULAS  # pure Python, imported only when a number is needed

    where = f"'{formula}' with {shown_params(params)}"
    try:
        with _time_limit(seconds):
            value = float(FORMULAS[formula](**params))
    except _OutOfTime:
        raise FormulaError(f"{where} takes more than {seconds:g} s; use smaller values") from None
    except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError, MemoryError) as exc:
        why = " ".join(str(exc).split())[:120]
        raise FormulaError(f"{where} fails ({type(exc).__name__}: {why}); change these values") from None
    if not math.isfinite(value):
        raise FormulaError(f"{where} gives {value}, not a number a person can type; change these values")
    return value
