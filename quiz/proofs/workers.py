"""Running claims where they cannot lie about the run: every proof that runs, runs here.

A small pool of long-lived worker processes (forked from a fork server that imported torch once) takes one card
at a time, and forks a child for each claim, so that

- the claim's global state (torch's default dtype and threads, the RNG, warnings filters, the working folder…)
  dies with its child: the next claim starts from the worker's clean state, whatever ran before it;
- it has hard limits: the worker kills the child's whole process group once ``CLAIM_TIMEOUT`` of wall clock has
  passed (a claim stuck in C, or one that swallows every exception, is stopped all the same), and
  ``RLIMIT_AS`` caps the memory it may add;
- its stdout and stderr go to files of the worker, never into our output (``--json`` stays one document); a
  claim that prints fails, as a claim returns data and never prints;
- its verdict is the record it sends back over a pipe, never the absence of an error: a claim that exits, calls
  ``os._exit``, is OOM-killed or forks (the copy never reports) fails with the reason, and only that claim.

The worker itself never imports a proof module: an edited module is always proved with its new code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import select
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import ModuleType
from typing import Any

from quiz.errors import QuizError
from quiz.proofs.run import CLAIM_TIMEOUT, ClaimResult, ProvableCard, proof_module, run_claim

MEMORY_LIMIT = 3 * 2**30  # bytes of address space a claim may add to the worker's (the README budget is 2 GB)
FIGURES_TIMEOUT = 120.0  # seconds for all of a card's figures
MAX_RECORD = 2**20  # bytes: a record is a few values and strings
# Imported once, in the fork server, so that no worker and no claim pays for them. A proof module's other
# imports of torch's own submodules are imported by the worker before it forks that card's claims.
PRELOAD = ("torch", "numpy")
_LIBRARY_IMPORT = re.compile(r"^(?:from|import)[ \t]+((?:torch|numpy)(?:\.\w+)*)", re.M)
_WATCHDOG = 60.0  # seconds beyond a child's own limit before a silent worker is given up on


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
class _Claim:
    statement: str
    proof: str


@dataclass(frozen=True)
class _Card:
    """What a worker needs of a card: sent instead of the card, which may not pickle cheaply."""

    id: str
    module: str
    claims: Sequence[_Claim]


# --------------------------------------------------------------------------------------------------
# In the worker: one child per claim


def _libc_prctl_pdeathsig() -> None:
    """Die with the parent: a worker killed (or a quiz stopped with Ctrl-C) leaves no claim running."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _child(work: Callable[[], Any], strict: bool, out: int, err: int, pipe: int) -> None:
    """In the forked child: limits, captured output, run ``work``, send its result. Never returns."""
    try:
        os.setpgid(0, 0)
        _libc_prctl_pdeathsig()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        used = _address_space()
        if used is not None:
            import resource

            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_AS, (used + MEMORY_LIMIT, used + MEMORY_LIMIT))
        os.dup2(out, 1)
        os.dup2(err, 2)
        me = os.getpid()
        try:
            result, error = work(), None
        except QuizError as exc:
            result, error = None, str(exc)
        except BaseException as exc:  # the record says what happened; nothing may escape a child
            result, error = None, f"{type(exc).__name__}: {exc}"
        if os.getpid() != me:
            os._exit(0)  # a copy the claim forked: only the child we started reports
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
            import ctypes

            ctypes.CDLL(None).fflush(None)  # output a C library buffered
        if strict and error is None:
            error = _leftovers(out)
        data = json.dumps({"result": result, "error": error}, allow_nan=False).encode()
        if len(data) > MAX_RECORD:
            size = f"{len(data) // 1024} KiB"
            data = json.dumps({"result": None, "error": f"sent back a record of {size}; evidence is a few values"})
            data = data.encode()
        view = memoryview(len(data).to_bytes(8, "big") + data)
        while view:
            view = view[os.write(pipe, view) :]
    finally:
        os._exit(0)


def _leftovers(out: int) -> str | None:
    """Why a claim that returned is still a failure: it printed, or left a process behind (it forked)."""
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        pid = None
    else:
        return f"left a child process{f' (pid {pid})' if pid else ''} behind; a claim must not fork"
    printed = os.pread(out, 120, 0)
    if printed:
        text = printed.decode("utf-8", "replace").strip().splitlines()[0] if printed.strip() else "blank lines"
        return f"printed to stdout ({_clean(text)!r}); a claim returns its evidence and never prints"
    return None


def _clean(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:100]


