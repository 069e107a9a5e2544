"""Detections on analysed frames: carried to /ws/analysis and into analysis_results only on
the frames the detector ran on; a frame without them keeps its old shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from argus_common.events import AnalysisFrame, DetectedObject, ObjectBox
from argus_management.analysis.consumer import to_row
from argus_management.analysis.hub import frame_payload

_PERSON = DetectedObject(track_id="1a2b3c4d-7", label="person", score=0.91,
                         box=ObjectBox(x=0.41, y=0.52, w=0.07, h=0.3), color="red")


def _frame(objects: list[DetectedObject] | None) -> AnalysisFrame:
    return AnalysisFrame(camera_id=3, ts=datetime(2026, 12, 5, 12, tzinfo=UTC),
                         session_id="s1", motion=True, score=0.2, objects=objects)


def test_detections_reach_the_websocket_payload_and_the_stored_row() -> None:
    frame = _frame([_PERSON])
    _camera, _ts, payload = frame_payload(json.loads(frame.model_dump_json()))
    [obj] = json.loads(payload)["objects"]
    assert obj["label"] == "person" and obj["track_id"] == "1a2b3c4d-7"
    assert obj["box"] == {"x": 0.41, "y": 0.52, "w": 0.07, "h": 0.3}
    row = to_row(frame.model_dump_json())
    assert row is not None and row["payload"]["objects"][0]["color"] == "red"


def test_frames_without_detections_keep_their_shape() -> None:
    frame = _frame(None)
    _camera, _ts, payload = frame_payload(json.loads(frame.model_dump_json()))
    assert "objects" not in json.loads(payload)
    row = to_row(frame.model_dump_json())
    assert row is not None and "objects" not in row["payload"]


def test_a_malformed_detection_drops_the_entry_not_the_consumer() -> None:
    raw = json.loads(_frame([_PERSON]).model_dump_json())
    raw["objects"][0]["score"] = 7  # outside 0..1
    assert to_row(json.dumps(raw)) is None
