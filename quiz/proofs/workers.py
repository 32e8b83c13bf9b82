"""Running claims where they cannot lie about the run: every proof that runs, runs here.

A small pool of long-lived worker processes (``worker``) takes one card at a time and forks a child for its
claims (``child``: limits, captured output, a record per claim sent back). Here, in the quiz: the pool, which
lives as long as the quiz, and ``prove_in_workers``, which hands out the jobs and collects the records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path

from quiz.paths import DEFAULT_ANSWERS
from quiz.proofs.run import CLAIM_TIMEOUT, ClaimResult, ProvableCard, check_trust, file_stamp
from quiz.proofs.worker import (
    FIGURES_TIMEOUT,
    PRELOAD,
    CardSpec,
    ClaimSpec,
    Job,
    heavy_imports,
    run_worker,
    shared_modules,
)

_WATCHDOG = 60.0  # seconds beyond a child's own limit before a silent worker is given up on


def _shared_stamp() -> tuple[tuple[int, int], ...]:
    """What a worker's preloaded modules were read from: a worker older than an edit of them retires."""
    return tuple(file_stamp(DEFAULT_ANSWERS / (name.removeprefix("answers.").replace(".", "/") + ".py"))
                 for name in shared_modules())  # fmt: skip


class _Worker:
    def __init__(self, preload: Sequence[str] = ()) -> None:
        # A clean fork server, not a fork of this process: it imports torch once for every worker, and a `quiz
        # take` session (its prefetch thread) or a test run (torch imported) is never forked mid-flight.
        context = get_context("forkserver")
        context.set_forkserver_preload([*PRELOAD, *preload])  # only the first call in a process counts
        self.stamp = _shared_stamp()
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=run_worker, args=(theirs,), daemon=True, name="quiz-prover")
        self.process.start()
        theirs.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        self.conn.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class _Pool:
    """Workers that live as long as the quiz: a `quiz take` session pays for torch once, not at every `p`."""

    def __init__(self) -> None:
        self.idle: list[_Worker] = []

    def take(self, preload: Sequence[str] = ()) -> _Worker:
        stamp = _shared_stamp()
        while self.idle:
            worker = self.idle.pop()
            if worker.process.is_alive() and worker.stamp == stamp:
                return worker
            worker.stop()
        return _Worker(preload)

    def give_back(self, worker: _Worker) -> None:
        self.idle.append(worker)

    def stop(self) -> None:
        while self.idle:
            self.idle.pop().stop()


_POOL = _Pool()


def _stop_pool() -> None:
    _POOL.stop()


import atexit  # noqa: E402 - beside the one thing it is for

atexit.register(_stop_pool)


def _spec(card: ProvableCard) -> CardSpec:
    return CardSpec(card.id, card.module, tuple(ClaimSpec(c.statement, c.proof) for c in card.claims))


def _failed(card: ProvableCard, index: int, error: str, seconds: float = 0.0) -> ClaimResult:
    claim = card.claims[index]
    return ClaimResult(card.id, claim.proof, claim.statement, seconds, error=error)


def prove_in_workers(
    jobs: list[Job],
    workers: int,
    *,
    timeout: float = CLAIM_TIMEOUT,
    on_result: Callable[[ClaimResult], None] | None = None,
) -> Iterator[Proved]:
    """Run ``jobs`` in up to ``workers`` worker processes, yielding each job (in the order they finish) with its
    claim results (None when ``job.claims`` is false) and figures; ``on_result`` sees each claim as it ends."""
    for job in jobs:  # the user's decision, made here before any child runs a line of the deck's code
        check_trust(Path(job.answers_dir), job.trusted)
    waiting = deque(jobs)
    busy: dict[Connection, _Busy] = {}
    limit = max(timeout, FIGURES_TIMEOUT) + _WATCHDOG
    preload = heavy_imports(jobs)
    try:
        while waiting or busy:
            _hand_out(waiting, busy, max(1, workers), preload, timeout, limit)
            ready = wait(list(busy), timeout=min(b.deadline for b in busy.values()) - time.monotonic())
            for conn in ready:
                finished = _receive(conn, busy, limit, on_result)  # type: ignore[arg-type]
                if finished is not None:
                    yield finished
            yield from _give_up_on_silent(busy, on_result)
    finally:
        for entry in busy.values():  # a caller that stopped early (Ctrl-C): nothing keeps running
            entry.worker.kill()


