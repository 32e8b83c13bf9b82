"""Running a card's claims: import its proof module, call each claim function, time it, and keep the
evidence. This is the only part of the quiz that imports torch (through the proof modules), and only when
a proof is actually run."""

from __future__ import annotations

import importlib
import importlib.util
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from answers.evidence import Evidence
from quiz.deck import DEFAULT_ANSWERS, shown_path
from quiz.errors import QuizError
from quiz.models import Card

CLAIM_TIMEOUT = 20.0  # seconds; a claim takes milliseconds, so this only catches a proof that hangs


class UntrustedAnswers(QuizError):
    pass


class ClaimTimeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float | None):
    """Interrupt the claim after ``seconds`` (SIGALRM: main thread only; elsewhere no limit). A claim stuck
    inside one long C call is interrupted when that call returns."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise ClaimTimeout(f"ran past the {seconds:g} s limit")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class ClaimResult:
    card: str
    claim: str
    statement: str
    seconds: float
    evidence: Evidence | None = None
    error: str | None = None  # why the claim could not be judged (it raised, returned the wrong type…)

    @property
    def holds(self) -> bool:
        return self.evidence is not None and self.error is None and self.evidence.holds

    @property
    def counterfactual_holds(self) -> bool:
        return self.evidence is not None and self.evidence.counterfactual_holds

    @property
    def passed(self) -> bool:
        """The claim holds and its counterfactual does not: the check discriminates."""
        return self.holds and not self.counterfactual_holds

    def to_json(self) -> dict[str, Any]:
        ev = self.evidence
        return {
            "card": self.card,
            "claim": self.claim,
            "statement": self.statement,
            "passed": self.passed,
            "holds": self.holds,
            "measured": _json_value(ev.measured) if ev else None,
            "expected": _json_value(ev.expected) if ev else None,
            "comparison": ev.comparison if ev else None,
            "tolerance": ev.tolerance if ev else None,
            "unit": ev.unit if ev else None,
            "derivation": ev.derivation if ev else None,
            "counterfactual": ev.counterfactual if ev else None,
            "counterfactual_measured": _json_value(ev.counterfactual_measured) if ev else None,
            "counterfactual_holds": self.counterfactual_holds,
            "details": {k: _json_value(v) for k, v in ev.details.items()} if ev else {},
            "seconds": round(self.seconds, 4),
            "error": self.error,
        }


def _json_value(value: Any) -> Any:
    """JSON has no NaN or infinity; show them as strings rather than emit invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


def _check_evidence(value: Any) -> str | None:
    """Why a claim's return value cannot be judged, if it cannot. A NaN counterfactual is fine: it is one way
    for the broken mechanism to fail (a fully masked row, say); a NaN measurement is not."""
    if not isinstance(value, Evidence):
        return f"returned {type(value).__name__}, not Evidence"
    if isinstance(value.measured, float) and not math.isfinite(value.measured):
        return f"measured value is {value.measured}"
    return None


def proof_module(card: Card, answers_dir: Path = DEFAULT_ANSWERS, trusted: bool = False) -> ModuleType:
    """The card's proof module: from the project's ``answers`` package, or — only when the user trusts it —
    loaded from the deck's own answers folder by path."""
    if Path(answers_dir).resolve() == DEFAULT_ANSWERS.resolve():
        return importlib.import_module(f"answers.{card.module}")
    if not trusted:
        raise UntrustedAnswers(
            f"running proofs from {shown_path(Path(answers_dir))} executes its code; "
            "pass --trust-answers if you trust that folder"
        )
    name = f"_deck_answers_{abs(hash(str(Path(answers_dir).resolve())))}.{card.module}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(answers_dir) / f"{card.module}.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {card.module}.py from {answers_dir}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def run_claim(
    card: Card,
    index: int,
    answers_dir: Path = DEFAULT_ANSWERS,
    *,
    trusted: bool = False,
    timeout: float | None = CLAIM_TIMEOUT,
) -> ClaimResult:
    """Run one claim. Its ``seconds`` cover the claim alone: importing the module (and torch, for the
    first card of a run) is paid once and is not the claim's cost."""
    claim = card.claims[index]
    try:
        module = proof_module(card, answers_dir, trusted)
    except QuizError:
        raise  # the user's decision to make, not a failing proof
    except Exception as exc:  # a module that cannot be imported fails its claims; the run goes on
        return ClaimResult(card.id, claim.proof, claim.statement, 0.0, error=f"{type(exc).__name__}: {exc}")
    start = time.perf_counter()
    try:
        with _time_limit(timeout):
            value = getattr(module, claim.proof)()
    except Exception as exc:  # a failing proof is a result to report, not a crash
        return ClaimResult(
            card.id, claim.proof, claim.statement, time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}"
        )
    seconds = time.perf_counter() - start
    problem = _check_evidence(value)
    if problem:
        return ClaimResult(card.id, claim.proof, claim.statement, seconds, error=problem)
    return ClaimResult(card.id, claim.proof, claim.statement, seconds, evidence=value)


def run_claims(
    cards: Iterable[Card],
    on_result: Callable[[ClaimResult], None] | None = None,
    answers_dir: Path = DEFAULT_ANSWERS,
    *,
    trusted: bool = False,
    timeout: float | None = CLAIM_TIMEOUT,
) -> Iterator[ClaimResult]:
    for card in cards:
        for index in range(len(card.claims)):
            result = run_claim(card, index, answers_dir, trusted=trusted, timeout=timeout)
            if on_result:
                on_result(result)
            yield result
