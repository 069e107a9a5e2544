"""Faults `make test` runs: Redis away for longer than the lease TTL, management away
(with the recorder restarted meanwhile), and a full disk. Each is measured (harness.py)
and must lose no video that recording could have kept, and leave no file unindexed."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from harness import SEGMENT_S, ChaosStack, fill, tmpfs
from redis import Redis

from argus_common.events import STREAM_SEGMENTS, SegmentClosed
from argus_recording.layout import segment_relpath
from argus_testkit import stack as kit

pytestmark = pytest.mark.timeout(400)

REDIS_OUTAGE_S = float(os.environ.get("ARGUS_CHAOS_REDIS_OUTAGE_S", "15"))  # > 3 s TTL
MANAGEMENT_OUTAGE_S = float(os.environ.get("ARGUS_CHAOS_MANAGEMENT_OUTAGE_S", "20"))


def redis_outage(stack: ChaosStack, seconds: float, how: str) -> None:
    """Redis stopped (``term`` or ``kill``; no persistence, so everything in it is lost) for
    ``seconds``, then started again on the same port; recording must not notice."""
    s = stack.up(modes=("continuous", "events"))
    cam2 = s.cameras["cam2"]
    since = datetime.now(UTC)
    t0 = time.time()
    files_before = s.files(s.cam)
    (s.kill if how == "kill" else s.term)("redis")
    deadline = time.monotonic() + seconds
    s.wait(lambda: not s.status()["redis_reachable"], 10, "the recorder to notice")
    # Recording goes on: new segments are written while Redis is away.
    s.wait(lambda: len(s.files(s.cam) - files_before) >= 2, seconds + 10,
           "new segments during the outage", interval=0.5)
    assert set(s.status()["recording"]) == set(s.cameras.values())
    time.sleep(max(0.0, deadline - time.monotonic()))  # the outage lasts what it lasts
    assert s.procs["recording"].alive
    s.restart("redis")
    t1 = time.time()
    result = s.measure(f"Redis {'kill -9' if how == 'kill' else 'stopped'} for {seconds:g} s "
                       "(state lost)", "live view and events pause; recording continues; "
                       "segments indexed when Redis is back", t0, t1, since)
    assert result.video_lost_s == 0, result
    assert result.rows_missing == 0, result
    # The events-mode camera recorded through the outage (nobody could tell it of events).
    s.wait(lambda: any(r["started_at"].timestamp() < t1 and r["ended_at"].timestamp() > t0 + 3
                       for r in s.rows(cam2)), 60, "the fail-safe clip of the events camera")
    assert s.recorder_log_has("leases_unrenewable_riding_out")
    assert not s.recorder_errors()


def test_redis_outage_longer_than_the_lease_ttl(chaos_stack: ChaosStack) -> None:
    redis_outage(chaos_stack, REDIS_OUTAGE_S, "term")


def test_management_outage_with_a_recorder_restart(chaos_stack: ChaosStack) -> None:
    s = chaos_stack.up()
    since = datetime.now(UTC)
    t0 = time.time()
    s.term("management")
    deadline = time.monotonic() + MANAGEMENT_OUTAGE_S
    # A recorder started while management is away records what it recorded before.
    stopping = time.time()
    s.term("recording")
    restarted = time.time()
    s.restart("recording")
    restart_s = time.time() - stopping
    s.wait(lambda: s.status()["cameras_from_cache"] and s.status()["recording"] == [s.cam],
           20, "the restarted recorder recording from its cached camera list")
    s.wait(lambda: any(int(Path(p).stem) / 1000 > restarted + SEGMENT_S
                       for p in s.files(s.cam)), 30, "segments after the restart")
    time.sleep(max(0.0, deadline - time.monotonic()))
    s.restart("management")
    t1 = time.time()
    s.wait(lambda: not s.status()["cameras_from_cache"], 30, "the list from management again")
    result = s.measure(
        f"management down {MANAGEMENT_OUTAGE_S:g} s, recorder restarted meanwhile",
        "the console is unavailable; recording continues (from the cached camera list); "
        "the index catches up", t0, t1, since,
        note=f"video lost is the recorder's own restart: {restart_s:.1f} s from SIGTERM to "
             "the new process answering, then the reconnect")
    assert result.rows_missing == 0, result
    assert result.video_lost_s <= restart_s + 3.0, result
    # The restarted recorder's stream.up, posted while management was away, arrived.
    s.wait(lambda: fetch_events(s, "stream.up", since) >= 1, 30, "stream.up delivered")
    assert not s.recorder_errors()


def fetch_events(s: ChaosStack, type_: str, since: datetime) -> int:
    from harness import fetch

    rows = fetch(s.db_url, "SELECT count(*) AS n FROM events WHERE type = $1 AND "
                 "created_at >= $2", type_, since.replace(tzinfo=None))
    return int(rows[0]["n"])


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("the disk-full test mounts a size-limited tmpfs: run it as root")
    with tmpfs(tmp_path / "small", 48) as path:
        yield path


def _old_segments(s: ChaosStack, count: int, size: int) -> list[str]:
    """Old continuous segments (filler bytes behind a real header) announced for indexing:
    what the disk guard may delete."""
    source = s.recordings / min(s.files(s.cam))
    header = source.read_bytes()
    paths = []
    redis = Redis.from_url(s.redis_url)
    try:
        for n in range(count):
            start_ms = int((time.time() - 86_400 + n * SEGMENT_S) * 1000)
            rel = segment_relpath(s.cam, start_ms)
            (s.recordings / rel).parent.mkdir(parents=True, exist_ok=True)
            (s.recordings / rel).write_bytes(header + b"\0" * (size - len(header)))
            start = datetime.fromtimestamp(start_ms / 1000, UTC)
            msg = SegmentClosed(camera_id=s.cam, path=rel, start=start,
                                end=datetime.fromtimestamp(start_ms / 1000 + SEGMENT_S, UTC),
                                duration=SEGMENT_S, bytes=size, codec="h264", width=320,
                                height=180)
            redis.xadd(f"{s.namespace}:{STREAM_SEGMENTS}", {"data": msg.model_dump_json()})
            paths.append(rel)
    finally:
        redis.close()
    return paths


def test_disk_full_during_recording(tmp_path: Path, small_disk: Path) -> None:
    db = kit.Database("argus_chaos").create(migrate=True)
    s = ChaosStack(tmp_path / "stack", db.url, db, recordings=small_disk)
    try:
        s.up()
        s.term("recording")
        restarted = time.time()
        s.restart_recorder_with(RECORDINGS_MIN_FREE_BYTES=str(6 << 20))
        old = _old_segments(s, 12, 2 << 20)
        # Recording again (the restarted recorder has closed a segment) before the fault.
        s.wait(lambda: any(r["started_at"].timestamp() > restarted for r in s.rows(s.cam)),
               30, "the restarted recorder recording")
        s.wait(lambda: {r["path"] for r in s.rows(s.cam)} >= set(old), 30, "old ones indexed")
        since = datetime.now(UTC)
        t0 = time.time()
        ballast = fill(small_disk)  # every byte taken: writes fail with ENOSPC
        s.wait(lambda: not set(old) <= s.files(s.cam), 30, "the disk guard deleting")
        result = s.measure("disk full during recording (48 MB filesystem, 6 MB guard)",
                           "disk.low alert; a few seconds missing while the guard frees "
                           "space; the oldest recordings go", t0, t0, since)
        assert result.rows_missing == 0, result
        assert result.video_lost_s <= 10.0, result
        assert any(k.endswith("disk.low") for k in result.alerts), result
        ballast.unlink()
    finally:
        s.stop()
        db.drop()