Proved = tuple[Job, list[ClaimResult] | None, list[dict[str, str]]]


@dataclass
class _Busy:
    """A job a worker is on: its results so far, and when a worker that has said nothing is given up on."""

    worker: _Worker
    job: Job
    deadline: float
    claims: dict[int, ClaimResult] = field(default_factory=dict)
    figures: list[dict[str, str]] = field(default_factory=list)

    def finished(self, why: str, on_result: Callable[[ClaimResult], None] | None) -> Proved:
        """The job as it ended: a claim with no record fails with ``why``."""
        return self.job, _complete(self.job, self.claims, why, on_result), self.figures


def _hand_out(
    waiting: deque[Job], busy: dict[Connection, _Busy], slots: int, preload: list[str], timeout: float, limit: float
) -> None:
    """Send waiting jobs to workers until ``slots`` are busy; a job a worker cannot take goes to a new one."""
    while waiting and len(busy) < slots:
        job = waiting.popleft()
        worker = _POOL.take(preload)
        card = _spec(job.card)
        sent = Job(card, Path(job.answers_dir), job.trusted, job.folder, job.claims, job.figures)
        try:
            worker.conn.send((sent, card, dict(os.environ), os.getcwd(), timeout))
        except OSError:
            worker.kill()
            waiting.appendleft(job)
            continue
        busy[worker.conn] = _Busy(worker, job, time.monotonic() + limit)


def _receive(
    conn: Connection, busy: dict[Connection, _Busy], limit: float, on_result: Callable[[ClaimResult], None] | None
) -> Proved | None:
    """Take one message from a worker: a claim's record, the figures, or the end of its job (then returned)."""
    entry = busy[conn]
    try:
        message = conn.recv()
    except (EOFError, OSError):
        message = ("lost",)
    if message[0] in ("claim", "figures"):
        if message[0] == "claim":
            _, index, record, error, seconds = message
            entry.claims[index] = result = _claim_result(entry.job.card, index, record, error, seconds)
            if on_result:
                on_result(result)
        else:
            entry.figures[:] = message[1]
        entry.deadline = time.monotonic() + limit
        return None
    del busy[conn]
    if message[0] == "done":
        _POOL.give_back(entry.worker)
    else:
        entry.worker.kill()
    return entry.finished("the proof worker stopped unexpectedly", on_result)


def _claim_result(
    card: ProvableCard, index: int, record: dict | None, error: str | None, seconds: float
) -> ClaimResult:
    if record is None:
        return _failed(card, index, error or "sent back no record", seconds)
    result = ClaimResult.from_record(record, card.claims[index].statement, cached=False)
    if error:  # it returned, but printed or forked: the evidence is shown, the claim fails
        result = dataclasses.replace(result, error=error)
    return result


def _give_up_on_silent(
    busy: dict[Connection, _Busy], on_result: Callable[[ClaimResult], None] | None
) -> Iterator[Proved]:
    """Kill the workers that said nothing for longer than their limit; their jobs end with what they sent."""
    now = time.monotonic()
    for conn, entry in list(busy.items()):
        if now > entry.deadline:
            del busy[conn]
            entry.worker.kill()
            yield entry.finished("the proof worker stopped answering", on_result)


def _complete(
    job: Job, claims: dict[int, ClaimResult], why: str, on_result: Callable[[ClaimResult], None] | None
) -> list[ClaimResult] | None:
    if not job.claims:
        return None
    for index in range(len(job.card.claims)):
        if index not in claims:
            claims[index] = _failed(job.card, index, why)
            if on_result:
                on_result(claims[index])
    return [claims[i] for i in range(len(job.card.claims))]
