"""Running proofs, and remembering what they showed: the one place that imports a card's proof module.

- ``run_claim`` runs one claim with a time limit and judges what it returned. It is the seam for running each
  claim in a worker process of its own: callers only see the ``ClaimResult`` it sends back.
- ``proof_key`` hashes everything a card's evidence depends on: its proof module, every module of the
  ``answers`` package it imports (transitively), the shared modules that judge it, and torch's version.
- ``ProofCache`` keeps each card's results and figures under that key, so ``quiz verify``, ``quiz show
  --answer``, the ``p`` key of ``quiz take`` and the site answer from the same records. Only a card whose
  every claim passed is cached: a failure may be an accident of the run, and is proved again next time.
- ``prove`` runs (or reads) cards in this process; ``prove_in_workers`` runs them in fresh processes.

torch is imported only through the proof modules, and only when a claim actually runs.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import json
import math
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from answers.evidence import Evidence, EvidenceText, evidence_text
from quiz.errors import QuizError
from quiz.paths import DEFAULT_ANSWERS, cache_dir, is_own_answers, shown_path

CLAIM_TIMEOUT = 20.0  # seconds; a claim takes milliseconds, so this only catches a proof that hangs
# Part of every key: bump it when the record's layout or the way it is produced changes.
RECORD_VERSION = "2"
# Hashed into every key even if a module does not import them: they decide how a proof is judged.
KEY_MODULES = ("evidence.py", "reference.py")


class UntrustedAnswers(QuizError):
    pass


class ClaimTimeout(Exception):
    pass


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


# --------------------------------------------------------------------------------------------------
# One claim


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


def _check_evidence(value: Any) -> str | None:
    """Why a claim's return value cannot be judged, if it cannot. A NaN counterfactual is fine: it is one way
    for the broken mechanism to fail (a fully masked row, say); a NaN measurement is not."""
    if not isinstance(value, Evidence):
        return f"returned {type(value).__name__}, not Evidence"
    if isinstance(value.measured, float) and not math.isfinite(value.measured):
        return f"measured value is {value.measured}"
    return None


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the claim after ``seconds`` (SIGALRM: main thread only; elsewhere no limit). A claim stuck
    inside one long C call is interrupted when that call returns."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise ClaimTimeout(f"ran past the {seconds:g} s limit")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
    path = Path(answers_dir) / f"{card.module}.py"
    own = is_own_answers(answers_dir)
    name = f"answers.{card.module}" if own else f"_deck_answers_{abs(hash(str(path.parent.resolve())))}.{card.module}"
    # A process that lives on (a quiz session, a test run) must not prove an edited module with its old code.
    if name in sys.modules and _loaded.get(name) != _stamp(path):
        del sys.modules[name]
    if name not in sys.modules:
        _loaded[name] = _stamp(path)
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
    except Exception as exc:  # a failing proof is a result to report, not a crash
        return failed(time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    problem = _check_evidence(value)
    if problem:
        return failed(seconds, error=problem)
    values = {name: _json_value(getattr(value, name)) for name in _EVIDENCE_FIELDS}
    return ClaimResult(card.id, claim.proof, claim.statement, seconds, evidence_text(value), values, evidence=value)


def run_card(card: ProvableCard, answers_dir: Path, trusted: bool) -> list[ClaimResult]:
    return [run_claim(card, i, answers_dir, trusted=trusted) for i in range(len(card.claims))]


# --------------------------------------------------------------------------------------------------
# The key


# Every import of the answers package, also those inside functions. A regex, not ast: parsing 70 modules would
# cost a cached `quiz verify` a third of its budget, and a match inside a string only hashes one file more.
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(answers(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)|import[ \t]+([^\n#]+))", re.M
)


@functools.cache
def _imports_of(path: Path, stamp: tuple[int, int]) -> frozenset[Path]:
    """The files of the ``answers`` package that the module at ``path`` imports directly (``stamp``, its
    mtime and size, makes an edited file be read again)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return frozenset()
    names: set[str] = set()
    for match in _IMPORT.finditer(text):
        module, imported, plain = match.groups()
        if module:
            names.add(module)
            # `from answers import x`: x may be a module
            names.update(f"{module}.{n.split()[0]}" for n in imported.strip("()").split(",") if n.strip())
        else:
            names.update(n.split()[0] for n in plain.split(",") if n.strip().startswith("answers"))
    found = set()
    for name in names:
        base = DEFAULT_ANSWERS.joinpath(*name.split(".")[1:])
        found.update(c for c in (base.with_suffix(".py"), base / "__init__.py") if c.is_file())
    return frozenset(found)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


@functools.cache
def _file_digest(path: Path, stamp: tuple[int, int]) -> bytes:
    return hashlib.sha256(path.read_bytes() if stamp[1] >= 0 else b"<missing>").digest()


@functools.cache
def torch_version() -> str:
    """torch's version from its metadata: importing torch would cost a second."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return "none"


def dependencies(card: ProvableCard, answers_dir: Path = DEFAULT_ANSWERS) -> list[Path]:
    """The card's module first, then every file its evidence depends on."""
    module = Path(answers_dir) / f"{card.module}.py"
    files = {module, *(DEFAULT_ANSWERS / name for name in KEY_MODULES)}
    todo = [module]
    while todo:
        path = todo.pop()
        for dep in _imports_of(path, _stamp(path)) - files:
            files.add(dep)
            todo.append(dep)
    return [module, *sorted(files - {module})]


