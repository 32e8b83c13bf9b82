"""Numeric answers: reading what a person types ("2 GiB", "175B params", "16/7", "~96", "2,5"), judging it against
a formula's value (right, close with the gap named, or wrong), showing the working for the drawn numbers, and
drawing fresh configurations of a generated question.

Pure Python and cheap to import: the formulas are imported only when a numeric question is asked.

The reader is a hand-written scanner over at most ``MAX_ANSWER`` characters, so any input, of any length or
alphabet, gets a value or a one-line ``AnswerFormatError`` in time linear in its length; numbers are combined with
overflow guards, so ``1e400`` or ``2^5000`` are "too large", never a traceback.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quiz.errors import QuizError

if TYPE_CHECKING:
    from quiz.cache import NumericView


class AnswerFormatError(QuizError):
    """A typed answer the quiz cannot read; the person is asked again rather than marked wrong."""


MAX_ANSWER = 200  # characters; no honest answer is longer, and a pasted page gets one line back
_LARGEST = 1e300  # beyond any quantity a question asks (the largest is ~1e25 FLOPs)

# Units as they appear in NumericQuestion.unit, with the words a person may type after the number.
UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "bytes": ("b", "byte", "bytes"),
    "FLOPs": ("flop", "flops"),
    "parameters": ("param", "params", "parameter", "parameters", "weights"),
    "count": (),
    "ratio": ("x", "×", "times", "flops/byte", "flop/byte", "flops/b", "flop/b", "flops per byte"),
    "nats": ("nat", "nats"),
    "radians": ("rad", "rads", "radian", "radians"),
    "tokens": ("tok", "toks", "token", "tokens"),
}
_ALL_WORDS = {word: unit for unit, words in UNIT_WORDS.items() for word in words}
# What the hint under a question offers, per unit: only forms that fit.
EXAMPLES = {
    "bytes": "2 GiB, 64 KiB, 1.5e9 B or 2 gigabytes",
    "FLOPs": "3.1e23, 310 ZFLOPs, 6 × 10^21 or 2^40",
    "parameters": "175B, 7 billion, 1.3e9 or 124M",
    "count": "96, 1,024, 2^10 or 16K",
    "ratio": "2.3, 16/7, 4x or 25%",
    "nats": "2.83 or ~3.1",
    "radians": "0.52, 1e-3 or 2^-10",
    "tokens": "8192, 8Ki, 1.4T or 300B",
}

_BINARY = {"ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50, "ei": 2**60}
_DECIMAL = {"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15, "e": 1e18, "z": 1e21, "y": 1e24}
_BYTE_WORDS = {
    "kilobyte": 1e3,
    "megabyte": 1e6,
    "gigabyte": 1e9,
    "terabyte": 1e12,
    "petabyte": 1e15,
    "kibibyte": 2**10,
    "mebibyte": 2**20,
    "gibibyte": 2**30,
    "tebibyte": 2**40,
    "pebibyte": 2**50,
}
_FLOP_WORDS = {"kilo": 1e3, "mega": 1e6, "giga": 1e9, "tera": 1e12, "peta": 1e15, "exa": 1e18, "zetta": 1e21}
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
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
}
_APPROX = ("~", "≈", "about ", "approx. ", "approx ", "approximately ", "around ", "roughly ", "ca. ", "circa ")
_GROUP_SPACES = " \u00a0\u2009\u202f'’_"  # digit-group separators besides the comma
_MINUS = ("-", "−", "–")  # a tuple: "" in a str is True, and _peek() returns "" at the end
_DIGITS = frozenset("0123456789")  # str.isdigit() also admits ², which float() refuses


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


def _shown(text: str) -> str:
    """The typed text as a message may quote it: one line, printable, short."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 40 else clean[:37] + "…"


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
    scanner = _Scanner(raw, unit)
    value = scanner.expression()
    rest = raw[scanner.pos :].strip()
    notes += scanner.notes
    if not math.isfinite(value) or abs(value) > _LARGEST:
        raise AnswerFormatError(f"'{_shown(raw)}' is out of range for an answer here")
    factor, unit_notes = _scale(rest, unit, raw)
    other = _OTHER_CONVENTION.get(factor)
    value *= factor
    if not math.isfinite(value) or abs(value) > _LARGEST:
        raise AnswerFormatError(f"'{_shown(raw)}' is out of range for an answer here")
    return Reading(value, tuple(notes + unit_notes), value / factor * other if other else None)


