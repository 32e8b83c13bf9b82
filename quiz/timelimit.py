"""One wall-clock limit for code we call but do not control (a claim, a deck's formula): SIGALRM, which can
interrupt Python code but only in the main thread."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def time_limit(seconds: float | None, expired: Callable[[], BaseException]) -> Iterator[None]:
    """Raise ``expired()`` in the block once ``seconds`` have passed. No limit without ``seconds``, outside the
    main thread, or while another limit is armed (an outer one, e.g. a claim's, is left alone). A call stuck in
    one long C function is interrupted when it returns: hard limits are the proof workers' job."""
    usable = threading.current_thread() is threading.main_thread() and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    if not seconds or not usable:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise expired()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
