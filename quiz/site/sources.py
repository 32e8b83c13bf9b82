"""The source code of the proofs, read with ``ast``: the page shows the real module's text, not a copy, with
the private helpers a claim calls and the ``answers.reference`` functions it imports."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

from answers.protocol import is_helper_name
from quiz.paths import DEFAULT_ANSWERS

REFERENCE = DEFAULT_ANSWERS / "reference.py"
SHOWN_REFERENCE = "answers/reference.py"


@dataclass(frozen=True)
class Source:
    name: str
    line: int
    text: str
    helpers: tuple[str, ...] = ()  # private module-level functions it calls, directly or through each other
    references: tuple[Source, ...] = ()  # functions of answers.reference it (or a helper) uses


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _text(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])  # decorators too, as inspect gives it
    return "".join(lines[first - 1 : node.end_lineno])


@functools.cache
def _reference_functions(path: Path, stamp: float) -> dict[str, Source]:
    """The top-level functions of answers/reference.py (``stamp``, its mtime, makes an edit be read again)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    return {name: Source(name, node.lineno, _text(lines, node)) for name, node in _functions(ast.parse(text)).items()}


def _imported_from_reference(tree: ast.Module) -> dict[str, str]:
    """Local name → name in answers.reference, for every ``from answers.reference import …`` (anywhere)."""
    return {
        alias.asname or alias.name: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "answers.reference"
        for alias in node.names
    }


def _closure(name: str, calls: dict[str, set[str]]) -> tuple[set[str], set[str]]:
    """The helpers ``name`` reaches and every name used along the way."""
    seen: set[str] = set()
    todo = [c for c in calls[name] if is_helper_name(c) and c in calls and c != name]
    used = set(calls[name])
    while todo:
        helper = todo.pop()
        if helper not in seen:
            seen.add(helper)
            used |= calls[helper]
            todo.extend(c for c in calls[helper] if is_helper_name(c) and c in calls and c != name)
    return seen, used


def function_sources(path: Path) -> dict[str, Source]:
    """Every top-level function of the module at ``path``: its exact source text, the private helpers it
    depends on, and the ``answers.reference`` functions it uses."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    nodes = _functions(tree)
    calls = {name: _names_in(node) - {name} for name, node in nodes.items()}
    imported = _imported_from_reference(tree)
    reference = _reference_functions(REFERENCE, REFERENCE.stat().st_mtime) if imported and REFERENCE.is_file() else {}
    sources = {}
    for name, node in nodes.items():
        helpers, used = _closure(name, calls)
        refs = sorted({imported[n] for n in used if n in imported and imported[n] in reference})
        sources[name] = Source(
            name,
            node.lineno,
            _text(lines, node),
            tuple(sorted(helpers, key=lambda h: nodes[h].lineno)),
            tuple(reference[r] for r in sorted(refs, key=lambda r: reference[r].line)),
        )
    return sources
