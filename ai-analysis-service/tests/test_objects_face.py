"""``opencv-face`` (OpenCV's bundled Haar cascade) on real decoded frames of the camera
simulator, through the analyser's own path (motion -> regions -> detector -> tracker, the
helpers of test_objects_detect): a real photograph of a person (scikit-image's astronaut)
composited into the scene; her face is found in the upper half of her box, and nothing
else. The scene without people has no face: the cascade took two dark windows above a light
post of camera 2's background for one (score 0.81), which the skin check now rejects, and
in grey (infrared) pictures the second cascade; real faces in grey pictures are kept. A
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

from argus_analysis.detect.face import (
    MAX_SIDE,
    MIN_FACE,
    MIN_HEIGHT,
    MIN_NEIGHBORS,
    HaarFaceDetector,
    colourless,
)
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


def _grey(scene: Scene, w: int, h: int) -> np.ndarray:
    """A frame as an infrared camera delivers it: the picture's luma with neutral chroma
    (U = V = 128), converted to BGR as the analyser does (three equal channels)."""
    yuv = scene.render(w, h, 1_700_000_000_000)
    yuv[h:] = 128
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)


def _raw_faces(detector: HaarFaceDetector, bgr: np.ndarray) -> int:
    """What the frontal cascade alone finds in ``bgr`` (enlarged as the detector does)."""
    h, w = bgr.shape[:2]
    f = min(max(1.0, MIN_HEIGHT / h), MAX_SIDE / max(w, h))
    img = cv2.resize(bgr, (round(w * f), round(h * f))) if f != 1.0 else bgr
    rects = detector._cascade.detectMultiScale(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), 1.1,
                                               MIN_NEIGHBORS, minSize=(MIN_FACE, MIN_FACE))
    return len(rects)


def test_a_grey_scene_without_people_has_no_face() -> None:
    """Infrared: the background of camera 2 made grey, whole and in every region the engine
    could cut, and every camera's panorama at three pans made grey. The frontal cascade alone
    takes dark windows there for faces (checked: the weakness is in these pictures); the
    second cascade rejects them."""
    detector = HaarFaceDetector()
    pictures = [_grey(Scene(CameraInfo(index=2, name="Camera 2")), 640, 360)]
    assert colourless(pictures[0])
    h, w = pictures[0].shape[:2]
    for side in (h // 3, h // 2):
        for y in range(0, h - side + 1, side // 2):
            for x in range(0, w - side + 1, side // 2):
                pictures.append(pictures[0][y : y + side, x : x + side])
    for index in range(1, 17):
        for pan in (-1.0, 0.0, 1.0):
            scene = Scene(CameraInfo(index=index, name=f"Camera {index}", ptz=PtzState(pan=pan)))
            pictures += [_grey(scene, 640, 360), _grey(scene, 320, 180)]
    raw = sum(_raw_faces(detector, p) for p in pictures)
    assert raw >= 1  # without the second look these pictures have false faces
    found = [(i, d.box) for i, p in enumerate(pictures) for d in detector.detect_batch([p])[0]]
    assert found == [], (raw, found)


def test_real_faces_in_grey_pictures_are_kept() -> None:
    """scikit-image's 100 faces of Labeled Faces in the Wild (``lfw_subset``) made grey and
    pasted at 80 px into camera 2's grey background: the faces the frontal cascade finds
    are kept by the second look (at least 95 %; measured: all), where they are."""
    detector = HaarFaceDetector()
    background = cv2.cvtColor(_grey(Scene(CameraInfo(index=2, name="Camera 2")), 640, 360),
                              cv2.COLOR_BGR2GRAY)[:180, :320]
    faces = data.lfw_subset()[:100]  # the first 100 are faces, the rest are not
    raw = kept = 0
    for face in faces:
        canvas = background.copy()
        canvas[40:120, 100:180] = cv2.resize((face * 255).astype(np.uint8), (80, 80))
        picture = cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)
        raw += _raw_faces(detector, picture)
        for d in detector.detect_batch([picture])[0]:
            x, y, w, h = d.box
            assert 100 <= x + w / 2 <= 180 and 40 <= y + h / 2 <= 120, d.box
            kept += 1
    assert raw >= 80, raw
    assert kept >= 0.95 * raw, (kept, raw)
