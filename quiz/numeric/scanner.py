"""The scanner of a typed number: digits with their group and decimal marks, products, quotients, powers and
brackets. Every step moves forward and brackets nest at most 10 deep, so the scan is linear in the (bounded) length."""

from __future__ import annotations

import math

from quiz.errors import QuizError
from quiz.numeric.units import EXAMPLES


class AnswerFormatError(QuizError):
    """A typed answer the quiz cannot read; the person is asked again rather than marked wrong."""


MAX_ANSWER = 200  # characters; no honest answer is longer, and a pasted page gets one line back

_GROUP_SPACES = " \u00a0\u2009\u202f'’_"  # digit-group separators besides the comma
_MINUS = ("-", "−", "–")  # a tuple: "" in a str is True, and _peek() returns "" at the end
_DIGITS = frozenset("0123456789")  # str.isdigit() also admits ², which float() refuses


def shown(text: str) -> str:
    """The typed text as a message may quote it: one line, printable, short."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 40 else clean[:37] + "…"


class Scanner:
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
        return AnswerFormatError(f"cannot read '{shown(self.text)}' as a number; try forms like {EXAMPLES[self.unit]}")

    def _too_large(self) -> AnswerFormatError:
        return AnswerFormatError(f"'{shown(self.text)}' is out of range for an answer here")

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
                    raise AnswerFormatError(f"'{shown(self.text)}' divides by zero")
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
                raise AnswerFormatError(f"'{shown(self.text)}' is out of range for an answer here")
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
