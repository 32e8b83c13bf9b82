"""A worker's life: take a card, prove its claims (and draw its figures) in children, send each record back.

A worker is long-lived and forked from a fork server that imported torch once; it imports the project's shared
``answers`` modules once, but never a card's proof module: an edited module is always proved with its new code.
Between two claims of a card, the process-wide settings a claim may change are put back (``_State``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

from answers.protocol import FIGURE_PREFIX
from quiz.errors import QuizError
from quiz.paths import DEFAULT_ANSWERS
from quiz.proofs.child import die_with_parent, isolated
from quiz.proofs.run import ProvableCard, proof_module, run_claim

FIGURES_TIMEOUT = 120.0  # seconds for all of a card's figures
# Imported once, in the fork server, so that no worker and no claim pays for them. A proof module's other
# imports of torch's own submodules are imported by the worker before it forks that card's claims.
PRELOAD = ("torch", "numpy")
_LIBRARY_IMPORT = re.compile(r"^(?:from|import)[ \t]+((?:torch|numpy)(?:\.\w+)*)", re.M)


@dataclass(frozen=True)
class Job:
    """One card to prove in a worker: its claims unless they are cached, and its figures into ``folder``."""

    card: ProvableCard
    answers_dir: Path
    trusted: bool
    folder: Path | None = None
    claims: bool = True
    figures: Callable[[ModuleType, Path], list[dict[str, str]]] | None = None


@dataclass(frozen=True)
class ClaimSpec:
    statement: str
    proof: str


@dataclass(frozen=True)
class CardSpec:
    """What a worker needs of a card: sent instead of the card, which may not pickle cheaply."""

    id: str
    module: str
    claims: Sequence[ClaimSpec]


def _preload(card: CardSpec, answers_dir: Path) -> str | None:
    """Import the parts of torch the card's module imports, once in the worker rather than in every claim
    (``torch._dynamo`` alone costs a second). Libraries only: the module itself runs in each claim's child.
    Returns the module's text (None if unreadable), which also tells whether it can draw a figure."""
    try:
        text = (answers_dir / f"{card.module}.py").read_text(encoding="utf-8")[:200_000]
    except (OSError, UnicodeDecodeError):
        return None
    for name in sorted(set(_LIBRARY_IMPORT.findall(text))):
        with contextlib.suppress(Exception):
            __import__(name)
            if name in _WARM_UPS and name not in _warm:
                _warm.add(name)
                _WARM_UPS[name]()
    return text


def _may_draw(text: str | None) -> bool:
    """Whether a module can have a figure: a function named ``figure_…`` needs that name in its text. Most
    cards have none, and a child that imports a module only to find no figure cost 0.1 s a card."""
    return text is None or FIGURE_PREFIX in text


def _figure_libraries() -> None:
    """matplotlib, imported once in the worker before its first figure child (0.3 s a card otherwise)."""
    if "matplotlib.pyplot" not in sys.modules:
        with contextlib.suppress(Exception):
            import matplotlib

            matplotlib.use("Agg")  # no display in a worker process
            import matplotlib.pyplot  # what the figure functions draw with


def heavy_imports(jobs: Sequence[Job]) -> list[str]:
    """What the fork server should import besides torch for these jobs: ``torch._dynamo`` (and with it what a
    first FLOP count imports) when a card needs it, paid once rather than once per worker."""
    for job in jobs:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = (Path(job.answers_dir) / f"{job.card.module}.py").read_text(encoding="utf-8")[:200_000]
            if any(name in _WARM_UPS or name.startswith("torch._dynamo") for name in _LIBRARY_IMPORT.findall(text)):
                return ["torch._dynamo", "torch.utils.flop_counter"]
    return []


