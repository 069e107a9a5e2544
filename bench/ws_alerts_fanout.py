"""``/ws/alerts`` fan-out: internal event in, alert out to 1,000 WebSocket clients.

Setup: PostgreSQL scratch database, management-service as a real process (one uvicorn worker
by default) on a unique Redis namespace, one camera, 1,000 WebSocket clients of an admin held
by this one asyncio process. Then N internal events (``motion.start``, which raises an alert)
are posted one at a time; for each, the time from just before the POST to the moment the
last client has the alert. Prints p50/p95/p99/max of that, and of the first client.

Usage: ``.venv/bin/python bench/ws_alerts_fanout.py [--clients 1000] [--events 50]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
from _stack import INTERNAL, management, scratch_database
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from argus_common.jwt import JwtCodec
from argus_common.keys import development_keys
from argus_common.service_keys import derive_service_key

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CONNECT_BATCH = 100
EVENT_TIMEOUT_S = 10.0
WARMUP_EVENTS = 3


def _raise_fd_limit(clients: int) -> None:
    """Both ends of every connection live on this machine; the server inherits the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * clients + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < 2 * clients + 256:
        raise SystemExit(f"open-file limit {want} too low for {clients} clients")


class Arrivals:
    """When each client received the alert of each event (keyed by event row id)."""

    def __init__(self, clients: int) -> None:
        self.clients = clients
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.count: dict[int, int] = defaultdict(int)
        self.complete: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    def record(self, event_id: int, at: float) -> None:
        self.first.setdefault(event_id, at)
        self.last[event_id] = at
        self.count[event_id] += 1
        if self.count[event_id] == self.clients:
            self.complete[event_id].set()


async def _client(ws: ClientConnection, arrivals: Arrivals) -> None:
    async for raw in ws:
        at = time.perf_counter()
        message = json.loads(raw)
        if message.get("type") == "ping":
            await ws.send('{"type":"pong"}')
        elif message.get("event_id") is not None:
            arrivals.record(int(message["event_id"]), at)


async def _open(url: str, token: str) -> ClientConnection:
    ws = await connect(url, subprotocols=["bearer", token], open_timeout=30,  # type: ignore[list-item]
                       max_queue=64)
    ready = json.loads(await asyncio.wait_for(ws.recv(), 10))
    if ready.get("type") != "ready":
        raise RuntimeError(f"unexpected first frame {ready}")
    return ws


def _pct(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return (f"p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, p99 {q[98]:.1f} ms, "
            f"max {max(values):.1f} ms")


async def _run(base: str, clients: int, events: int) -> None:
    token = JwtCodec(development_keys(), "argus", "argus-api").issue("1", "access", 3600).token
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        cam = await http.post("/api/v1/cameras", headers=headers,
                              json={"name": "bench-cam", "stream_url": "rtsp://10.0.0.1/main"})
        cam.raise_for_status()
        camera_id = cam.json()["id"]
        ws_url = base.replace("http://", "ws://") + "/ws/alerts"
        arrivals = Arrivals(clients)
        t0 = time.perf_counter()
        sockets: list[ClientConnection] = []
        for start in range(0, clients, CONNECT_BATCH):
            batch = min(CONNECT_BATCH, clients - start)
            sockets += await asyncio.gather(*(_open(ws_url, token) for _ in range(batch)))
        print(f"{clients} clients connected in {time.perf_counter() - t0:.1f} s")
        readers = [asyncio.create_task(_client(ws, arrivals)) for ws in sockets]
        server_cpu0, client_cpu0 = await _server_cpu(http), time.process_time()
        last_ms: list[float] = []
        first_ms: list[float] = []
        post_ms: list[float] = []
        recorder = {"X-Internal-Api-Key": derive_service_key(INTERNAL, "recording")}
        try:
            for i in range(WARMUP_EVENTS + events):
                body = {"id": uuid.uuid4().hex, "type": "motion.start", "camera_id": camera_id,
                        "ts": datetime.now(UTC).isoformat(), "v": 1}
                sent = time.perf_counter()
                resp = await http.post("/internal/events", json=body, headers=recorder)
                answered = time.perf_counter()
                resp.raise_for_status()
                event_id = resp.json()["id"]
                await asyncio.wait_for(arrivals.complete[event_id].wait(), EVENT_TIMEOUT_S)
                if i >= WARMUP_EVENTS:
                    last_ms.append((arrivals.last[event_id] - sent) * 1000)
                    first_ms.append((arrivals.first[event_id] - sent) * 1000)
                    post_ms.append((answered - sent) * 1000)
            server_cpu = (await _server_cpu(http) - server_cpu0) * 1000 / (WARMUP_EVENTS + events)
            client_cpu = (time.process_time() - client_cpu0) * 1000 / (WARMUP_EVENTS + events)
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    print(f"{events} events, {clients} clients each (after {WARMUP_EVENTS} warm-up events)")
    print(f"  POST -> last client:  {_pct(last_ms)}")
    print(f"  POST -> first client: {_pct(first_ms)}")
    print(f"  POST response:        {_pct(post_ms)}")
    print(f"  CPU per event: server {server_cpu:.0f} ms, this client process {client_cpu:.0f} ms")


async def _server_cpu(http: httpx.AsyncClient) -> float:
    """The server's ``process_cpu_seconds_total`` (prometheus_client's process collector)."""
    for line in (await http.get("/metrics")).text.splitlines():
        if line.startswith("process_cpu_seconds_total "):
            return float(line.split()[1])
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    _raise_fd_limit(args.clients)
    namespace = f"argus-bench-ws-{uuid.uuid4().hex[:8]}"
    try:
        # One admin holds every client: lift the per-user WebSocket cap (default 8).
        with scratch_database() as db, management(
            db, workers=args.workers, ARGUS_REDIS_NAMESPACE=namespace,
            MANAGEMENT_MAX_WS_PER_USER=str(max(args.clients, 1)),
        ) as base:
            _event_loop_run(_run(base, args.clients, args.events))
    finally:
        asyncio.run(_drop_namespace(namespace))


def _event_loop_run(main: Coroutine[Any, Any, None]) -> None:
    """uvloop when installed (as the server has it): less of the client's own overhead in
    the figures."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    print("client event loop: uvloop")
    uvloop.run(main)


async def _drop_namespace(namespace: str) -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{namespace}:*", count=500)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


if __name__ == "__main__":
    main()
