"""Fan-out of ``analysis.frames`` to the ``/ws/analysis`` sessions of this process (the limit
on concurrent sessions across every management process is ``wslimit.SessionLimiter``).

The process subscribes to the channel only while it has sessions (the analysers then see
no listener and publish almost nothing). Each frame is parsed once and queued for the
sessions subscribed to its camera. A session's queue drops its oldest frames when the
client reads too slowly: frames are live data, a late one is worth less than a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from typing import Any

import structlog
from prometheus_client import Counter, Gauge

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_ANALYSIS_FRAMES
from argus_common.retry import Backoff, keep_running
from argus_management.rbac.principal import Principal

log = structlog.get_logger("argus.analysis.hub")

WS_SESSIONS = Gauge("argus_analysis_ws_sessions", "Connected /ws/analysis sessions")
WS_DROPPED = Counter(
    "argus_analysis_ws_frames_dropped_total", "Frames dropped for /ws/analysis clients too slow"
)
QUEUE_FRAMES = 300


class AnalysisClient:
    """One session: the cameras it follows and the frames waiting to be sent to it."""

    def __init__(self, session_id: str, principal: Principal) -> None:
        self.session_id = session_id
        self.principal = principal
        self.cameras: set[int] = set()
        self.pending: deque[str] = deque(maxlen=QUEUE_FRAMES)
        self.wakeup = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""

    def offer(self, text: str) -> None:
        if len(self.pending) == QUEUE_FRAMES:
            WS_DROPPED.inc()  # the deque drops the oldest frame itself
        self.pending.append(text)
        self.wakeup.set()

    def send(self, text: str) -> None:
        """Queue a control frame (never dropped: the queue is only full of frames)."""
        self.pending.append(text)
        self.wakeup.set()

    def request_close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.wakeup.set()


def frame_payload(message: dict[str, Any]) -> tuple[int | None, str, str]:
    """``(camera_id, timestamp, payload JSON)`` of a frame of ``analysis.frames``."""
    camera_id = message.get("camera_id")
    if isinstance(camera_id, bool) or not isinstance(camera_id, int):
        camera_id = None
    payload = {
        "cameraId": camera_id,
        "analysisSessionId": message.get("session_id"),
        "motion": bool(message.get("motion")),
        "score": message.get("score", 0.0),
        "boxes": message.get("boxes", []),
        "width": message.get("width", 0),
        "height": message.get("height", 0),
        "eventId": message.get("event_id"),
    }
    if message.get("objects") is not None:
        payload["objects"] = message["objects"]
    return camera_id, str(message.get("ts", "")), json.dumps(payload, separators=(",", ":"))


class AnalysisHub:
    """The sessions of this process and the one subscription feeding them."""

    def __init__(self, bus: RedisBus) -> None:
        self.bus = bus
        self.clients: set[AnalysisClient] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self, client: AnalysisClient) -> None:
        self.clients.add(client)
        WS_SESSIONS.set(len(self.clients))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._subscribe(), name="analysis-frames")

    async def remove(self, client: AnalysisClient) -> None:
        self.clients.discard(client)
        WS_SESSIONS.set(len(self.clients))
        if not self.clients and self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def close(self) -> None:
        """Stop the subscription, if one runs (the app is shutting down)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def dispatch(self, raw: str) -> int:
        """Queue one published frame for the sessions following its camera."""
        try:
            message = json.loads(raw)
        except ValueError:
            return 0
        if not isinstance(message, dict):
            return 0
        camera_id, ts, payload = frame_payload(message)
        if camera_id is None:
            return 0
        count = 0
        for client in self.clients:
            if camera_id in client.cameras:
                ts_json = json.dumps(ts)
                client.offer(
                    f'{{"sessionId":"{client.session_id}","timestamp":{ts_json},'
                    f'"event":"frameAnalyzed","payload":{payload}}}'
                )
                count += 1
        return count

    async def _subscribe(self) -> None:
        backoff = Backoff(0.5, 10.0)

        async def follow() -> None:
            async for _channel, raw in self.bus.subscribe(CHANNEL_ANALYSIS_FRAMES):
                backoff.reset()
                self.dispatch(raw)

        await keep_running(follow, event="analysis_subscription_lost", backoff=backoff, log=log)
