"""Python expressions of answers/formulas as JavaScript over PyRT (site/assets/pyrt.js): what each name refers to,
and each operator, comparison, call and comprehension with Python's meaning (see quiz.site.formulas_js)."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import math
import sys
from dataclasses import dataclass
from typing import Protocol

PACKAGE = "answers.formulas"
# What answers.formulas._trace offers in place of math's own (it records the working; the value is math's).
TRACE_STANDINS = {"exp": "exp", "sqrt": "sqrt"}
MATH = {"pi", "e", "tau", "inf", "sqrt", "exp", "log", "log2", "log10", "cos", "sin", "tan", "atan", "tanh"}
MATH |= {"floor", "ceil", "fabs", "isfinite", "comb"}
MATH_VALUES = {"pi", "e", "tau", "inf"}
# Python 3.12 compensates float sums (Neumaier); 3.11 adds left to right like PyRT.sum. On 3.12+ the browser's sum
# takes only ints and throws on a float, rather than give a different last digit.
SUM = "sum" if sys.version_info < (3, 12) else "sumInts"
BUILTINS = {"min": 0, "max": 0, "abs": 1, "int": 1, "float": 1, "round": 1, "sum": 1, "range": 0, "enumerate": 1}
RAISABLE = {"ValueError", "ZeroDivisionError", "OverflowError", "TypeError", "ArithmeticError"}
OPERATORS = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "truediv",
    ast.FloorDiv: "floordiv",
    ast.Mod: "mod",
    ast.Pow: "pow",
}
COMPARISONS = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne"}


class NotTranslated(Exception):
    """A construct this translator does not give Python's exact meaning in JS."""

    def __init__(self, node: ast.AST | None, what: str) -> None:
        line = getattr(node, "lineno", None)
        super().__init__(f"{what} (line {line})" if line else what)


@dataclass(frozen=True)
class Signature:
    params: tuple[str, ...]
    defaults: dict[str, ast.expr]


def signature_of(fn: ast.FunctionDef) -> Signature:
    a = fn.args
    if a.vararg or a.kwarg or a.kwonlyargs:
        raise NotTranslated(fn, "*args, **kwargs or keyword-only parameters")
    names = tuple(p.arg for p in (*a.posonlyargs, *a.args))
    defaults = dict(zip(names[len(names) - len(a.defaults) :], a.defaults, strict=True))
    return Signature(names, defaults)


class Module:
    """One module of answers.formulas: its functions and what its names refer to."""

    def __init__(self, name: str, source: str | None = None) -> None:
        self.name = name  # "attention"
        if source is None:
            source = inspect.getsource(importlib.import_module(f"{PACKAGE}.{name}"))
        self.tree = ast.parse(source)
        self.functions: dict[str, ast.FunctionDef] = {}
        self.imports: dict[str, tuple[str, str]] = {}  # local name → ("math", attr) | ("formula", "mod.name")
        self.math_alias: set[str] = set()
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "math":
                        self.math_alias.add(alias.asname or "math")
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    local = alias.asname or alias.name
                    if node.module == "math" and alias.name in MATH:
                        self.imports[local] = ("math", alias.name)
                    elif node.module == f"{PACKAGE}._trace" and alias.name in TRACE_STANDINS:
                        self.imports[local] = ("math", TRACE_STANDINS[alias.name])
                    elif node.module.startswith(PACKAGE + ".") and not node.module.endswith("._trace"):
                        self.imports[local] = ("formula", f"{node.module.rsplit('.', 1)[1]}.{alias.name}")


class Signatures(Protocol):
    """Where a translator finds the signature of a formula it calls (quiz.site.formulas_js.Exporter)."""

    def signature(self, key: str) -> Signature | None: ...


