"""What every exercise is built from: a check (``Case``), a named wrong implementation (``Misconception``),
and the comparison and display of their outputs."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

torch.set_num_threads(1)

F64 = torch.float64


def randn(*shape: int, seed: int, dtype: torch.dtype = F64) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@dataclass(frozen=True)
class Case:
    """One check: call the function on ``args`` and compare with ``expected`` (from an independent reference).

    ``raises``: the check instead expects this exception. ``post``: the compared quantity is ``post(output)``,
    not the output itself (e.g. attention computed with the learner's expanded K/V), shown as ``post_label``.
    """

    name: str
    args: tuple
    expected: Any = None
    why: str = ""  # what the check is for, shown when it fails
    kwargs: dict = field(default_factory=dict)
    raises: type[BaseException] | None = None
    atol: float = 1e-9
    rtol: float = 1e-7
    post: Callable[[Any], Any] | None = None
    post_label: str = ""
    arg_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Misconception:
    """A wrong implementation people actually write, what it gets wrong, and the card pitfall about it."""

    name: str
    fn: Callable[..., Any]
    explanation: str
    pitfall: str  # "card-id: the pitfall or claim", so the learner can read it: quiz show card-id --answer


def clone(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.clone()
    if isinstance(value, tuple | list):
        return type(value)(clone(v) for v in value)
    return value


def same(actual: Any, expected: Any, atol: float = 1e-9, rtol: float = 1e-7) -> str | None:
    """None when ``actual`` is ``expected``; else what differs, in one sentence."""
    if isinstance(expected, tuple):  # a function returning several values: each compared in turn
        if not isinstance(actual, tuple | list) or len(actual) != len(expected):
            return f"expected a tuple of {len(expected)} values, got {type(actual).__name__}" + (
                f" of {len(actual)}" if isinstance(actual, tuple | list) else ""
            )
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            if (problem := same(a, e, atol, rtol)) is not None:
                return f"value {i} of the tuple: {problem}"
        return None
    if isinstance(expected, Tensor):
        if not isinstance(actual, Tensor):
            return f"expected a tensor, got {type(actual).__name__}"
        if actual.shape != expected.shape:
            return f"shape is {tuple(actual.shape)}, expected {tuple(expected.shape)}"
        if actual.dtype != expected.dtype:
            return f"dtype is {actual.dtype}, expected {expected.dtype}"
        if expected.dtype == torch.bool or not expected.is_floating_point():
            wrong = int((actual != expected).sum())
            return None if wrong == 0 else f"{wrong} of {expected.numel()} entries differ"
        if torch.isnan(actual).any() and not torch.isnan(expected).any():
            return f"{int(torch.isnan(actual).sum())} entries are NaN"
        if torch.allclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True):
            return None
        err = (actual - expected).abs().nan_to_num(math.inf).max().item()
        return f"values differ by up to {err:.3g} (tolerance {atol:g} + {rtol:g}·|expected|)"
    if isinstance(expected, float):
        if not isinstance(actual, int | float) or isinstance(actual, bool):
            return f"expected a number, got {type(actual).__name__}"
        return (
            None if math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol) else f"{actual!r}, expected {expected!r}"
        )
    return None if actual == expected else f"{actual!r}, expected {expected!r}"


def agrees(a: Any, b: Any) -> bool:
    """Whether two outputs are the same (NaN equal to NaN): how a learner's output is matched to a mistake."""
    if isinstance(a, tuple | list) or isinstance(b, tuple | list):
        return (
            isinstance(a, tuple | list)
            and isinstance(b, tuple | list)
            and len(a) == len(b)
            and all(agrees(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.is_floating_point():
            return torch.allclose(a, b, atol=1e-7, rtol=1e-6, equal_nan=True)
        return torch.equal(a, b)
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return False
    return a == b


def show(value: Any) -> str:
    """A value as the learner should see it: small tensors in full, large ones by their first slice."""
    if isinstance(value, tuple) and any(isinstance(v, Tensor) for v in value):
        return "\n".join(f"item {i}: {show(v)}" for i, v in enumerate(value))
    if isinstance(value, Tensor):
        head = f"{tuple(value.shape)} {str(value.dtype).removeprefix('torch.')}"
        t = value
        index = ""
        while t.dim() > 2 and t.numel() > 48:
            t = t[0]
            index += "[0]"
        with _printing():
            body = str(t.detach()).removeprefix("tensor(").removesuffix(")")
            body = "\n".join(line.removeprefix(" " * len("tensor(")) for line in body.splitlines())
            body = re.sub(r",\s*dtype=torch\.\w+", "", body)  # the header line already says it
        return f"{head}{'  ' + index if index else ''}\n{body}"
    if isinstance(value, BaseException):
        return f"raised {type(value).__name__}: {value}"
    return repr(value)


class _printing:
    def __enter__(self) -> None:
        torch.set_printoptions(precision=3, threshold=80, edgeitems=3, linewidth=60, sci_mode=False)

    def __exit__(self, *exc: object) -> None:
        torch.set_printoptions(profile="default")
