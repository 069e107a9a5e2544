"""A small typed hook registry: an emitter fires, listeners subscribe at start-up.

The events service publishes "an event was stored" and does not know who listens (liveness
evidence, analysis spans, alert rules); ``main.py`` subscribes them in the lifespan. So no
domain imports its listeners, and the import graph between domains stays one-way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

Listener = Callable[[T], Awaitable[None]]


class Hook(Generic[T]):
    """Listeners of one kind of happening, called in subscription order.

    A listener that raises stops :meth:`fire` and the exception reaches the emitter: a
    listener that runs inside the emitter's transaction (the event hooks do) must be able to
    make it roll back.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Listener[T]] = []

    def subscribe(self, listener: Listener[T]) -> Callable[[], None]:
        """Call ``listener`` on every :meth:`fire`; returns a function that unsubscribes."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    @property
    def listeners(self) -> tuple[Listener[T], ...]:
        return tuple(self._listeners)

    async def fire(self, payload: T) -> None:
        """Await every listener with ``payload``, one after the other."""
        for listener in tuple(self._listeners):
            await listener(payload)

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, listeners={len(self._listeners)})"
