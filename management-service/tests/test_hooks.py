"""The hook registry: listeners run in subscription order, can leave, and a failing listener
reaches the emitter (an event listener must be able to roll its transaction back)."""

from __future__ import annotations

import pytest

from argus_management.hooks import Hook


async def test_listeners_run_in_order_and_can_unsubscribe() -> None:
    hook: Hook[int] = Hook("numbers")
    heard: list[tuple[str, int]] = []

    async def first(n: int) -> None:
        heard.append(("first", n))

    async def second(n: int) -> None:
        heard.append(("second", n))

    hook.subscribe(first)
    leave = hook.subscribe(second)
    await hook.fire(1)
    leave()
    leave()  # twice is harmless
    await hook.fire(2)
    assert heard == [("first", 1), ("second", 1), ("first", 2)]
    assert hook.listeners == (first,)


async def test_a_failing_listener_stops_the_fire_and_reaches_the_emitter() -> None:
    hook: Hook[str] = Hook("words")
    heard: list[str] = []

    async def broken(word: str) -> None:
        raise ValueError(word)

    async def later(word: str) -> None:
        heard.append(word)

    hook.subscribe(broken)
    hook.subscribe(later)
    with pytest.raises(ValueError, match="boom"):
        await hook.fire("boom")
    assert heard == []


async def test_nobody_listening_is_fine() -> None:
    await Hook[object]("empty").fire(object())
