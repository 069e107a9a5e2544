"""Backfill against a camera that wants credentials: the Profile G calls (GetServices,
FindRecordings, GetRecordingSearchResults, GetReplayUri) with a WS-Security digest, also
when the camera's clock is hours off (the token's Created time follows the camera's
clock), and the RTSP replay with Digest authentication."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from recstack import Proc, _start, free_port

from argus_recording.backfill.onvif import OnvifError, OnvifRecordings
from argus_recording.backfill.replay import ReplayError, ReplayUnit, read_replay
from argus_recording.cameras import CameraConfig
from argus_testkit import stack as kit
from argus_testkit.process import Ready

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[int, dict[str, int]]]:
    rtsp, control = free_port(), free_port()
    argv = [
        str(Path(os.sys.executable).parent / "argus-camsim"),
        "--cameras",
        "2",
        "--host",
        "127.0.0.1",
        "--rtsp-port",
        str(rtsp),
        "--control-port",
        str(control),
        "--onvif-port",
        "0",
        "--resolution",
        "160x90",
        "--fps",
        "10",
        "--gop",
        "1",
        "--edge-minutes",
        "1",
        "--auth",
        "digest",
        "--username",
        "op",
        "--password",
        "s3cret",
        "--quirk",
        "cam2:clock",
        "--linger",
        "1",
    ]
    proc: Proc = _start(
        "camera-simulator", argv, dict(os.environ), Ready(line=kit.CAMSIM_READY, timeout_s=90)
    )
    try:
        info = json.loads(proc.ready_line or "{}")
        yield int(info["rtsp_port"]), info["onvif_ports"]
    finally:
        proc.stop()


def _camera(sim: tuple[int, dict[str, int]], cam: str, password: str) -> CameraConfig:
    rtsp, onvif = sim
    return CameraConfig(
        id=1,
        name=cam,
        kind="rtsp",
        stream_url=f"rtsp://127.0.0.1:{rtsp}/{cam}/main",
        sub_stream_url=None,
        username="op",
        password=password,
        enabled=True,
        recording_mode="continuous",
        retention_days=1,
        analysis={},
        connect_timeout_s=5,
        read_timeout_s=5,
        onvif_host="127.0.0.1",
        onvif_port=onvif[cam],
    )


def _replay(uri: str, password: str, start_ms: int, end_ms: int) -> list[ReplayUnit]:
    units: list[ReplayUnit] = []

    def keep(unit: ReplayUnit) -> bool:
        units.append(unit)
        return unit.wall_ms < end_ms - 200

    asyncio.run(
        read_replay(
            uri,
            "op",
            password,
            start_ms,
            end_ms,
            speed=8,
            max_bytes_per_s=1e7,
            read_timeout_s=10,
            on_unit=keep,
            stop=threading.Event(),
        )
    )
    return units


@pytest.mark.parametrize("cam", ["cam1", "cam2"])  # cam2: its clock is 3 h 17 min off
def test_profile_g_and_replay_with_credentials(sim: Any, cam: str) -> None:
    start_ms = int(time.time() * 1000)
    profile = asyncio.run(OnvifRecordings(_camera(sim, cam, "s3cret")).profile_g())
    assert profile is not None and profile.replay_uri.startswith("rtsp://127.0.0.1:")
    # The edge storage holds the last seconds: replay two of them (Digest on RTSP).
    time.sleep(max(0.0, start_ms / 1000 + 3 - time.time()))
    units = _replay(profile.replay_uri, "s3cret", start_ms, start_ms + 2000)
    assert units and units[0].key
    assert all(start_ms - 1100 <= u.wall_ms < start_ms + 2200 for u in units), units[0].wall_ms


def test_wrong_credentials_are_refused(sim: Any) -> None:
    with pytest.raises(OnvifError):
        asyncio.run(OnvifRecordings(_camera(sim, "cam1", "wrong")).profile_g())
    profile = asyncio.run(OnvifRecordings(_camera(sim, "cam1", "s3cret")).profile_g())
    assert profile is not None
    now = int(time.time() * 1000)
    with pytest.raises(ReplayError):
        _replay(profile.replay_uri, "wrong", now - 2000, now)
