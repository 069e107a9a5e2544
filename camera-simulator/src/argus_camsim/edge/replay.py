"""RTSP replay of a camera's edge recording (ONVIF Streaming Specification, "Replay").

``rtsp://HOST:PORT/camN/replay`` (what ``GetReplayUri`` hands out). DESCRIBE gives the
recording's SDP; SETUP takes TCP interleaved transport only; PLAY must carry
``Require: onvif-replay`` and ``Range: clock=<start>Z-[<end>Z]`` and may carry
``Scale: N`` (N times real time, 1 by default, at most ``MAX_SCALE``) and
``Rate-Control: no`` (as fast as the client reads: TCP flow control paces it). Playback
starts at the keyframe at or before the start. Every RTP packet carries the replay header
extension (profile 0xABAC): the frame's capture time as NTP, the C (clean point), E (last
packet of the range or of a recorded stretch) and D (first packet after a PLAY or a hole)
flags and the low byte of the PLAY's CSeq. After the last frame an RTCP BYE follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import struct
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from argus_camsim.camera import CameraRuntime
from argus_camsim.edge.store import SPAN_BREAK_MS, EdgeFrame, EdgeStore
from argus_camsim.rtp import VIDEO_CLOCK, VIDEO_PT, random_ssrc
from argus_camsim.rtsp.message import Request, Target, parse_transport, response
from argus_camsim.rtsp.sdp import build_sdp

if TYPE_CHECKING:
    from argus_camsim.rtsp.connection import Reply, RtspConnection

log = logging.getLogger(__name__)

REPLAY = "replay"  # the URL's stream variant
EXTENSION_ID = 0xABAC
MAX_SCALE = 64.0
_NTP_EPOCH = 2_208_988_800
# '$', channel, length; RTP header with X=1; the 3-word replay extension.
_PACKET = struct.Struct("!BBHBBHIIHHIIBBH")
_BYE = struct.Struct("!BBHBBHI")
_C, _E, _D = 0x80, 0x40, 0x20


class RangeError(ValueError):
    """A ``Range`` header that is not ``clock=start-[end]``."""


def parse_clock(value: str) -> int:
    """``20261205T174700.123Z`` (ISO 8601 basic, UTC) as epoch milliseconds."""
    text = value.strip().removesuffix("Z")
    main, _, frac = text.partition(".")
    try:
        moment = datetime.strptime(main, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        millis = int((frac + "000")[:3]) if frac else 0
    except ValueError as exc:
        raise RangeError(f"bad clock time {value!r}") from exc
    return int(moment.timestamp()) * 1000 + millis


def format_clock(ms: int) -> str:
    """Epoch milliseconds as an RTSP ``clock`` time."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{moment:%Y%m%dT%H%M%S}.{ms % 1000:03d}Z"


def parse_range(header: str) -> tuple[int, int | None]:
    """``clock=start-[end]`` as ``(start_ms, end_ms or None)``."""
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "clock" or "-" not in spec:
        raise RangeError("Range must be clock=<start>-[<end>]")
    start, _, end = spec.partition("-")
    start_ms = parse_clock(start)
    end_ms = parse_clock(end) if end.strip() else None
    if end_ms is not None and end_ms <= start_ms:
        raise RangeError("Range ends before it starts")
    return start_ms, end_ms


def ntp(ms: int) -> tuple[int, int]:
    """Epoch milliseconds as NTP seconds and fraction."""
    seconds, millis = divmod(ms, 1000)
    return (seconds + _NTP_EPOCH) & 0xFFFFFFFF, (millis << 32) // 1000