def _warm_flop_counter() -> None:
    """The first count imports ~800 modules (sympy, torch._dynamo…): seconds that every claim's child would
    pay again. Counting one tiny matmul here pays them once per worker."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False):
        torch.ones(2, 2) @ torch.ones(2, 2)


_WARM_UPS: dict[str, Callable[[], None]] = {"torch.utils.flop_counter": _warm_flop_counter}
_warm: set[str] = set()


def _claims_from(card: CardSpec, first: int, answers_dir: Path, trusted: bool) -> Callable[[], Iterator[Any]]:
    """Claims ``first``… of ``card``, one after another in one child, each from the state the module's import
    left: what a claim changes (torch's default dtype, the RNG…) is put back before the next one runs."""

    def work() -> Iterator[Any]:
        with contextlib.suppress(Exception):  # an import error is each claim's to report
            proof_module(card, answers_dir, trusted)
        state = _State()
        for index in range(first, len(card.claims)):
            state.restore()
            yield run_claim(card, index, answers_dir, trusted=trusted, timeout=None).record()

    return work


class _State:
    """The process-wide settings a claim may change without meaning to keep them."""

    def __init__(self) -> None:
        import random
        import warnings

        self.python = (random.getstate(), list(warnings.filters), os.getcwd(), dict(os.environ), list(sys.path))
        self.torch = None
        torch = sys.modules.get("torch")
        if torch is not None:
            self.torch = (
                torch.get_default_dtype(),
                torch.get_num_threads(),
                torch.is_grad_enabled(),
                torch.random.get_rng_state(),
                torch.are_deterministic_algorithms_enabled(),
                torch.is_anomaly_enabled(),
                torch.get_float32_matmul_precision(),
                torch.get_default_device() if hasattr(torch, "get_default_device") else None,
            )
        numpy = sys.modules.get("numpy")
        self.numpy = numpy.random.get_state() if numpy is not None else None

    def restore(self) -> None:
        import random
        import warnings

        rng, filters, cwd, environment, path = self.python
        random.setstate(rng)
        warnings.filters[:] = filters
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environment)
        sys.path[:] = path
        torch = sys.modules.get("torch")
        if torch is not None and self.torch is not None:
            dtype, threads, grad, torch_rng, deterministic, anomaly, precision, device = self.torch
            torch.random.set_rng_state(torch_rng)
            # Each setter only when the value changed: set_default_device alone imports 800 modules.
            for now, wanted, put in (
                (torch.get_default_dtype, dtype, torch.set_default_dtype),
                (torch.get_num_threads, threads, torch.set_num_threads),
                (torch.is_grad_enabled, grad, torch.set_grad_enabled),
                (torch.are_deterministic_algorithms_enabled, deterministic, torch.use_deterministic_algorithms),
                (torch.is_anomaly_enabled, anomaly, torch.set_anomaly_enabled),
                (torch.get_float32_matmul_precision, precision, torch.set_float32_matmul_precision),
                (
                    getattr(torch, "get_default_device", lambda: device),
                    device,
                    getattr(torch, "set_default_device", None),
                ),
            ):
                if put is not None and now() != wanted:
                    put(wanted)
        numpy = sys.modules.get("numpy")
        if numpy is not None and self.numpy is not None:
            numpy.random.set_state(self.numpy)


def _figures_work(job: Job, card: CardSpec) -> Callable[[], Iterator[Any]]:
    def work() -> Iterator[list[dict[str, str]]]:
        try:
            module = proof_module(card, job.answers_dir, job.trusted)
        except QuizError:
            raise
        except Exception as exc:  # the claims report the same import error; the page shows it once
            yield [{"name": "(module)", "error": f"{type(exc).__name__}: {exc}"}]
            return
        assert job.folder is not None and job.figures is not None
        job.folder.mkdir(parents=True, exist_ok=True)
        yield job.figures(module, job.folder)

    return work


def run_worker(conn: Connection) -> None:
    """A worker's life: take a card, run its claims in a child (a new child after one that died), send each
    record back as it comes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the quiz's to handle; it stops the workers
    die_with_parent()
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            __import__(name)
    with contextlib.suppress(Exception):
        import torch

        torch.set_num_threads(1)  # the house rule for claims; one thread also makes forking safe
    for name in shared_modules():  # the project's own building blocks: pure definitions, imported once
        with contextlib.suppress(Exception):
            __import__(name)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job, card, environment, cwd, timeout = message
        os.environ.clear()
        os.environ.update(environment)  # a long-lived worker proves with the caller's current environment
        with contextlib.suppress(OSError):
            os.chdir(cwd)
        text = _preload(card, Path(job.answers_dir))
        index, count = 0, len(card.claims) if job.claims else 0
        while index < count:
            for sent, record, error, seconds in isolated(
                _claims_from(card, index, job.answers_dir, job.trusted), timeout
            ):
                if sent or (error and index < count):  # a child that died mid-claim: that claim's verdict
                    conn.send(("claim", index, record, error, seconds))
                    index += 1
        if job.figures is not None and not _may_draw(text):
            conn.send(("figures", []))
        elif job.figures is not None:
            _figure_libraries()
            figures = [{"name": "(module)", "error": "drew no figures"}]
            for sent, item, error, _ in isolated(_figures_work(job, card), FIGURES_TIMEOUT, strict=False):
                if sent and item is not None:
                    figures = item
                    break
                figures = [{"name": "(module)", "error": error or "drew no figures"}]
            conn.send(("figures", figures))
        conn.send(("done",))


def shared_modules() -> list[str]:
    """The modules of the project's ``answers`` package that are not one card's proof."""
    names = ["answers.evidence", "answers.reference", "answers.protocol"]
    names += sorted(f"answers.formulas.{p.stem}" for p in (DEFAULT_ANSWERS / "formulas").glob("[!_]*.py"))
    return names
