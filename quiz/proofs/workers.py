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
from quiz.paths import DEFAULT_ANSWERS
from quiz.proofs.run import (
    CLAIM_TIMEOUT,
    ClaimResult,
    ProvableCard,
    check_trust,
    file_stamp,
    proof_module,
    run_claim,
)

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


def _child(work: Callable[[], Iterator[Any]], strict: bool, out: int, err: int, pipe: int) -> None:
    """In the forked child: limits, captured output, then one framed record per item ``work`` yields. A
    record carries the item and why it still fails (``strict``: it printed, or forked). Never returns."""
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
        items = work()
        while True:
            printed = os.fstat(out).st_size
            try:
                item, error = next(items), None
            except StopIteration:
                break
            except QuizError as exc:
                item, error = None, str(exc)
            except BaseException as exc:  # the record says what happened; nothing may escape a child
                item, error = None, f"{type(exc).__name__}: {exc}"
            if os.getpid() != me:
                os._exit(0)  # a copy the claim forked: only the child we started reports
            forked = False
            if strict and error is None:
                error, forked = _leftovers(out, printed)
            _send(pipe, {"result": item, "error": error})
            if forked or item is None:
                break  # a process of the claim's still runs: the next claim gets a clean child
        _send(pipe, {"stop": True})  # an end we chose, not a death
    finally:
        os._exit(0)


def _send(pipe: int, message: dict[str, Any]) -> None:
    data = json.dumps(message, allow_nan=False).encode()
    if len(data) > MAX_RECORD:
        size = f"{len(data) // 1024} KiB"
        data = json.dumps({"result": None, "error": f"sent back a record of {size}; evidence is a few values"}).encode()
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        view = view[os.write(pipe, view) :]


def _leftovers(out: int, printed: int) -> tuple[str | None, bool]:
    """Why a claim that returned still fails, and whether it forked: it printed, or left a process behind."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
        import ctypes

        ctypes.CDLL(None).fflush(None)  # output a C library buffered
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        pass
    else:
        return f"left a child process{f' (pid {pid})' if pid else ''} behind; a claim must not fork", True
    text = os.pread(out, 200, printed)
    if text:
        lines = text.decode("utf-8", "replace").strip().splitlines()
        shown = _clean(lines[0]) if lines else "blank lines"
        return f"printed to stdout ({shown!r}); a claim returns its evidence and never prints", False
    return None, False


def _clean(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:100]


def isolated(
    work: Callable[[], Iterator[Any]], timeout: float, *, strict: bool = True
) -> Iterator[tuple[bool, Any, str | None, float]]:
    """Run ``work`` in a forked child with the limits above, yielding (True, item, why it fails or None,
    seconds) for each item it yields, each within ``timeout`` of the one before; then (False, None, how the
    child ended, seconds): it exited, was killed or ran past the limit, which matters if items are missing."""
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
        reader = _Frames(pid, read)
        try:
            while True:
                data, why = reader.next(timeout)
                seconds, start = time.monotonic() - start, time.monotonic()
                if data is None:
                    break
                try:
                    message = json.loads(data)
                    if message.get("stop"):
                        break
                    yield True, message["result"], message["error"], seconds
                except (ValueError, KeyError, TypeError):
                    why = "sent back a record that is not valid"
                    break
        finally:
            reader.close()
            for kill in (os.killpg, os.kill):  # the group: whatever the claim started dies with it
                with contextlib.suppress(OSError):
                    kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                _, reader.status = os.waitpid(pid, 0)
        if data is not None and why is None:
            yield False, None, None, seconds  # it stopped where it chose to
            return
        why = why or _death(reader.status, timeout)
        err.seek(0)
        last = [line for line in err.read()[-2000:].decode("utf-8", "replace").splitlines() if line.strip()]
        if last and "limit" not in why:
            why += f" (its last words: {_clean(last[-1])!r})"
        yield False, None, why, seconds


class _Frames:
    """Length-prefixed records from a child's pipe; the child's end is watched through a pidfd (or polling)."""

    def __init__(self, pid: int, read: int) -> None:
        self.pid, self.read, self.buffer, self.status = pid, read, bytearray(), 0
        self.pidfd: int | None = None
        self.exited = False
        with contextlib.suppress(AttributeError, OSError):
            self.pidfd = os.pidfd_open(pid)

    def _frame(self) -> bytes | None:
        if len(self.buffer) >= 8:
            need = 8 + int.from_bytes(self.buffer[:8], "big")
            if len(self.buffer) >= need:
                data = bytes(self.buffer[8:need])
                del self.buffer[:need]
                return data
        return None

    def next(self, timeout: float) -> tuple[bytes | None, str | None]:
        """The next record, or (None, why): why is None when the child simply ended."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._frame()
            if frame is not None:
                return frame, None
            if len(self.buffer) >= 8 and int.from_bytes(self.buffer[:8], "big") > MAX_RECORD + 1024:
                return None, "sent back a record that is too big"
            if self.exited:
                return None, None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, f"ran past the {timeout:g} s limit and was stopped"
            fds = [self.read] if self.pidfd is None else [self.read, self.pidfd]
            ready, _, _ = select.select(fds, [], [], remaining if self.pidfd is not None else min(remaining, 0.05))
            if self.read in ready:
                chunk = os.read(self.read, 1 << 16)
                if chunk:
                    self.buffer += chunk
                else:
                    self.exited = True  # every writer is gone, the child too
                continue
            if self.pidfd is not None:
                gone = self.pidfd in ready
            else:
                reaped, status = os.waitpid(self.pid, os.WNOHANG)
                gone = reaped != 0
                if gone:
                    self.status = status
            if gone:
                # A copy the claim forked may hold the pipe open; what the child wrote is in it already.
                os.set_blocking(self.read, False)
                with contextlib.suppress(BlockingIOError):
                    while chunk := os.read(self.read, 1 << 16):
                        self.buffer += chunk
                self.exited = True

    def close(self) -> None:
        os.close(self.read)
        if self.pidfd is not None:
            os.close(self.pidfd)


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
            if name in _WARM_UPS and name not in _warm:
                _warm.add(name)
                _WARM_UPS[name]()


