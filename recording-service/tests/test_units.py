"""Small pieces of the recorder: URLs, paths, clock, event windows, leases, errors."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from argus_common.leases import Leases
from argus_recording.cameras import CameraConfig, with_userinfo
from argus_recording.clock import MediaClock
from argus_recording.config import Settings
from argus_recording.ingest import IngestError, open_source, rtsp_answers
from argus_recording.layout import list_segments, safe_path, segment_relpath, start_ms_of
from argus_recording.window import EventWindow

REDIS_URL = os.environ["ARGUS_TEST_REDIS_URL"]  # the session's Redis (argus_testkit.pytest_plugin)


def test_credentials_are_percent_encoded_userinfo() -> None:
    url = with_userinfo("rtsp://10.0.0.9:554/Streaming/101?x=1", "ad min", "p@ss:w/rd%")
    assert url == "rtsp://ad%20min:p%40ss%3Aw%2Frd%25@10.0.0.9:554/Streaming/101?x=1"
    assert with_userinfo("rtsp://h/x", None, "ignored") == "rtsp://h/x"
    assert with_userinfo("rtmp://h/live/k", "u", None) == "rtmp://u@h/live/k"
    cam = CameraConfig.from_api({"id": 4, "stream_url": "rtsp://h/x", "username": "u",
                                 "password": "secret-pw", "recording_mode": "off"})
    assert "secret-pw" not in repr(cam)
    assert not cam.wants_recording


def test_segment_paths() -> None:
    assert segment_relpath(12, 1795384091526) == "12/2026-11-22/21/1795384091526.mp4"
    assert start_ms_of("12/2026-11-22/21/1795384091526.mp4") == 1795384091526
    assert start_ms_of("12/2026-11-22/21/notes.txt") is None
    root = Path("/rec")
    assert safe_path(root, "1/2026-11-22/21/1795384091526.mp4") == Path(
        "/rec/1/2026-11-22/21/1795384091526.mp4")
    for bad in ("../etc/1795384091526.mp4", "/abs/1795384091526.mp4", "1/../../x/1.mp4",
                "1/2026/21/passwd", "1//2/1795384091526.mp4"):
        with pytest.raises(ValueError):
            safe_path(root, bad)


def test_list_segments_sees_only_segment_files(tmp_path: Path) -> None:
    hour = tmp_path / "5" / "2026-11-22" / "09"
    hour.mkdir(parents=True)
    (hour / "1795383000000.mp4").write_bytes(b"x")
    (hour / "junk.tmp").write_bytes(b"x")
    (tmp_path / "5" / "stray.mp4").write_bytes(b"x")
    assert list_segments(tmp_path, 5) == {"5/2026-11-22/09/1795383000000.mp4"}
    assert list_segments(tmp_path, 6) == set()


def test_clock_anchors_on_the_first_packet_and_reanchors_on_drift() -> None:
    clock = MediaClock(max_drift_ms=500)
    assert clock.observe(10.0, 1_000_000.0) == 1_000_000.0
    assert clock.observe(11.0, 1_001_200.0) == 1_001_000.0  # late packet: PTS rules
    assert not clock.at_boundary()
    clock.observe(100.0, 1_090_700.0)  # the camera clock ran 700 ms slow
    clock.observe(101.0, 1_091_700.0)
    assert clock.at_boundary()
    assert clock.wall_ms(101.0) == 1_091_700.0
    clock.reset()
    assert not clock.anchored


def test_event_window_overlaps_post_roll_and_cap() -> None:
    window = EventWindow(post_roll_ms=10_000, max_ms=600_000)
    assert window.span(0) is None
    window.apply("motion.start", "1", 1000, None)
    window.apply("manual", "2", 5000, 8000)
    assert window.span(6000) == (1000, 601_000 + 10_000 - 1000 + 1000)  # open motion: cap
    window.apply("motion.end", "3", 20_000, None)
    assert window.span(25_000) == (1000, 30_000)
    assert window.span(30_000) is None
    assert not window.apply("stream.down", "4", 0, None)
    window.apply("manual", "2", 0, 99_999_999)  # a redelivery changes nothing
    assert window.span(30_000) is None


def test_object_rule_events_record_around_their_instant() -> None:
    window = EventWindow(post_roll_ms=10_000, max_ms=600_000)
    assert window.apply("object.zone_enter", "7", 50_000, None)
    assert window.span(55_000) == (50_000, 60_000)
    assert window.apply("object.line_cross", "8", 58_000, None)
    assert window.span(59_000) == (50_000, 68_000)  # overlapping instants make one recording
    assert window.span(68_000) is None
    assert not window.apply("object.track", "9", 70_000, None)  # a summary opens nothing
    assert window.span(71_000) is None


def test_settings_backoff_and_limits() -> None:
    s = Settings(RECORDING_BACKOFF_S="1,2,5,10", RECORDING_LEASE_TTL_S=3)
    assert s.backoff_steps == [1.0, 2.0, 5.0, 10.0]
    with pytest.raises(ValueError):
        Settings(RECORDING_BACKOFF_S="0,1")
    with pytest.raises(ValueError):
        Settings(RECORDING_POST_ROLL_S=601)


def test_self_fence_defaults_to_three_lease_ttls() -> None:
    from argus_recording.supervisor import RecordingCrew, recording_supervisor

    window = EventWindow(1000, 1000)
    crew = RecordingCrew(None, None, lambda: window)  # type: ignore[arg-type]
    leases = Leases(Redis(), "ns", "recording", "a", 6.0)  # no connection is made
    assert Settings().self_fence_s == 0
    assert recording_supervisor(leases, crew, 6.0).self_fence_s == 18.0
    assert recording_supervisor(leases, crew, 6.0, 40.0).self_fence_s == 40.0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ingest_errors_never_carry_credentials() -> None:
    url = f"rtsp://admin:Sup3r-Secret@127.0.0.1:{_closed_port()}/cam1/main"
    with pytest.raises(IngestError) as info:
        open_source(url, 1.0, 1.0)
    assert "Sup3r-Secret" not in str(info.value) and "admin:" not in str(info.value)
    assert info.value.unreachable
    assert not rtsp_answers(url, 0.5)


async def test_leases_are_exclusive_renewable_and_expire() -> None:
    redis = Redis.from_url(REDIS_URL)
    ns = f"argus-test-{uuid.uuid4().hex[:8]}"
    a = Leases(redis, ns, "recording", "rec-a", ttl_s=0.5)
    b = Leases(redis, ns, "recording", "rec-b", ttl_s=0.5)
    try:
        assert await a.acquire("7")
        assert not await b.acquire("7")
        assert await a.renew(["7", "8"]) == {"7"}
        assert await b.renew(["7"]) == set()
        assert (await a.owner("7") or "").startswith("rec-a:")
        assert await a.heartbeat() == ["rec-a"]
        assert await b.heartbeat() == ["rec-a", "rec-b"]
        await b.release("7")  # not b's: nothing happens
        assert not await b.acquire("7")
        await a.release("7")
        assert await b.acquire("7")
        # b dies: its lease expires and a takes over.
        await asyncio.sleep(0.7)
        assert await a.acquire("7")
        assert await a.heartbeat() == ["rec-a"]
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{ns}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


def test_rtsp_and_rtmp_get_socket_timeouts_not_listen_mode() -> None:
    from argus_recording.ingest import _options

    rtsp = _options("rtsp://h/x", 2.5, probe=False)
    assert rtsp["rtsp_transport"] == "tcp" and rtsp["timeout"] == "2500000"
    assert rtsp["analyzeduration"] == "0"
    rtmp = _options("rtmp://h/live/k", 3.0, probe=True)
    # For RTMP, FFmpeg's "timeout" would turn the client into a listening server.
    assert "timeout" not in rtmp and rtmp["rw_timeout"] == "3000000"
    assert "analyzeduration" not in rtmp


def _audio_stream_file(tmp: Path, codec: str, rate: int) -> Path:
    import av
    import numpy as np

    path = tmp / f"{codec}.nut"  # NUT takes any codec, as a camera's RTP could
    with av.open(str(path), "w", format="nut") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        for i in range(5):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.int16),
                                               format="s16", layout="mono")
            frame.sample_rate, frame.pts = rate, i * 1024
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_only_audio_mp4_can_hold_is_kept(tmp_path: Path) -> None:
    import av

    from argus_recording.ingest import mp4_can_hold

    for codec, rate, expected in (("aac", 16000, True), ("pcm_mulaw", 8000, False),
                                  ("pcm_alaw", 8000, False)):
        with av.open(str(_audio_stream_file(tmp_path, codec, rate))) as container:
            assert mp4_can_hold(container.streams.audio[0]) is expected, codec
