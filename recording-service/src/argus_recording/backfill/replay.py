"""Reading a camera's replay stream: RTSP with ONVIF's replay headers, each access unit
with its capture time from the RTP header extension 0xABAC, under a bandwidth cap.

It runs on its own event loop (a backfill thread), never on the service's. The cap is
kept by reading no faster than ``max_bytes_per_s`` (the socket stops being read; TCP then
slows the camera down), so ``Rate-Control: no`` is safe to ask for.
"""

from __future__ import annotations

import asyncio
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argus_common.h264 import parameter_sets_from_sprop
from argus_common.rtsp.client import RtspClient
from argus_common.rtsp.depay import H264Depacketizer, H264Unit
from argus_common.rtsp.errors import RtspError
from argus_recording.backfill.budget import SharedBudget

EXTENSION_ID = 0xABAC
_EXT = struct.Struct("!HHIIB")
_NTP_EPOCH = 2_208_988_800
FLAG_CLEAN, FLAG_END, FLAG_DISCONTINUITY = 0x80, 0x40, 0x20
_BURST_S = 0.5  # of the cap: what may arrive at once before reading pauses
_WATCH_S = 0.25


class ReplayError(Exception):
    """The replay could not start or broke off (the caller retries later)."""


@dataclass(slots=True)
class ReplayUnit:
    """One access unit (AVCC) with the capture time the camera recorded for it."""

    data: bytes
    key: bool
    wall_ms: int
    sps: bytes | None
    pps: bytes | None
    flags: int


@dataclass
class _State:
    ntp: int = 0
    flags: int = 0
    t0: float = 0.0
    paused: bool = False


def has_bye(rtcp: bytes) -> bool:
    """Whether a compound RTCP packet holds a BYE."""
    off = 0
    for _ in range(16):
        if off + 4 > len(rtcp):
            return False
        if rtcp[off + 1] == 203:
            return True
        off += 4 * (((rtcp[off + 2] << 8) | rtcp[off + 3]) + 1)
    return False


def clock(ms: int) -> str:
    """Epoch milliseconds as an RTSP ``clock=`` time."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{moment:%Y%m%dT%H%M%S}.{ms % 1000:03d}Z"


def ntp_ms(seconds: int, fraction: int) -> int:
    """An NTP timestamp as epoch milliseconds (rounded)."""
    return (seconds - _NTP_EPOCH) * 1000 + ((fraction * 1000 + (1 << 31)) >> 32)


@dataclass
class ReplayResult:
    """How a replay ended and what it moved."""

    units: int = 0
    nbytes: int = 0
    complete: bool = False  # the camera said the range was over (BYE / E flag at the end)
    sprop: tuple[bytes | None, bytes | None] = (None, None)


async def read_replay(
    uri: str,
    username: str | None,
    password: str | None,
    start_ms: int,
    end_ms: int,
    *,
    speed: float,
    max_bytes_per_s: float,
    read_timeout_s: float,
    on_unit: Callable[[ReplayUnit], bool],
    stop: threading.Event,
    on_setup: Callable[[tuple[bytes | None, bytes | None]], None] | None = None,
    shared: SharedBudget | None = None,
) -> ReplayResult:
    """Replay ``[start_ms, end_ms)`` and hand each unit to ``on_unit`` (which returns False
    once it has all it wants), reading no faster than ``max_bytes_per_s`` and, with
    ``shared``, within the recorder-wide budget. Raises ``ReplayError`` when the camera
    refuses or the stream breaks off before the end."""
    loop = asyncio.get_running_loop()
    result = ReplayResult()
    finished = asyncio.Event()
    state = _State()

    def unit(u: H264Unit) -> None:
        result.units += 1
        ru = ReplayUnit(u.data, u.key, state.ntp, u.sps, u.pps, state.flags)
        if not on_unit(ru):
            finished.set()
        elif ru.flags & FLAG_END and ru.wall_ms >= end_ms - 2000:
            result.complete = True
            finished.set()

    depay = H264Depacketizer(unit, channel=0)

    def resume() -> None:
        state.paused = False
        client.pause_reading(False)

    def on_rtp(channel: int, pkt: bytes) -> None:
        result.nbytes += len(pkt) + 4
        wait = shared.take(len(pkt) + 4) if shared is not None else 0.0
        if channel == 1:
            if has_bye(pkt):
                result.complete = True
                finished.set()
            return
        if channel != 0:
            return
        if pkt[0] & 0x10 and len(pkt) >= 28:
            profile, words, sec, frac, flags = _EXT.unpack_from(pkt, 12 + 4 * (pkt[0] & 0x0F))
            if profile == EXTENSION_ID and words >= 3:
                state.ntp, state.flags = ntp_ms(sec, frac), flags
        depay(channel, pkt)
        allowed = max_bytes_per_s * (loop.time() - state.t0 + _BURST_S)
        wait = max(wait, (result.nbytes - allowed) / max_bytes_per_s)
        if wait > 0 and not state.paused:
            state.paused = True
            client.pause_reading(True)
            loop.call_later(wait, resume)

    client = RtspClient(
        uri,
        on_rtp,
        username=username,
        password=password,
        connect_timeout_s=5.0,
        request_timeout_s=10.0,
        user_agent="argus-recording-backfill",
        keepalive=False,
    )
    try:
        try:
            tracks = await client.setup()
            result.sprop = parameter_sets_from_sprop(
                tracks[0].sdp.fmtp.get("sprop-parameter-sets", "")
            )
            if on_setup is not None:
                on_setup(result.sprop)
            state.t0 = loop.time()
            resp = await client.request(
                "PLAY",
                None,
                {
                    "Require": "onvif-replay",
                    "Range": f"clock={clock(start_ms)}-{clock(end_ms)}",
                    "Scale": f"{speed:g}",
                    "Rate-Control": "no",
                },
            )
        except RtspError as exc:
            raise ReplayError(f"replay refused: {exc}") from None
        if resp.status != 200:
            raise ReplayError(f"the camera answered PLAY with {resp.status}")
        keepalive_at = time.monotonic() + client.session_timeout_s / 2
        while not finished.is_set():
            with_timeout = asyncio.ensure_future(finished.wait())
            waits: list[asyncio.Future[Any]] = [with_timeout, client.closed]
            done, _ = await asyncio.wait(
                waits, timeout=_WATCH_S, return_when=asyncio.FIRST_COMPLETED
            )
            with_timeout.cancel()
            if finished.is_set():
                break
            if stop.is_set():
                raise ReplayError("stopping")
            if client.closed in done:
                raise ReplayError("the camera closed the replay connection")
            if not state.paused and loop.time() - client.last_data > read_timeout_s:
                raise ReplayError(f"no media for {read_timeout_s:g} s")
            if time.monotonic() > keepalive_at:
                keepalive_at = time.monotonic() + client.session_timeout_s / 2
                try:
                    await client.keepalive()
                except RtspError as exc:
                    raise ReplayError(f"keepalive failed: {exc}") from None
        return result
    finally:
        client.on_rtp = _ignore
        await client.close()


def _ignore(channel: int, packet: bytes) -> None:
    """RTP handler of a replay that ended."""
