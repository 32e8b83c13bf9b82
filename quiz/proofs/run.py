"""Running one claim in this process: load the card's proof module (the one trust check), call the claim, and
judge what it returned. ``workers`` calls it in a forked child per claim, which is what keeps a claim from
lying about the run; callers only see the ``ClaimResult`` sent back."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import answers
from answers.evidence import Evidence, EvidenceText, evidence_text
from quiz.errors import QuizError
from quiz.paths import DEFAULT_ANSWERS, is_own_answers, is_own_package, module_too_big, shown_path
from quiz.timelimit import time_limit

CLAIM_TIMEOUT = 20.0  # seconds; a claim takes milliseconds, so this only catches a proof that hangs


class UntrustedAnswers(QuizError):
    pass


class ClaimTimeout(BaseException):
    """Not an ``Exception``: a claim's ``except Exception`` (a retry loop) must not swallow it."""


class ClaimLike(Protocol):
    @property
    def statement(self) -> str: ...
    @property
    def proof(self) -> str: ...


class ProvableCard(Protocol):
    """What running a card's proofs needs; the pydantic Card and the cached CardView both have it."""

    @property
    def id(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def claims(self) -> Sequence[ClaimLike]: ...


@dataclass(frozen=True)
class ClaimResult:
    """One claim's verdict as data. ``evidence`` exists only when the claim ran in this process; everything
    the outputs show is in ``text`` and ``values``, which a cached record keeps."""

    card: str
    claim: str
    statement: str
    seconds: float
    text: EvidenceText | None = None
    values: dict[str, Any] = field(default_factory=dict)  # the Evidence's fields, JSON-safe
    error: str | None = None  # why the claim could not be judged (it raised, returned the wrong type…)
    evidence: Evidence | None = None
    cached: bool = False

    @property
    def holds(self) -> bool:
        return self.text is not None and self.error is None and self.text.holds

    @property
    def counterfactual_holds(self) -> bool:
        return self.text is not None and self.text.counterfactual_holds

    @property
    def passed(self) -> bool:
        """The claim holds and its counterfactual does not: the check discriminates."""
        return self.holds and not self.counterfactual_holds

    def to_json(self) -> dict[str, Any]:
        values = self.values
        return {
            "card": self.card,
            "claim": self.claim,
            "statement": self.statement,
            "passed": self.passed,
            "holds": self.holds,
            **{name: values.get(name) for name in _EVIDENCE_FIELDS[:-1]},
            "counterfactual_holds": self.counterfactual_holds,
            "details": values.get("details", {}),
            "seconds": round(self.seconds, 4),
            "error": self.error,
        }

    def record(self) -> dict[str, Any]:
        return {**self.to_json(), "text": self.text.to_json() if self.text else None}

    @classmethod
    def from_record(cls, data: dict[str, Any], statement: str, cached: bool = True) -> ClaimResult:
        text = EvidenceText.from_json(data["text"]) if data.get("text") else None
        values = {name: data[name] for name in _EVIDENCE_FIELDS} if text else {}
        return cls(data["card"], data["claim"], statement, data["seconds"], text, values, data["error"], None, cached)


_EVIDENCE_FIELDS = ("measured", "expected", "comparison", "tolerance", "unit", "derivation", "counterfactual",
                    "counterfactual_measured", "details")  # fmt: skip


def _json_value(value: Any) -> Any:
    """JSON has no NaN or infinity; show them as strings rather than emit invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


class _NotPlain(ValueError):
    pass


def _plain(value: Any, where: str) -> Any:
    """``value`` as a plain bool, int, float, str or tuple of them. A numpy scalar (``numpy.int64(2)``, the
    ``numpy.bool_`` a comparison returns) becomes its Python value; anything else (a tensor, an array, an
    object) is refused by name, so the record a claim sends back always judges and serialises the same way."""
    for kind in (bool, int, float, str):  # in this order: a bool is an int; numpy.float64 is a float
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, tuple | list):
        return tuple(_plain(v, where) for v in value)
    kind = type(value)
    if kind.__module__ == "numpy" and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        item = value.item()
        if isinstance(item, bool | int | float | str):
            return item
    name = f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__qualname__
    hint = "; call .item() on it" if hasattr(value, "item") else ""
    raise _NotPlain(f"{where} is a {name}, not a number, string or tuple{hint}")


def _plain_evidence(value: Evidence) -> Evidence:
    """``value`` with every field plain (see ``_plain``); raises ``_NotPlain`` naming the first that is not."""
    fields = {name: _plain(getattr(value, name), name) for name in _VALUE_FIELDS}
    for name in ("derivation", "counterfactual", "unit", "comparison"):
        if not isinstance(getattr(value, name), str):
            raise _NotPlain(f"{name} is a {type(getattr(value, name)).__name__}, not a string")
        fields[name] = str(getattr(value, name))
    tolerance = _plain(value.tolerance, "tolerance")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float):
        raise _NotPlain(f"tolerance is a {type(value.tolerance).__name__}, not a number")
    details = value.details
    if not isinstance(details, Mapping) or not all(isinstance(k, str) for k in details):
        raise _NotPlain("details must map strings to values")
    fields["details"] = {str(k): _plain(v, f"details[{k!r}]") for k, v in details.items()}
    return dataclasses.replace(value, tolerance=float(tolerance), **fields)


_VALUE_FIELDS = ("measured", "expected", "counterfactual_measured")


def _check_evidence(value: Any) -> str | None:
    """Why a claim's return value cannot be judged, if it cannot. A NaN counterfactual is fine: it is one way
    for the broken mechanism to fail (a fully masked row, say); a NaN measurement is not."""
    if not isinstance(value, Evidence):
        return f"returned {type(value).__name__}, not Evidence"
    if isinstance(value.measured, float) and not math.isfinite(value.measured):
        return f"measured value is {value.measured}"
    return None


def _time_limit(seconds: float | None):
    return time_limit(seconds, lambda: ClaimTimeout(f"ran past the {seconds:g} s limit"))


def check_trust(answers_dir: Path, trusted: bool) -> None:
    """The one trust check: another folder's proof modules are code, run only when the user trusts it."""
    if not trusted and not is_own_answers(answers_dir):
        raise UntrustedAnswers(
            f"running proofs from {shown_path(Path(answers_dir))} executes its code; "
            "pass --trust-answers if you trust that folder"
        )


def proof_module(card: ProvableCard, answers_dir: Path = DEFAULT_ANSWERS, trusted: bool = False) -> ModuleType:
    """The card's proof module: from the project's ``answers`` package, or (only when the user trusts it)
    loaded from the deck's own answers folder by path."""
    check_trust(answers_dir, trusted)
    if not is_own_package(answers):
        # quiz/__init__ binds the name to our folder; anything else here means a deck's package got in first
        raise UntrustedAnswers(f"the 'answers' package was loaded from {answers.__file__}, not {DEFAULT_ANSWERS}")
    path = Path(answers_dir) / f"{card.module}.py"
    too_big = module_too_big(path)
    if too_big:
        raise ImportError(too_big)
    own = is_own_answers(answers_dir)
    name = f"answers.{card.module}" if own else f"_deck_answers_{abs(hash(str(path.parent.resolve())))}.{card.module}"
    # A process that lives on (a quiz session, a test run) must not prove an edited module with its old code.
    if name in sys.modules and _loaded.get(name) != file_stamp(path):
        del sys.modules[name]
    if name not in sys.modules:
        _loaded[name] = file_stamp(path)
        if own:
            return importlib.import_module(name)
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {card.module}.py from {answers_dir}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


_loaded: dict[str, tuple[int, int]] = {}  # module name → the stamp of the file it was loaded from


def file_stamp(path: Path) -> tuple[int, int]:
    """(mtime, size) of a file, (0, -1) when it is missing: what tells an edited file from an unchanged one."""
    try:
        st = path.stat()
    except OSError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


def run_claim(
    card: ProvableCard,
    index: int,
    answers_dir: Path = DEFAULT_ANSWERS,
    *,
    trusted: bool = False,
    timeout: float | None = CLAIM_TIMEOUT,
) -> ClaimResult:
    """Run one claim. Its ``seconds`` cover the claim alone: importing the module (and torch, for the
    first card of a run) is paid once and is not the claim's cost."""
    claim = card.claims[index]
    failed = functools.partial(ClaimResult, card.id, claim.proof, claim.statement)
    try:
        module = proof_module(card, answers_dir, trusted)
    except QuizError:
        raise  # the user's decision to make, not a failing proof
    except Exception as exc:  # a module that cannot be imported fails its claims; the run goes on
        return failed(0.0, error=f"{type(exc).__name__}: {exc}")
    start = time.perf_counter()
    try:
        with _time_limit(timeout):
            value = getattr(module, claim.proof)()
    except KeyboardInterrupt:
        raise  # the person at the keyboard, not the claim
    except BaseException as exc:  # a failing proof is a result to report, not a crash; SystemExit too
        return failed(time.perf_counter() - start, error=_describe(exc))
    seconds = time.perf_counter() - start
    problem = _check_evidence(value)
    if problem:
        return failed(seconds, error=problem)
    try:
        value = _plain_evidence(value)
    except _NotPlain as exc:
        return failed(seconds, error=f"returned Evidence whose {exc}")
    except Exception as exc:  # Evidence's own checks on the plain values (a negative tolerance)
        return failed(seconds, error=_describe(exc))
    values = {name: _json_value(getattr(value, name)) for name in _EVIDENCE_FIELDS}
    return ClaimResult(card.id, claim.proof, claim.statement, seconds, evidence_text(value), values, evidence=value)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r}); a claim returns its Evidence and never exits"
    return f"{type(exc).__name__}: {exc}"


def run_card(card: ProvableCard, answers_dir: Path, trusted: bool) -> list[ClaimResult]:
    return [run_claim(card, i, answers_dir, trusted=trusted) for i in range(len(card.claims))]
