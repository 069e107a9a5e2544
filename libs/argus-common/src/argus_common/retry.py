"""One retry/backoff helper for every service.

- :class:`Backoff` gives the delays: an explicit list of steps (the last one repeating,
  ``"1,2,5,10"`` from settings) or an exponential series with a cap.
- :func:`keep_running` runs a long-lived coroutine (a subscription, a consumer, a tick loop)
  again and again: when it raises, it logs one line and waits the next delay; when it returns,
  it starts over at once with the delays reset. Cancellation always propagates.
- :func:`retry` calls a coroutine until it succeeds or the attempts run out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import NoReturn, TypeVar

import structlog

T = TypeVar("T")

# The longest a single reconnect delay may be: a camera that comes back after a long outage
# is picked up within this time.
MAX_DELAY_S = 300.0

_log = structlog.get_logger("argus.retry")


def parse_backoff(spec: str) -> list[float]:
    """``"1,2,5,10"`` -> ``[1.0, 2.0, 5.0, 10.0]``; raises ``ValueError`` on a bad step."""
    try:
        steps = [float(p) for p in spec.split(",") if p.strip()]
    except ValueError:
        raise ValueError("backoff: comma-separated seconds") from None
    if not steps or any(not 0 < s <= MAX_DELAY_S for s in steps):
        raise ValueError(f"backoff: comma-separated seconds, each in (0, {MAX_DELAY_S:g}]")
    return steps


class Backoff:
    """Successive delays: ``steps`` in order (the last repeating), or ``initial`` multiplied
    by ``factor`` after each failure up to ``maximum``. :meth:`reset` after a success."""

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 10.0,
        factor: float = 2.0,
        *,
        steps: Sequence[float] | None = None,
    ) -> None:
        if steps is not None and not steps:
            raise ValueError("backoff: at least one step")
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("backoff: 0 < initial <= maximum and factor >= 1")
        self.initial = initial
        self.maximum = min(maximum, MAX_DELAY_S)
        self.factor = factor
        self.steps = [min(float(s), MAX_DELAY_S) for s in steps] if steps is not None else None
        self.attempt = 0

    @classmethod
    def from_spec(cls, spec: str) -> Backoff:
        """A step list from a settings string such as ``"1,2,5,10"``."""
        return cls(steps=parse_backoff(spec))

    def delay(self, attempt: int) -> float:
        """The delay before retry ``attempt`` (0-based), without changing the state."""
        attempt = max(attempt, 0)
        if self.steps is not None:
            return self.steps[min(attempt, len(self.steps) - 1)]
        # Cap the exponent so a long outage cannot overflow the float.
        return float(min(self.maximum, self.initial * self.factor ** min(attempt, 64)))

    def next(self) -> float:
        """The next delay; each call counts one more failure."""
        value = self.delay(self.attempt)
        self.attempt += 1
        return value

    def reset(self) -> None:
        self.attempt = 0


async def _pause(
    delays: Backoff, logger: structlog.typing.FilteringBoundLogger, event: str,
    exc: Exception, context: dict[str, object],
) -> None:
    """Log a failure (its type only: messages can carry URLs with credentials), then wait
    the next delay."""
    delay = delays.next()
    logger.warning(event, error=type(exc).__name__, retry_s=round(delay, 3), **context)
    await asyncio.sleep(delay)


async def keep_running(
    body: Callable[[], Awaitable[object]],
    *,
    event: str,
    backoff: Backoff | None = None,
    log: structlog.typing.FilteringBoundLogger | None = None,
    **context: object,
) -> NoReturn:
    """Run ``body()`` for ever. An exception is logged as ``event`` (its type only: messages
    can carry URLs with credentials) with the delay, then ``body`` runs again after it. A
    normal return (a subscription that ended) starts ``body`` again at once and resets the
    delays. ``CancelledError`` is never caught."""
    delays = backoff or Backoff()
    logger = log or _log
    while True:
        try:
            await body()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await _pause(delays, logger, event, exc, context)
        else:
            delays.reset()
            # Yield once so that a body that returns at once cannot starve the loop.
            await asyncio.sleep(0)


async def retry(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    backoff: Backoff | None = None,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    event: str = "retrying",
    log: structlog.typing.FilteringBoundLogger | None = None,
) -> T:
    """``await call()`` up to ``attempts`` times, waiting the backoff between failures of the
    types in ``retry_on``; the last failure is raised. Other exceptions propagate at once."""
    if attempts < 1:
        raise ValueError("retry: attempts must be at least 1")
    delays = backoff or Backoff()
    logger = log or _log
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except retry_on as exc:
            if attempt == attempts or isinstance(exc, asyncio.CancelledError):
                raise
            delay = delays.next()
            logger.info(event, error=type(exc).__name__, attempt=attempt, retry_s=round(delay, 3))
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


async def retry_until_done(
    call: Callable[[], Awaitable[T]],
    *,
    event: str,
    backoff: Backoff | None = None,
    log: structlog.typing.FilteringBoundLogger | None = None,
    **context: object,
) -> T:
    """``await call()`` until it succeeds, for work that must happen however long a
    dependency is away (announcing a finished recording). Each failure is logged as
    ``event`` (its type only) with the delay; ``CancelledError`` is never caught."""
    delays = backoff or Backoff()
    logger = log or _log
    while True:
        try:
            return await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await _pause(delays, logger, event, exc, context)


async def every(
    period_s: float,
    body: Callable[[], Awaitable[object]],
    *,
    event: str,
    log: structlog.typing.FilteringBoundLogger | None = None,
    **context: object,
) -> NoReturn:
    """Run ``body()`` now and then every ``period_s`` for ever (a heartbeat, a periodic
    check). A failure is logged as ``event`` (its type only) and the next run comes after
    the same period; ``CancelledError`` is never caught."""
    if period_s <= 0:
        raise ValueError("every: period_s must be positive")

    async def once() -> None:
        try:
            await body()
        finally:
            await asyncio.sleep(period_s)

    # The period is the delay after a success and after a failure alike.
    await keep_running(once, event=event, backoff=Backoff(steps=[period_s]), log=log, **context)

