"""A CPU-time bound for property tests of parsers: an endless or quadratic loop fails the
example (so hypothesis shrinks it) instead of hanging the run."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType


class StillRunning(Exception):
    """A parser ran past its CPU-time bound (an endless loop, or a quadratic one)."""


@contextlib.contextmanager
def cpu_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`StillRunning` in the block after ``seconds`` of CPU time. CPU time, not
    wall time: other processes on the machine do not count, and pytest-timeout's SIGALRM
    is left alone."""
    def expire(signum: int, frame: FrameType | None) -> None:
        raise StillRunning(f"still running after {seconds} s of CPU time")

    old = signal.signal(signal.SIGVTALRM, expire)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, old)
