"""``opencv-face`` (OpenCV's bundled Haar cascade) on real decoded frames of the camera
simulator, through the analyser's own path (motion -> regions -> detector -> tracker, the
helpers of test_objects_detect): a real photograph of a person (scikit-image's astronaut)
composited into the scene; her face is found in the upper half of her box, and nothing
else. The scene without people has no face: the cascade took two dark windows above a light
post of camera 2's background for one (score 0.81), which the skin check now rejects. A
simulator of its own (two cameras): these measurements do not share a simulator with other
scripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
from anastack import Proc, start_simulator
from skimage import data
from test_objects_detect import FRAMES, H, W, record, run, script

from argus_analysis.detect.face import HaarFaceDetector, colourless
from argus_camsim.model import CameraInfo, PtzState
from argus_camsim.scene import Scene


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[Proc, int, int]]:
    proc, rtsp, control = start_simulator(
        2, "--resolution", f"{W}x{H}", "--sub-resolution", "320x180", "--fps", "10"
    )
    yield proc, rtsp, control
    proc.stop()


def test_haar_finds_the_face_of_a_photograph_in_the_scene(sim: Any) -> None:
    _, rtsp, control = sim
    script(
        control,
        1,
        [
            {
                "label": "person",
                "appearance": "photo",
                "photo": "astronaut",
                "start": [0.3, 0.6],
                "end": [0.7, 0.6],
                "speed": 0.06,
                "repeat": "bounce",
                "size": 0.6,
            },
        ],
    )
    frames = record(rtsp, 1, FRAMES)
    pairs = run(frames, HaarFaceDetector(), control, 1)
    assert len(pairs) >= 20
    hits = misses = wrong = 0
    for found, truth in pairs:
        gt = truth[0]["box"]
        # Her face is in the upper half of the photograph (the truth box is the photograph).
        face = [
            d
            for d in found
            if d["label"] == "face"
            and gt["x"] <= d["box"]["x"] + d["box"]["w"] / 2 <= gt["x"] + gt["w"]
            and gt["y"] <= d["box"]["y"] + d["box"]["h"] / 2 <= gt["y"] + gt["h"] / 2
        ]
        wrong += sum(1 for d in found if d not in face)
        if face:
            hits += 1
        else:
            misses += 1
    assert hits >= 0.7 * len(pairs), (hits, misses, wrong)
    assert wrong <= 0.1 * max(1, hits), (hits, misses, wrong)


def _faces(detector: HaarFaceDetector, bgr: np.ndarray) -> list[tuple[float, ...]]:
    """Faces in the whole picture and in the regions the engine would cut around motion
    anywhere in it (squares of 1/3 and 1/2 of its height, enlarged as the engine does)."""
    h, w = bgr.shape[:2]
    found = [d.box for d in detector.detect_batch([bgr])[0]]
    for side in (h // 3, h // 2):
        for y in range(0, h - side + 1, side // 2):
            for x in range(0, w - side + 1, side // 2):
                found += [
                    d.box for d in detector.detect_batch([bgr[y : y + side, x : x + side]])[0]
                ]
    return found


def test_the_simulators_scene_without_people_has_no_face(sim: Any) -> None:
    """Real decoded frames of camera 2 (where the false face was; camera 1 is the other
    test's), and every camera's panorama of a 16-camera simulator rendered at three pans and
    two sizes: no face anywhere."""
    _, rtsp, _ = sim
    detector = HaarFaceDetector()
    frame = record(rtsp, 2, 3)[-1].to_ndarray(format="bgr24")
    assert not colourless(frame)
    assert _faces(detector, frame) == []
    for index in range(1, 17):
        for pan in (-1.0, 0.0, 1.0):
            info = CameraInfo(index=index, name=f"Camera {index}", ptz=PtzState(pan=pan))
            scene = Scene(info)
            for w, h in ((640, 360), (320, 180)):
                bgr = cv2.cvtColor(scene.render(w, h, 1_700_000_000_000), cv2.COLOR_YUV2BGR_I420)
                found = detector.detect_batch([bgr])[0]
                assert found == [], (index, pan, w, [d.box for d in found])


def test_a_picture_without_colour_keeps_its_faces() -> None:
    """Infrared or monochrome pictures are not judged by colour: the grey astronaut's face is
    found at every size, as in colour."""
    detector = HaarFaceDetector()
    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    for scale in (1.0, 0.5, 0.25):
        small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        assert colourless(grey) and not colourless(small)
        for picture in (small, grey):
            [face] = detector.detect_batch([picture])[0]
            x, y, w, h = face.box
            # Her face: upper middle of the photograph.
            assert 0.25 < (x + w / 2) / small.shape[1] < 0.5 and (y + h / 2) / small.shape[0] < 0.4
