"""The Redis bus: streams with consumer groups (at-least-once) and pub/sub (live only)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel
from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.exceptions import ResponseError

from argus_common.redis_conn import cancel_safe
from argus_common.retry import Backoff
from argus_common.settings import ArgusSettings
from argus_common.tls import TlsError, tls_failure

log = structlog.get_logger("argus.bus")
PUBSUB_WAIT_S = 5.0  # one wait for a pub/sub message
_QUICK_NONE_MAX = 100
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[str, dict[str, Any]], Awaitable[None]]


def redis_client(
    settings: ArgusSettings, *, max_connections: int | None = None, wait_s: float | None = None
) -> Redis:
    """The Redis client of a service: ``REDIS_URL`` with its user, over TLS for
    ``rediss://`` (verified against ``REDIS_TLS_CA_FILE`` and the URL's host name).
    ``max_connections`` with ``wait_s``: a blocking pool (a burst waits up to ``wait_s`` for a
    connection instead of failing)."""
    tls: dict[str, Any] = {}
    if settings.redis_url.lower().startswith("rediss://"):
        tls = {
            "ssl_cert_reqs": "required",
            "ssl_check_hostname": True,
            "ssl_ca_certs": settings.redis_tls_ca_file or None,
            "ssl_certfile": settings.redis_tls_cert_file or None,
            "ssl_keyfile": settings.redis_tls_key_file or None,
        }
    pool: ConnectionPool
    if max_connections is not None and wait_s is not None:
        pool = BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=max_connections, timeout=wait_s, **tls
        )
    else:
        pool = ConnectionPool.from_url(settings.redis_url, max_connections=max_connections, **tls)
    return Redis.from_pool(cancel_safe(pool))


def redis_problem(exc: BaseException) -> str:
    """What a readiness check says about a Redis that did not answer: the TLS reason when
    the handshake failed, else "redis unreachable"."""
    reason = tls_failure(exc)
    return "redis unreachable" if reason is None else f"redis TLS: {reason}"


async def check_redis_tls(redis: Redis, settings: ArgusSettings) -> None:
    """At start: raise :class:`TlsError` (one line) when Redis cannot be reached because of
    TLS (a wrong CA, a certificate for another name, a server without TLS); any other
    failure is left to the readiness checks and retries (Redis may simply not be up yet)."""
    try:
        await redis.ping()
    except Exception as exc:
        if tls_failure(exc) is not None:
            ca = settings.redis_tls_ca_file or "the system's CAs"
            raise TlsError(
                f"{redis_problem(exc)} (REDIS_URL is rediss://, REDIS_TLS_CA_FILE: {ca})"
            ) from None


class RedisBus:
    """Typed access to the ARGUS streams and channels under one namespace."""

    def __init__(self, redis: Redis, namespace: str = "argus") -> None:
        self.redis = redis
        self.namespace = namespace

    def key(self, name: str) -> str:
        """Full Redis name of a stream, channel or key: ``<namespace>:<name>``."""
        return f"{self.namespace}:{name}"

    # -- pub/sub -------------------------------------------------------------------------
    async def publish(self, channel: str, message: BaseModel) -> int:
        """Publish ``message`` on ``channel``; returns the number of live subscribers."""
        return int(await self.redis.publish(self.key(channel), message.model_dump_json()))

    async def subscribe(self, *channels: str) -> AsyncIterator[tuple[str, str]]:
        """Yield ``(channel, raw JSON)`` for every message on ``channels`` until cancelled."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        full = [self.key(c) for c in channels]
        await pubsub.subscribe(*full)
        prefix = len(self.namespace) + 1
        quick = 0  # answers without a message, in a row, that came back at once
        try:
            while True:
                asked = time.monotonic()
                msg = await pubsub.get_message(timeout=PUBSUB_WAIT_S)
                if msg is None or msg.get("type") != "message":
                    # A connection left broken by an outage can make redis-py answer None
                    # at once for ever: a busy loop (seen after a host's link came back).
                    quick = quick + 1 if time.monotonic() - asked < PUBSUB_WAIT_S / 10 else 0
                    if quick >= _QUICK_NONE_MAX:
                        raise ConnectionError("pub/sub connection answers nothing at once")
                    continue
                quick = 0
                channel = msg["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else str(channel)
                data = msg["data"]
                yield channel[prefix:], data.decode() if isinstance(data, bytes) else str(data)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    # -- streams -------------------------------------------------------------------------
    async def add(self, stream: str, message: BaseModel, maxlen: int = 100_000) -> str:
        """Append ``message`` to ``stream`` (trimmed to about ``maxlen``); returns its entry id."""
        entry = await self.redis.xadd(
            self.key(stream), {"data": message.model_dump_json()}, maxlen=maxlen, approximate=True
        )
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    async def ensure_group(self, stream: str, group: str, start: str = "$") -> None:
        """Create consumer group ``group`` on ``stream`` (and the stream) if missing."""
        try:
            await self.redis.xgroup_create(self.key(stream), group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_group(
        self, stream: str, group: str, consumer: str, count: int = 50, block_ms: int = 2000
    ) -> list[tuple[str, str]]:
        """New entries for ``consumer``: a list of ``(entry id, raw JSON)``."""
        resp: Any = await self.redis.xreadgroup(
            group, consumer, {self.key(stream): ">"}, count=count, block=block_ms
        )
        if not resp:
            return []
        if isinstance(resp, dict):  # RESP3 answers a map of stream -> entries
            return _entries(next(iter(resp.values()))[0] if resp else [])
        return _entries(resp[0][1])

    async def read_own_pending(
        self, stream: str, group: str, consumer: str, after: str = "0", count: int = 50
    ) -> list[tuple[str, str]]:
        """Entries ``consumer`` was given but has not acked, after id ``after`` (an entry
        trimmed away meanwhile comes back as ``(id, "")``)."""
        resp: Any = await self.redis.xreadgroup(
            group, consumer, {self.key(stream): after}, count=count
        )
        if not resp:
            return []
        raw = next(iter(resp.values()))[0] if isinstance(resp, dict) else resp[0][1]
        return _entries(raw, keep_trimmed=True)

    async def claim_stuck(
        self, stream: str, group: str, consumer: str, min_idle_ms: int, count: int = 50
    ) -> list[tuple[str, str]]:
        """Take over entries another consumer read but did not ack within ``min_idle_ms``."""
        resp: Any = await self.redis.xautoclaim(
            self.key(stream),
            group,
            consumer,
            min_idle_time=min_idle_ms,
            start_id="0-0",
            count=count,
        )
        return _entries(resp[1])

    async def ack(self, stream: str, group: str, *entry_ids: str) -> None:
        if entry_ids:
            await self.redis.xack(self.key(stream), group, *entry_ids)

    async def consume(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        *,
        min_idle_ms: int = 60_000,
        block_ms: int = 2000,
        retry: Backoff | None = None,
    ) -> None:
        """Run ``handler`` on every entry of ``stream`` for this group until cancelled.

        Handlers must be idempotent: an entry is acked only after its handler returns. A
        handler that raises leaves its entry pending; this consumer re-reads its own pending
        entries after each ``retry`` delay (0.5 s doubling to 10 s by default, started over
        once they all went through), so a dependency that comes back (the database) gets
        them within a delay. Entries left unacked by a dead consumer are taken over after
        ``min_idle_ms``.
        """
        await self.ensure_group(stream, group)
        loop = asyncio.get_running_loop()
        backoff = retry or Backoff(0.5, 10.0)
        next_claim = 0.0
        retry_at: float | None = 0.0  # when our own pending entries are read (again)
        task = asyncio.current_task()
        while True:
            # redis-py's own connections can swallow a cancellation that lands inside a
            # command (``argus_common.redis_conn``: ``redis_client``'s cannot); on a bus
            # built on a plain client the task stays "cancelling" and would keep reading:
            # honour it here, so a stop ends the loop within one ``block_ms`` read.
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            batch: list[tuple[str, str]] = []
            if loop.time() >= next_claim:
                batch = await self.claim_stuck(stream, group, consumer, min_idle_ms)
                next_claim = loop.time() + min_idle_ms / 2000
            if retry_at is not None and loop.time() >= retry_at:
                failed = await self._retry_own(stream, group, consumer, handler)
                retry_at = loop.time() + backoff.next() if failed else None
                if not failed:
                    backoff.reset()
            wait_ms = block_ms
            if retry_at is not None:
                wait_ms = max(1, min(block_ms, int((retry_at - loop.time()) * 1000)))
            batch += await self.read_group(stream, group, consumer, block_ms=wait_ms)
            if await self._handle(stream, group, handler, batch) and retry_at is None:
                retry_at = loop.time() + backoff.next()

    async def _handle(
        self,
        stream: str,
        group: str,
        handler: Handler,
        batch: list[tuple[str, str]],
        retrying: bool = False,
    ) -> int:
        """Run ``handler`` on ``batch``, acking each entry it took; returns how many failed
        (a retry's failure is one line, without the traceback logged the first time)."""
        failed = 0
        for entry_id, raw in batch:
            if not raw:  # trimmed while pending: nothing left to handle
                log.warning("stream_entry_trimmed", stream=stream, entry_id=entry_id)
                await self.ack(stream, group, entry_id)
                continue
            try:
                await handler(entry_id, _load(raw))
            except Exception as exc:
                if retrying:
                    log.warning(
                        "stream_handler_failed_again",
                        stream=stream,
                        entry_id=entry_id,
                        error=type(exc).__name__,
                    )
                else:
                    log.exception("stream_handler_failed", stream=stream, entry_id=entry_id)
                failed += 1
                continue
            await self.ack(stream, group, entry_id)
        return failed

    async def _retry_own(self, stream: str, group: str, consumer: str, handler: Handler) -> int:
        """One pass over this consumer's pending entries (bounded: each is read once);
        returns how many failed again."""
        failed, after = 0, "0"
        for _ in range(10_000):
            batch = await self.read_own_pending(stream, group, consumer, after)
            if not batch:
                break
            failed += await self._handle(stream, group, handler, batch, retrying=True)
            after = batch[-1][0]
        return failed


def _entries(raw: list[Any], keep_trimmed: bool = False) -> list[tuple[str, str]]:
    out = []
    for entry_id, fields in raw:
        eid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        if not fields:  # trimmed away while pending
            if keep_trimmed:
                out.append((eid, ""))
            continue
        data = fields.get(b"data", fields.get("data", b"{}"))
        out.append((eid, data.decode() if isinstance(data, bytes) else str(data)))
    return out


def _load(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}
