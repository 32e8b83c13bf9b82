"""Drawing a question: one configuration of a generated numeric question, its expected value and its working."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quiz.numeric.judging import Judgement, close_enough, judge
from quiz.numeric.reading import Reading, parse_quantity, read_quantity
from quiz.numeric.showing import format_param

if TYPE_CHECKING:
    import random

    from quiz.cache import NumericView


@dataclass(frozen=True)
class NumericInstance:
    """One concrete numeric question: the parameters drawn, the text shown, the value expected and its working."""

    prompt: str
    formula: str
    params: dict[str, Any]
    expected: float
    unit: str
    tolerance: float
    steps: tuple[str, ...] = field(default=(), compare=False)

    def check(self, text: str) -> tuple[bool, float]:
        """(right?, the value read). Raises AnswerFormatError when ``text`` cannot be read."""
        given = parse_quantity(text, self.unit)
        return close_enough(given, self.expected, self.tolerance), given

    def grade(self, text: str) -> tuple[Reading, Judgement]:
        """The answer as read and how it compares. Raises AnswerFormatError when ``text`` cannot be read."""
        reading = read_quantity(text, self.unit)
        return reading, judge(reading.value, self.expected, self.tolerance, self.params, reading)


def draw(numeric: NumericView, rng: random.Random) -> NumericInstance:
    """A configuration of a NumericQuestion: one value per parameter, drawn with ``rng``. The expected value and the
    working come from one traced call of the formula, so the steps shown are the code that grades."""
    from quiz.evaluate import FormulaError, evaluate

    params = {name: (values[0] if len(values) == 1 else rng.choice(values)) for name, values in numeric.params.items()}
    evaluate(numeric.formula, params)  # FormulaError, one line, for values `quiz check` would refuse (NUM007)
    expected, steps = solve(numeric.formula, params)
    try:
        prompt = numeric.prompt.format(**{name: format_param(v) for name, v in params.items()})
    except (LookupError, ValueError) as exc:
        raise FormulaError(f"the prompt {numeric.prompt[:60]!r} cannot be filled in ({exc})") from None
    return NumericInstance(
        prompt, numeric.formula, params, expected, str(numeric.unit), float(numeric.tolerance), tuple(steps)
    )


def solve(formula: str, params: dict[str, Any]) -> tuple[float, list[str]]:
    """The formula's value for ``params`` and its working, line by line, from the same call."""
    from answers.formulas import FORMULAS  # pure Python, but only needed once a numeric question is asked
    from answers.formulas._trace import number, trace, working

    fn = FORMULAS[formula]
    value, tree = trace(fn, params)
    if tree is not None:
        return float(value), working(tree)
    # the value did not come from arithmetic on the parameters (a count, a table): say what it is
    doc = (fn.__doc__ or formula).strip().splitlines()[0]
    given = ", ".join(f"{k} = {number(v) if not isinstance(v, bool) else v}" for k, v in params.items())
    return float(value), [doc, f"with {given}: {number(value)}"]
