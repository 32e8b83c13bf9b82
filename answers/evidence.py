"""The record every claim function returns.

A claim is one check run twice: once on the real mechanism (``measured``) and once on a deliberately
broken one (``counterfactual_measured``), both against the same ``expected`` value with the same
comparison. The claim is proved when the first holds and the second does not: a check that the broken
mechanism also passes proves nothing.

This module imports nothing heavy, so the quiz can read evidence without importing torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Scalar = bool | int | float | str
Value = Scalar | tuple[Scalar, ...]

# abs:      |measured − expected| ≤ tolerance
# rel:      |measured − expected| ≤ tolerance · |expected|
# at_most:  measured ≤ expected (expected is an upper bound; tolerance unused)
# at_least: measured ≥ expected (expected is a lower bound; tolerance unused)
# equal:    measured == expected exactly (counts, shapes, booleans)
Comparison = Literal["abs", "rel", "at_most", "at_least", "equal"]


def satisfies(measured: Value, expected: Value, comparison: Comparison, tolerance: float) -> bool:
    """Whether ``measured`` passes the check. NaN and infinities never pass a numeric check."""
    if comparison == "equal":
        return measured == expected
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (measured, expected)):
        return False
    m, e = float(measured), float(expected)  # type: ignore[arg-type]
    if not (math.isfinite(m) and math.isfinite(e)):
        return False
    if comparison == "abs":
        return abs(m - e) <= tolerance
    if comparison == "rel":
        return abs(m - e) <= tolerance * abs(e)
    if comparison == "at_most":
        return m <= e
    if comparison == "at_least":
        return m >= e
    raise ValueError(f"unknown comparison {comparison!r}")


@dataclass(frozen=True)
class Evidence:
    """What a claim function measured, what theory or a reference implementation expects, and the
    same check on the broken mechanism."""

    measured: Value
    expected: Value
    derivation: str  # how `expected` was obtained: theory, a float64 loop, torch's own implementation
    counterfactual: str  # what was broken for the second run
    counterfactual_measured: Value
    comparison: Comparison = "abs"
    tolerance: float = 0.0
    unit: str = ""
    details: Mapping[str, Value] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.comparison in ("abs", "rel") and not self.tolerance >= 0:
            raise ValueError("a numeric comparison needs a non-negative tolerance")

    @property
    def holds(self) -> bool:
        return satisfies(self.measured, self.expected, self.comparison, self.tolerance)

    @property
    def counterfactual_holds(self) -> bool:
        return satisfies(self.counterfactual_measured, self.expected, self.comparison, self.tolerance)

    @property
    def proved(self) -> bool:
        return self.holds and not self.counterfactual_holds

    def criterion(self) -> str:
        """The check in words, e.g. ``|x − 64| ≤ 3.2``."""
        e = format_value(self.expected)
        return {
            "abs": f"within ±{format_value(self.tolerance)} of {e}",
            "rel": f"within {format_value(self.tolerance * 100)}% of {e}",
            "at_most": f"≤ {e}",
            "at_least": f"≥ {e}",
            "equal": f"= {e}",
        }[self.comparison]


def format_value(value: Value) -> str:
    """Short human form: integers with thousands separators, floats with 4 significant digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value == 0:
            return "0"
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        magnitude = abs(value)
        return f"{value:.4g}" if 1e-3 <= magnitude < 1e6 else f"{value:.3g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    return str(value)


@dataclass(frozen=True)
class EvidenceText:
    """Evidence as the words every output shows (terminal, site, Anki, ``python -m answers.<id>``): plain
    strings, units attached, so a cached record can be shown without the Evidence it came from."""

    measured: str
    criterion: str
    derivation: str
    counterfactual: str
    counterfactual_measured: str
    holds: bool
    counterfactual_holds: bool
    details: dict[str, str]

    @property
    def counterfactual_outcome(self) -> str:
        return "still holds: the check cannot tell" if self.counterfactual_holds else "fails, as it must"

    def to_json(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> EvidenceText:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})  # type: ignore[arg-type]


def evidence_text(ev: Evidence) -> EvidenceText:
    """The one formatter of evidence."""
    unit = f" {ev.unit}" if ev.unit else ""
    return EvidenceText(
        measured=format_value(ev.measured) + unit,
        criterion=ev.criterion() + unit,
        derivation=ev.derivation,
        counterfactual=ev.counterfactual,
        counterfactual_measured=format_value(ev.counterfactual_measured) + unit,
        holds=ev.holds,
        counterfactual_holds=ev.counterfactual_holds,
        details={key: format_value(value) for key, value in ev.details.items()},
    )
