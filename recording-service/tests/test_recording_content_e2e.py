"""What a recorder keeps, against real processes (the shared ``stack``: camera simulator with
RTSP Digest, management with PostgreSQL and Redis, recorders as subprocesses stopped by PID).

In order: 20 s of continuous recording checked frame by frame, event recording with pre-roll
(after the 20 s, so the standby buffer is full), retention by age, and the disk guard (it
keeps the event clips the previous test recorded).
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import av
import httpx
import pytest
from recstack import (
    FPS,
    FRAME_MS,
    REDIS_URL,
    SEGMENT_S,
    Stack,
    stamps,
    ts_ms,
    wait_until,
)
from redis import Redis

from argus_common.events import STREAM_SEGMENTS, SegmentClosed
from argus_recording.layout import segment_relpath

pytestmark = pytest.mark.timeout(150)


def _contiguous_run(segments: list[dict[str, Any]], seconds: float) -> list[dict[str, Any]]:
    """The first run of back-to-back segments lasting ``seconds``."""
    run: list[dict[str, Any]] = []
    for seg in segments:
        if run and seg["start"] != run[-1]["end"]:
            run = []
        run.append(seg)
        if ts_ms(run[-1]["end"]) - ts_ms(run[0]["start"]) >= seconds * 1000:
            return run
    return []


def test_20s_continuous_recording_is_complete_and_time_accurate(stack: Stack) -> None:
    cam = stack.cameras["cam1"]
    since = datetime.now(UTC) - timedelta(minutes=5)
    run = wait_until(
        lambda: _contiguous_run(stack.timeline(cam, since)["segments"], 20),
        70,
        1.0,
        "20 s of contiguous segments",
    )
    total = 0
    for seg in run:
        path = stack.recordings / seg["path"]
        assert seg["path"] == segment_relpath(cam, int(ts_ms(seg["start"])))
        assert (seg["codec"], seg["width"], seg["height"], seg["kind"]) == (
            "h264",
            320,
            180,
            "continuous",
        )
        assert seg["has_audio"] and seg["bytes"] == path.stat().st_size
        frames, (first, last) = stamps(path)
        start, end = ts_ms(seg["start"]), ts_ms(seg["end"])
        assert abs(frames - (end - start) / FRAME_MS) <= FPS, (seg, frames)  # ± one GOP
        assert first is not None and last is not None, seg
        assert abs(start - first) <= FRAME_MS + 100, (seg["path"], start - first)
        assert abs((end - FRAME_MS) - last) <= FRAME_MS + 100, (seg["path"], end - last)
        total += frames
    span = ts_ms(run[-1]["end"]) - ts_ms(run[0]["start"])
    assert abs(total - span / FRAME_MS) <= FPS
    with av.open(str(stack.recordings / run[0]["path"])) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    ranges = stack.timeline(cam, since)["recordings"]
    assert any(
        ts_ms(r["start"]) <= ts_ms(run[0]["start"]) and ts_ms(r["end"]) >= ts_ms(run[-1]["end"])
        for r in ranges
    ), "touching segments must merge into one range"


def test_event_recording_has_pre_roll_and_merges_overlaps(stack: Stack) -> None:
    cam = stack.cameras["cam3"]
    since = datetime.now(UTC) - timedelta(minutes=5)
    first = stack.api.post(f"/api/v1/cameras/{cam}/record", json={"duration_s": 2})
    assert first.status_code == 202, first.text
    time.sleep(1.0)
    second = stack.api.post(f"/api/v1/cameras/{cam}/record", json={"duration_s": 2})
    assert second.status_code == 202, second.text
    trigger = ts_ms(first.json()["started_at"])
    last_end = ts_ms(second.json()["ends_at"])

    def clips() -> list[dict[str, Any]]:
        return [s for s in stack.timeline(cam, since)["segments"] if s["kind"] == "event"]

    found = wait_until(clips, 30, 1.0, "the event clip")
    time.sleep(SEGMENT_S + 2)  # nothing else may follow for these events
    found = clips()
    assert len(found) == 1, found  # overlapping events: one clip
    clip = found[0]
    assert ts_ms(clip["start"]) <= trigger - 5000
    assert ts_ms(clip["end"]) >= last_end + 2000 - FRAME_MS * 2  # post-roll
    frames, (first_stamp, _) = stamps(stack.recordings / clip["path"])
    assert first_stamp is not None and first_stamp <= trigger - 5000
    assert frames >= (last_end + 2000 - trigger + 5000) / FRAME_MS - FPS
    assert not [s for s in stack.timeline(cam, since)["segments"] if s["kind"] != "event"]
    events = {e["id"] for e in stack.timeline(cam, since)["events"]}
    assert {first.json()["event_id"], second.json()["event_id"]} <= events
    audit = stack.api.get("/api/v1/audit", params={"action": "recording.trigger"})
    assert audit.status_code == 200, audit.text
    assert len([a for a in audit.json()["items"] if a["target_id"] == str(cam)]) == 2


def test_retention_by_age_deletes_old_segments(stack: Stack) -> None:
    cam = stack.cameras["cam4"]
    resp = stack.api.patch(f"/api/v1/cameras/{cam}", json={"retention_days": 2})
    assert resp.status_code == 200, resp.text
    source = stack.recordings / wait_until(lambda: stack.rows(cam), 20, 0.5)[0]["path"]
    recent = {r["path"] for r in stack.rows(cam)}
    redis = Redis.from_url(REDIS_URL)
    old_paths = []
    for days in (3, 4):
        start = datetime.now(UTC) - timedelta(days=days)
        rel = segment_relpath(cam, int(start.timestamp() * 1000))
        (stack.recordings / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, stack.recordings / rel)
        message = SegmentClosed(
            camera_id=cam,
            path=rel,
            start=start,
            end=start + timedelta(seconds=5),
            duration=5.0,
            bytes=source.stat().st_size,
            codec="h264",
            width=320,
            height=180,
        )
        redis.xadd(f"{stack.namespace}:{STREAM_SEGMENTS}", {"data": message.model_dump_json()})
        old_paths.append(rel)
    redis.close()

    def purged() -> bool:
        paths = {r["path"] for r in stack.rows(cam)}
        return not (set(old_paths) & paths) and not any(
            (stack.recordings / p).exists() for p in old_paths
        )

    # Files go only after their rows were indexed and marked, so "files and rows gone"
    # means the whole mark -> unlink -> remove cycle ran.
    wait_until(purged, 30, 0.5, "old segments purged")
    assert recent <= {r["path"] for r in stack.rows(cam)}  # younger ones stay
    assert not (stack.recordings / old_paths[0]).parent.exists()  # empty hour dir pruned


def test_disk_guard_purges_oldest_first_and_keeps_kept_events(stack: Stack) -> None:
    cam1, cam3 = stack.cameras["cam1"], stack.cameras["cam3"]
    stack.db.execute("UPDATE events SET kept = true WHERE camera_id = $1 AND type = 'manual'", cam3)
    kept_clips = [r["path"] for r in stack.rows(cam3) if r["kind"] == "event"]
    assert kept_clips
    before = [
        r["path"]
        for r in stack.db.fetch(
            "SELECT path FROM recording_segments WHERE kind = 'continuous' AND deleted_at IS NULL "
            "ORDER BY started_at, id"
        )
    ]
    proc, _ = stack.recorders["rec-a"]
    proc.stop()
    restarted = time.time()
    # A threshold no disk can meet: the guard purges in batches of 3, oldest first.
    stack.start_recorder("rec-a", RECORDINGS_MIN_FREE_BYTES=str(10**18), RECORDING_PURGE_BATCH="3")

    def gone() -> set[str]:
        live = {
            r["path"]
            for r in stack.db.fetch("SELECT path FROM recording_segments WHERE deleted_at IS NULL")
        }
        return {p for p in before if p not in live}

    wait_until(lambda: len(gone()) >= 6, 30, 0.2, "the disk guard to purge")
    deleted = gone()
    assert deleted == set(before[: len(deleted)]), "oldest continuous segments go first"
    assert all(not (stack.recordings / p).exists() for p in deleted)
    assert all((stack.recordings / p).exists() for p in kept_clips)
    assert {p for p in kept_clips} <= {r["path"] for r in stack.rows(cam3)}
    # Recording goes on meanwhile: new segments keep being written and announced.
    redis = Redis.from_url(REDIS_URL)
    try:

        def announced_since() -> bool:
            entries = redis.xrevrange(f"{stack.namespace}:{STREAM_SEGMENTS}", count=20)
            return any(
                SegmentClosed.model_validate_json(f[b"data"]).start.timestamp() > restarted
                and SegmentClosed.model_validate_json(f[b"data"]).camera_id == cam1
                for _, f in entries
            )

        wait_until(announced_since, 30, 0.5, "a new segment while purging")
    finally:
        redis.close()
    proc, url = stack.recorders["rec-a"]
    assert proc.alive and httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    low = wait_until(
        lambda: [
            e for e in _system_events(stack, "disk.low") if e["payload"]["recorder"] == "rec-a"
        ],
        10,
        0.5,
        "disk.low",
    )
    assert low[0]["severity"] == "critical" and low[0]["payload"]["threshold_ratio"] == 1.0
    proc.stop()
    stack.start_recorder("rec-a")


def _system_events(stack: Stack, type: str) -> list[dict[str, Any]]:
    resp = stack.api.get("/api/v1/events", params={"type": type})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])
