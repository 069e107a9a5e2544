"""Outbound webhook: every alert state change POSTed as JSON to ``MANAGEMENT_WEBHOOK_URL``.

The alert path only calls :func:`offer`, a non-blocking append to a bounded in-memory queue
(the oldest waiting notification is dropped when it is full), so a slow or dead receiver
never delays raising, acking or resolving an alert. One sender task per process drains the
queue in order, retrying with exponential backoff and jitter. Each alert is offered by the
one process whose transaction changed it, so several workers never send duplicates.

Receivers check ``X-Argus-Signature: sha256=<hex>``, the HMAC-SHA256 with
``MANAGEMENT_WEBHOOK_SECRET`` of ``<X-Argus-Timestamp>.<raw body>``; ``X-Argus-Delivery`` is
the same on every retry of one notification (for idempotent receivers). Contract:
docs/contracts.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import time
import uuid
from collections import deque
from urllib.parse import urlsplit

import httpx
import structlog
from fastapi import FastAPI
from prometheus_client import Counter, Gauge

from argus_common.events import AlertMessage

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
        self.dropped = 0

    def offer(self, message: AlertMessage) -> bool:
        """Queue ``message`` for sending; never blocks. Returns False if an older
        notification had to be dropped to make room."""
        dropped = False
        if len(self._queue) >= self._queue_size:
            self._queue.popleft()
            self.dropped += 1
            DELIVERIES.labels("dropped").inc()
            dropped = True
        self._queue.append((uuid.uuid4().hex, message.model_dump_json().encode()))
        QUEUE_DEPTH.set(len(self._queue))
        self._wakeup.set()
        return not dropped

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
                    ok = await self.deliver(delivery_id, body)
                    DELIVERIES.labels("delivered" if ok else "failed").inc()
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


_active: WebhookNotifier | None = None


def install(notifier: WebhookNotifier | None) -> None:
    """Make ``notifier`` the one :func:`offer` feeds in this process (None: none)."""
    global _active
    _active = notifier


def offer(message: AlertMessage) -> None:
    """Hand an alert state change to this process's webhook, if one is configured."""
    if _active is not None:
        _active.offer(message)


async def run_webhook_notifier(app: FastAPI) -> None:
    """Background task: the process's webhook sender (returns at once when no URL is set)."""
    settings = app.state.settings
    url: str | None = getattr(settings, "webhook_url", None)
    if not url:
        return
    secret: str | None = getattr(settings, "webhook_secret", None)
    if not secret:
        log.warning("webhook_unsigned", detail="MANAGEMENT_WEBHOOK_SECRET is not set")
    notifier = WebhookNotifier(
        url, secret,
        queue_size=settings.webhook_queue_size,
        max_attempts=settings.webhook_max_attempts,
        timeout_s=settings.webhook_timeout_s,
    )
    install(notifier)
    # Host only: the path or query of a webhook URL often carries a token.
    log.info("webhook_enabled", host=urlsplit(url).hostname)
    try:
        await notifier.run()
    finally:
        install(None)
