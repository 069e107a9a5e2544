"""Capture times from RTCP sender reports on the recorder's RTSP ingest (no network).

RTP and RTCP are made as the camera simulator makes them (its ``sender_report``); the
connection's first frame arrives a second after its capture (a loaded recorder), the
others 20 ms after theirs.
"""

from __future__ import annotations

import struct

from argus_camsim.rtp import sender_report
from argus_recording.rtp_au import AuAssembler, AudioAU, VideoAU
from argus_recording.rtp_stamp import RtpStamper
from argus_recording.sender_reports import BEHIND_MS

T0 = 1_795_383_000_000  # capture time (epoch ms) of the first frame
TS0 = 0xFFFFF000  # its RTP timestamp: the stream wraps past 2**32 within the test
STEP = 6000  # 90 kHz ticks between frames (15 fps)
LATE_MS = 1015.0


def _rtp(seq: int, ts: int, pt: int = 96, payload: bytes = b"\x65\x88" + bytes(12)) -> bytes:
    return struct.pack(">BBHII", 0x80, 0x80 | pt, seq, ts & 0xFFFFFFFF, 1234) + payload


def _run(camera_ms: int | None, frames: int = 8) -> list[float]:
    """Walls of ``frames`` video units; the camera's report says the first was captured
    at ``camera_ms`` (None: no report)."""
    stamper = RtpStamper(None, None, 0, 2000)
    units: list[VideoAU] = []
    asm = AuAssembler(0, None, None, units.append, lambda a: None, stamper.video_reports)
    walls = []
    if camera_ms is not None:
        asm(1, sender_report(1234, camera_ms, TS0, 0, 0))
    for n in range(frames):
        asm(0, _rtp(n, TS0 + n * STEP))
        unit = units[-1]
        unit.recv_ms = T0 + n * STEP / 90 + (LATE_MS if n == 0 else 20.0)
        walls.append(stamper.video(unit).wall_ms)
    return walls


def test_a_late_first_frame_is_placed_at_its_capture_time() -> None:
    walls = _run(T0)
    assert abs(walls[0] - T0) < 1  # not its arrival, a second later
    assert all(abs(w - (T0 + n * STEP / 90)) < 1 for n, w in enumerate(walls))  # past the wrap


def test_without_reports_or_with_a_wrong_camera_clock_arrival_times_are_used() -> None:
    for camera_ms in (None, T0 - int(BEHIND_MS) - 60_000, T0 + 3600_000):
        walls = _run(camera_ms)
        assert abs(walls[0] - (T0 + LATE_MS)) < 1, camera_ms
        assert abs(walls[1] - (T0 + LATE_MS + STEP / 90)) < 1, camera_ms


def test_audio_is_placed_at_its_capture_time_too() -> None:
    stamper = RtpStamper(None, None, 16000, 2000)
    units: list[VideoAU] = []
    got: list[AudioAU] = []
    asm = AuAssembler(0, 2, "opus", units.append, got.append, stamper.video_reports,
                      stamper.audio_reports)
    asm(1, sender_report(1234, T0, TS0, 0, 0))
    asm(3, sender_report(99, T0 + 40, 7777, 0, 0))  # audio captured 40 ms after the video
    asm(0, _rtp(0, TS0))
    units[0].recv_ms = T0 + LATE_MS
    stamper.video(units[0])
    stamper.current = object()  # type: ignore[assignment]  # parameters: not looked at here
    asm(2, _rtp(0, 7777, 97, b"\xfc" + bytes(20)))
    got[0].recv_ms = T0 + LATE_MS + 40
    item = stamper.audio(got[0])
    assert item is not None and abs(item.wall_ms - (T0 + 40)) < 1