# K = 10³ and Ki = 2¹⁰, M = 10⁶ and Mi = 2²⁰ …: a prefix read in one convention, mapped to the other.
_OTHER_CONVENTION = {**{10.0 ** (3 * n): float(2 ** (10 * n)) for n in range(1, 7)}}
_OTHER_CONVENTION.update({v: k for k, v in list(_OTHER_CONVENTION.items())})


class _Scanner:
    """expression := ['+'|'-'] product; product := power (('×'|'*'|'·'|'x'|'/') power)*;
    power := atom [('^'|'**') ['-'] atom]; atom := number | '(' expression ')'. Every step moves ``pos`` forward, and
    brackets nest at most 10 deep, so the scan is linear in the (already bounded) length."""

    def __init__(self, text: str, unit: str) -> None:
        self.text, self.pos, self.unit, self.depth = text, 0, unit, 0
        self.notes: list[str] = []

    def _peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _fail(self) -> AnswerFormatError:
        return AnswerFormatError(f"cannot read '{_shown(self.text)}' as a number; try forms like {EXAMPLES[self.unit]}")

    def _too_large(self) -> AnswerFormatError:
        return AnswerFormatError(f"'{_shown(self.text)}' is out of range for an answer here")

    def expression(self) -> float:
        sign = 1.0
        if self._peek() in _MINUS or self._peek() == "+":
            sign = -1.0 if self.text[self.pos] in _MINUS else 1.0
            self.pos += 1
        value = self.power()
        while True:
            start = self.pos
            op = self._peek()
            operator = op in ("×", "*", "·", "/", "÷") and not self.text.startswith("**", self.pos)
            if operator or (op in ("x", "X") and self._number_follows(self.pos + 1)):
                self.pos += 1
            else:
                break
            if not self._number_follows(self.pos):
                self.pos = start  # "4x", "50 FLOPs/byte": the rest is a unit
                break
            right = self.power()
            if op in ("/", "÷"):
                if right == 0:
                    raise AnswerFormatError(f"'{_shown(self.text)}' divides by zero")
                value /= right
            else:
                value = _product(value, right)
        return sign * value

    def _number_follows(self, at: int) -> bool:
        while at < len(self.text) and self.text[at] == " ":
            at += 1
        return at < len(self.text) and (self.text[at] in _DIGITS or self.text[at] in ".(")

    def power(self) -> float:
        base = self.atom()
        if self._peek() == "^" or self.text.startswith("**", self.pos):
            self.pos += 1 if self.text[self.pos] == "^" else 2
            negative = self._peek() in _MINUS
            if negative:
                self.pos += 1
            exponent = self.atom()
            exponent = -exponent if negative else exponent
            if base < 0 and not float(exponent).is_integer():
                raise self._fail()
            if base != 0 and abs(exponent * math.log10(abs(base))) > 300:
                raise AnswerFormatError(f"'{_shown(self.text)}' is out of range for an answer here")
            try:
                return float(base) ** exponent
            except (OverflowError, ZeroDivisionError):
                raise self._fail() from None
        return base

    def atom(self) -> float:
        if self._peek() == "(":
            self.depth += 1
            if self.depth > 10:
                raise self._fail()
            self.pos += 1
            value = self.expression()
            if self._peek() != ")":
                raise self._fail()
            self.pos += 1
            self.depth -= 1
            return value
        return self.number()

    def number(self) -> float:
        """Digits with optional groups (1,024 · 175 000 000 · 1_000) and a decimal point or comma, then e±N."""
        text, start = self.text, self.pos
        i = start
        n = len(text)
        while i < n and (text[i] in _DIGITS or text[i] in ".," or (text[i] in _GROUP_SPACES and _group_at(text, i))):
            i += 1
        token = text[start:i].rstrip(",") if i - start > 1 else text[start:i]
        i = start + len(token)
        if not token or not any(c in _DIGITS for c in token):
            raise self._fail()
        digits = self._digits(token)
        self.pos = i
        # scientific notation: 3.1e23, 2E-5 (an 'e' followed by a digit; "2 EB" stays a unit)
        exponent = 0
        if i < n and text[i] in "eE":
            j = i + 1
            if j < n and (text[j] in _MINUS or text[j] == "+"):
                j += 1
            k = j
            while k < n and text[k] in _DIGITS:
                k += 1
            if k > j:
                if k - j > 4:
                    raise self._too_large()
                exponent = int(text[j:k]) * (-1 if text[i + 1] in _MINUS else 1)
                self.pos = k
        if exponent > 300 or (exponent < -300 and float(digits) != 0):
            raise self._too_large()
        return float(digits) * 10.0**exponent if exponent else float(digits)

    def _digits(self, token: str) -> str:
        """A plain decimal string from a token with separators; notes a comma taken as a decimal comma."""
        token = "".join(c for c in token if c not in _GROUP_SPACES)
        if "," in token:
            head, *groups = token.split(",")
            last = groups[-1]
            if "." not in token and len(groups) == 1 and len(last) != 3 and head and all(c in _DIGITS for c in last):
                self.notes.append(f"read {token} as {head}.{last} (a decimal comma)")
                return f"{head}.{last}"
            tail = last.split(".")[0]
            if not head or any(len(g) != 3 for g in [*groups[:-1], tail]) or len(head) > 3:
                raise AnswerFormatError(
                    f"cannot read '{token}': put a comma only between groups of three digits (1,024) "
                    "or as the one decimal mark (2,5)"
                )
            token = token.replace(",", "")
        if token.count(".") > 1:
            raise self._fail()
        return token


