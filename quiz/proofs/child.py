"""One child process per claim: the limits it runs under, its captured output, and the records it sends back.

A worker (``quiz.proofs.worker``) forks a child for each card's claims, so that

- the claim's global state (torch's default dtype and threads, the RNG, warnings filters, the working folder…)
  dies with its child: the next claim starts from the worker's clean state, whatever ran before it;
- it has hard limits: the worker kills the child's whole process group once ``CLAIM_TIMEOUT`` of wall clock has
  passed (a claim stuck in C, or one that swallows every exception, is stopped all the same), and
  ``RLIMIT_AS`` caps the memory it may add;
- its stdout and stderr go to files of the worker, never into our output (``--json`` stays one document); a
  claim that prints fails, as a claim returns data and never prints;
- its verdict is the record it sends back over a pipe, never the absence of an error: a claim that exits, calls
  ``os._exit``, is OOM-killed or forks (the copy never reports) fails with the reason, and only that claim.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from quiz.errors import QuizError

MEMORY_LIMIT = 3 * 2**30  # bytes of address space a claim may add to the worker's (the README budget is 2 GB)
MAX_RECORD = 2**20  # bytes: a record is a few values and strings


def die_with_parent() -> None:
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
        die_with_parent()
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
        os.waitpid(-1, os.WNOHANG)  # a pid if the child has already ended (and is reaped), 0 if it still runs
    except ChildProcessError:
        pass
    else:
        # One message either way: which of the two it is depends on how busy the machine is.
        return "left a child process behind; a claim must not fork", True
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
