"""The alert webhook against a real HTTP server on 127.0.0.1: signature, retries with
backoff, no retry on 4xx, the bounded queue, and the alert path feeding it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_ALERTS, AlertMessage
from argus_management.alerts.service import raise_alert
from argus_management.config import Settings
from argus_management.db import run_after_commit
from argus_management.deps import app_state
from argus_management.notify.webhook import (
    WebhookNotifier,
    notifier_for,
    redis_claim,
    run_webhook_notifier,
)
from argus_testkit.ports import free_port

SECRET = "webhook-secret-0123"


@dataclass
class Receiver:
    """A local HTTP server that records requests and answers from a script of statuses."""

    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def wait_for(self, count: int, within_s: float = 5.0) -> None:
        """Block (in a thread) until ``count`` requests arrived."""
        deadline = threading.Event()
        for _ in range(int(within_s / 0.01)):
            with self.lock:
                if len(self.requests) >= count:
                    return
            deadline.wait(0.01)
        raise AssertionError(f"{len(self.requests)} requests, expected {count}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with rec.lock:
                rec.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = rec.statuses.pop(0) if rec.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook?token=abc"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


def _message(n: int = 1, state: str = "open") -> AlertMessage:
    return AlertMessage(type="alert.camera.offline", camera_id=3, alert_id=n,
                        kind="camera.offline", state=state, title=f"Camera offline {n}")  # type: ignore[arg-type]


async def _run(notifier: WebhookNotifier) -> asyncio.Task[None]:
    return asyncio.create_task(notifier.run())


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_delivery_is_signed_json(receiver: Receiver) -> None:
    notifier = WebhookNotifier(receiver.url, SECRET)
    task = await _run(notifier)
    try:
        assert notifier.offer(_message())
        await asyncio.to_thread(receiver.wait_for, 1)
    finally:
        await _stop(task)
    headers, body = receiver.requests[0]
    assert json.loads(body)["kind"] == "camera.offline"
    assert headers["content-type"] == "application/json"
    timestamp = headers["x-argus-timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert headers["x-argus-signature"] == f"sha256={expected.hexdigest()}"
    assert len(headers["x-argus-delivery"]) == 32


async def test_transient_failures_are_retried_with_backoff(receiver: Receiver) -> None:
    receiver.statuses = [503, 500]
    notifier = WebhookNotifier(receiver.url, SECRET, backoff_s=0.05)
    task = await _run(notifier)
    try:
        notifier.offer(_message())
        await asyncio.to_thread(receiver.wait_for, 3)
    finally:
        await _stop(task)
    ids = {h["x-argus-delivery"] for h, _ in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1  # one notification, three tries


async def test_client_errors_are_not_retried_and_attempts_are_bounded(
    receiver: Receiver,
) -> None:
    receiver.statuses = [400, 500, 500, 500, 500]
    notifier = WebhookNotifier(receiver.url, None, max_attempts=3, backoff_s=0.01)
    async with httpx.AsyncClient() as client:
        notifier._client = client
        assert not await notifier.deliver("d1", b"{}")  # 400: given up at once
        assert len(receiver.requests) == 1
        assert "x-argus-signature" not in receiver.requests[0][0]  # no secret, no signature
        assert not await notifier.deliver("d2", b"{}")  # 500 x3: given up after 3
    assert len(receiver.requests) == 4


async def test_unreachable_receiver_gives_up() -> None:
    notifier = WebhookNotifier(f"http://127.0.0.1:{free_port()}/", SECRET, max_attempts=2,
                               backoff_s=0.01)
    async with httpx.AsyncClient() as client:
        notifier._client = client
        assert not await notifier.deliver("d", b"{}")


async def test_queue_is_bounded_dropping_the_oldest(receiver: Receiver) -> None:
    notifier = WebhookNotifier(receiver.url, SECRET, queue_size=3)
    accepted = [notifier.offer(_message(n)) for n in range(1, 11)]  # nobody sending yet
    assert accepted == [True] * 3 + [False] * 7
    assert notifier.pending == 3 and notifier.dropped == 7
    task = await _run(notifier)
    try:
        await asyncio.to_thread(receiver.wait_for, 3)
    finally:
        await _stop(task)
    assert [json.loads(b)["alert_id"] for _, b in receiver.requests] == [8, 9, 10]


async def _subscribers(bus: RedisBus) -> int:
    counts = await bus.redis.pubsub_numsub(bus.key(CHANNEL_ALERTS))
    return int(counts[0][1])


async def _until(condition: Callable[[], Awaitable[bool] | bool], within_s: float = 5.0) -> None:
    """Wait (bounded) for a condition nothing can announce (a Redis subscription, an idle
    sender)."""
    for _ in range(int(within_s / 0.01)):
        outcome = condition()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_alert_path_feeds_the_webhook_without_waiting_for_it(
    app: FastAPI, receiver: Receiver,
) -> None:
    receiver.statuses = [503]  # the first try fails: the alert path must not notice
    state = app_state(app)
    notifier = WebhookNotifier(receiver.url, SECRET, backoff_s=0.05,
                               claim=redis_claim(state.bus))
    before = await _subscribers(state.bus)
    task = asyncio.create_task(run_webhook_notifier(state.bus, notifier))
    try:
        # The notifier hears argus:alerts like the WebSocket hub: nothing calls it directly.
        await _until(lambda: _subscribed(state.bus, before + 1))
        async with state.sessionmaker() as session:
            alert = await raise_alert(session, state.bus, kind="recorder.down",
                                      title="Recorder stopped reporting", severity="critical")
            await session.commit()
            await run_after_commit(session)
        await asyncio.to_thread(receiver.wait_for, 2)
    finally:
        await _stop(task)
    sent = json.loads(receiver.requests[-1][1])
    assert (sent["alert_id"], sent["kind"], sent["state"]) == (alert.id, "recorder.down", "open")


async def _subscribed(bus: RedisBus, count: int) -> bool:
    return await _subscribers(bus) >= count


async def test_each_alert_is_sent_by_one_worker(app: FastAPI, receiver: Receiver) -> None:
    """Every worker hears every alert; the claim in Redis lets exactly one send it."""
    bus = app_state(app).bus
    workers = [WebhookNotifier(receiver.url, SECRET, claim=redis_claim(bus)) for _ in range(3)]
    tasks = [await _run(w) for w in workers]
    messages = [_message(n) for n in range(1, 6)]
    try:
        for worker in workers:
            worker.on_alert("not an alert")  # unreadable: skipped, nothing queued
            for message in messages:
                worker.on_alert(message.model_dump_json())
        await _until(lambda: all(w.handled == len(messages) for w in workers))
    finally:
        for task in tasks:
            await _stop(task)
    assert len(receiver.requests) == len(messages)
    delivered = {json.loads(b)["alert_id"]: h["x-argus-delivery"] for h, b in receiver.requests}
    assert delivered == {m.alert_id: m.id for m in messages}


async def test_no_url_no_notifier(app: FastAPI, settings: Settings) -> None:
    assert settings.webhook_url is None
    assert notifier_for(settings, app_state(app).bus) is None  # nothing to run
    assert app_state(app).webhook is None
