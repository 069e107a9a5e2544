"""The shared RTSP client against the real camera simulator (started on free ports and
stopped by PID): Digest MD5-sess, Basic, access units that decode to the announced size."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from argus_common.h264 import parse_sps, split_annexb
from argus_common.rtsp import AccessUnit, RtpDemux, RtspAuthFailed, RtspClient
from argus_testkit.ports import free_port
from argus_testkit.process import Launcher, Ready

USER, PASSWORD = "viewer", "pa:ss@w/rd"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    with Launcher(tmp_path_factory.mktemp("camsim-logs")) as started:
        yield started


def _camsim(launcher: Launcher, name: str, *flags: str) -> int:
    """Start a simulator; its RTSP port."""
    argv = [str(BIN / "argus-camsim"), "--rtsp-port", str(free_port()), "--control-port",
            str(free_port()), "--no-onvif", "--cameras", "1", "--resolution", "320x180",
            "--sub-resolution", "160x90", "--fps", "30", "--username", USER,
            "--password", PASSWORD, *flags]
    proc = launcher.start(name, argv, env=dict(os.environ),
                          ready=Ready(line="argus-camsim ready ", timeout_s=30))
    return int(json.loads(proc.ready_line or "{}")["rtsp_port"])


@pytest.fixture(scope="module")
def md5_sess_port(launcher: Launcher) -> int:
    return _camsim(launcher, "camsim-md5-sess", "--auth", "digest",
                   "--digest-algorithm", "MD5-sess")


@pytest.fixture(scope="module")
def basic_port(launcher: Launcher) -> int:
    return _camsim(launcher, "camsim-basic", "--auth", "basic")


async def _units(url: str, count: int) -> list[AccessUnit]:
    got: list[AccessUnit] = []
    enough = asyncio.Event()

    def emit(unit: AccessUnit) -> None:
        got.append(unit)
        if len(got) >= count:
            enough.set()

    client = RtspClient(url, username=USER, password=PASSWORD)
    try:
        tracks = await client.setup()
        client.on_rtp = RtpDemux(tracks[0].sdp, tracks[0].channel, None, None, emit,
                                 on_loss=lambda: pytest.fail("lost a frame on loopback"))
        await client.play()
        async with asyncio.timeout(10):  # the first frame waits for the next keyframe
            await enough.wait()
    finally:
        await client.close()
    return got


@pytest.mark.parametrize("which", ["md5_sess", "basic"])
async def test_access_units_from_the_simulator(which: str, request: pytest.FixtureRequest) -> None:
    port = request.getfixturevalue(f"{which}_port")
    units = await _units(f"rtsp://127.0.0.1:{port}/cam1/main", 40)
    assert units[0].keyframe
    sps = next(n for n in split_annexb(units[0].data) if n[0] & 0x1F == 7)
    info = parse_sps(sps)
    assert (info.width, info.height) == (320, 180)
    steps = {b.pts - a.pts for a, b in itertools.pairwise(units)}
    assert steps == {3000}, steps  # 30 fps in 90 kHz ticks, nothing missing


async def test_wrong_password_is_refused_with_the_scheme(md5_sess_port: int) -> None:
    client = RtspClient(f"rtsp://{USER}:wrong@127.0.0.1:{md5_sess_port}/cam1/main")
    with pytest.raises(RtspAuthFailed) as failed:
        await client.describe()
    client.abort()
    assert (failed.value.reason, failed.value.scheme) == ("refused", "digest")
    assert "wrong" not in str(failed.value) and USER not in str(failed.value)
