"""Bounded polling for conditions that have no event to await."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


def wait_until(
    check: Callable[[], T],
    timeout_s: float,
    what: str = "condition",
    interval_s: float = 0.2,
    details: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` until it returns something truthy and return that; raise
    :class:`WaitTimeout` after ``timeout_s``. ``details()`` is appended to the message
    (process logs)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{details()}" if details else ""
            raise WaitTimeout(f"timed out after {timeout_s:g} s waiting for {what}{extra}")
        time.sleep(interval_s)


class WaitTimeout(AssertionError, TimeoutError):
    """A bounded wait ran out (both an ``AssertionError`` for tests and a ``TimeoutError``)."""


def http_ok(url: str, timeout_s: float = 1.0) -> bool:
    """Whether ``GET url`` answers 200."""
    try:
        return httpx.get(url, timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False
