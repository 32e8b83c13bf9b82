"""Working for a formula, from the formula itself: call it with traced numbers and it records what it computes.

A ``Traced`` number behaves like the int or float it wraps (every operator computes the real value with Python's own
arithmetic) and also remembers the expression that produced it. Calling a formula of this package with traced
parameters therefore returns its ordinary value *and* the expression tree of exactly the code that ran, so the quiz
can show "2 · layers · kv_heads · … = 2 · 32 · 8 · … = 65,536" without a second copy of any formula. Comparisons and
branches (``min``, ``if rate == 1``) use the real values and keep only the branch taken.

``sqrt`` and ``exp`` stand in for ``math.sqrt`` / ``math.exp`` in formulas: on plain numbers they are those
functions; on traced ones they record the call. Pure Python, imported only once a numeric question is asked.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

Number = int | float

# Binding strength when rendered: higher binds tighter.
_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "floordiv": 2, "mod": 2, "neg": 3, "pow": 4}
_SYMBOL = {"add": " + ", "sub": " − ", "mul": " · ", "div": " / ", "mod": " mod ", "pow": "^"}
_APPLY: dict[str, Callable[..., Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "neg": operator.neg,
    "sqrt": math.sqrt,
    "exp": math.exp,
}


class Traced:
    """A number that remembers how it was computed. ``op`` is "var" (a named parameter), "num" (a constant) or an
    operation over ``args``."""

    __slots__ = ("args", "name", "op", "value")

    def __init__(self, value: Number, op: str = "num", args: tuple[Traced, ...] = (), name: str = "") -> None:
        self.value, self.op, self.args, self.name = value, op, args, name

    # --- arithmetic: compute the real value, keep the tree
    def _make(self, op: str, *others: Any, reverse: bool = False) -> Traced:
        operands = [self, *(_lift(o) for o in others)]
        if reverse:
            operands.reverse()
        return Traced(_APPLY[op](*(o.value for o in operands)), op, tuple(operands))

    def __add__(self, o: Any) -> Traced:
        return self._make("add", o)

    def __radd__(self, o: Any) -> Traced:
        return self._make("add", o, reverse=True)

    def __sub__(self, o: Any) -> Traced:
        return self._make("sub", o)

    def __rsub__(self, o: Any) -> Traced:
        return self._make("sub", o, reverse=True)

    def __mul__(self, o: Any) -> Traced:
        return self._make("mul", o)

    def __rmul__(self, o: Any) -> Traced:
        return self._make("mul", o, reverse=True)

    def __truediv__(self, o: Any) -> Traced:
        return self._make("div", o)

    def __rtruediv__(self, o: Any) -> Traced:
        return self._make("div", o, reverse=True)

    def __floordiv__(self, o: Any) -> Traced:
        return self._make("floordiv", o)

    def __rfloordiv__(self, o: Any) -> Traced:
        return self._make("floordiv", o, reverse=True)

    def __mod__(self, o: Any) -> Traced:
        return self._make("mod", o)

    def __rmod__(self, o: Any) -> Traced:
        return self._make("mod", o, reverse=True)

    def __pow__(self, o: Any) -> Traced:
        return self._make("pow", o)

    def __rpow__(self, o: Any) -> Traced:
        return self._make("pow", o, reverse=True)

    def __neg__(self) -> Traced:
        return self._make("neg")

    def __pos__(self) -> Traced:
        return self

    # --- everything that decides a branch or leaves arithmetic uses the real value
    def __bool__(self) -> bool:
        return bool(self.value)

    def __eq__(self, o: object) -> bool:
        return self.value == _value(o)

    def __ne__(self, o: object) -> bool:
        return self.value != _value(o)

    def __lt__(self, o: Any) -> bool:
        return self.value < _value(o)

    def __le__(self, o: Any) -> bool:
        return self.value <= _value(o)

    def __gt__(self, o: Any) -> bool:
        return self.value > _value(o)

    def __ge__(self, o: Any) -> bool:
        return self.value >= _value(o)

    __hash__ = None  # type: ignore[assignment]

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return operator.index(self.value)

    def __repr__(self) -> str:
        return f"Traced({self.value!r}, {render(self, symbolic=True)!r})"


def _lift(x: Any) -> Traced:
    return x if isinstance(x, Traced) else Traced(x)


def _value(x: Any) -> Any:
    return x.value if isinstance(x, Traced) else x


def sqrt(x: Any) -> Any:
    """math.sqrt, recorded when ``x`` is traced."""
    return Traced(math.sqrt(x.value), "sqrt", (x,)) if isinstance(x, Traced) else math.sqrt(x)


def exp(x: Any) -> Any:
    """math.exp, recorded when ``x`` is traced."""
    return Traced(math.exp(x.value), "exp", (x,)) if isinstance(x, Traced) else math.exp(x)


# --------------------------------------------------------------------------------------------------
# Showing the working


def trace(formula: Callable[..., Any], params: dict[str, Any]) -> tuple[Any, Traced | None]:
    """(the formula's value, its expression tree or None when the result did not come from traced arithmetic,
    e.g. a count of booleans). Booleans are passed as they are: they choose branches, they are not factors."""
    traced = {k: v if isinstance(v, bool) else Traced(v, "var", name=k) for k, v in params.items()}
    result = formula(**traced)
    if isinstance(result, Traced):
        return result.value, result
    return result, None


def number(x: Number) -> str:
    """A figure as the working shows it: exact integers with separators, other values to 4 significant digits."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
        x = int(x)
    return _figure(x).replace("-", "−")


