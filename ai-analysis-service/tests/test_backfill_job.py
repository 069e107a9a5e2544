"""Backfill analysis of one segment file (``backfill/job.py``), without services: real H.264
footage through the motion analyser and an object engine with a scripted detector; every
event at the footage's own time. (The whole path, from the recorder's announcement to the
events in management, is in ``test_analysis_e2e.py``.)"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from anaclips import CLIP_PARAMS, make_clip

from argus_analysis.backfill.job import BackfillSegment, Interrupted, analyse_segment
from argus_analysis.detect.object_base import Detection, ObjectDetector
from argus_analysis.detect.select import DeviceChoice
from argus_analysis.objects.engine import ObjectEngine
from argus_analysis.objects.settings import ObjectSettings
from argus_analysis.source import SourceError

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC).timestamp()
CPU = DeviceChoice("cpu", "opencv", "test")
WHOLE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


class Middle(ObjectDetector):
    """Finds a person in the middle of every region it is given."""

    name = "middle"
    labels = ("person",)

    def __init__(self) -> None:
        self.calls = 0

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        self.calls += 1
        return [
            [Detection("person", 0.9, (img.shape[1] / 2 - 10, img.shape[0] / 2 - 20, 20.0, 40.0))]
            for img in images
        ]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s at 15 fps, a square moving from 1 s to 2 s."""
    return make_clip(tmp_path_factory.mktemp("backfill") / "outage.mp4")


def test_motion_and_objects_of_a_segment_at_their_true_times(clip: Path) -> None:
    detector = Middle()
    engines: list[ObjectEngine] = []

    def make_engine(sink: Any) -> ObjectEngine:
        engines.append(ObjectEngine({"middle": detector}, "middle", sink, fps=5))
        return engines[-1]

    objects = ObjectSettings.model_validate(
        {"enabled": True, "zones": [{"name": "all", "polygon": WHOLE}]}
    )
    found = analyse_segment(
        BackfillSegment(7, clip, START),
        "s1",
        CPU,
        CLIP_PARAMS,
        make_engine,
        objects,
        fps=10,
        cpu_share=1.0,
        stop=threading.Event(),
    )
    assert found.frames == 45 and 20 <= found.analysed <= 30  # 15 fps footage, 10 analysed/s
    assert found.media_s == pytest.approx(44 / 15)
    kinds = [(r.transition.kind, r.camera_id, r.session_id) for r in found.motion]
    assert kinds == [("start", 7, "s1"), ("end", 7, "s1")]
    start, end = (r.transition.ts - START for r in found.motion)
    assert 0.9 <= start <= 1.5 and 1.9 <= end <= 2.5  # footage time, not now
    assert found.motion[0].frame is not None  # the snapshot's frame
    assert len(engines) == 1 and detector.calls > 0
    types = [r.message.type for r in found.objects]
    assert "object.zone_enter" in types and types[-1] == "object.track"  # tracks end
    for report in found.objects:
        assert report.camera_id == 7
        assert START + 0.9 <= report.message.ts.timestamp() <= START + 3.0


def test_objects_off_runs_no_engine_and_a_stop_interrupts(clip: Path) -> None:
    made: list[Any] = []
    found = analyse_segment(
        BackfillSegment(7, clip, START),
        "s2",
        CPU,
        CLIP_PARAMS,
        made.append,
        ObjectSettings(),
        fps=10,
        cpu_share=1.0,
        stop=threading.Event(),
    )
    assert made == [] and found.objects == [] and len(found.motion) == 2
    stop = threading.Event()
    stop.set()
    with pytest.raises(Interrupted):
        analyse_segment(
            BackfillSegment(7, clip, START),
            "s3",
            CPU,
            CLIP_PARAMS,
            None,
            ObjectSettings(),
            fps=10,
            cpu_share=1.0,
            stop=stop,
        )


def test_an_unreadable_segment_is_a_source_error(tmp_path: Path) -> None:
    bad = tmp_path / "torn.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100)
    with pytest.raises(SourceError):
        analyse_segment(
            BackfillSegment(7, bad, START),
            "s4",
            CPU,
            CLIP_PARAMS,
            None,
            ObjectSettings(),
            fps=10,
            cpu_share=0.5,
            stop=threading.Event(),
        )
