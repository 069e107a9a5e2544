"""A task cancelled while it talks to Redis stops (argus_common.redis_conn).

redis-py's own connections write each command under ``asyncio.wait_for``, which on Python
3.11 drops a cancel that lands as the write finishes: the task carries on. Measured with
this loop against the plain library connections, about 9 of 10 cancels were lost."""

from __future__ import annotations

import asyncio
import random

from redis.asyncio import ConnectionPool, Redis

from argus_common.redis_conn import CancelSafeConnection, cancel_safe
from argus_testkit import stack as kit

ROUNDS = 300
_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return 1 end return 0"


async def test_a_cancel_during_redis_commands_always_stops_the_task() -> None:
    pool = cancel_safe(ConnectionPool.from_url(kit.REDIS_URL))
    assert pool.connection_class is CancelSafeConnection
    redis = Redis.from_pool(pool)
    script = redis.register_script(_SCRIPT)
    rng = random.Random(17)
    with kit.redis_namespace("argus-cancel") as ns:

        async def busy() -> str:
            for _ in range(300):  # bounded: far more than the few ms before the cancel
                await script(keys=[f"{ns}:lease"], args=["token"])
                await redis.set(f"{ns}:state", "v", ex=30)
                await redis.get(f"{ns}:lock")
            return "ran out"

        lost = 0
        try:
            for _ in range(ROUNDS):
                task = asyncio.create_task(busy())
                await asyncio.sleep(rng.uniform(0, 0.003))
                task.cancel()
                async with asyncio.timeout(10):
                    (outcome,) = await asyncio.gather(task, return_exceptions=True)
                lost += not isinstance(outcome, asyncio.CancelledError)
            # The connections are still usable after all those cut-off commands.
            assert await redis.set(f"{ns}:after", "1") is True
        finally:
            await redis.aclose()
    assert lost == 0, f"{lost} of {ROUNDS} cancels were lost"


def test_only_known_connection_classes_are_swapped() -> None:
    class Odd(CancelSafeConnection):
        pass

    pool = ConnectionPool(connection_class=Odd)
    try:
        cancel_safe(pool)
    except TypeError as exc:
        assert "Odd" in str(exc)
    else:
        raise AssertionError("an unknown connection class was accepted")
