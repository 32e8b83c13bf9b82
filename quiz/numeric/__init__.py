"""Numeric answers: reading what a person types ("2 GiB", "175B params", "16/7", "~96", "2,5"), judging it against
a formula's value (right, close with the gap named, or wrong), showing the working for the drawn numbers, and
drawing fresh configurations of a generated question.

Pure Python and cheap to import: the formulas are imported only when a numeric question is asked.

The reader is a hand-written scanner over at most ``MAX_ANSWER`` characters, so any input, of any length or
alphabet, gets a value or a one-line ``AnswerFormatError`` in time linear in its length; numbers are combined with
overflow guards, so ``1e400`` or ``2^5000`` are "too large", never a traceback.

Where each part lives: ``units`` (the unit words and prefixes), ``scanner`` (a typed number), ``reading`` (an
answer with its unit suffix, as a ``Reading``), ``judging`` (right, close, or a named factor off), ``showing``
(values as an interviewer says them) and ``drawing`` (a generated question's configuration and working).
"""

from quiz.numeric.drawing import NumericInstance, draw, solve
from quiz.numeric.judging import CLOSE, Judgement, close_enough, judge, percent
from quiz.numeric.reading import Reading, parse_quantity, read_quantity
from quiz.numeric.scanner import MAX_ANSWER, AnswerFormatError
from quiz.numeric.showing import format_param, format_quantity
from quiz.numeric.units import EXAMPLES, UNIT_WORDS

__all__ = [
    "CLOSE",
    "EXAMPLES",
    "MAX_ANSWER",
    "UNIT_WORDS",
    "AnswerFormatError",
    "Judgement",
    "NumericInstance",
    "Reading",
    "close_enough",
    "draw",
    "format_param",
    "format_quantity",
    "judge",
    "parse_quantity",
    "percent",
    "read_quantity",
    "solve",
]