def _group_at(text: str, i: int) -> bool:
    """A space-like digit separator at ``i``: a digit before, exactly three digits after, then no digit."""
    return (
        i > 0
        and text[i - 1] in _DIGITS
        and i + 3 < len(text) + 1
        and all(c in _DIGITS for c in text[i + 1 : i + 4])
        and len(text[i + 1 : i + 4]) == 3
        and (i + 4 >= len(text) or text[i + 4] not in _DIGITS)
    )


def _product(a: float, b: float) -> float:
    if a and b and math.log10(abs(a)) + math.log10(abs(b)) > 300:
        return math.inf  # reported as "too large" by the caller
    return a * b


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
    if joined in _ALL_WORDS and _ALL_WORDS[joined] == unit:
        return 1.0, []
    # The last word may name the unit ("params", "FLOPs", "tokens"); it must be this question's unit.
    last = words[-1].lower()
    # For counts "B" is a billion ("175B"), so it names the unit only in a question about bytes.
    if last in _ALL_WORDS and not (last == "b" and unit != "bytes"):
        named = _ALL_WORDS[last]
        if named != unit and not (unit == "count" and named in ("parameters", "tokens")):
            raise AnswerFormatError(f"'{_shown(words[-1])}' is a unit of {named}, but this answer is in {unit}")
        words = words[:-1]
        if not words:
            return 1.0, []
    if len(words) != 1:
        raise AnswerFormatError(
            f"cannot read '{_shown(raw)}'; put one multiplier after the number, like {EXAMPLES[unit]}"
        )
    word = words[0]
    lower = word.lower()
    if unit == "bytes":
        return _bytes_factor(word, lower)
    if unit == "FLOPs" and "flop" in lower and lower.endswith(("flop", "flops")):
        prefix = lower[: lower.index("flop")]
        if prefix in _DECIMAL:
            return _DECIMAL[prefix], []
        if prefix in _FLOP_WORDS:
            return _FLOP_WORDS[prefix], []
    if lower in _COUNT_SUFFIXES:
        return _COUNT_SUFFIXES[lower], []
    if lower.endswith("ib") and lower[:-1] in _BINARY:
        raise AnswerFormatError(f"'{_shown(word)}' is a size in bytes, but this answer is in {unit}")
    raise AnswerFormatError(
        f"unknown multiplier '{_shown(word)}'; use K, M, B (billion), T or Ki (×1024), or forms like {EXAMPLES[unit]}"
    )


