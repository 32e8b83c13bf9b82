"""The formulas of ``answers/formulas/`` as JavaScript, so the site can draw a generated numeric question afresh in
the browser and grade it by the formula itself, not by a copy or a table of build-time draws.

Each module is parsed with ``ast`` and each function translated statement by statement into a JS function over
``PyRT`` (site/assets/pyrt.js), which gives every operator Python's meaning: ints are BigInts (exact ``//``, ``%``,
``**`` at any size), floats Numbers, ``/`` of two ints the correctly rounded quotient, ``round`` halves to even,
and what Python raises on throws. A construct outside the translated subset (a subscript, a ``while``, a string,
``math.lgamma``, a module constant…) refuses that function with the reason, and every formula that calls it; the
site keeps build-time draws for a refused formula. Nothing is approximated: what is translated means what the
Python means, and tests/test_site_formulas.py runs both on every generated question's draws.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import json
import math
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

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


@dataclass
class Export:
    """The script, the public formulas it defines, and why each other formula is not in it."""

    script: str
    exported: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name → its parameters
    refused: dict[str, str] = field(default_factory=dict)  # name → the first construct that stopped it


def _signature(fn: ast.FunctionDef) -> Signature:
    a = fn.args
    if a.vararg or a.kwarg or a.kwonlyargs:
        raise NotTranslated(fn, "*args, **kwargs or keyword-only parameters")
    names = tuple(p.arg for p in (*a.posonlyargs, *a.args))
    defaults = dict(zip(names[len(names) - len(a.defaults) :], a.defaults, strict=True))
    return Signature(names, defaults)


def _assigned(body: list[ast.stmt]) -> list[str]:
    """Names a function body binds (its locals), not looking into nested functions or comprehensions."""
    found: list[str] = []

    def targets(t: ast.expr) -> None:
        if isinstance(t, ast.Name):
            found.append(t.id)
        elif isinstance(t, ast.Tuple | ast.List):
            for e in t.elts:
                targets(e)

    def walk(stmts: list[ast.stmt]) -> None:
        for s in stmts:
            if isinstance(s, ast.Assign):
                for t in s.targets:
                    targets(t)
            elif isinstance(s, ast.AugAssign):
                targets(s.target)
            elif isinstance(s, ast.For):
                targets(s.target)
                walk(s.body)
                walk(s.orelse)
            elif isinstance(s, ast.If):
                walk(s.body)
                walk(s.orelse)
            elif isinstance(s, ast.FunctionDef):
                found.append(s.name)

    walk(body)
    return list(dict.fromkeys(found))


class _Module:
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


class _Function:
    """Translates one module-level function (and the functions nested in it) into JS."""

    def __init__(self, exporter: _Exporter, module: _Module, fn: ast.FunctionDef) -> None:
        self.exporter, self.module, self.fn = exporter, module, fn
        self.calls: set[str] = set()  # module-qualified formulas this one needs
        self.scopes: list[dict[str, Signature | None]] = []  # innermost last: local name → signature if a def
        self.temp = 0

    # ---- names
    def _local(self, name: str) -> Signature | bool | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return False

    def _fresh(self) -> str:
        self.temp += 1
        return f"t{self.temp}"

    # ---- functions
    def function(self, fn: ast.FunctionDef, indent: str) -> str:
        if fn.decorator_list:
            raise NotTranslated(fn, "a decorator")
        sig = _signature(fn)
        for value in sig.defaults.values():
            self._constant_default(value)
        body = fn.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        scope: dict[str, Signature | None] = dict.fromkeys(sig.params)
        nested = {s.name: s for s in ast.walk(fn) if isinstance(s, ast.FunctionDef) and s is not fn}
        for name in _assigned(body):
            scope.setdefault(name, _signature(nested[name]) if name in nested else None)
        self.scopes.append(scope)
        try:
            lines = [f"function ({', '.join('v_' + p for p in sig.params)}) {{"]
            for p, value in sig.defaults.items():
                lines.append(f"{indent}  if (v_{p} === undefined) v_{p} = {self.expr(value)};")
            local_names = [n for n in scope if n not in sig.params]
            if local_names:
                lines.append(f"{indent}  let {', '.join('v_' + n for n in local_names)};")
            lines += self.block(body, indent + "  ")
            lines.append(f"{indent}  return null;")
            lines.append(f"{indent}}}")
        finally:
            self.scopes.pop()
        return "\n".join(lines)

    def _constant_default(self, node: ast.expr) -> None:
        inner = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) else node
        if not isinstance(inner, ast.Constant) or isinstance(inner.value, str | bytes):
            raise NotTranslated(node, "a default that is not a number, a bool or None")

    # ---- statements
    def block(self, body: list[ast.stmt], indent: str) -> list[str]:
        lines: list[str] = []
        for s in body:
            lines += self.statement(s, indent)
        return lines

    def statement(self, s: ast.stmt, indent: str) -> list[str]:
        if isinstance(s, ast.Return):
            return [f"{indent}return {self.expr(s.value) if s.value else 'null'};"]
        if isinstance(s, ast.Assign):
            if len(s.targets) != 1:
                raise NotTranslated(s, "a chained assignment")
            return [f"{indent}{self.target(s.targets[0])} = {self.unpacked(s.targets[0], s.value)};"]
        if isinstance(s, ast.AugAssign):
            if not isinstance(s.target, ast.Name) or type(s.op) not in OPERATORS:
                raise NotTranslated(s, "an augmented assignment to something other than a name")
            name = self.name(s.target)
            return [f"{indent}{name} = PyRT.{OPERATORS[type(s.op)]}({name}, {self.expr(s.value)});"]
        if isinstance(s, ast.If):
            lines = [f"{indent}if (PyRT.truth({self.expr(s.test)})) {{", *self.block(s.body, indent + "  ")]
            if s.orelse:
                lines += [f"{indent}}} else {{", *self.block(s.orelse, indent + "  ")]
            return [*lines, f"{indent}}}"]
        if isinstance(s, ast.For):
            if s.orelse:
                raise NotTranslated(s, "for … else")
            item = self._fresh()
            return [
                f"{indent}for (const {item} of PyRT.iter({self.expr(s.iter)})) {{",
                f"{indent}  {self.target(s.target)} = {self._unpack_value(s.target, item)};",
                *self.block(s.body, indent + "  "),
                f"{indent}}}",
            ]
        if isinstance(s, ast.Break | ast.Continue):
            return [f"{indent}{'break' if isinstance(s, ast.Break) else 'continue'};"]
        if isinstance(s, ast.Pass):
            return []
        if isinstance(s, ast.Expr):
            if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
                return []  # a string statement is a comment
            if isinstance(s.value, ast.Call):
                return [f"{indent}{self.expr(s.value)};"]
            raise NotTranslated(s, "an expression statement that is not a call")
        if isinstance(s, ast.Raise):
            return [f"{indent}{self.raise_(s)};"]
        if isinstance(s, ast.FunctionDef):
            return [f"{indent}v_{s.name} = {self.function(s, indent)};"]
        raise NotTranslated(s, f"the statement {type(s).__name__}")

    def raise_(self, s: ast.Raise) -> str:
        exc = s.exc
        if (
            isinstance(exc, ast.Call)
            and isinstance(exc.func, ast.Name)
            and exc.func.id in RAISABLE
            and not exc.keywords
            and len(exc.args) <= 1
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in exc.args)
        ):
            message = exc.args[0].value if exc.args else ""  # type: ignore[attr-defined]
            return f"PyRT.raise({json.dumps(exc.func.id)}, {json.dumps(message)})"
        raise NotTranslated(s, "a raise other than ValueError('a message') and its kin")

    def target(self, t: ast.expr) -> str:
        if isinstance(t, ast.Name):
            return self.name(t)
        if isinstance(t, ast.Tuple | ast.List) and all(isinstance(e, ast.Name) for e in t.elts):
            return "[" + ", ".join(self.name(e) for e in t.elts) + "]"  # type: ignore[arg-type]
        raise NotTranslated(t, "an assignment target other than names")

    def unpacked(self, t: ast.expr, value: ast.expr) -> str:
        if isinstance(t, ast.Tuple | ast.List) and isinstance(value, ast.Tuple | ast.List):
            if len(t.elts) != len(value.elts):
                raise NotTranslated(t, "unpacking a different number of values")
            return "[" + ", ".join(self.expr(v) for v in value.elts) + "]"
        return self._unpack_value(t, self.expr(value))

    def _unpack_value(self, t: ast.expr, js: str) -> str:
        if isinstance(t, ast.Tuple | ast.List):
            return f"PyRT.unpack({js}, {len(t.elts)})"
        return js

    # ---- expressions
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


class _Exporter:
    def __init__(self, modules: list[str], sources: dict[str, str] | None = None) -> None:
        self.modules: dict[str, _Module] = {}
        self.problems: dict[str, str] = {}
        self.sources = sources
        for name in modules:
            try:
                self.modules[name] = _Module(name, None if sources is None else sources[name])
            except (OSError, SyntaxError, TypeError) as exc:  # no source to read: none of it is translated
                self.problems[name] = f"its source cannot be read ({exc})"

    def signature(self, key: str) -> Signature | None:
        module, name = key.split(".", 1)
        if module not in self.modules and module not in self.problems and self.sources is None:
            try:
                self.modules[module] = _Module(module)
            except (ImportError, OSError, SyntaxError, TypeError):
                return None
        fn = self.modules[module].functions.get(name) if module in self.modules else None
        try:
            return _signature(fn) if fn is not None else None
        except NotTranslated:
            return None

    def translate_all(self) -> tuple[dict[str, str], dict[str, set[str]], dict[str, str]]:
        code: dict[str, str] = {}
        needs: dict[str, set[str]] = {}
        refused: dict[str, str] = {}
        done: set[str] = set()
        while True:
            pending = [(m, f) for m in list(self.modules.values()) for f in m.functions if f"{m.name}.{f}" not in done]
            if not pending:
                break
            for module, name in pending:
                key = f"{module.name}.{name}"
                done.add(key)
                translator = _Function(self, module, module.functions[name])
                try:
                    code[key] = translator.function(module.functions[name], "  ")
                    needs[key] = translator.calls
                except NotTranslated as exc:
                    refused[key] = str(exc)
        # a function that calls a refused one is refused too
        changed = True
        while changed:
            changed = False
            for key in list(code):
                missing = [k for k in needs[key] if k not in code]
                if missing:
                    refused[key] = f"it calls {missing[0].split('.')[1]}(), which is not translated"
                    del code[key]
                    changed = True
        return code, needs, refused


def export() -> Export:
    """Translate every formula of answers.formulas; the script defines ``PyFormulas`` (needs pyrt.js first).
    Cached by the formulas' source, so a long ``quiz site serve`` translates an edited formula again."""
    import answers.formulas

    folder = Path(answers.formulas.__file__).parent
    digest = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in sorted(folder.glob("*.py"))))
    return _export(digest.hexdigest())


