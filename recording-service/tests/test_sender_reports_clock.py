"""The camera's clock is trusted or not once per connection (sender_reports.CameraClock).

RTP and RTCP are made as the camera simulator makes them; frames are 15 fps, a sender
report comes every second, and the camera's clock runs ``behind`` ms behind ours (its
reports carry that error, plus any jitter a test adds).
"""

from __future__ import annotations

import itertools
import random
import struct

from structlog.testing import capture_logs

from argus_camsim.rtp import sender_report
from argus_recording.rtp_au import AuAssembler, VideoAU
from argus_recording.rtp_stamp import RtpStamper

T0 = 1_795_383_000_000  # true capture time (epoch ms) of frame 0
TS0 = 0xFFFF0000  # its RTP timestamp: the stream wraps past 2**32 within a test
STEP = 6000  # 90 kHz ticks between frames
FRAME_MS = STEP / 90
REPORT_EVERY = 15  # frames


def _rtp(seq: int, ts: int) -> bytes:
    return struct.pack(">BBHII", 0x80, 0x80 | 96, seq, ts & 0xFFFFFFFF, 1234) + b"\x65\x88" + bytes(12)


class Connection:
    """One connection's stamper and assembler, fed with frame ``n`` captured at
    ``T0 + n * FRAME_MS`` (true time)."""

    def __init__(self) -> None:
        self.stamper = RtpStamper(None, None, 0, 2000)
        self.reports = self.stamper.video_reports
        self.units: list[VideoAU] = []
        self.asm = AuAssembler(0, None, None, self.units.append, lambda a: None, self.reports)

    def report(self, n: int, behind_ms: float) -> None:
        """A sender report at frame ``n`` from a camera clock ``behind_ms`` behind ours."""
        self.asm(1, sender_report(1234, round(T0 + n * FRAME_MS - behind_ms), TS0 + n * STEP,
                                  n, 0))

    def frame(self, n: int, delay_ms: float) -> VideoAU:
        """Frame ``n``, received ``delay_ms`` after its capture."""
        self.asm(0, _rtp(n, TS0 + n * STEP))
        unit = self.units[-1]
        unit.recv_ms = T0 + n * FRAME_MS + delay_ms
        return unit

    def source(self, unit: VideoAU) -> str:
        """Which clock the reports stamp ``unit`` with."""
        at = self.reports.time_ms(unit.ts, unit.recv_ms)
        if at == unit.recv_ms:
            return "arrival"
        assert at == self.reports.capture_ms(unit.ts)
        return "camera"