def proof_key(card: ProvableCard, answers_dir: Path = DEFAULT_ANSWERS) -> str:
    """Hash of everything a card's evidence and figures depend on (see ``dependencies``), torch's version
    and the claim list."""
    digest = hashlib.sha256(f"{RECORD_VERSION}\n{card.module}\n{torch_version()}\n".encode())
    digest.update("\n".join(claim.proof for claim in card.claims).encode())
    for path in dependencies(card, answers_dir):
        digest.update(b"\0" + path.name.encode() + b"\0" + _file_digest(path, _stamp(path)))
    return digest.hexdigest()[:20]


# --------------------------------------------------------------------------------------------------
# The cache


class ProofCache:
    """``<root>/proofs/<card>/<key>/``: ``claims.json``, and ``figures.json`` with the figure files."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir()

    def folder(self, card_id: str, key: str) -> Path:
        return self.root / "proofs" / card_id / key

    def _read(self, card_id: str, key: str, name: str) -> Any:
        try:
            return json.loads((self.folder(card_id, key) / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _write(self, card_id: str, key: str, name: str, data: Any) -> None:
        folder = self.folder(card_id, key)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{name}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, folder / name)  # a reader sees the old record or the new, never half
            for old in folder.parent.iterdir():
                if old != folder and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass  # the cache only saves time; a read-only cache folder must not stop a proof

    def claims(self, card: ProvableCard, key: str) -> list[ClaimResult] | None:
        records = self._read(card.id, key, "claims.json")
        if not isinstance(records, list) or len(records) != len(card.claims):
            return None
        try:
            return [ClaimResult.from_record(r, c.statement) for r, c in zip(records, card.claims, strict=True)]
        except (KeyError, TypeError):
            return None

    def save_claims(self, card: ProvableCard, key: str, results: list[ClaimResult]) -> None:
        if results and all(r.passed for r in results):
            self._write(card.id, key, "claims.json", [r.record() for r in results])

    def figures(self, card_id: str, key: str) -> list[dict[str, str]] | None:
        return self._read(card_id, key, "figures.json")

    def save_figures(self, card_id: str, key: str, figures: list[dict[str, str]]) -> None:
        self._write(card_id, key, "figures.json", figures)


def prove(
    cards: Iterable[ProvableCard],
    answers_dir: Path = DEFAULT_ANSWERS,
    *,
    trusted: bool = False,
    cache: ProofCache | None = None,
    fresh: bool = False,
    on_result: Callable[[ClaimResult], None] | None = None,
) -> list[ClaimResult]:
    """Every claim of ``cards``, in order: from ``cache`` where a card's key is unchanged (unless ``fresh``),
    run in this process otherwise, and cached when every claim of the card passed."""
    check_trust(answers_dir, trusted)
    results: list[ClaimResult] = []
    for card in cards:
        key = proof_key(card, answers_dir)
        found = None if cache is None or fresh else cache.claims(card, key)
        if found is None:
            found = []
            for index in range(len(card.claims)):
                found.append(run_claim(card, index, answers_dir, trusted=trusted))
                if on_result:
                    on_result(found[-1])
            if cache is not None:
                cache.save_claims(card, key, found)
        elif on_result:
            for result in found:
                on_result(result)
        results += found
    return results


# --------------------------------------------------------------------------------------------------
# Worker processes


@dataclass(frozen=True)
class Job:
    """One card to prove in a worker: its claims unless they are cached, and its figures into ``folder``."""

    card: ProvableCard
    answers_dir: Path
    trusted: bool
    folder: Path
    claims: bool
    figures: Callable[[ModuleType, Path], list[dict[str, str]]] | None = None


def _work(job: Job) -> tuple[list[dict[str, Any]] | None, list[dict[str, str]]]:
    claims = [r.record() for r in run_card(job.card, job.answers_dir, job.trusted)] if job.claims else None
    if job.figures is None:
        return claims, []
    try:
        module = proof_module(job.card, job.answers_dir, job.trusted)
    except QuizError:
        raise  # untrusted answers: the user's decision, reported by the caller
    except Exception as exc:  # the claims report the same import error; the page shows it once
        return claims, [{"name": "(module)", "error": f"{type(exc).__name__}: {exc}"}]
    job.folder.mkdir(parents=True, exist_ok=True)
    return claims, job.figures(module, job.folder)


def _set_environment(values: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(values)


def prove_in_workers(jobs: list[Job], workers: int) -> Iterator[tuple[Job, list[ClaimResult] | None, list]]:
    """Run ``jobs`` in fresh worker processes, yielding each job with its claim results and figures."""
    if not jobs:
        return
    # Always fresh processes, even for one card: `quiz site serve` lives on between builds, and a module
    # imported into it once would be proved again with its old code. Each worker imports torch once; with one
    # card per task both cores stay busy until the end. Forking is fastest, but only safe while this process
    # has not imported torch (its thread pools do not survive a fork), which a test run may have done: use a
    # clean fork server then.
    context = get_context("forkserver" if "torch" in sys.modules else "fork")
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(jobs))),
        mp_context=context,
        # A fork server keeps the environment it started with; proofs must see the caller's current one.
        initializer=_set_environment,
        initargs=(dict(os.environ),),
    )
    with pool:
        for job, (records, figures) in zip(jobs, pool.map(_work, jobs), strict=True):
            statements = [c.statement for c in job.card.claims]
            claims = None if records is None else [
                ClaimResult.from_record(r, s, cached=False) for r, s in zip(records, statements, strict=True)
            ]  # fmt: skip
            yield job, claims, figures
