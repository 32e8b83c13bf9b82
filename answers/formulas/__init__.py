"""Whiteboard formulas: the numbers a candidate must produce (KV-cache bytes, FLOPs, parameter counts…).

Pure Python, no torch, so the quiz can generate fresh numeric questions without the 2 s torch import.
Each formula is checked against a measured tensor or model by a claim in a proof module, so a generated
question is as trustworthy as that proof. Formulas live in one module per topic family; ``FORMULAS`` maps
every public function name to the function.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable


def _collect() -> dict[str, Callable[..., float]]:
    found: dict[str, Callable[..., float]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):  # _trace is machinery, not formulas
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                if name in found:  # the quiz looks formulas up by name; two with one name is a silent bug
                    raise ImportError(f"formula '{name}' is defined in {found[name].__module__} and {module.__name__}")
                found[name] = fn
    return found


FORMULAS = _collect()
