"""``opencv-face`` (OpenCV's bundled Haar cascade) on real decoded frames of the camera
simulator, through the analyser's own path (motion -> regions -> detector -> tracker, the
helpers of test_objects_detect): a real photograph of a person (scikit-image's astronaut)
composited into the scene; her face is found in the upper half of her box, and nothing
else but one known false face of the scene's static background. A simulator of its own
(one camera): these measurements do not share a simulator with other scripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from anastack import Proc, start_simulator
from test_objects_detect import FRAMES, H, W, record, run, script

from argus_analysis.detect.face import HaarFaceDetector


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[Proc, int, int]]:
    proc, rtsp, control = start_simulator(1, "--resolution", f"{W}x{H}", "--sub-resolution",
                                          "320x180", "--fps", "10")
    yield proc, rtsp, control
    proc.stop()


def test_haar_finds_the_face_of_a_photograph_in_the_scene(sim: Any) -> None:
    _, rtsp, control = sim
    script(control, 1, [
        {"label": "person", "appearance": "photo", "photo": "astronaut", "start": [0.3, 0.6],
         "end": [0.7, 0.6], "speed": 0.06, "repeat": "bounce", "size": 0.6},
    ])
    frames = record(rtsp, 1, FRAMES)
    pairs = run(frames, HaarFaceDetector(), control, 1)
    assert len(pairs) >= 20
    hits = misses = wrong = 0
    for found, truth in pairs:
        gt = truth[0]["box"]
        # Her face is in the upper half of the photograph (the truth box is the photograph).
        face = [d for d in found if d["label"] == "face"
                and gt["x"] <= d["box"]["x"] + d["box"]["w"] / 2 <= gt["x"] + gt["w"]
                and gt["y"] <= d["box"]["y"] + d["box"]["h"] / 2 <= gt["y"] + gt["h"] / 2]
        others = [d for d in found if d not in face]
        # A known false face: the cascade answers on one spot of the simulator's static scene
        # (box centre about (0.85, 0.55)) whenever a region covers it; anything else is wrong.
        scene = [d for d in others if abs(d["box"]["x"] + d["box"]["w"] / 2 - 0.846) < 0.05
                 and abs(d["box"]["y"] + d["box"]["h"] / 2 - 0.555) < 0.05]
        wrong += len(others) - len(scene)
        if face:
            hits += 1
        else:
            misses += 1
    assert hits >= 0.7 * len(pairs), (hits, misses, wrong)
    assert wrong <= 0.1 * max(1, hits), (hits, misses, wrong)
