"""Seed: the realtime analysis design, "WebSocket API for AI agents" and "results": management's
``WS /ws/analysis`` and the ``analysis_results`` table, asserted against the running
management and analyser (default settings: 2 sessions, a ping every 30 s, a summary row per
second).

The seed's forms (docs/contracts.md, "Seed documents"): JWT in ``Authorization: Bearer``;
subprotocol ``json``; text frames ``{"sessionId", "timestamp", "event": "frameAnalyzed",
"payload"}`` per analysed frame; ping/pong every 30 s; at most ``ANALYSIS_MAX_SESSIONS``
(2) sessions, the next refused with a clear close code; results in ``analysis_results``
(``session_id``, ``timestamp``, ``event``, ``payload``), every motion frame and one summary
per second otherwise. ARGUS adds the subscription messages (an agent names its cameras) and
the browser token forms.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
from datetime import datetime
from typing import Any

import pytest
from seedstack import SeedStack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from argus_testkit.factories import bearer
from argus_testkit.wait import wait_until

FRAME_KEYS = {"sessionId", "timestamp", "event", "payload"}
SEED_PING_S = 30.0
SEED_SESSIONS = 2


def _ws_url(stack: SeedStack) -> str:
    return stack.management.replace("http://", "ws://", 1) + "/ws/analysis"


async def _recv(ws: ClientConnection, timeout_s: float = 10) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
    assert isinstance(message, dict) and set(message) == FRAME_KEYS, message
    return message


async def _next(ws: ClientConnection, event: str, timeout_s: float = 20) -> dict[str, Any]:
    """The next frame of type ``event`` (other frames skipped), bounded in time."""
    async with asyncio.timeout(timeout_s):
        while True:
            message = await _recv(ws, timeout_s)
            if message["event"] == event:
                return message


async def test_bearer_json_subprotocol_and_frame_shape(analysis: SeedStack) -> None:
    """Realtime analysis design, "WebSocket API": a JWT in ``Authorization: Bearer``,
    subprotocol ``json``, and ``frameAnalyzed`` text frames ``{"sessionId", "timestamp",
    "event", "payload"}`` for each analysed frame of the camera (``timestamp``: the frame's
    capture time)."""
    camera = analysis.camera_id
    async with connect(_ws_url(analysis), subprotocols=["json"],  # type: ignore[list-item]
                       additional_headers=bearer(analysis.admin_token())) as ws:
        assert ws.subprotocol == "json"
        started = await _recv(ws)
        assert started["event"] == "sessionStarted"
        session = started["sessionId"]
        await ws.send(json.dumps({"subscribe": [camera]}))
        subscribed = await _next(ws, "subscribed")
        assert subscribed["payload"] == {"cameraIds": [camera], "denied": []}
        frames = [await _next(ws, "frameAnalyzed", 30) for _ in range(5)]
    for frame in frames:
        assert frame["sessionId"] == session
        datetime.fromisoformat(frame["timestamp"])  # ISO-8601
        payload = frame["payload"]
        assert payload["cameraId"] == camera
        assert isinstance(payload["motion"], bool) and isinstance(payload["score"], float)
        assert isinstance(payload["boxes"], list)
        assert payload["width"] > 0 and payload["height"] > 0
    stamps = [datetime.fromisoformat(f["timestamp"]) for f in frames]
    assert stamps == sorted(stamps)


async def test_ping_pong_every_30_s(analysis: SeedStack) -> None:
    """Realtime analysis design: ping/pong every 30 s. The running service announces its
    interval in ``sessionStarted`` (the seed's 30 s by default) and answers a client's ping
    with ``pong`` (the server's own ping at a short interval is watched in
    management-service/tests/test_analysis_ws.py)."""
    async with connect(_ws_url(analysis), subprotocols=["json"],  # type: ignore[list-item]
                       additional_headers=bearer(analysis.admin_token())) as ws:
        started = await _recv(ws)
        assert started["payload"] == {"pingIntervalS": SEED_PING_S,
                                      "maxSessions": SEED_SESSIONS}
        await ws.send(json.dumps({"event": "ping"}))
        pong = await _next(ws, "pong")
        assert pong["sessionId"] == started["sessionId"] and pong["payload"] == {}


async def test_third_session_is_refused_with_a_clear_close_code(analysis: SeedStack) -> None:
    """Realtime analysis design: at most ``ANALYSIS_MAX_SESSIONS`` (2) sessions; the next
    is refused with a clear close code (ARGUS: 4429 and a reason)."""
    url, headers = _ws_url(analysis), bearer(analysis.admin_token())
    async with connect(url, subprotocols=["json"],  # type: ignore[list-item]
                       additional_headers=headers) as one, \
            connect(url, subprotocols=["json"],  # type: ignore[list-item]
                    additional_headers=headers) as two:
        assert (await _recv(one))["event"] == "sessionStarted"
        assert (await _recv(two))["event"] == "sessionStarted"
        async with connect(url, subprotocols=["json"],  # type: ignore[list-item]
                           additional_headers=headers) as third:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(third.recv(), 10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4429 and "at most 2" in closed.value.rcvd.reason


async def test_a_token_is_required(analysis: SeedStack) -> None:
    """Realtime analysis design: the JWT is required (ARGUS: closed with 4401 after the
    handshake, so that a browser sees the reason; 4403 without ``analysis:read``)."""
    url = _ws_url(analysis)
    _, viewer = analysis.user("seed-analysis-viewer", ["viewer"], [analysis.camera_id])
    for headers, code in (({}, 4401), (bearer("not-a-token"), 4401), (bearer(viewer), 4403)):
        async with connect(url, subprotocols=["json"],  # type: ignore[list-item]
                           additional_headers=headers) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code, headers


def test_analysis_results_rows(analysis: SeedStack) -> None:
    """Realtime analysis design, "results": rows in ``analysis_results`` with
    ``session_id``, ``timestamp``, ``event`` and a JSON ``payload``; one summary per second
    while nothing moves (the camera's scene is static), not a row per frame."""
    def summaries() -> list[dict[str, Any]]:
        rows = analysis.db.fetch(
            "SELECT session_id, timestamp, event, payload FROM analysis_results "
            "WHERE camera_id = $1 AND event = 'summary' ORDER BY timestamp",
            analysis.camera_id)
        return rows if len(rows) >= 4 else []

    rows = wait_until(summaries, 30, "four summary rows")
    for row in rows:
        assert row["session_id"] and isinstance(row["timestamp"], datetime)
        payload = json.loads(row["payload"])
        assert {"frames", "motion_frames", "max_score"} <= set(payload)
    gaps = [(b["timestamp"] - a["timestamp"]).total_seconds()
            for a, b in itertools.pairwise(rows)]
    # One per second of frames: never two within a second (the gap is a second plus at
    # most a frame, longer only when the analyser was starved of CPU).
    assert min(gaps) >= 0.9 and 0.9 <= statistics.median(gaps) <= 1.5, gaps