def _bytes_factor(word: str, lower: str) -> tuple[float, list[str]]:
    singular = lower[:-1] if lower.endswith("s") else lower
    if singular in _BYTE_WORDS:
        return float(_BYTE_WORDS[singular]), []
    if singular in ("bit", "kilobit", "megabit", "gigabit", "terabit") or (
        len(word) >= 2
        and word.endswith("b")
        and word[-2] != "i"
        and word[:-1].lower() in _DECIMAL
        and word[0].isupper()
    ):
        prefix = {"bit": 1, "kilobit": 1e3, "megabit": 1e6, "gigabit": 1e9, "terabit": 1e12}.get(singular)
        size = prefix if prefix is not None else _DECIMAL[word[:-1].lower()]
        return size / 8, [f"read '{_shown(word)}' as bits (÷ 8); write B for bytes"]
    if len(word) == 3 and word.endswith("ib") and word[0].isupper():  # "Gib" is gibibits
        return _BINARY[lower[:2]] / 8 if lower[:2] in _BINARY else 0, [f"read '{word}' as bits (÷ 8); write B"]
    if lower.endswith("ib") and lower[:-1] in _BINARY:
        return float(_BINARY[lower[:-1]]), []
    if lower in _BINARY:
        return float(_BINARY[lower]), []
    if lower.endswith("b") and lower[:-1] in _DECIMAL:
        return _DECIMAL[lower[:-1]], []
    if lower in _DECIMAL:
        return _DECIMAL[lower], []
    raise AnswerFormatError(f"unknown size '{_shown(word)}'; use B, kB/MB/GB/TB (×1000) or KiB/MiB/GiB/TiB (×1024)")


def close_enough(given: float, expected: float, tolerance: float) -> bool:
    """Within ``tolerance`` relative to the expected value (absolute when the expected value is 0)."""
    if not math.isfinite(given):
        return False
    if expected == 0:
        return abs(given) <= tolerance
    return abs(given - expected) <= tolerance * abs(expected)


# --------------------------------------------------------------------------------------------------
# Judging: right, close (and by how much), or off by a factor the question explains


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


# --------------------------------------------------------------------------------------------------
# Showing values


def _trim(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _scientific(x: float) -> str:
    mantissa, exponent = f"{x:.3e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def format_quantity(value: float, unit: str) -> str:
    """A value the way an interviewer would say it, with the exact figure beside a rounded one."""
    if not math.isfinite(value):
        return str(value)
    if unit == "bytes":
        for name, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(value) >= size:
                if abs(value) >= 2**60:
                    return f"{_scientific(value)} B"
                return f"{_trim(value / size)} {name} ({value:,.0f} B)"
        return f"{value:,.0f} B"
    if unit in ("ratio", "nats", "radians"):
        # a ratio is a bare number: the unit word would be wrong for a learning rate or a fraction
        text = f"{value:.4g}".replace("e+", "e").replace("e-0", "e-").replace("e0", "e")
        return text if unit == "ratio" else f"{text} {unit}"
    word = {"FLOPs": " FLOPs", "parameters": " parameters", "tokens": " tokens", "count": ""}.get(unit, "")
    if abs(value) >= 1e15:  # 2.34e23 FLOPs, never 23,400,000,000T
        return f"{_scientific(value)}{word}"
    for name, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= size:
            return f"{_trim(value / size)}{name}{word} ({value:,.0f})"
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
