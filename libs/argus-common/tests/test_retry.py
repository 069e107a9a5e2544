"""The retry helper: delays stay within their bounds, failures are retried, cancellation
always goes through."""

from __future__ import annotations

import asyncio

import pytest

from argus_common.retry import MAX_DELAY_S, Backoff, keep_running, parse_backoff, retry


def test_steps_repeat_the_last_and_reset() -> None:
    backoff = Backoff(steps=[1, 2, 5])
    assert [backoff.next() for _ in range(5)] == [1, 2, 5, 5, 5]
    backoff.reset()
    assert backoff.next() == 1


def test_exponential_is_capped_even_after_a_very_long_outage() -> None:
    backoff = Backoff(0.5, 10.0)
    delays = [backoff.next() for _ in range(2000)]
    assert delays[:6] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    assert max(delays) == 10.0
    assert Backoff(1, 10_000).delay(100) == MAX_DELAY_S


@pytest.mark.parametrize("spec", ["", "0", "-1", "1,x", "301", "1,,nan"])
def test_bad_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_backoff(spec)


def test_spec_parses_and_bad_arguments_are_refused() -> None:
    assert Backoff.from_spec("1, 2,300").steps == [1.0, 2.0, 300.0]
    with pytest.raises(ValueError):
        Backoff(steps=[])
    with pytest.raises(ValueError):
        Backoff(initial=0)
    with pytest.raises(ValueError):
        Backoff(initial=2, maximum=1)


async def test_retry_gives_up_after_the_attempts_and_raises_the_last_error() -> None:
    calls = 0

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError(f"attempt {calls}")

    with pytest.raises(ConnectionError, match="attempt 3"):
        await retry(failing, attempts=3, backoff=Backoff(0.001, 0.001))
    assert calls == 3


async def test_retry_returns_the_first_success_and_does_not_retry_other_errors() -> None:
    outcomes: list[object] = [OSError("down"), "ok"]

    async def flaky() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    assert await retry(flaky, attempts=5, backoff=Backoff(0.001, 0.001)) == "ok"

    async def bug() -> None:
        raise KeyError("not transient")

    with pytest.raises(KeyError):
        await retry(bug, attempts=5, retry_on=(OSError,))
    with pytest.raises(ValueError):
        await retry(bug, attempts=0)


async def test_keep_running_restarts_after_errors_and_stops_on_cancel() -> None:
    runs = 0
    third = asyncio.Event()

    async def body() -> None:
        nonlocal runs
        runs += 1
        if runs >= 3:
            third.set()
            await asyncio.sleep(3600)
        if runs == 1:
            raise RuntimeError("boom")
        # The second run returns normally: started again at once.

    task = asyncio.create_task(
        keep_running(body, event="test_loop_failed", backoff=Backoff(0.001, 0.001))
    )
    await asyncio.wait_for(third.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runs == 3
