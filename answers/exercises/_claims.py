"""The card's own claims, run on the learner's function: the "graded by the same proofs" half of a check.

An exercise may list ``CARD_CLAIMS``: claim functions of its card's proof module (``"claim_name"``) or of
another card's (``"card-id:claim_name"``), each of which takes the mechanism it proves as the keyword parameter
``CLAIM_PARAMETER`` (default: the reference implementation, with the exercise's signature). Each is called with
the learner's function in its place; its Evidence is the verdict: the claim holds for the learner's code or not.
Only ``measured`` is recomputed with the learner's function; the expected value and the counterfactual stay the
card's, so a learner who made the counterfactual's mistake measures what the counterfactual measures.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from answers.evidence import Evidence, evidence_text

QUESTIONS = Path(__file__).resolve().parents[2] / "questions"


def claim_targets(exercise: ModuleType) -> list[tuple[str, str]]:
    """(card id, claim function name) for each entry of the exercise's ``CARD_CLAIMS``."""
    return [
        tuple(entry.split(":", 1)) if ":" in entry else (exercise.CARD, entry)  # type: ignore[misc]
        for entry in getattr(exercise, "CARD_CLAIMS", ())
    ]


def claim_function(card: str, proof: str) -> Callable[..., Evidence]:
    return getattr(importlib.import_module(f"answers.{card.replace('-', '_')}"), proof)


@cache
def statements(card: str) -> dict[str, str]:
    """Claim function name → the card's statement of it, read from the card's YAML file."""
    for path in QUESTIONS.glob(f"*/{card}.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return {c["proof"]: c["statement"] for c in data.get("claims", []) if "proof" in c and "statement" in c}
    return {}


def prepare(exercise: ModuleType) -> None:
    """Import the claims' modules and read their statements now, before the learner's time starts."""
    for card, proof in claim_targets(exercise):
        claim_function(card, proof), statements(card)


def run_claims(exercise: ModuleType, fn: Callable[..., Any]) -> list[dict[str, Any]]:
    """Each card claim's verdict with ``fn`` substituted for the mechanism it proves.

    A claim that raises (the learner's function crashed, exited, returned the wrong type or was refused) is an
    error, never a pass."""
    parameter = getattr(exercise, "CLAIM_PARAMETER", "")
    verdicts = []
    for card, proof in claim_targets(exercise):
        verdict: dict[str, Any] = {"card": card, "proof": proof, "statement": statements(card).get(proof, proof)}
        try:
            ev = claim_function(card, proof)(**{parameter: fn})
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            code = f"sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"
            verdicts.append(verdict | {"status": "error", "error": f"the claim could not run on your code: {code}"})
            continue
        text = evidence_text(ev)
        verdicts.append(
            verdict
            | {
                "status": "passed" if ev.holds else "failed",
                "measured": text.measured,
                "expected": text.criterion,
                "derivation": text.derivation,
                # The learner measured what the card's broken mechanism measures: most likely that very mistake.
                "counterfactual": text.counterfactual if _same(ev.measured, ev.counterfactual_measured) else None,
            }
        )
    return verdicts


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b) or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b


def takes_the_mechanism(card: str, proof: str, parameter: str) -> bool:
    """Whether the claim accepts ``parameter`` as a keyword with a default (its reference implementation)."""
    p = inspect.signature(claim_function(card, proof)).parameters.get(parameter)
    return p is not None and p.default is not inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD
