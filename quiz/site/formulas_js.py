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

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from quiz.site.js_expressions import Module, NotTranslated, Signature, signature_of
from quiz.site.js_statements import FunctionTranslator


@dataclass
class Export:
    """The script, the public formulas it defines, and why each other formula is not in it."""

    script: str
    exported: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name → its parameters
    refused: dict[str, str] = field(default_factory=dict)  # name → the first construct that stopped it


class Exporter:
    def __init__(self, modules: list[str], sources: dict[str, str] | None = None) -> None:
        self.modules: dict[str, Module] = {}
        self.problems: dict[str, str] = {}
        self.sources = sources
        for name in modules:
            try:
                self.modules[name] = Module(name, None if sources is None else sources[name])
            except (OSError, SyntaxError, TypeError) as exc:  # no source to read: none of it is translated
                self.problems[name] = f"its source cannot be read ({exc})"

    def signature(self, key: str) -> Signature | None:
        module, name = key.split(".", 1)
        if module not in self.modules and module not in self.problems and self.sources is None:
            try:
                self.modules[module] = Module(module)
            except (ImportError, OSError, SyntaxError, TypeError):
                return None
        fn = self.modules[module].functions.get(name) if module in self.modules else None
        try:
            return signature_of(fn) if fn is not None else None
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
                translator = FunctionTranslator(self, module, module.functions[name])
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
    exporter = Exporter(modules)
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
    code, _, refused = Exporter(sorted(sources), sources).translate_all()
    return code, refused


def formulas_script() -> str:
    """assets/formulas.js: every translated formula, for the site's browser-drawn questions."""
    return export().script