class ReplaySession:
    """One replay session on one RTSP connection: what was set up and the sending task."""

    def __init__(self, sid: str, conn: RtspConnection, store: EdgeStore, channel: int) -> None:
        self.id = sid
        self.conn = conn
        self.store = store
        self.channel = channel
        self.ssrc = random_ssrc()
        self._seq = int.from_bytes(os.urandom(2), "big")
        self._task: asyncio.Task[None] | None = None
        self.last_activity = time.monotonic()
        self.frames_sent = 0

    # The interface RtspConnection uses for every session.
    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def recently_active(self, within_s: float) -> bool:
        return time.monotonic() - self.last_activity < within_s

    def close(self) -> None:
        self.pause()

    def pause(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def play(self, start_ms: int, end_ms: int | None, scale: float, paced: bool, cseq: int) -> None:
        """(Re)start sending from ``start_ms`` (a new PLAY repositions)."""
        self.pause()
        self._task = asyncio.get_running_loop().create_task(
            self._send(start_ms, end_ms, scale, paced, cseq & 0xFF)
        )

    async def _send(
        self, start_ms: int, end_ms: int | None, scale: float, paced: bool, cseq: int
    ) -> None:
        writer = self.conn.writer
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        first: int | None = None
        held: EdgeFrame | None = None
        flags = _D
        try:
            for _gop, frame in self.store.frames(start_ms, end_ms):
                if writer.transport.is_closing():
                    return
                if first is None:
                    first = frame.wall_ms
                if paced:
                    delay = t0 + (frame.wall_ms - first) / 1000 / scale - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if held is not None:
                    hole = frame.wall_ms - held.wall_ms > SPAN_BREAK_MS
                    writer.write(self._frame(held, first, flags | (_E if hole else 0), cseq))
                    flags = _D if hole else 0
                    await writer.drain()
                held = frame
            if held is not None and first is not None:
                writer.write(self._frame(held, first, flags | _E, cseq))
            writer.write(_BYE.pack(0x24, self.channel + 1, 8, 0x81, 203, 1, self.ssrc))
            await writer.drain()
        except (ConnectionError, RuntimeError):
            return
        finally:
            log.info("replay %s ended after %d frames", self.id, self.frames_sent)

    def _frame(self, frame: EdgeFrame, first: int, flags: int, cseq: int) -> bytes:
        ts = (frame.wall_ms - first) * VIDEO_CLOCK // 1000 & 0xFFFFFFFF
        sec, frac = ntp(frame.wall_ms)
        clean = _C if frame.key else 0
        last = len(frame.payloads) - 1
        parts: list[bytes] = []
        for i, payload in enumerate(frame.payloads):
            mpt = VIDEO_PT | 0x80 if i == last else VIDEO_PT
            fl = clean | (flags & _D if i == 0 else 0) | (flags & _E if i == last else 0)
            parts.append(
                _PACKET.pack(
                    0x24,
                    self.channel,
                    len(payload) + 28,
                    0x90,
                    mpt,
                    self._seq,
                    ts,
                    self.ssrc,
                    EXTENSION_ID,
                    3,
                    sec,
                    frac,
                    fl,
                    cseq,
                    0,
                )
            )
            parts.append(payload)
            self._seq = (self._seq + 1) & 0xFFFF
        self.frames_sent += 1
        return b"".join(parts)


async def handle_replay(
    conn: RtspConnection, req: Request, target: Target, cam: CameraRuntime
) -> Reply:
    """Answer one request on a ``/camN/replay`` URL."""
    store = cam.info.edge
    if not isinstance(store, EdgeStore):
        return response(404, req.cseq), None
    sid = req.headers.get("session", "").split(";", 1)[0].strip()
    found = conn.sessions.get(sid) if sid else None
    if sid and not isinstance(found, ReplaySession):
        return response(454, req.cseq), None
    session = found if isinstance(found, ReplaySession) else None
    session_header = [("Session", f"{sid};timeout={int(conn.server.session_timeout)}")]
    if req.method == "DESCRIBE":
        if store.params is None:
            return response(503, req.cseq), None
        sdp = build_sdp(
            conn.local_ip, f"{cam.info.name} replay", store.params, store.fps, store.size, None
        )
        base = req.url if req.url.endswith("/") else req.url + "/"
        headers = [("Content-Type", "application/sdp"), ("Content-Base", base)]
        return response(200, req.cseq, headers, sdp.encode()), None
    if req.method == "SETUP":
        spec = parse_transport(req.headers.get("transport", ""))
        if spec is None or not spec.tcp or target.track not in (None, 0):
            return response(461, req.cseq), None
        channel = spec.interleaved[0] if spec.interleaved else 0
        if session is None:
            sid = secrets.token_hex(8)
            session = ReplaySession(sid, conn, store, channel)
            conn.sessions[sid] = session  # type: ignore[assignment]
        session.channel = channel
        transport = f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}"
        headers = [
            ("Transport", f"{transport};ssrc={session.ssrc:08X}"),
            ("Session", f"{sid};timeout={int(conn.server.session_timeout)}"),
        ]
        return response(200, req.cseq, headers), None
    if session is None:
        return response(454, req.cseq), None
    if req.method == "TEARDOWN":
        session.close()
        conn.sessions.pop(sid, None)
        return response(200, req.cseq), None
    if req.method == "PAUSE":
        session.pause()
        return response(200, req.cseq, session_header), None
    if req.method in ("GET_PARAMETER", "SET_PARAMETER"):
        return response(200, req.cseq, session_header), None
    if req.method != "PLAY":
        return response(405, req.cseq), None
    return _play(req, session, session_header)


def _play(req: Request, session: ReplaySession, headers: list[tuple[str, str]]) -> Reply:
    required = {r.strip().lower() for r in req.headers.get("require", "").split(",")}
    if "onvif-replay" not in required:
        return response(551, req.cseq, [("Unsupported", req.headers.get("require", ""))]), None
    try:
        start_ms, end_ms = parse_range(req.headers.get("range", ""))
        scale = float(req.headers.get("scale", "1") or 1)
    except ValueError as exc:
        log.info("replay PLAY refused: %s", exc)
        return response(457, req.cseq), None
    if not 0 < scale <= MAX_SCALE:
        return response(457, req.cseq), None
    paced = req.headers.get("rate-control", "yes").strip().lower() != "no"
    end = format_clock(end_ms) if end_ms is not None else ""
    reply = [
        *headers,
        ("Range", f"clock={format_clock(start_ms)}-{end}"),
        ("Scale", f"{scale:g}"),
        ("Rate-Control", "yes" if paced else "no"),
    ]
    cseq = 0
    with contextlib.suppress(ValueError):
        cseq = int(req.cseq or 0)

    def start() -> None:
        session.play(start_ms, end_ms, scale, paced, cseq)

    return response(200, req.cseq, reply), start