@lru_cache(maxsize=2)
def _export(_digest: str) -> Export:
    from answers.formulas import FORMULAS

    modules = sorted({fn.__module__.rsplit(".", 1)[1] for fn in FORMULAS.values()})
    exporter = _Exporter(modules)
    code, _, refused_keys = exporter.translate_all()
    result = Export(script="")
    entries: dict[str, Any] = {}
    for name, fn in sorted(FORMULAS.items()):
        key = f"{fn.__module__.rsplit('.', 1)[1]}.{name}"
        module = key.split(".")[0]
        if key in code:
            signature = exporter.signature(key)
            assert signature is not None
            result.exported[name] = signature.params
            entries[name] = [key, list(signature.params)]
        else:
            result.refused[name] = refused_keys.get(key) or exporter.problems.get(module, "not found in its module")
    lines = [
        "// Generated by quiz/site/formulas_js.py from answers/formulas/ at build time; edit the Python, not this.",
        "var PyFormulas = (function () {",
        '  "use strict";',
        "  var F = {};",
    ]
    lines += [f"  F[{json.dumps(key)}] = {body};" for key, body in sorted(code.items())]
    lines += [
        f"  var EXPORTED = {json.dumps(entries, sort_keys=True)};",
        f"  var REFUSED = {json.dumps(result.refused, sort_keys=True, ensure_ascii=False)};",
        "  // FORMULAS[name](**params) of Python, with params already PyRT values (BigInt, Number, boolean)",
        "  function call(name, params) {",
        "    var entry = EXPORTED[name];",
        '    if (!entry) throw new PyRT.PyError("NotTranslated", name + ": " + (REFUSED[name] || "no such formula"));',
        "    Object.keys(params).forEach(function (p) {",
        "      if (entry[1].indexOf(p) < 0) {",
        '        throw new PyRT.PyError("TypeError", name + "() got an unexpected keyword argument " + p);',
        "      }",
        "    });",
        "    var args = entry[1].map(function (p) { return params[p]; });",
        "    return F[entry[0]].apply(null, args);",
        "  }",
        "  return { call: call, exported: EXPORTED, refused: REFUSED };",
        "})();",
        "",
    ]
    result.script = "\n".join(lines)
    return result


def encode_value(value: Any) -> Any:
    """A parameter value for the browser, keeping Python's int/float distinction that JSON loses: an int as its
    digits (a BigInt there), a float as a number, a bool as itself. ValueError for a float JSON cannot carry."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError(f"the parameter value {value!r} cannot be sent to the browser")


def translate_sources(sources: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """({"module.function": JS}, {"module.function": why not}) for modules given as source text (for tests)."""
    code, _, refused = _Exporter(sorted(sources), sources).translate_all()
    return code, refused


def formulas_script() -> str:
    """assets/formulas.js: every translated formula, for the site's browser-drawn questions."""
    return export().script
