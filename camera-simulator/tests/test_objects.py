"""Scripted people and vehicles: drawn where the control API's ground truth says, at the
time of the frame's stamp; the script API validates what it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import av
import pytest

from argus_camsim.objects import ObjectSet
from argus_camsim.stamp import read_timestamp_ms

W, H = 320, 180


@pytest.fixture(scope="module")
def sim(camsim_launcher: Callable[..., Any]) -> Iterator[Any]:
    sim = camsim_launcher("--cameras", "2", "--resolution", f"{W}x{H}",
                          "--sub-resolution", "160x90", "--fps", "15")
    yield sim
    sim.stop()


def _pixels(box: dict[str, float], width: int, height: int) -> tuple[int, int, int, int]:
    return (round(box["x"] * width), round(box["y"] * height),
            round(box["w"] * width), round(box["h"] * height))


def test_moving_objects_are_drawn_at_the_ground_truth_of_the_frame_time(
    sim: Any, pyav: Callable[..., list[av.VideoFrame]]
) -> None:
    resp = sim.post("/objects/cam1", {"objects": [
        # A yellow car crossing the picture in 2 s: 40 px per frame at 15 fps, so a
        # ground truth one frame off would miss the car's body.
        {"label": "vehicle", "start": [-0.1, 0.8], "end": [1.1, 0.8], "speed": 0.6,
         "repeat": "loop", "color": "yellow", "size": 0.25},
        {"label": "person", "start": [0.5, 0.62], "end": [0.5, 0.62], "color": "green",
         "repeat": "loop", "size": 0.4},
    ]})
    assert resp.status_code == 200, resp.text
    added = resp.json()["applied"]["objects"]
    assert [o["label"] for o in added] == ["vehicle", "person"]
    try:
        frames = pyav(sim.url(1), 12)
        checked = 0
        for frame in frames[2:]:
            y = frame.to_ndarray(format="gray")
            stamp = read_timestamp_ms(y, W, H)
            assert stamp is not None
            truth = sim.get(f"/cameras/cam1/objects?at_ms={stamp}").json()
            assert truth["at_ms"] == stamp
            boxes = {o["label"]: o for o in truth["objects"]}
            rgb = frame.to_ndarray(format="rgb24").astype(int)
            person = _pixels(boxes["person"]["box"], W, H)
            px, py, pw, ph = person
            shirt = rgb[py + int(ph * 0.3) : py + int(ph * 0.5), px + pw // 3 : px + 2 * pw // 3]
            r, g, b = shirt.reshape(-1, 3).mean(axis=0)
            assert g > r + 60 and g > b + 60, (r, g, b)
            if "vehicle" not in boxes:
                continue
            vx, vy, vw, vh = _pixels(boxes["vehicle"]["box"], W, H)
            if vw < 30:  # entering or leaving: too little of it to look at
                continue
            body = rgb[vy + int(vh * 0.5) : vy + int(vh * 0.7), vx + 4 : vx + vw - 4]
            r, g, b = body.reshape(-1, 3).mean(axis=0)
            assert r > 150 and g > 150 and b < 110, (stamp, r, g, b)
            checked += 1
        assert checked >= 4
    finally:
        assert sim.post("/objects/cam1", {"clear": True}).json()["applied"] == {"cleared": 2}
    assert sim.get("/cameras/cam1/objects").json()["objects"] == []


def test_a_once_object_leaves_and_a_delayed_one_waits(sim: Any) -> None:
    resp = sim.post("/objects/cam2", {"label": "person", "start": [0.2, 0.7],
                                      "end": [0.4, 0.7], "speed": 0.1, "delay_s": 5})
    assert resp.status_code == 200
    script = resp.json()["applied"]["objects"][0]
    t0 = script["t0_ms"]
    view = lambda at: sim.get(f"/cameras/cam2/objects?at_ms={at}").json()["objects"]  # noqa: E731
    assert view(t0 - 1) == []
    start = view(t0)[0]["box"]
    assert start["x"] + start["w"] / 2 == pytest.approx(0.2, abs=0.01)
    end = view(t0 + 1999)[0]["box"]
    assert end["x"] + end["w"] / 2 == pytest.approx(0.4, abs=0.01)
    assert view(t0 + 2100) == []
    assert sim.get("/cameras").json()[1]["objects"] == 1
    sim.post("/objects/cam2", {"clear": True})


@pytest.mark.parametrize("body", [
    {"label": "dog", "start": [0, 0], "end": [1, 1]},
    {"label": "person", "start": [0, 0]},
    {"label": "person", "start": [0, 0], "end": [2, 0]},
    {"label": "person", "start": [0, 0], "end": [1, 0], "speed": 0},
    {"label": "person", "start": [0, 0], "end": [1, 0], "color": "mauve"},
    {"label": "person", "start": [0, 0], "end": [1, 0], "wings": True},
    {"label": "vehicle", "start": [0, 0], "end": [1, 0], "appearance": "photo"},
    {"objects": []},
    {"objects": [{"label": "person", "start": [0, 0], "end": [1, 0]}, {"label": "x"}]},
])
def test_bad_scripts_are_refused_whole(sim: Any, body: dict[str, Any]) -> None:
    resp = sim.post("/objects/cam2", body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"] == "BadRequest"
    assert sim.get("/cameras/cam2/objects").json()["scripts"] == []


def test_ground_truth_routes_refuse_what_they_cannot_answer(sim: Any) -> None:
    assert sim.get("/cameras/cam9/objects").status_code == 404
    assert sim.get("/cameras/cam1/objects?at_ms=soon").status_code == 400


def test_a_photograph_of_a_person_is_composited() -> None:
    from argus_camsim.figures import patch_of

    objects = ObjectSet()
    obj = objects.add(label="person", start=(0.5, 0.5), end=(0.5, 0.5), speed=0.1, size=0.5,
                      color="red", repeat="once", t0_ms=0, appearance="photo",
                      photo="astronaut")
    _, _, w, h = obj.box_px(0, 640, 360)  # type: ignore[misc]
    assert (w, h) == (134, 180)  # the crop's aspect ratio (0.75), rounded down to even
    patch = patch_of(obj, w, h)
    assert patch.mask.all() and patch.y.shape == (h, w)
    assert patch.y.std() > 30  # a photograph, not a flat colour
