"""What the picture shows: PTZ viewport, motion on/off, snapshot; GET /cameras."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import av
import httpx
import numpy as np
import pytest

from argus_camsim.stamp import OVERLAY_RECT_NORM

W, H = 320, 180


@pytest.fixture(scope="module")
def sim(camsim_launcher: Callable[..., Any]) -> Iterator[Any]:
    sim = camsim_launcher(
        "--cameras",
        "2",
        "--resolution",
        f"{W}x{H}",
        "--sub-resolution",
        "160x90",
        "--onvif-port",
        "0",
    )
    yield sim
    sim.stop()


def below_overlay(y: np.ndarray) -> np.ndarray:
    """The part of a luma plane outside the overlay band (stamp, clock, name)."""
    top = int(np.ceil((OVERLAY_RECT_NORM[1] + OVERLAY_RECT_NORM[3]) * y.shape[0]))
    return y[top:].astype(np.int16)


def test_ptz_move_changes_the_picture(
    sim: Any, pyav: Callable[..., list[av.VideoFrame]], gray: Callable[..., np.ndarray]
) -> None:
    home = below_overlay(gray(pyav(sim.url(1), 1)[0]))
    resp = sim.post("/ptz/cam1", {"pan": 0.8, "tilt": -0.3, "zoom": 0.6})
    assert resp.status_code == 200
    cam = sim.get("/cameras/cam1").json()
    assert cam["ptz"]["pan"] == pytest.approx(0.8)
    assert cam["ptz"]["zoom"] == pytest.approx(0.6)
    try:
        moved = below_overlay(gray(pyav(sim.url(1), 1)[0]))
        assert np.abs(moved - home).mean() > 15
    finally:
        assert sim.post("/ptz/cam1", {"pan": 0, "tilt": 0, "zoom": 0}).status_code == 200
    back = below_overlay(gray(pyav(sim.url(1), 1)[0]))
    assert np.abs(back - home).mean() < 4
    assert sim.post("/ptz/cam1", {"pan": 2}).status_code == 400


def test_static_without_motion_moving_with_it(
    sim: Any, pyav: Callable[..., list[av.VideoFrame]], gray: Callable[..., np.ndarray]
) -> None:
    still = pyav(sim.url(2), 20)
    first, last = below_overlay(gray(still[0])), below_overlay(gray(still[-1]))
    assert np.abs(first - last).mean() < 1.0
    # The overlay itself does change (the clock), which is why it is masked.
    assert not np.array_equal(gray(still[0]), gray(still[-1]))
    assert sim.post("/motion/cam2", {"on": True}).status_code == 200
    try:
        assert sim.get("/cameras/cam2").json()["motion"] is True
        moving = pyav(sim.url(2), 20)
        a, b = below_overlay(gray(moving[0])), below_overlay(gray(moving[-1]))
        assert np.abs(a - b).mean() > 3
        assert (np.abs(a - b) > 40).mean() > 0.01
    finally:
        assert sim.post("/motion/cam2", {"on": False}).status_code == 200
    assert sim.post("/motion/cam2", {"on": "yes"}).status_code == 400


def test_cameras_listing(sim: Any) -> None:
    cams = sim.get("/cameras").json()
    assert [c["path"] for c in cams] == ["cam1", "cam2"]
    first = cams[0]
    assert first["rtsp"]["main"] == f"rtsp://127.0.0.1:{sim.rtsp_port}/cam1/main"
    assert first["rtsp"]["sub"].endswith("/cam1/sub")
    assert first["onvif_port"] == sim.onvif_ports["cam1"]
    assert first["resolution"] == {"main": f"{W}x{H}", "sub": "160x90"}
    assert set(first["ptz"]) >= {"pan", "tilt", "zoom"}


def test_onvif_snapshot_is_the_current_picture(sim: Any) -> None:
    port = sim.onvif_ports["cam1"]
    resp = httpx.get(f"http://127.0.0.1:{port}/onvif/snapshot.jpg", timeout=10)
    assert resp.status_code == 200
    assert resp.content[:2] == b"\xff\xd8"
    with av.open(io.BytesIO(resp.content)) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (W, H)
