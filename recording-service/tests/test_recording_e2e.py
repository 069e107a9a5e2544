"""recording-service against real processes: camera simulator (RTSP, Digest), management
(PostgreSQL, Redis) and recorders run as subprocesses, stopped by PID at the end.

One scenario, in order: 20 s of continuous recording checked frame by frame, faults and
reconnects, event recording with pre-roll, kill -9 and restart, retention by age, the disk
guard, and two recorders sharing cameras with a takeover. Segments are 5 s, GOPs 1 s,
pictures 320x180 at 15 fps, so the whole module stays around two to three minutes.
"""

from __future__ import annotations

import itertools
import json
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from recstack import (
    ADMIN_PASSWORD,
    CAMERA_PASSWORD,
    REDIS_URL,
    WATCHED,
    Database,
    Proc,
    burnt_stamps,
    start_management,
    start_recorder,
    start_simulator,
    wait_until,
)
from redis import Redis

from argus_common.events import STREAM_SEGMENTS, SegmentClosed
from argus_recording.layout import list_segments, segment_relpath
from argus_recording.mp4box import walk

pytestmark = pytest.mark.timeout(150)

FPS = 15
FRAME_MS = 1000 / FPS
SEGMENT_S = 5
RECORDER = {
    "RECORDING_SEGMENT_SECONDS": str(SEGMENT_S),
    "RECORDING_LEASE_TTL_S": "3",
    "RECORDING_PRE_ROLL_S": "5",
    "RECORDING_POST_ROLL_S": "2",
    "RECORDING_DISK_CHECK_INTERVAL_S": "1",
    "RECORDING_RETENTION_INTERVAL_S": "1",
    "RECORDINGS_MIN_FREE_BYTES": "0",
    "RECORDING_MIN_FREE_PERCENT": "0",
    "RECORDING_CAMERA_REFRESH_S": "30",
}


