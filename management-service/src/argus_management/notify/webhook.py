"""Outbound webhook: every alert state change POSTed as JSON to ``MANAGEMENT_WEBHOOK_URL``.

The notifier subscribes to ``argus:alerts``, as the WebSocket hub does: the alert code does
not know it exists. Each message is appended to a bounded in-memory queue (the oldest
waiting notification is dropped when it is full), so a slow or dead receiver never delays
anything. One sender task per process drains the queue in order, retrying with exponential
backoff and jitter. Every worker process receives every message; before sending, a worker
claims the message id in Redis (``SET NX``), so exactly one of them sends it.

Receivers check ``X-Argus-Signature: sha256=<hex>``, the HMAC-SHA256 with
``MANAGEMENT_WEBHOOK_SECRET`` of ``<X-Argus-Timestamp>.<raw body>``; ``X-Argus-Delivery`` is
the alert message's id, the same on every retry of one notification (for idempotent
receivers). Contract:
docs/contracts.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
import structlog
from prometheus_client import Counter, Gauge
from pydantic import ValidationError

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_ALERTS, AlertMessage
from argus_common.retry import Backoff, keep_running
from argus_management.config import Settings

log = structlog.get_logger("argus.notify.webhook")

DELIVERIES = Counter(
    "argus_webhook_deliveries_total", "Webhook notifications by final result", ["result"]
)
ATTEMPTS = Counter("argus_webhook_attempts_total", "Webhook POST attempts, retries included")
QUEUE_DEPTH = Gauge("argus_webhook_queue_depth", "Webhook notifications waiting to be sent")

SIGNATURE_HEADER = "X-Argus-Signature"
TIMESTAMP_HEADER = "X-Argus-Timestamp"
DELIVERY_HEADER = "X-Argus-Delivery"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


# A claimed message id is remembered this long: far longer than a message takes to reach
# every subscriber.
CLAIM_TTL_S = 3600

# ``claim(message id)``: True for the one process that is to send this notification.
Claim = Callable[[str], Awaitable[bool]]


def redis_claim(bus: RedisBus) -> Claim:
    """The claim shared by every worker: the first ``SET NX`` of the message id wins."""

    async def claim(message_id: str) -> bool:
        key = bus.key(f"webhook:claimed:{message_id}")
        return bool(await bus.redis.set(key, b"1", nx=True, ex=CLAIM_TTL_S))

    return claim


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class WebhookNotifier:
    """A bounded queue of alert notifications and the task that POSTs them."""

    def __init__(
        self,
        url: str,
        secret: str | None = None,
        *,
        queue_size: int = 1000,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        timeout_s: float = 5.0,
        client: httpx.AsyncClient | None = None,
        claim: Claim | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s
        self._queue: deque[tuple[str, bytes]] = deque()
        self._queue_size = queue_size
        self._wakeup = asyncio.Event()
        self._client = client
        self._own_client = client is None
        # None: this process is the only sender (no claim needed).
        self.claim = claim
        self.dropped = 0
        self.handled = 0  # notifications taken off the queue: sent, failed or left to another

    def offer(self, message: AlertMessage) -> bool:
        """Queue ``message`` for sending; never blocks. Returns False if an older
        notification had to be dropped to make room."""
        dropped = False
        if len(self._queue) >= self._queue_size:
            self._queue.popleft()
            self.dropped += 1
            DELIVERIES.labels("dropped").inc()
            dropped = True
        self._queue.append((message.id, message.model_dump_json().encode()))
        QUEUE_DEPTH.set(len(self._queue))
        self._wakeup.set()
        return not dropped

    def on_alert(self, raw: str) -> None:
        """Queue one ``argus:alerts`` message (an unreadable one is logged and skipped)."""
        try:
            message = AlertMessage.model_validate_json(raw)
        except ValidationError:
            log.warning("webhook_message_unreadable", size=len(raw))
            return
        self.offer(message)

    async def _claimed(self, delivery_id: str) -> bool:
        if self.claim is None:
            return True
        try:
            return await self.claim(delivery_id)
        except Exception as exc:
            # Redis away: a duplicate (receivers dedupe on X-Argus-Delivery) is better than
            # a lost notification.
            log.warning("webhook_claim_failed", error=type(exc).__name__)
            return True

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def run(self) -> None:
        """Send queued notifications, one at a time and in order, until cancelled."""
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False)
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue:
                    delivery_id, body = self._queue.popleft()
                    QUEUE_DEPTH.set(len(self._queue))
                    if not await self._claimed(delivery_id):
                        DELIVERIES.labels("elsewhere").inc()  # another worker sends it
                        self.handled += 1
                        continue
                    ok = await self.deliver(delivery_id, body)
                    DELIVERIES.labels("delivered" if ok else "failed").inc()
                    self.handled += 1
        finally:
            if self._queue:
                log.warning("webhook_pending_lost", count=len(self._queue))
            if self._own_client and self._client is not None:
                await self._client.aclose()

    def _headers(self, delivery_id: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ARGUS-webhook/1",
            DELIVERY_HEADER: delivery_id,
            TIMESTAMP_HEADER: timestamp,
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, timestamp, body)
        return headers

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self.max_backoff_s)
        base = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return float(base * (0.5 + random.random() / 2))  # jitter: receivers recovering see no herd

    async def deliver(self, delivery_id: str, body: bytes) -> bool:
        """POST one notification, retrying transient failures; True once accepted (2xx)."""
        assert self._client is not None
        for attempt in range(1, self.max_attempts + 1):
            ATTEMPTS.inc()
            retry_after: str | None = None
            try:
                response = await self._client.post(
                    self.url, content=body, headers=self._headers(delivery_id, body),
                    timeout=self.timeout_s,
                )
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            else:
                if 200 <= response.status_code < 300:
                    return True
                reason = f"status {response.status_code}"
                if not _retryable(response.status_code):
                    log.warning("webhook_refused", status=response.status_code,
                                delivery=delivery_id)
                    return False
                retry_after = response.headers.get("retry-after")
            if attempt == self.max_attempts:
                log.warning("webhook_failed", reason=reason, attempts=attempt,
                            delivery=delivery_id)
                return False
            await asyncio.sleep(self._delay(attempt, retry_after))
        return False


def notifier_for(settings: Settings, bus: RedisBus) -> WebhookNotifier | None:
    """The process's notifier for ``MANAGEMENT_WEBHOOK_URL`` (None when no URL is set)."""
    url = settings.webhook_url
    if not url:
        return None
    secret = settings.webhook_secret
    if not secret:
        log.warning("webhook_unsigned", detail="MANAGEMENT_WEBHOOK_SECRET is not set")
    # Host only: the path or query of a webhook URL often carries a token.
    log.info("webhook_enabled", host=urlsplit(url).hostname)
    return WebhookNotifier(
        url, secret,
        queue_size=settings.webhook_queue_size,
        max_attempts=settings.webhook_max_attempts,
        timeout_s=settings.webhook_timeout_s,
        claim=redis_claim(bus),
    )


async def follow_alerts(bus: RedisBus, notifier: WebhookNotifier) -> None:
    """Feed ``notifier`` from ``argus:alerts`` until cancelled, resubscribing with backoff
    when Redis goes away (alerts published meanwhile are not sent: live only, like the
    WebSocket hub)."""
    backoff = Backoff(0.5, 10.0)

    async def follow() -> None:
        async for _channel, raw in bus.subscribe(CHANNEL_ALERTS):
            backoff.reset()
            notifier.on_alert(raw)

    await keep_running(follow, event="webhook_subscription_lost", backoff=backoff, log=log)


async def run_webhook_notifier(bus: RedisBus, notifier: WebhookNotifier) -> None:
    """Background task: the subscription and the sender, until cancelled."""
    async with asyncio.TaskGroup() as group:
        group.create_task(follow_alerts(bus, notifier), name="webhook-follow")
        group.create_task(notifier.run(), name="webhook-send")
