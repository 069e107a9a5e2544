"""Independent RTSP clients against the simulator: ffprobe/ffmpeg, PyAV, OpenCV, raw RTSP."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import av
import pytest
from camsim_rtsp import RtspClient

from argus_camsim.stamp import read_timestamp_ms
from argus_testkit.tools import needs

pytestmark = needs("ffprobe")

USER, PASSWORD = "viewer", "s3cret-pw"
SMALL = ("--resolution", "320x180", "--sub-resolution", "160x90", "--fps", "30")


@pytest.fixture(scope="module")
def digest_sim(camsim_launcher: Callable[..., Any]) -> Iterator[Any]:
    sim = camsim_launcher(
        "--cameras",
        "3",
        *SMALL,
        "--audio",
        "--auth",
        "digest",
        "--username",
        USER,
        "--password",
        PASSWORD,
    )
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def basic_sim(camsim_launcher: Callable[..., Any]) -> Iterator[Any]:
    sim = camsim_launcher(
        "--cameras",
        "1",
        *SMALL,
        "--auth",
        "basic",
        "--username",
        USER,
        "--password",
        PASSWORD,
        "--profile",
        "high",
    )
    yield sim
    sim.stop()


def ffprobe(url: str, transport: str = "tcp") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            transport,
            "-show_entries",
            "stream=codec_name,codec_type,width,height,profile,sample_rate",
            "-of",
            "json",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )


def streams(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return {s["codec_type"]: s for s in json.loads(result.stdout)["streams"]}


def test_ffprobe_with_digest_sees_h264_and_aac(digest_sim: Any) -> None:
    found = streams(ffprobe(digest_sim.url(1, "main", USER, PASSWORD)))
    assert found["video"]["codec_name"] == "h264"
    assert (found["video"]["width"], found["video"]["height"]) == (320, 180)
    assert found["video"]["profile"] == "Main"
    assert found["audio"]["codec_name"] == "aac"
    assert found["audio"]["sample_rate"] == "16000"
    sub = streams(ffprobe(digest_sim.url(1, "sub", USER, PASSWORD)))
    assert (sub["video"]["width"], sub["video"]["height"]) == (160, 90)


def test_ffprobe_with_basic_auth(basic_sim: Any) -> None:
    found = streams(ffprobe(basic_sim.url(1, "main", USER, PASSWORD)))
    assert found["video"]["codec_name"] == "h264"
    assert found["video"]["profile"] == "High"
    assert "audio" not in found


def test_wrong_or_missing_credentials_are_refused(digest_sim: Any, basic_sim: Any) -> None:
    for sim in (digest_sim, basic_sim):
        result = ffprobe(sim.url(1, "main", USER, "wrong"))
        assert result.returncode != 0
        assert "401" in result.stderr

    async def raw(sim: Any, user: str | None, password: str | None) -> int:
        async with RtspClient(sim.url(1), user, password) as client:
            return (await client.request("DESCRIBE")).status

    assert asyncio.run(raw(digest_sim, USER, "wrong")) == 401
    assert asyncio.run(raw(digest_sim, None, None)) == 401
    assert asyncio.run(raw(basic_sim, "nobody", PASSWORD)) == 401
    assert asyncio.run(raw(basic_sim, USER, PASSWORD)) == 200


async def test_digest_answer_without_qop_is_accepted(digest_sim: Any) -> None:
    async with RtspClient(digest_sim.url(2), USER, PASSWORD, digest_qop=False) as client:
        await client.play()
        # The first frame is the next keyframe (GOP 1 s); then 30 fps.
        stats = await client.count_frames(2.5)
    assert stats.frames >= 30


def test_ffmpeg_over_udp(digest_sim: Any) -> None:
    result = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-rtsp_transport",
            "udp",
            "-i",
            digest_sim.url(2, "sub", USER, PASSWORD),
            "-map",
            "0:v",
            "-frames:v",
            "20",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_pyav_frames_carry_increasing_wall_clock_stamps(
    digest_sim: Any, pyav: Callable[..., list[av.VideoFrame]]
) -> None:
    stamps: list[tuple[int | None, float]] = []

    def accept(frame: av.VideoFrame) -> bool:
        # Read the stamp as soon as the frame is decoded, next to the wall clock.
        y = frame.to_ndarray(format="gray")
        stamps.append((read_timestamp_ms(y, frame.width, frame.height), time.time() * 1000))
        return len(stamps) >= 45

    pyav(digest_sim.url(3, "main", USER, PASSWORD), 0, until=accept)
    values = [s for s, _ in stamps]
    assert None not in values, values
    assert all(b > a for a, b in itertools.pairwise(values)), values  # type: ignore[operator]
    # Decoded ~ when captured: latency is positive and well under a second or two.
    lags = [now - s for s, now in stamps if s is not None]
    assert max(lags) < 2000 and min(lags) > -100, lags
    spacing = (values[-1] - values[0]) / (len(values) - 1)
    assert 20 < spacing < 50  # ~33 ms at 30 fps


def test_opencv_reads_frames(digest_sim: Any) -> None:
    cv2 = pytest.importorskip("cv2")
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = "rtsp_transport;tcp"
    cap = cv2.VideoCapture(digest_sim.url(1, "sub", USER, PASSWORD), cv2.CAP_FFMPEG)
    try:
        assert cap.isOpened()
        shapes = []
        for _ in range(10):
            ok, image = cap.read()
            assert ok
            shapes.append(image.shape)
    finally:
        cap.release()
    assert set(shapes) == {(90, 160, 3)}


def test_five_clients_share_one_encoder(
    basic_sim: Any, pyav: Callable[..., list[av.VideoFrame]]
) -> None:
    url = basic_sim.url(1, "sub", USER, PASSWORD)

    def client(_: int) -> list[int | None]:
        frames = pyav(url, 20)
        return [read_timestamp_ms(f.to_ndarray(format="gray"), f.width, f.height) for f in frames]

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(client, range(5)))
    for stamps in results:
        assert len(stamps) == 20 and None not in stamps
        assert stamps == sorted(stamps)
    starts = [line for line in basic_sim.output if "encoding cam1/sub at" in line]
    assert len(starts) == 1, starts


async def test_session_times_out_without_keepalive(camsim_launcher: Callable[..., Any]) -> None:
    sim = camsim_launcher(*SMALL, "--session-timeout", "1.5")
    try:
        async with RtspClient(sim.url(1, "sub")) as quiet, RtspClient(sim.url(1, "sub")) as alive:
            await quiet.play()
            await alive.play()

            async def keep_alive() -> int:
                frames = 0
                for _ in range(8):  # 4 s, keepalive every 0.5 s
                    await alive.keepalive()
                    frames += (await alive.count_frames(0.5)).frames
                return frames

            alive_frames, quiet_stats = await asyncio.gather(keep_alive(), quiet.count_frames(10.0))
        # The quiet client's connection was closed well before the 10 s read ended.
        assert quiet_stats.frames < 30 * 5
        assert alive_frames >= 30 * 3
    finally:
        sim.stop()
    assert any("timed out" in line for line in sim.output)


async def test_slow_client_is_dropped_without_slowing_others(
    camsim_launcher: Callable[..., Any],
) -> None:
    sim = camsim_launcher(
        "--resolution",
        "640x360",
        "--bitrate",
        "2000",
        "--motion",
        "--client-buffer-kb",
        "32",
        "--slow-drop-s",
        "1.5",
    )
    try:
        slow = RtspClient(sim.url(1), rcvbuf=4096)
        await slow.open()
        await slow.play()
        slow.pause_reading()  # this client stops reading altogether
        async with RtspClient(sim.url(1)) as fast:
            await fast.play()
            stats = await fast.count_frames(4.0)
        # Every frame between the first keyframe and the end arrived (no skips), at 30 fps.
        assert stats.first_ts is not None and stats.last_ts is not None
        span = (stats.last_ts - stats.first_ts) // 3000 + 1
        assert span >= 30 * 2.5
        assert stats.frames >= 0.95 * span
        # The server has cut the slow client: what is left to read ends in EOF or reset.
        slow.pause_reading(False)
        try:
            rest = await slow.count_frames(10.0)
            assert rest.frames < 30 * 8, sim.log_text()
        except ConnectionError:
            pass
        finally:
            slow.close()
    finally:
        sim.stop()
    assert any("dropping client" in line for line in sim.output), sim.log_text()