def isolated(work: Callable[[], Any], timeout: float, *, strict: bool = True) -> tuple[Any, str | None, float]:
    """Run ``work`` in a forked child with the limits above: (its result, why it failed or None, seconds).
    ``strict``: printing and forking are failures (for a claim; a figure may print)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        read, write = os.pipe()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            _child(work, strict, out.fileno(), err.fileno(), write)
        os.close(write)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # both sides, so a kill that comes at once reaches the group
        try:
            data, why, status = _collect(pid, read, start, timeout)
        finally:
            os.close(read)
            for kill in (os.killpg, os.kill):  # the group: whatever the claim started dies with it
                with contextlib.suppress(OSError):
                    kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(pid, 0)
        seconds = time.monotonic() - start
        if data is not None:
            try:
                message = json.loads(data)
                return message["result"], message["error"], seconds
            except (ValueError, KeyError, TypeError):
                why = "sent back a record that is not valid"
        if why is None:
            why = _death(status, timeout)
        err.seek(0)
        last = [line for line in err.read()[-2000:].decode("utf-8", "replace").splitlines() if line.strip()]
        if last and why and "limit" not in why:
            why += f" (its last words: {_clean(last[-1])!r})"
        return None, why, seconds


def _collect(pid: int, read: int, start: float, timeout: float) -> tuple[bytes | None, str | None, int]:
    """The child's framed record from ``read``, or why there is none; and its wait status if it was reaped."""
    deadline = start + timeout
    buffer = bytearray()
    status = 0
    pidfd = None
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(pid)
    try:
        while True:
            if len(buffer) >= 8:
                need = 8 + int.from_bytes(buffer[:8], "big")
                if need > MAX_RECORD + 1024:
                    return None, "sent back a record that is too big", status
                if len(buffer) >= need:
                    return bytes(buffer[8:need]), None, status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, f"ran past the {timeout:g} s limit and was stopped", status
            fds = [read] if pidfd is None else [read, pidfd]
            ready, _, _ = select.select(fds, [], [], remaining if pidfd is not None else min(remaining, 0.05))
            if read in ready:
                chunk = os.read(read, 1 << 16)
                if not chunk:
                    return None, None, status  # every writer is gone, the child too
                buffer += chunk
                continue
            exited = pidfd is not None and pidfd in ready
            if pidfd is None:
                reaped, status = os.waitpid(pid, os.WNOHANG)
                exited = reaped != 0
            if exited:
                # A copy the claim forked may hold the pipe open; what the child wrote is in it already.
                os.set_blocking(read, False)
                with contextlib.suppress(BlockingIOError):
                    while chunk := os.read(read, 1 << 16):
                        buffer += chunk
                if len(buffer) >= 8 and len(buffer) >= 8 + int.from_bytes(buffer[:8], "big"):
                    continue
                return None, None, status
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _death(status: int, timeout: float) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else f"signal {number}"
        cause = " (out of memory, or killed from outside)" if number == signal.SIGKILL else ""
        return f"was killed by {name}{cause} before it returned its evidence"
    if os.WIFEXITED(status):
        return f"exited with status {os.WEXITSTATUS(status)} before it returned its evidence (os._exit?)"
    return "ended before it returned its evidence"


def _preload(card: _Card, answers_dir: Path) -> None:
    """Import the parts of torch the card's module imports, once in the worker rather than in every claim
    (``torch._dynamo`` alone costs a second). Libraries only: the module itself runs in each claim's child."""
    try:
        text = (answers_dir / f"{card.module}.py").read_text(encoding="utf-8")[:200_000]
    except (OSError, UnicodeDecodeError):
        return
    for name in sorted(set(_LIBRARY_IMPORT.findall(text))):
        with contextlib.suppress(Exception):
            __import__(name)


def _claim_work(card: _Card, index: int, answers_dir: Path, trusted: bool) -> Callable[[], Any]:
    return lambda: run_claim(card, index, answers_dir, trusted=trusted, timeout=None).record()


def _figures_work(job: Job, card: _Card) -> Callable[[], Any]:
    def work() -> list[dict[str, str]]:
        try:
            module = proof_module(card, job.answers_dir, job.trusted)
        except QuizError:
            raise
        except Exception as exc:  # the claims report the same import error; the page shows it once
            return [{"name": "(module)", "error": f"{type(exc).__name__}: {exc}"}]
        assert job.folder is not None and job.figures is not None
        job.folder.mkdir(parents=True, exist_ok=True)
        return job.figures(module, job.folder)

    return work


