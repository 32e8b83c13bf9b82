"""Proving cards in fresh worker processes (the site): claims unless cached, and figures."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from types import ModuleType
from typing import Any

from quiz.errors import QuizError
from quiz.proofs.run import ClaimResult, ProvableCard, proof_module, run_card

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
