"""Python statements of answers/formulas as JavaScript: a function's locals, assignments, branches and loops, over
the expressions of quiz.site.js_expressions (see quiz.site.formulas_js)."""

from __future__ import annotations

import ast
import json

from quiz.site.js_expressions import OPERATORS, RAISABLE, Expressions, NotTranslated, Signature, signature_of


def assigned(body: list[ast.stmt]) -> list[str]:
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


class FunctionTranslator(Expressions):
    """One module-level function as a JS function expression; ``calls`` names the formulas it needs."""

    def function(self, fn: ast.FunctionDef, indent: str) -> str:
        if fn.decorator_list:
            raise NotTranslated(fn, "a decorator")
        sig = signature_of(fn)
        for value in sig.defaults.values():
            self._constant_default(value)
        body = fn.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        scope: dict[str, Signature | None] = dict.fromkeys(sig.params)
        nested = {s.name: s for s in ast.walk(fn) if isinstance(s, ast.FunctionDef) and s is not fn}
        for name in assigned(body):
            scope.setdefault(name, signature_of(nested[name]) if name in nested else None)
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

    def unpacked(self, t: ast.expr, value: ast.expr) -> str:
        if isinstance(t, ast.Tuple | ast.List) and isinstance(value, ast.Tuple | ast.List):
            if len(t.elts) != len(value.elts):
                raise NotTranslated(t, "unpacking a different number of values")
            return "[" + ", ".join(self.expr(v) for v in value.elts) + "]"
        return self._unpack_value(t, self.expr(value))
