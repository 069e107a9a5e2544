"""Pre-serialized camera lists, keyed on what decides their content.

The key holds the cameras version (bumped after every committed camera change), the set of
cameras the user may see (from the principal, itself cached per authz version) and the page.
So a cached body is served only while nothing that shaped it has changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

_MAX_ENTRIES = 2_000


def list_key(version: Any, principal_scope: Any, limit: int, offset: int) -> tuple[Any, ...]:
    return ("cameras", version, principal_scope, limit, offset)


class ResponseCache:
    """Serialized bodies by key, and the builds in flight (one per key). One per process,
    built in the lifespan (``CachesDep``)."""

    def __init__(self, max_entries: int = _MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.bodies: dict[tuple[Any, ...], bytes] = {}
        self._building: dict[tuple[Any, ...], asyncio.Future[bytes]] = {}

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        return self.bodies.get(key)

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        if len(self.bodies) >= self.max_entries:
            self.bodies.clear()  # old versions are never asked again; start over
        self.bodies[key] = body

    def clear(self) -> None:
        self.bodies.clear()

    def __contains__(self, key: object) -> bool:
        return key in self.bodies

    async def single_flight(
        self, key: tuple[Any, ...], build: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        """Build the body for ``key`` once, however many requests miss at the same moment.

        A camera change invalidates every cached list at once; without this, each concurrent
        request would query and serialize the same page (a thundering herd at the worst
        time). A failed build is not cached: the next request tries again.
        """
        pending = self._building.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        try:
            body = await build()
            self.put(key, body)
            future.set_result(body)
            return body
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) get it, nobody else must
            raise
        finally:
            del self._building[key]
