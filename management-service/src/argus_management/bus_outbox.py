"""Management's durable outbox: what it announces on Redis that must survive an outage.

Events (``argus:events``: recorders in ``events`` mode, the webhook notifier) and alerts
(``argus:alerts``: ``/ws/alerts``) are announced after their row is committed. While Redis
is away, :class:`DurableBus` writes them to a file outbox of the worker process
(argus_common.outbox, the recorder's kind; ``<ARGUS_DATA_DIR>/outbox/<host>-<pid>``) and
:meth:`DurableBus.deliver` sends them, in order, once Redis answers again. While anything
waits, later announcements queue behind it (order is kept). The outbox of a worker that is
gone (a restart: another pid) is adopted and delivered by a live one. Delivery is
at-least-once: receivers are idempotent (events by message id, alerts by id and state).
Everything else on the bus is unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path

import structlog
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_ALERTS, STREAM_EVENTS
from argus_common.outbox import Outbox, Record
from argus_common.retry import Backoff

log = structlog.get_logger("argus.bus_outbox")

DURABLE_STREAMS = frozenset({STREAM_EVENTS})
DURABLE_CHANNELS = frozenset({CHANNEL_ALERTS})
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
STREAM_MAXLEN = 100_000  # as RedisBus.add
_CHANNEL = "bus"
_ORPHANS_S = 60.0


class BusOutbox(Outbox):
    """One channel, ``bus``: records ``{"op": "add"|"publish", "name", "data"}``."""

    channels = (_CHANNEL,)


def open_outbox(data_dir: str | Path) -> BusOutbox | None:
    """This process's outbox under ``<data_dir>/outbox``; None (announcements are then
    best-effort, as before) when it cannot be created."""
    box = BusOutbox(Path(data_dir) / "outbox" / f"{socket.gethostname()}-{os.getpid()}")
    try:
        if box.open():
            return box
    except OSError as exc:
        log.warning("bus_outbox_unavailable", error=type(exc).__name__, dir=str(box.directory))
    return None


class DurableBus(RedisBus):
    """A :class:`RedisBus` whose events and alerts wait in ``outbox`` while Redis is away."""

    def __init__(self, redis: Redis, namespace: str, outbox: BusOutbox | None) -> None:
        super().__init__(redis, namespace)
        self.outbox = outbox
        self._waiting = outbox.count() if outbox is not None else 0
        self._wake = asyncio.Event()
        # held while a record is counted and written, and while the count is re-read from
        # disk, so a re-read never misses a record being kept at the same moment
        self._counting = asyncio.Lock()

    @property
    def waiting(self) -> int:
        """Announcements of this process not yet delivered."""
        return self._waiting

    async def add(self, stream: str, message: BaseModel, maxlen: int = STREAM_MAXLEN) -> str:
        if self.outbox is None or stream not in DURABLE_STREAMS:
            return await super().add(stream, message, maxlen)
        if not self._waiting:
            try:
                return await super().add(stream, message, maxlen)
            except REDIS_DOWN as exc:
                log.warning("bus_outbox_keeps", name=stream, error=type(exc).__name__)
        await self._keep("add", stream, message)
        return ""

    async def publish(self, channel: str, message: BaseModel) -> int:
        if self.outbox is None or channel not in DURABLE_CHANNELS:
            return await super().publish(channel, message)
        if not self._waiting:
            try:
                return await super().publish(channel, message)
            except REDIS_DOWN as exc:
                log.warning("bus_outbox_keeps", name=channel, error=type(exc).__name__)
        await self._keep("publish", channel, message)
        return 0

    async def _keep(self, op: str, name: str, message: BaseModel) -> None:
        assert self.outbox is not None
        record = {"op": op, "name": name, "data": message.model_dump_json()}
        async with self._counting:
            self._waiting += 1
            await asyncio.to_thread(self.outbox.put, _CHANNEL, record)
        self._wake.set()

    async def _send(self, record: Record) -> None:
        op, name, data = record.data.get("op"), record.data.get("name"), record.data.get("data")
        if not isinstance(name, str) or not isinstance(data, str):
            log.warning("bus_outbox_record_invalid", seq=record.seq)
        elif op == "add":
            await self.redis.xadd(
                self.key(name), {"data": data}, maxlen=STREAM_MAXLEN, approximate=True
            )
        elif op == "publish":
            await self.redis.publish(self.key(name), data)
        else:
            log.warning("bus_outbox_record_invalid", seq=record.seq)

    async def _drain(self, box: BusOutbox) -> int:
        """Deliver everything ``box`` holds, oldest first; raises when Redis is away."""
        sent = 0
        for _ in range(100_000):  # bounded: 500 records a round
            records = await asyncio.to_thread(box.pending, _CHANNEL, 500)
            if not records:
                break
            for record in records:
                await self._send(record)
                await asyncio.to_thread(box.done, record)
                sent += 1
                if box is self.outbox:
                    self._waiting = max(0, self._waiting - 1)
        return sent

    async def deliver(self) -> None:
        """Background task: deliver this process's outbox (and adopted ones) whenever
        something waits, retrying with a backoff while Redis is away; until cancelled."""
        if self.outbox is None:
            return
        loop = asyncio.get_running_loop()
        backoff = Backoff(0.5, 10.0)
        adopted: list[BusOutbox] = []
        next_orphans = 0.0
        while True:
            try:
                if loop.time() >= next_orphans:
                    adopted += await asyncio.to_thread(self.outbox.orphans)
                    next_orphans = loop.time() + _ORPHANS_S
                for box in (self.outbox, *adopted):
                    sent = await self._drain(box)
                    if sent:
                        log.info("bus_outbox_delivered", count=sent, dir=box.directory.name)
                for box in list(adopted):
                    if await asyncio.to_thread(box.remove_if_empty):
                        adopted.remove(box)
            except REDIS_DOWN as exc:
                delay = backoff.next()
                log.info(
                    "bus_outbox_waiting",
                    waiting=self._waiting,
                    error=type(exc).__name__,
                    retry_s=delay,
                )
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            self._wake.clear()
            async with self._counting:
                self._waiting = await asyncio.to_thread(self.outbox.count)
            if not self._waiting:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_ORPHANS_S):
                        await self._wake.wait()

    def close(self) -> None:
        """Let go of the outbox's lock (what it holds stays for the next start)."""
        if self.outbox is not None:
            self.outbox.close()