def _figure(x: Number) -> str:
    if isinstance(x, int):
        return f"{x:,}" if abs(x) < 10**16 else f"{x:.4g}"
    if x == math.pi:
        return "π"
    if x == 2 * math.pi:
        return "2π"
    if abs(x) >= 1e6 or (x != 0 and abs(x) < 1e-4):
        mantissa, exponent = f"{x:.4g}".split("e") if "e" in f"{x:.4g}" else (f"{x:.4g}", "")
        return f"{mantissa}e{int(exponent)}" if exponent else mantissa
    return f"{x:.4g}"


def _flatten(node: Traced) -> Traced:
    """Chains of + and · as one n-ary node, so 2·a·b·c reads as one product, not nested pairs; -(-a // b) as the
    integer ceiling ⌈a / b⌉ it is."""
    if node.op == "neg" and node.args[0].op == "floordiv" and node.args[0].args[0].op == "neg":
        a, b = node.args[0].args
        return Traced(node.value, "ceil", (_flatten(a.args[0]), _flatten(b)))
    args = tuple(_flatten(a) for a in node.args)
    if node.op in ("add", "mul"):
        merged: list[Traced] = []
        for a in args:
            merged.extend(a.args if a.op == node.op else (a,))
        args = tuple(merged)
    return Traced(node.value, node.op, args, node.name)


def render(node: Traced, symbolic: bool = False, parent: int = 0) -> str:
    """The expression, with parameter names (``symbolic``) or with their drawn values."""
    op, args = node.op, node.args
    if op == "var":
        return node.name if symbolic else number(node.value)
    if op == "num":
        text = number(node.value)
        return f"({text})" if parent and (text.startswith("−") or "e" in text) else text
    if op == "ceil":
        return f"⌈{render(args[0], symbolic)} / {render(args[1], symbolic)}⌉"
    if op == "floordiv":
        return f"⌊{render(args[0], symbolic)} / {render(args[1], symbolic)}⌋"
    if op == "sq":
        base = render(args[0], symbolic, _PRECEDENCE["pow"] + 1)
        return base + {2: "²", 3: "³"}.get(args[1].value, f"^{args[1].value}")
    if op == "sqrt":
        return f"√({render(args[0], symbolic)})"
    if op == "exp":
        return f"exp({render(args[0], symbolic)})"
    mine = _PRECEDENCE[op]
    if op == "neg":
        text = "−" + render(args[0], symbolic, mine)
    elif op == "pow":
        text = render(args[0], symbolic, mine + 1) + "^" + render(args[1], symbolic, mine + 1)
    else:
        if op == "mul":
            args = _powers(args)
        parts = [render(args[0], symbolic, mine)]
        for a in args[1:]:
            # the right side of − and / needs brackets at equal binding strength
            parts.append(render(a, symbolic, mine + (op in ("sub", "div", "mod"))))
        text = _SYMBOL[op].join(parts)
    return f"({text})" if mine < parent else text


def _powers(factors: tuple[Traced, ...]) -> tuple[Traced, ...]:
    """d · d · d as d³ (one parameter repeated), for display only."""
    out: list[Traced] = []
    for f in factors:
        last = out[-1] if out else None
        if f.op == "var" and last is not None and last.name == f.name and last.op in ("var", "sq"):
            count = (last.args[1].value if last.op == "sq" else 1) + 1
            out[-1] = Traced(last.value * f.value, "sq", (f, Traced(count)), f.name)
        else:
            out.append(f)
    return tuple(out)


def _collapse(node: Traced) -> Traced:
    """One step of evaluation: every operation whose operands are all numbers becomes its number."""
    if node.op in ("var", "num"):
        return node
    if all(a.op in ("var", "num") for a in node.args):
        return Traced(node.value)
    return Traced(node.value, node.op, tuple(_collapse(a) for a in node.args), node.name)


def working(node: Traced, max_lines: int = 6) -> list[str]:
    """The formula in its parameters' names, then with the drawn numbers, then step by step to the value."""
    tree = _flatten(node)
    lines = [render(tree, symbolic=True), render(tree)]
    while tree.op not in ("var", "num") and len(lines) < max_lines:
        tree = _collapse(tree)
        lines.append(render(tree))
    if tree.op not in ("var", "num"):
        lines.append(number(node.value))
    unique = [line for i, line in enumerate(lines) if i == 0 or line != lines[i - 1]]
    return [unique[0]] + ["= " + line for line in unique[1:]]
