"""Showing values: a quantity as an interviewer would say it, a parameter as a question prints it."""

from __future__ import annotations

import math
from typing import Any


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