def _heavy_imports(jobs: Sequence[Job]) -> list[str]:
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


def _claims_from(card: _Card, first: int, answers_dir: Path, trusted: bool) -> Callable[[], Iterator[Any]]:
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


def _figures_work(job: Job, card: _Card) -> Callable[[], Iterator[Any]]:
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


def _worker(conn: Connection) -> None:
    """A worker's life: take a card, run its claims in a child (a new child after one that died), send each
    record back as it comes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the quiz's to handle; it stops the workers
    _libc_prctl_pdeathsig()
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            __import__(name)
    with contextlib.suppress(Exception):
        import torch

        torch.set_num_threads(1)  # the house rule for claims; one thread also makes forking safe
    for name in _shared_modules():  # the project's own building blocks: pure definitions, imported once
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
        _preload(card, Path(job.answers_dir))
        index, count = 0, len(card.claims) if job.claims else 0
        while index < count:
            for sent, record, error, seconds in isolated(
                _claims_from(card, index, job.answers_dir, job.trusted), timeout
            ):
                if sent or (error and index < count):  # a child that died mid-claim: that claim's verdict
                    conn.send(("claim", index, record, error, seconds))
                    index += 1
        if job.figures is not None:
            figures = [{"name": "(module)", "error": "drew no figures"}]
            for sent, item, error, _ in isolated(_figures_work(job, card), FIGURES_TIMEOUT, strict=False):
                if sent and item is not None:
                    figures = item
                    break
                figures = [{"name": "(module)", "error": error or "drew no figures"}]
            conn.send(("figures", figures))
        conn.send(("done",))


# --------------------------------------------------------------------------------------------------
# In the quiz: the pool


def _shared_modules() -> list[str]:
    """The modules of the project's ``answers`` package that are not one card's proof."""
    names = ["answers.evidence", "answers.reference", "answers.protocol"]
    names += sorted(f"answers.formulas.{p.stem}" for p in (DEFAULT_ANSWERS / "formulas").glob("[!_]*.py"))
    return names


def _shared_stamp() -> tuple[tuple[int, int], ...]:
    """What a worker's preloaded modules were read from: a worker older than an edit of them retires."""
    return tuple(file_stamp(DEFAULT_ANSWERS / (name.removeprefix("answers.").replace(".", "/") + ".py"))
                 for name in _shared_modules())  # fmt: skip


class _Worker:
    def __init__(self, preload: Sequence[str] = ()) -> None:
        # A clean fork server, not a fork of this process: it imports torch once for every worker, and a `quiz
        # take` session (its prefetch thread) or a test run (torch imported) is never forked mid-flight.
        context = get_context("forkserver")
        context.set_forkserver_preload([*PRELOAD, *preload])  # only the first call in a process counts
        self.stamp = _shared_stamp()
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
    for job in jobs:  # the user's decision, made here before any child runs a line of the deck's code
        check_trust(Path(job.answers_dir), job.trusted)
    waiting = deque(jobs)
    busy: dict[Connection, tuple[_Worker, Job, dict[int, ClaimResult], list[dict[str, str]], float]] = {}
    limit = max(timeout, FIGURES_TIMEOUT) + _WATCHDOG
    preload = _heavy_imports(jobs)
    try:
        while waiting or busy:
            while waiting and len(busy) < max(1, workers):
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