@dataclass
class Stack:
    db: Database
    namespace: str
    api: httpx.Client
    recordings: Path
    control: str
    management: str
    cameras: dict[str, int]
    recorders: dict[str, tuple[Proc, str]] = field(default_factory=dict)
    started: list[Proc] = field(default_factory=list)

    def start_recorder(self, instance: str, **extra: str) -> tuple[Proc, str]:
        self.recorders[instance] = start_recorder(
            self.namespace, self.management, self.recordings, instance, **{**RECORDER, **extra}
        )
        self.started.append(self.recorders[instance][0])
        WATCHED[:] = [proc for proc, _ in self.recorders.values()]
        return self.recorders[instance]

    def errors(self) -> list[str]:
        """Error lines and tracebacks any recorder logged (none is expected)."""
        return [
            line
            for proc in self.started
            for line in proc.output
            if ('"level": "error"' in line or "Traceback" in line)
            and '"route": "/readyz"' not in line
        ]  # 503 until cameras are loaded

    def status(self, instance: str) -> dict[str, Any]:
        proc, url = self.recorders[instance]
        assert proc.alive, proc.tail()
        return dict(httpx.get(f"{url}/status", timeout=5).json())

    def fault(self, cam: str, body: dict[str, Any]) -> None:
        resp = httpx.post(f"{self.control}/faults/{cam}", json=body, timeout=10)
        assert resp.status_code == 200, resp.text

    def timeline(self, camera_id: int, since: datetime) -> dict[str, Any]:
        now = datetime.now(UTC)
        resp = self.api.get(
            f"/api/v1/cameras/{camera_id}/timeline",
            params={"start": since.isoformat(), "end": (now + timedelta(minutes=1)).isoformat()},
        )
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def rows(self, camera_id: int) -> list[dict[str, Any]]:
        return self.db.fetch(
            "SELECT * FROM recording_segments WHERE camera_id = $1 ORDER BY started_at", camera_id
        )

    def events(self, camera_id: int, type: str) -> list[dict[str, Any]]:
        resp = self.api.get("/api/v1/events", params={"camera_id": camera_id, "type": type})
        assert resp.status_code == 200, resp.text
        return list(resp.json()["items"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("recording")
    namespace = f"argus-rec-{uuid.uuid4().hex[:8]}"
    db = Database()
    db.create()
    procs: list[Proc] = []
    stack: Stack | None = None
    try:
        mgmt, mgmt_url = start_management(db, namespace, base / "data")
        procs.append(mgmt)
        sim, rtsp, control = start_simulator(
            4,
            "--resolution",
            "320x180",
            "--fps",
            str(FPS),
            "--gop",
            "1",
            "--audio",
            "--auth",
            "digest",
            "--username",
            "cam admin",
            "--password",
            CAMERA_PASSWORD,
        )
        procs.append(sim)
        api = httpx.Client(base_url=mgmt_url, timeout=10)
        token = api.post(
            "/api/v1/auth/login", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert token.status_code == 200, token.text
        api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        cameras = {}
        for n, mode in ((1, "continuous"), (2, "continuous"), (3, "events"), (4, "continuous")):
            resp = api.post(
                "/api/v1/cameras",
                json={
                    "name": f"cam{n}",
                    "stream_url": f"rtsp://127.0.0.1:{rtsp}/cam{n}/main",
                    "username": "cam admin",
                    "password": CAMERA_PASSWORD,
                    "recording_mode": mode,
                    # Short timeouts only where faults are injected: elsewhere a loaded machine
                    # must not turn into reconnects.
                    "connect_timeout_s": 1.5 if n == 2 else 3.0,
                    "read_timeout_s": 1.0 if n == 2 else 3.0,
                },
            )
            assert resp.status_code == 201, resp.text
            cameras[f"cam{n}"] = resp.json()["id"]
        stack = Stack(
            db,
            namespace,
            api,
            base / "recordings",
            f"http://127.0.0.1:{control}",
            mgmt_url,
            cameras,
        )
        stack.start_recorder("rec-a")
        yield stack
    finally:
        errors: list[str] = []
        if stack is not None:
            for proc in stack.started:  # every recorder ever started here, by PID
                proc.stop()
            stack.api.close()
            errors = stack.errors()
        for proc in reversed(procs):
            proc.stop()
        redis = Redis.from_url(REDIS_URL)
        keys = list(redis.scan_iter(match=f"{namespace}:*"))
        if keys:
            redis.delete(*keys)
        redis.close()
        db.drop()
    assert not errors, "recorders logged errors:\n" + "\n".join(errors[:20])


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000


def _stamps(path: Path) -> tuple[int, list[int | None]]:
    """Frame count and the burnt-in times of the first and last frame."""
    count, first, last = burnt_stamps(path)
    return count, [first, last]


def _contiguous_run(segments: list[dict[str, Any]], seconds: float) -> list[dict[str, Any]]:
    """The first run of back-to-back segments lasting ``seconds``."""
    run: list[dict[str, Any]] = []
    for seg in segments:
        if run and seg["start"] != run[-1]["end"]:
            run = []
        run.append(seg)
        if _ts(run[-1]["end"]) - _ts(run[0]["start"]) >= seconds * 1000:
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
        assert seg["path"] == segment_relpath(cam, int(_ts(seg["start"])))
        assert (seg["codec"], seg["width"], seg["height"], seg["kind"]) == (
            "h264",
            320,
            180,
            "continuous",
        )
        assert seg["has_audio"] and seg["bytes"] == path.stat().st_size
        frames, (first, last) = _stamps(path)
        start, end = _ts(seg["start"]), _ts(seg["end"])
        assert abs(frames - (end - start) / FRAME_MS) <= FPS, (seg, frames)  # ± one GOP
        assert first is not None and last is not None, seg
        assert abs(start - first) <= FRAME_MS + 100, (seg["path"], start - first)
        assert abs((end - FRAME_MS) - last) <= FRAME_MS + 100, (seg["path"], end - last)
        total += frames
    span = _ts(run[-1]["end"]) - _ts(run[0]["start"])
    assert abs(total - span / FRAME_MS) <= FPS
    with av.open(str(stack.recordings / run[0]["path"])) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    ranges = stack.timeline(cam, since)["recordings"]
    assert any(
        _ts(r["start"]) <= _ts(run[0]["start"]) and _ts(r["end"]) >= _ts(run[-1]["end"])
        for r in ranges
    ), "touching segments must merge into one range"


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
        assert _ts(b["start"]) - _ts(a["end"]) >= 500, "a reconnect leaves a visible gap"


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


def test_event_recording_has_pre_roll_and_merges_overlaps(stack: Stack) -> None:
    cam = stack.cameras["cam3"]
    since = datetime.now(UTC) - timedelta(minutes=5)
    first = stack.api.post(f"/api/v1/cameras/{cam}/record", json={"duration_s": 2})
    assert first.status_code == 202, first.text
    time.sleep(1.0)
    second = stack.api.post(f"/api/v1/cameras/{cam}/record", json={"duration_s": 2})
    assert second.status_code == 202, second.text
    trigger = _ts(first.json()["started_at"])
    last_end = _ts(second.json()["ends_at"])

    def clips() -> list[dict[str, Any]]:
        return [s for s in stack.timeline(cam, since)["segments"] if s["kind"] == "event"]

    found = wait_until(clips, 30, 1.0, "the event clip")
    time.sleep(SEGMENT_S + 2)  # nothing else may follow for these events
    found = clips()
    assert len(found) == 1, found  # overlapping events: one clip
    clip = found[0]
    assert _ts(clip["start"]) <= trigger - 5000
    assert _ts(clip["end"]) >= last_end + 2000 - FRAME_MS * 2  # post-roll
    frames, (first_stamp, _) = _stamps(stack.recordings / clip["path"])
    assert first_stamp is not None and first_stamp <= trigger - 5000
    assert frames >= (last_end + 2000 - trigger + 5000) / FRAME_MS - FPS
    assert not [s for s in stack.timeline(cam, since)["segments"] if s["kind"] != "event"]
    events = {e["id"] for e in stack.timeline(cam, since)["events"]}
    assert {first.json()["event_id"], second.json()["event_id"]} <= events
    audit = stack.api.get("/api/v1/audit", params={"action": "recording.trigger"})
    assert audit.status_code == 200, audit.text
    assert len([a for a in audit.json()["items"] if a["target_id"] == str(cam)]) == 2


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
    frames, (first, _) = _stamps(torn)
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


def test_two_recorders_share_cameras_and_take_over_within_30s(stack: Stack) -> None:
    stack.start_recorder("rec-b")
    everything = set(stack.cameras.values())

    def shared() -> bool:
        a, b = set(stack.status("rec-a")["recording"]), set(stack.status("rec-b")["recording"])
        return bool(a and b and not (a & b) and a | b == everything)

    wait_until(shared, 40, 0.5, "cameras shared between two recorders")
    redis = Redis.from_url(REDIS_URL)
    try:

        def heartbeat() -> dict[str, Any]:
            beat = json.loads(redis.get(f"{stack.namespace}:recorder:rec-b") or b"{}")
            owned = set(stack.status("rec-b")["owned"])
            return beat if owned and set(beat.get("cameras", ())) == owned else {}

        assert wait_until(heartbeat, 12, 0.5, "rec-b's heartbeat")["instance"] == "rec-b"
    finally:
        redis.close()
    from_a = set(stack.status("rec-a")["owned"])
    stack.recorders["rec-a"][0].kill()
    killed = time.monotonic()
    wait_until(
        lambda: set(stack.status("rec-b")["recording"]) == everything,
        30,
        0.25,
        "rec-b to take every camera",
    )
    assert time.monotonic() - killed < 30
    camera = min(from_a)
    since = time.time()
    wait_until(
        lambda: any(r["started_at"].timestamp() > since for r in stack.rows(camera)),
        30,
        0.5,
        "rec-b recording a taken-over camera",
    )


def test_a_joining_recorder_gets_cameras_make_before_break(stack: Stack) -> None:
    """One recorder holds every camera, a second one joins: the continuous cameras it gets
    are handed over at a keyframe. Their index and their files run on without a gap or an
    overlap: the old owner's last frame and the new owner's first are one frame apart."""
    for proc, _url in stack.recorders.values():
        proc.stop()  # a clean stop gives the leases back
    everything = set(stack.cameras.values())
    # Only rec-c's and rec-d's segments count: rec-c took the cameras over from the stopped
    # recorders the old way, and that gap may end inside the window below (it did at load 10).
    c_started = time.time()
    stack.start_recorder("rec-c")
    wait_until(
        lambda: set(stack.status("rec-c")["recording"]) == everything,
        30,
        0.25,
        "rec-c to record every camera",
    )
    joined = time.time()
    stack.start_recorder("rec-d")

    def shared() -> set[int]:
        c, d = stack.status("rec-c"), stack.status("rec-d")
        split = (
            len(c["recording"]) == len(d["recording"]) == 2
            and set(c["recording"]) | set(d["recording"]) == everything
        )
        return set(d["recording"]) if split and set(c["owned"]) == set(c["recording"]) else set()

    moved = wait_until(shared, 40, 0.25, "cameras rebalanced onto rec-d")
    proc_d = stack.recorders["rec-d"][0]
    handed = {
        json.loads(line)["camera_id"]
        for line in proc_d.output
        if '"handover": true' in line and '"camera_taken"' in line
    }
    continuous = {stack.cameras[c] for c in ("cam1", "cam2", "cam4")}
    # cam3 (events mode, no event now) may be handed over too: its own test is below.
    assert handed & continuous and handed <= moved, (handed, moved)
    for camera_id in handed & continuous:
        # rec-d's first and second segments indexed: the handover lies behind them.
        def after(camera_id: int = camera_id) -> list[dict[str, Any]]:
            rows = [r for r in stack.rows(camera_id) if r["started_at"].timestamp() > joined]
            return rows if len(rows) >= 3 else []

        rows = wait_until(after, 30, 0.5, f"segments of camera {camera_id} after the join")
        previous = None
        for row in [
            r for r in stack.rows(camera_id)
            if r["ended_at"].timestamp() > joined - SEGMENT_S
            and r["started_at"].timestamp() >= c_started
        ]:
            count, (first, last) = _stamps(stack.recordings / row["path"])
            assert count and first is not None and last is not None, row["path"]
            if previous is not None:
                gap_ms = (row["started_at"] - previous[0]["ended_at"]).total_seconds() * 1000
                assert abs(gap_ms) < 1.0, ("index", camera_id, gap_ms)
                step = first - previous[1]
                assert abs(step - FRAME_MS) < FRAME_MS / 2, ("frames", camera_id, step)
            previous = (row, last)
        assert len(rows) >= 3


def _handed_to(proc: Proc, camera_id: int) -> bool:
    """Whether ``proc`` logged taking ``camera_id`` by a make-before-break handover."""
    for line in proc.output:
        if '"camera_taken"' in line and '"handover": true' in line:
            if json.loads(line).get("camera_id") == camera_id:
                return True
    return False


def _event_rows(stack: Stack, camera_id: int, since_ms: float) -> list[dict[str, Any]]:
    return [
        r for r in stack.rows(camera_id)
        if r["kind"] == "event" and r["ended_at"].timestamp() * 1000 > since_ms
    ]


def test_an_events_camera_is_handed_over_make_before_break(stack: Stack) -> None:
    """cam3 records on events. Handed over while an event clip is open, the clip goes on
    at the new owner from the keyframe the old one cut at (no gap in the index or the
    burnt-in frame times) to the event's end plus post-roll; handed over between events,
    an event right after the handover still gets its whole pre-roll (the new owner's
    standby buffered it)."""
    cam = stack.cameras["cam3"]
    everything = set(stack.cameras.values())
    # rec-d alone holds every camera (rec-c stops cleanly: the old way).
    stack.recorders["rec-c"][0].stop()
    wait_until(
        lambda: set(stack.status("rec-d")["recording"]) == everything,
        30, 0.25, "rec-d to record every camera",
    )
    # (b) During an event: rec-e joins while a 20 s manual event records on rec-d.
    resp = stack.api.post(f"/api/v1/cameras/{cam}/record", json={"duration_s": 20})
    assert resp.status_code == 202, resp.text
    trigger, ends = _ts(resp.json()["started_at"]), _ts(resp.json()["ends_at"])
    proc_e, _url = stack.start_recorder("rec-e", RECORDING_LEASE_TTL_S="5")
    wait_until(lambda: _handed_to(proc_e, cam), 40, 0.25, "cam3 handed over to rec-e")
    assert time.time() * 1000 < ends - 1000, "the handover came after the event ended"
    want_end = ends + 2000 - 2 * FRAME_MS  # the post-roll

    def clip_parts() -> list[dict[str, Any]]:
        rows = _event_rows(stack, cam, trigger - 6000)
        done = rows and rows[-1]["ended_at"].timestamp() * 1000 >= want_end
        return rows if done else []

    parts = wait_until(clip_parts, 40, 0.5, "the event clip across the handover")
    assert len(parts) >= 2, [r["path"] for r in parts]  # the old owner's part, the new one's
    assert parts[0]["started_at"].timestamp() * 1000 <= trigger - 5000  # pre-roll
    previous = None
    seams: list[float] = []
    for row in parts:
        count, (first, last) = _stamps(stack.recordings / row["path"])
        assert count and first is not None and last is not None, row["path"]
        if previous is not None:
            gap_ms = (row["started_at"] - previous[0]["ended_at"]).total_seconds() * 1000
            assert abs(gap_ms) < 1.0, ("index", gap_ms)
            step = first - previous[1]
            assert abs(step - FRAME_MS) < FRAME_MS / 2, ("frames", step)
            seams.append(gap_ms)
        previous = (row, last)
    print(f"events handover mid-clip: {len(parts)} parts, index seams ms {seams}")
    cut = [line for line in stack.recorders["rec-d"][0].output if "handover_cut_at_keyframe" in line]
    assert cut, "rec-d did not cut the clip at a keyframe"

    # (a) Between events: rec-d stops cleanly, rec-e takes all; rec-f joins and gets cam3.
    stack.recorders["rec-d"][0].stop()
    wait_until(
        lambda: set(stack.status("rec-e")["recording"]) == everything,
        30, 0.25, "rec-e to record every camera",
    )
    proc_f, _url = stack.start_recorder("rec-f", RECORDING_LEASE_TTL_S="5")
    wait_until(lambda: _handed_to(proc_f, cam), 40, 0.1, "cam3 handed over to rec-f")
    taken = time.time() * 1000
    resp = stack.api.post(f"/api/v1/cameras/{cam}/record", json={"duration_s": 2})
    assert resp.status_code == 202, resp.text
    trigger2, ends2 = _ts(resp.json()["started_at"]), _ts(resp.json()["ends_at"])
    # Started from scratch, rec-f could have at most this much before the event.
    assert trigger2 - taken < 4000, trigger2 - taken
    assert any("handover_cut_idle" in line for line in proc_e.output)

    def clip() -> list[dict[str, Any]]:
        rows = _event_rows(stack, cam, trigger2)
        return rows if rows and rows[-1]["ended_at"].timestamp() * 1000 >= ends2 + 1800 else []

    (row,) = wait_until(clip, 30, 0.5, "the event clip after the handover")
    count, (first, _last) = _stamps(stack.recordings / row["path"])
    assert count and first is not None
    assert first <= trigger2 - 5000, (trigger2 - first, trigger2 - taken)
    assert row["started_at"] >= parts[-1]["ended_at"]  # nothing recorded twice
    print(
        f"events handover between events: pre-roll {(trigger2 - first) / 1000:.2f} s, "
        f"event {(trigger2 - taken) / 1000:.2f} s after the take"
    )