class Expressions:
    """Translates the expressions of one module-level function (and of the functions nested in it) into JS."""

    def __init__(self, exporter: Signatures, module: Module, fn: ast.FunctionDef) -> None:
        self.exporter, self.module, self.fn = exporter, module, fn
        self.calls: set[str] = set()  # module-qualified formulas this one needs
        self.scopes: list[dict[str, Signature | None]] = []  # innermost last: local name → signature if a def
        self.temp = 0

    def _local(self, name: str) -> Signature | bool | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return False

    def _fresh(self) -> str:
        self.temp += 1
        return f"t{self.temp}"

    def target(self, t: ast.expr) -> str:
        if isinstance(t, ast.Name):
            return self.name(t)
        if isinstance(t, ast.Tuple | ast.List) and all(isinstance(e, ast.Name) for e in t.elts):
            return "[" + ", ".join(self.name(e) for e in t.elts) + "]"  # type: ignore[arg-type]
        raise NotTranslated(t, "an assignment target other than names")

    def _unpack_value(self, t: ast.expr, js: str) -> str:
        if isinstance(t, ast.Tuple | ast.List):
            return f"PyRT.unpack({js}, {len(t.elts)})"
        return js

    def name(self, node: ast.Name) -> str:
        found = self._local(node.id)
        if found is False:
            raise NotTranslated(node, f"the name '{node.id}' (not a parameter or a local)")
        return f"v_{node.id}"

    def expr(self, node: ast.expr) -> str:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            if self._local(node.id) is False and node.id in self.module.imports:
                kind, what = self.module.imports[node.id]
                if kind == "math" and what in MATH_VALUES:
                    return f"PyRT.math.{what}"
            return self.name(node)
        if isinstance(node, ast.BinOp):
            if type(node.op) not in OPERATORS:
                raise NotTranslated(node, f"the operator {type(node.op).__name__}")
            return f"PyRT.{OPERATORS[type(node.op)]}({self.expr(node.left)}, {self.expr(node.right)})"
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return f"PyRT.neg({self.expr(node.operand)})"
            if isinstance(node.op, ast.UAdd):
                return f"PyRT.pos({self.expr(node.operand)})"
            if isinstance(node.op, ast.Not):
                return f"!PyRT.truth({self.expr(node.operand)})"
            raise NotTranslated(node, "the operator ~")
        if isinstance(node, ast.BoolOp):
            # Python's and/or give an operand, not a bool, and evaluate the right one only when needed
            result = self.expr(node.values[-1])
            for value in reversed(node.values[:-1]):
                t = self._fresh()
                test = f"PyRT.truth({t})" if isinstance(node.op, ast.And) else f"!PyRT.truth({t})"
                result = f"(({t}) => ({test} ? {result} : {t}))({self.expr(value)})"
            return result
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            return f"(PyRT.truth({self.expr(node.test)}) ? {self.expr(node.body)} : {self.expr(node.orelse)})"
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            if self._is_math(node.value) and node.attr in MATH_VALUES:
                return f"PyRT.math.{node.attr}"
            raise NotTranslated(node, f"the attribute .{node.attr}")
        if isinstance(node, ast.Tuple | ast.List):
            return "[" + ", ".join(self.expr(e) for e in node.elts) + "]"
        if isinstance(node, ast.GeneratorExp | ast.ListComp):
            return self.comprehension(node)
        raise NotTranslated(node, f"the expression {type(node).__name__}")

    def constant(self, node: ast.Constant) -> str:
        v = node.value
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return f"{v}n"
        if isinstance(v, float):
            if math.isnan(v):
                return "NaN"
            if math.isinf(v):
                return "Infinity" if v > 0 else "-Infinity"
            return repr(v)  # repr round-trips, and JS reads it as the same double
        raise NotTranslated(node, f"the constant {v!r}")

    def _is_math(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id in self.module.math_alias and self._local(node.id) is False

    def compare(self, node: ast.Compare) -> str:
        operands = [node.left, *node.comparators]
        parts: list[str] = []
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.Is | ast.IsNot):
                if not (isinstance(right, ast.Constant) and right.value is None):
                    raise NotTranslated(node, "'is' with something other than None")
            elif type(op) not in COMPARISONS:
                raise NotTranslated(node, f"the comparison {type(op).__name__}")
        if len(node.ops) == 1:
            return self._compare_one(node.ops[0], self.expr(node.left), self.expr(node.comparators[0]))
        # a < b < c evaluates b once and c only when a < b
        names = [self._fresh() for _ in operands]
        parts.append(f"const {names[0]} = {self.expr(operands[0])};")
        for i, op in enumerate(node.ops):
            parts.append(f"const {names[i + 1]} = {self.expr(operands[i + 1])};")
            test = self._compare_one(op, names[i], names[i + 1])
            parts.append(f"if (!{test}) return false;" if i < len(node.ops) - 1 else f"return {test};")
        return "(() => { " + " ".join(parts) + " })()"

    def _compare_one(self, op: ast.cmpop, left: str, right: str) -> str:
        if isinstance(op, ast.Is):
            return f"({left} === null)"
        if isinstance(op, ast.IsNot):
            return f"({left} !== null)"
        return f"PyRT.{COMPARISONS[type(op)]}({left}, {right})"

    def comprehension(self, node: ast.GeneratorExp | ast.ListComp) -> str:
        if len(node.generators) != 1 or node.generators[0].is_async:
            raise NotTranslated(node, "a comprehension over more than one loop")
        gen = node.generators[0]
        source = self.expr(gen.iter)  # evaluated in the enclosing scope, as in Python
        names: list[str] = []
        if isinstance(gen.target, ast.Name):
            names = [gen.target.id]
        elif isinstance(gen.target, ast.Tuple) and all(isinstance(e, ast.Name) for e in gen.target.elts):
            names = [e.id for e in gen.target.elts]  # type: ignore[attr-defined]
        else:
            raise NotTranslated(node, "a comprehension target other than names")
        self.scopes.append(dict.fromkeys(names))
        try:
            item = self._fresh()
            bind = f"{self.target(gen.target)} = {self._unpack_value(gen.target, item)}"
            declare = ", ".join("v_" + n for n in names)
            out = f"PyRT.iter({source})"
            for cond in gen.ifs:
                out += f".filter(({item}) => {{ let {declare}; {bind}; return PyRT.truth({self.expr(cond)}); }})"
            out += f".map(({item}) => {{ let {declare}; {bind}; return {self.expr(node.elt)}; }})"
        finally:
            self.scopes.pop()
        return out

    def call(self, node: ast.Call) -> str:
        func = node.func
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise NotTranslated(node, "a call with *args or **kwargs")
        if isinstance(func, ast.Attribute):
            if self._is_math(func.value) and func.attr in MATH - MATH_VALUES:
                return self._positional(node, f"PyRT.math.{func.attr}")
            raise NotTranslated(node, f"the call {ast.unparse(func)}()")
        if not isinstance(func, ast.Name):
            raise NotTranslated(node, "a call of something other than a name")
        local = self._local(func.id)
        if isinstance(local, Signature):
            return self._bound(node, f"v_{func.id}", local)
        if local is None:
            raise NotTranslated(node, f"a call of the local value '{func.id}'")
        if func.id in self.module.functions:
            key = f"{self.module.name}.{func.id}"
            return self._formula(node, key)
        if func.id in self.module.imports:
            kind, what = self.module.imports[func.id]
            if kind == "math":
                return self._positional(node, f"PyRT.math.{what}")
            return self._formula(node, what)
        if func.id in BUILTINS:
            if BUILTINS[func.id] and len(node.args) != BUILTINS[func.id]:
                raise NotTranslated(node, f"{func.id}() with {len(node.args)} arguments")
            return self._positional(node, f"PyRT.{SUM if func.id == 'sum' else func.id}")
        raise NotTranslated(node, f"the call {func.id}()")

    def _positional(self, node: ast.Call, js: str) -> str:
        if node.keywords:
            raise NotTranslated(node, f"keyword arguments to {ast.unparse(node.func)}()")
        return f"{js}({', '.join(self.expr(a) for a in node.args)})"

    def _formula(self, node: ast.Call, key: str) -> str:
        signature = self.exporter.signature(key)
        if signature is None:
            raise NotTranslated(node, f"a call of {key.split('.')[1]}(), which is not translated")
        self.calls.add(key)
        return self._bound(node, f"F[{json.dumps(key)}]", signature)

    def _bound(self, node: ast.Call, js: str, sig: Signature) -> str:
        """Keywords put in their places, as Python binds them (every argument here is a pure expression, so
        evaluating them in parameter order rather than written order cannot change a value)."""
        if len(node.args) > len(sig.params):
            raise NotTranslated(node, "too many arguments")
        slots: list[str | None] = [self.expr(a) for a in node.args]
        slots += [None] * (len(sig.params) - len(slots))
        for k in node.keywords:
            if k.arg not in sig.params or slots[sig.params.index(k.arg)] is not None:
                raise NotTranslated(node, f"the keyword {k.arg}=")
            slots[sig.params.index(k.arg)] = self.expr(k.value)
        for name, slot in zip(sig.params, slots, strict=True):
            if slot is None and name not in sig.defaults:
                raise NotTranslated(node, f"the missing argument {name}")
        while slots and slots[-1] is None:
            slots.pop()
        return f"{js}({', '.join(s if s is not None else 'undefined' for s in slots)})"
