"""From RTP access units to ``Item``s: wall-clock time, parameter sets, jumps.

The counterpart of stamping.py for the recorder's own RTSP ingest. Video RTP timestamps are
presentation times at 90 kHz (unwrapped by the assembler); with B-frames they are not
monotonic, so a discontinuity is a jump forward well past the arrival time, or back by more
than a reorder window. Audio has its own RTP clock with a random start; it is placed by its
arrival against the video anchor (what FFmpeg does before the first RTCP report). Where the
camera sends RTCP sender reports (and its clock agrees with ours, decided once per
connection for both tracks), capture times stand in for arrival times for both
(sender_reports.py): a connection's first frame, received late under load, is then placed
where it was captured.
"""

from __future__ import annotations

import time

import structlog

from argus_common.h264 import parse_sps
from argus_recording.clock import MediaClock
from argus_recording.packets import Item
from argus_recording.params import VideoParams, annexb
from argus_recording.rtp_au import AudioAU, VideoAU
from argus_recording.sender_reports import CameraClock, SenderReports

log = structlog.get_logger("argus.recording.stamping")

JUMP_S = 5.0  # forward, beyond arrival time
REORDER_S = 1.0  # backward: more than B-frames can explain
VIDEO_TB = 1 / 90000
VIDEO, AUDIO = 0, 1  # stream indexes of items


def video_params(sps: bytes, pps: bytes) -> VideoParams | None:
    """Parameters of a segment made from this SPS/PPS; None if the SPS cannot be read."""
    try:
        info = parse_sps(sps)
    except (ValueError, IndexError):
        return None
    return VideoParams("h264", info.width, info.height, annexb([sps, pps]), sps)


class RtpStamper:
    """Stamps the units of one connection. ``jumped`` is set on the unit after which
    timestamps became discontinuous (the clock has been reset by then)."""

    def __init__(self, sps: bytes | None, pps: bytes | None, audio_clock: int,
                 max_drift_ms: float) -> None:
        self.clock = MediaClock(max_drift_ms)
        # The camera's sender reports (fed by the assembler): capture times, where the
        # camera's clock agrees with ours, in place of arrival times (sender_reports.py);
        # one decision for the connection, made on its first video frame.
        self.camera_clock = CameraClock()
        self.video_reports = SenderReports(90000, self.camera_clock)
        self.audio_reports = SenderReports(audio_clock, self.camera_clock)
        self.current = video_params(sps, pps) if sps and pps else None
        self._pps = pps
        self.jumped = False
        self.atb = 1 / audio_clock if audio_clock else 0.0
        self._audio_clock = audio_clock
        self._audio_off: int | None = None
        self._last_s: float | None = None
        self._last_mono = 0.0  # monotonic arrival: a step of the wall clock is no jump

    def video(self, au: VideoAU) -> Item:
        """The item of a video unit. A keyframe before any parameter set is known is
        passed on as a non-key frame (nothing can start with it)."""
        self.jumped = False
        recv = au.recv_ms
        media_s = au.ts * VIDEO_TB
        last = self._last_s
        mono = time.monotonic()
        if last is not None and (
            media_s < last - REORDER_S or media_s - last > mono - self._last_mono + JUMP_S
        ):
            log.warning("timestamp_discontinuity", jump_s=round(media_s - last, 3))
            self.clock.reset()
            self._audio_off = None
            self.jumped = True
        self._last_s, self._last_mono = media_s, mono
        wall = self.clock.observe(media_s, self.video_reports.time_ms(au.ts, recv))
        key = au.key
        params = self.current
        if key:
            if au.pps is not None:
                self._pps = au.pps
            if au.sps is not None and (params is None or au.sps != params.key) and self._pps:
                fresh = video_params(au.sps, self._pps)
                if fresh is not None:
                    if params is not None:
                        log.info("video_parameters_changed", width=fresh.width,
                                 height=fresh.height)
                    params = self.current = fresh
            key = params is not None
        return Item(au, VIDEO, True, key, au.ts, au.ts, VIDEO_TB, len(au.data), wall, recv,
                    params)  # type: ignore[arg-type]

    def audio(self, au: AudioAU) -> Item | None:
        """The item of an audio unit; None before the video has anchored the clock."""
        anchor = self.clock.anchor_ms
        if anchor is None or self.current is None:
            return None
        if self._audio_off is None:
            at = self.audio_reports.time_ms(au.ts, au.recv_ms)
            arrival = round((at - anchor) / 1000 * self._audio_clock)
            self._audio_off = arrival - au.ts
        pts = au.ts + self._audio_off
        return Item(au, AUDIO, False, False, pts, pts, self.atb, len(au.data),
                    anchor + pts * self.atb * 1000.0, au.recv_ms, self.current)
