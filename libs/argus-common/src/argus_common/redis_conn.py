"""Redis connections whose commands can always be cancelled.

redis-py (8.x) bounds the write of every command with ``asyncio.wait_for`` when the
connection has a socket timeout (5 s by default). On Python 3.11, ``wait_for`` returns the
result and drops the cancel when the cancel lands as the write finishes (the same library
bug that made ruff ban ``wait_for`` here): the cancelled task carries on. Measured against a
local Redis with a cancel at a random moment of a loop of commands, 2,677 of 3,000 cancels
were lost that way, so a task that awaited Redis often could not be stopped (a guard tour
runner that never ended kept ``test_guard_tours`` waiting until its 120 s limit).

These connection classes send with ``asyncio.timeout`` instead: the same bound, the same
errors (a timed-out or failed write closes the connection and raises redis-py's
``TimeoutError`` / ``ConnectionError``), and a cancel always propagates. Reads already use
``asyncio.timeout`` in redis-py. :func:`cancel_safe` swaps them into a pool before its
first connection is made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import Connection, SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class _TimeoutBoundSend(Connection):
    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()  # type: ignore[no-untyped-call]  # untyped in redis-py
        if isinstance(command, str):
            command = command.encode()
        chunks = [command] if isinstance(command, bytes) else list(command)
        writer = self._writer
        assert writer is not None  # connected above
        try:
            async with asyncio.timeout(self.socket_timeout or None):
                writer.writelines(chunks)
                await writer.drain()
        except TimeoutError:  # before OSError: TimeoutError is one
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as exc:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {exc}") from exc
        except BaseException:
            # Cancelled mid-write: the command may be half sent, the connection is unusable.
            await self.disconnect(nowait=True)
            raise


class CancelSafeConnection(_TimeoutBoundSend):
    """A plain TCP connection (``redis://``)."""


class CancelSafeSSLConnection(_TimeoutBoundSend, SSLConnection):
    """A TLS connection (``rediss://``)."""


_SWAPS: dict[type[Any], type[Any]] = {
    Connection: CancelSafeConnection,
    SSLConnection: CancelSafeSSLConnection,
}


def cancel_safe(pool: ConnectionPool) -> ConnectionPool:
    """``pool`` making cancel-safe connections (call before its first command)."""
    swap = _SWAPS.get(pool.connection_class)
    if swap is None:
        raise TypeError(f"no cancel-safe variant of {pool.connection_class.__name__}")
    pool.connection_class = swap
    return pool
