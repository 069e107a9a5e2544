"""Recording through faults, against real processes (the shared ``stack``): the camera drops,
stalls and goes offline (the recorder reconnects and the timeline shows the gaps), then the
recorder is killed with -9 mid-segment and restarted (only the fragment in flight is lost).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from recstack import FPS, Stack, stamps, ts_ms, wait_until

from argus_recording.layout import list_segments
from argus_recording.mp4box import walk

pytestmark = pytest.mark.timeout(150)


def test_drop_stall_and_offline_reconnect_and_leave_gaps(stack: Stack) -> None:
    cam = stack.cameras["cam2"]
    since = datetime.now(UTC) - timedelta(minutes=5)
    proc, _ = stack.recorders["rec-a"]

    def recording_after(t: float) -> bool:
        # A segment that starts after ``t`` has been written (the camera is recorded again).
        return any(
            start > t * 1000
            for start in (s.start_ms for s in _open_or_closed(stack.recordings, cam))
        )

    for fault, undo, pause in (
        ({"drop": True}, None, 0.0),
        ({"stall": True}, {"stall": False}, 3.0),
        ({"offline_s": 4}, None, 4.0),
    ):
        wait_until(lambda: recording_after(time.time() - 60), 20, 0.5, "cam2 recording")
        stack.fault("cam2", fault)
        time.sleep(pause)
        if undo:
            stack.fault("cam2", undo)
        back = time.time()
        # The requirement is "recorded again within 5 s" (about 1-3 s measured on a quiet
        # machine); the bound leaves room for a machine shared with other test runs.
        wait_until(lambda b=back: recording_after(b), 10, 0.25, f"cam2 back after {fault}")
    assert proc.alive, proc.tail()
    downs = wait_until(lambda: stack.events(cam, "stream.down"), 10, 0.5, "stream.down")
    ups = stack.events(cam, "stream.up")
    assert len(downs) >= 3 and len(ups) >= 4, (downs, ups)
    assert {e["payload"]["reason"] for e in downs} <= {"timeout", "eof", "refused", "error"}
    assert all(e["payload"]["recorder"] == "rec-a" for e in downs + ups)
    ranges = wait_until(
        lambda: (
            len(stack.timeline(cam, since)["recordings"]) >= 4
            and stack.timeline(cam, since)["recordings"]
        ),
        20,
        1.0,
        "3 gaps",
    )
    for a, b in itertools.pairwise(ranges):
        assert ts_ms(b["start"]) - ts_ms(a["end"]) >= 500, "a reconnect leaves a visible gap"


@dataclass
class _File:
    start_ms: int


def _open_or_closed(root: Path, camera_id: int) -> list[_File]:
    files = []
    for rel in list_segments(root, camera_id):
        path = root / rel
        try:
            if path.stat().st_size > 2000:  # at least one fragment written
                files.append(_File(int(Path(rel).stem)))
        except FileNotFoundError:
            continue
    return files


def test_kill_9_mid_segment_loses_only_the_fragment_in_flight(stack: Stack) -> None:
    cam = stack.cameras["cam1"]
    proc, _ = stack.recorders["rec-a"]

    def mid_segment() -> Path | None:
        newest = max(list_segments(stack.recordings, cam))
        age = time.time() * 1000 - int(Path(newest).stem)
        return stack.recordings / newest if 2600 <= age <= 3600 else None

    torn = wait_until(mid_segment, 15, 0.05, "cam1 mid-segment")
    proc.kill()
    killed_at = time.time()
    layout = walk(torn)
    assert layout.fragments >= 2, layout
    stack.start_recorder("rec-a")
    rel = str(torn.relative_to(stack.recordings))

    def indexed() -> dict[str, Any] | None:
        return next((r for r in stack.rows(cam) if r["path"] == rel), None)

    row = wait_until(indexed, 30, 0.5, "the torn segment adopted")
    frames, (first, _) = stamps(torn)
    assert frames >= layout.fragments * FPS - 1  # every finished fragment plays
    assert first is not None and abs(row["started_at"].timestamp() * 1000 - first) < 200
    assert walk(torn).clean
    # Recording resumed, and index and disk agree (but for the segment being written).
    wait_until(
        lambda: any(r["started_at"].timestamp() > killed_at for r in stack.rows(cam)),
        30,
        0.5,
        "a segment recorded after the restart",
    )

    def agree() -> bool:
        for camera_id in stack.cameras.values():
            files = list_segments(stack.recordings, camera_id)
            indexed = {r["path"] for r in stack.rows(camera_id) if r["deleted_at"] is None}
            newest = {max(files)} if files else set()
            if not (indexed <= files and files - indexed <= newest):
                return False
        return True

    wait_until(agree, 20, 0.5, "files and index to agree")