def _sources(behind: list[float], delays: list[float]) -> tuple[list[str], Connection]:
    """Per frame, which clock was used; ``behind`` per report, ``delays`` per frame."""
    conn = Connection()
    out = []
    for n, delay in enumerate(delays):
        if n % REPORT_EVERY == 0:
            conn.report(n, behind[n // REPORT_EVERY])
        out.append(conn.source(conn.frame(n, delay)))
    return out, conn


def test_a_camera_clock_within_the_window_is_used_throughout_even_under_load() -> None:
    delays = [20.0] * 90
    delays[0] = 1015.0  # the loaded recorder's first frame
    delays[40:44] = [1800.0, 2500.0, 2900.0, 2000.0]  # a stall: the offset passes 4 s
    for behind in (0.0, 1500.0, -400.0):
        sources, conn = _sources([behind] * 6, delays)
        assert sources == ["camera"] * 90, behind
        assert conn.reports.trusted is True


def test_a_camera_clock_5_s_off_is_not_used_for_the_whole_connection() -> None:
    for behind in (5000.0, -5000.0):
        with capture_logs() as logs:
            # The camera's NTP corrects its clock after 3 s: too late for this connection.
            sources, conn = _sources([behind] * 3 + [0.0] * 3, [20.0] * 90)
        assert sources == ["arrival"] * 90, behind
        assert conn.reports.trusted is False
        events = [e for e in logs if e["event"] == "camera_clock_untrusted"]
        assert len(events) == 1 and events[0]["at"] == "first_frame", events
        assert abs(events[0]["offset_ms"] - (behind + 20)) <= 1


def test_no_report_before_the_first_frame_means_arrival_times_throughout() -> None:
    conn = Connection()
    sources = [conn.source(conn.frame(0, 20.0))]
    conn.report(1, 0.0)
    sources += [conn.source(conn.frame(n, 20.0)) for n in range(1, 30)]
    assert sources == ["arrival"] * 30 and conn.reports.trusted is False


def test_a_clock_hovering_around_the_bound_does_not_flip_flop() -> None:
    """The offset (arrival - capture) wanders across 3 s, report by report and frame by
    frame: each connection keeps the one clock it started with."""
    decided = set()
    for seed in range(40):
        rng = random.Random(seed)
        behind = [2900.0 + rng.uniform(-250.0, 250.0) for _ in range(8)]
        delays = [rng.uniform(5.0, 250.0) for _ in range(8 * REPORT_EVERY)]
        sources, _ = _sources(behind, delays)
        assert len(set(sources)) == 1, (seed, sources)
        decided.add(sources[0])
    assert decided == {"camera", "arrival"}  # the first frame decides either way


def _stepped(step_ms: float) -> tuple[list[float], list[str], Connection, list[dict]]:
    """120 frames of a camera 2.5 s behind whose clock steps by ``step_ms`` (back) at
    frame 45; a segment boundary every 30 frames. Walls, sources, the connection, logs."""
    conn = Connection()
    walls, sources = [], []
    with capture_logs() as logs:
        for n in range(120):
            if n % REPORT_EVERY == 0:
                conn.report(n, 2500.0 + (step_ms if n >= 45 else 0.0))
            if n and n % 30 == 0:
                conn.stamper.clock.at_boundary()
            unit = conn.frame(n, 20.0 + (n % 7) * 13.0)
            sources.append(conn.source(unit))
            walls.append(conn.stamper.video(unit).wall_ms)
    return walls, sources, conn, [e for e in logs if e["event"] == "camera_clock_untrusted"]


def test_a_clock_step_mid_connection_switches_once_and_time_stays_monotonic() -> None:
    for step_ms in (10_000.0, -10_000.0):
        walls, sources, conn, events = _stepped(step_ms)
        assert sources == ["camera"] * 45 + ["arrival"] * 75, step_ms  # at the report
        assert conn.reports.trusted is False
        assert len(events) == 1 and events[0]["at"] == "clock_step", events
        assert abs(events[0]["offset_ms"] - (2520.0 + step_ms)) <= 1, events
        assert all(b > a for a, b in itertools.pairwise(walls)), step_ms
        assert abs(walls[0] - (T0 - 2500.0)) < 1  # on the camera's clock until the step
        assert abs(walls[89] - (T0 + 89 * FRAME_MS - 2500.0)) < 1  # the segment of the step
        # The first boundary after a segment all on arrival times re-anchors there (the
        # least delayed arrival of that segment): a jump forward, once.
        assert abs(walls[119] - (T0 + 119 * FRAME_MS + 20.0)) < 1, step_ms


def test_a_small_step_inside_the_window_keeps_the_camera_clock() -> None:
    walls, sources, conn, events = _stepped(-1500.0)  # NTP corrects it: now 1 s behind
    assert sources == ["camera"] * 120 and conn.reports.trusted is True and not events
    assert all(b > a for a, b in itertools.pairwise(walls))


def test_our_clock_stepping_ahead_switches_to_it_at_the_next_full_report_interval() -> None:
    """Our clock steps 120 s ahead at frame 50 (NTP corrects the server; the camera's
    clock stays): every later arrival is 120 s after its capture. The first report
    interval whose frames all arrived that late turns the connection to arrival times,
    so the timeline follows our clock as management's does (tests/chaos/test_clock_step)."""
    conn = Connection()
    sources = []
    with capture_logs() as logs:
        for n in range(120):
            if n % REPORT_EVERY == 0:
                conn.report(n, 0.0)
            sources.append(conn.source(conn.frame(n, 20.0 + (120_000.0 if n >= 50 else 0.0))))
    # Reports at frames 60 (frames 45-59: some before the step) and 75 (60-74: all after).
    assert sources == ["camera"] * 75 + ["arrival"] * 45, sources
    events = [e for e in logs if e["event"] == "camera_clock_untrusted"]
    assert len(events) == 1 and events[0]["at"] == "clock_step", events
    assert abs(events[0]["offset_ms"] - 120_020.0) <= 1, events


def test_a_long_stall_under_load_is_not_taken_for_a_step() -> None:
    """Frames 4.5 s late for part of a report interval (a stall), on time again before
    the next report: the camera's clock stays."""
    delays = [20.0] * 90
    delays[31:44] = [4500.0] * 13
    sources, conn = _sources([0.0] * 6, delays)
    assert sources == ["camera"] * 90 and conn.reports.trusted is True