def _worker(conn: Connection) -> None:
    """A worker's life: take a card, run each claim in a child of its own, send each record back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the quiz's to handle; it stops the workers
    _libc_prctl_pdeathsig()
    with contextlib.suppress(Exception):
        import torch

        torch.set_num_threads(1)  # the house rule for claims; one thread also makes forking safe
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
        _preload(card, Path(job.answers_dir))
        for index in range(len(card.claims)) if job.claims else ():
            record, error, seconds = isolated(_claim_work(card, index, job.answers_dir, job.trusted), timeout)
            conn.send(("claim", index, record, error, seconds))
        if job.figures is not None:
            figures, error, _ = isolated(_figures_work(job, card), FIGURES_TIMEOUT, strict=False)
            conn.send(("figures", figures if error is None else [{"name": "(module)", "error": error}]))
        conn.send(("done",))


# --------------------------------------------------------------------------------------------------
# In the quiz: the pool


class _Worker:
    def __init__(self) -> None:
        context = get_context("forkserver")
        # The fork server imports torch once; every worker forked from it starts with torch loaded.
        context.set_forkserver_preload(list(PRELOAD))
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=_worker, args=(theirs,), daemon=True, name="quiz-prover")
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

    def take(self) -> _Worker:
        while self.idle:
            worker = self.idle.pop()
            if worker.process.is_alive():
                return worker
            worker.kill()
        return _Worker()

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


def _spec(card: ProvableCard) -> _Card:
    return _Card(card.id, card.module, tuple(_Claim(c.statement, c.proof) for c in card.claims))


def _failed(card: ProvableCard, index: int, error: str, seconds: float = 0.0) -> ClaimResult:
    claim = card.claims[index]
    return ClaimResult(card.id, claim.proof, claim.statement, seconds, error=error)


def prove_in_workers(
    jobs: list[Job],
    workers: int,
    *,
    timeout: float = CLAIM_TIMEOUT,
    on_result: Callable[[ClaimResult], None] | None = None,
) -> Iterator[tuple[Job, list[ClaimResult] | None, list[dict[str, str]]]]:
    """Run ``jobs`` in up to ``workers`` worker processes, yielding each job (in the order they finish) with its
    claim results (None when ``job.claims`` is false) and figures; ``on_result`` sees each claim as it ends."""
    waiting = deque(jobs)
    busy: dict[Connection, tuple[_Worker, Job, dict[int, ClaimResult], list[dict[str, str]], float]] = {}
    limit = max(timeout, FIGURES_TIMEOUT) + _WATCHDOG
    try:
        while waiting or busy:
            while waiting and len(busy) < max(1, workers):
                job = waiting.popleft()
                worker = _POOL.take()
                card = _spec(job.card)
                sent = Job(card, Path(job.answers_dir), job.trusted, job.folder, job.claims, job.figures)
                try:
                    worker.conn.send((sent, card, dict(os.environ), os.getcwd(), timeout))
                except OSError:
                    worker.kill()
                    waiting.appendleft(job)
                    continue
                busy[worker.conn] = (worker, job, {}, [], time.monotonic() + limit)
            ready = wait(list(busy), timeout=min(d for *_, d in busy.values()) - time.monotonic())
            for conn in ready:
                worker, job, claims, figures, _ = busy[conn]  # type: ignore[index]
                try:
                    message = conn.recv()  # type: ignore[union-attr]
                except (EOFError, OSError):
                    message = ("lost",)
                if message[0] == "claim":
                    _, index, record, error, seconds = message
                    claim = job.card.claims[index]
                    if record is None:
                        result = _failed(job.card, index, error or "sent back no record", seconds)
                    else:
                        result = ClaimResult.from_record(record, claim.statement, cached=False)
                        if error:  # it returned, but printed or forked: the evidence is shown, the claim fails
                            result = dataclasses.replace(result, error=error)
                    claims[index] = result
                    if on_result:
                        on_result(result)
                    busy[conn] = (worker, job, claims, figures, time.monotonic() + limit)  # type: ignore[index]
                elif message[0] == "figures":
                    figures[:] = message[1]
                    busy[conn] = (worker, job, claims, figures, time.monotonic() + limit)  # type: ignore[index]
                else:
                    del busy[conn]  # type: ignore[arg-type]
                    if message[0] == "done":
                        _POOL.give_back(worker)
                    else:
                        worker.kill()
                    yield job, _complete(job, claims, "the proof worker stopped unexpectedly", on_result), figures
            now = time.monotonic()
            for conn, (worker, job, claims, figures, deadline) in list(busy.items()):
                if now > deadline:
                    del busy[conn]
                    worker.kill()
                    yield job, _complete(job, claims, "the proof worker stopped answering", on_result), figures
    finally:
        for worker, *_ in busy.values():  # a caller that stopped early (Ctrl-C): nothing keeps running
            worker.kill()


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
