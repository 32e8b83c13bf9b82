"""What the parts of a proof module are, in one place.

- A **claim** is a public top-level function declared to return ``Evidence``.
- A **figure** is a public top-level function named ``figure_*``; its docstring is the caption.
- A **helper** is a private (``_name``) top-level function; the site shows the helpers a claim calls.

Read two ways, with the same rules: ``outline`` with ``ast`` from the source (deck checks and the site, which
must not import torch nor run a deck's code) and ``claim_functions``/``figure_functions`` with ``inspect``
from an imported module (the report and the proof runner).
"""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

FIGURE_PREFIX = "figure_"


def is_claim_name(name: str) -> bool:
    return not name.startswith("_")


def is_helper_name(name: str) -> bool:
    return name.startswith("_")


def is_figure_name(name: str) -> bool:
    return name.startswith(FIGURE_PREFIX)


def _returns_evidence(annotation: Any) -> bool:
    return annotation in ("Evidence",) or getattr(annotation, "__name__", None) == "Evidence"


@dataclass(frozen=True)
class ModuleOutline:
    """Top-level functions of a module: name → (line, argument names, returns Evidence)."""

    functions: Mapping[str, tuple[int, tuple[str, ...], bool]]  # read-only: outlines are shared from a cache


def outline(path: Path) -> ModuleOutline | None:
    """The module at ``path`` read with ``ast``: never imported. None if it cannot be read or parsed."""
    try:
        return outline_of_source(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


@functools.lru_cache(maxsize=512)
def outline_of_source(source: str) -> ModuleOutline | None:
    """Keyed by the source text itself, so an edited module is never answered from the cache: loading the bank
    parses its ~80 modules once per process, not once per load (the fuzz tests load thousands of decks)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    functions = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            args = tuple(a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs))
            returns = node.returns
            evidence = (isinstance(returns, ast.Name) and returns.id == "Evidence") or (
                isinstance(returns, ast.Constant) and returns.value == "Evidence"
            )
            functions[node.name] = (node.lineno, args, evidence)
    return ModuleOutline(MappingProxyType(functions))


def _own_functions(module: ModuleType) -> list[Callable[..., Any]]:
    found = [fn for fn in vars(module).values() if inspect.isfunction(fn) and fn.__module__ == module.__name__]
    return sorted(found, key=lambda fn: fn.__code__.co_firstlineno)


def claim_functions(module: ModuleType) -> list[Callable[..., Any]]:
    """The module's claims, in source order."""
    return [
        fn
        for fn in _own_functions(module)
        if is_claim_name(fn.__name__) and _returns_evidence(inspect.signature(fn).return_annotation)
    ]


def figure_functions(module: ModuleType) -> list[Callable[..., Any]]:
    """The module's figures, in source order."""
    return [fn for fn in _own_functions(module) if is_figure_name(fn.__name__)]
