"""Fencing, the outbox and the local disk guard (no stack): one writer per camera, a
reconcile that never cuts a live file, records that survive until delivered, the trim of
``argus:segments`` that never passes what management acknowledged, and the oldest
continuous files chosen when management is away."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from recmedia import write_fragmented
from redis.asyncio import Redis

from argus_recording.announce import trim_acknowledged
from argus_recording.fencing import LIVE, CameraLock
from argus_recording.layout import DirMaker, segment_relpath
from argus_recording.management import SegmentIndex
from argus_recording.mp4box import walk
from argus_recording.outbox import Outbox
from argus_recording.reconcile import reconcile_camera
from argus_recording.retention import local_candidates
from argus_recording.writer import KIND_TAG

REDIS_URL = os.environ["ARGUS_TEST_REDIS_URL"]


def test_one_writer_per_camera_and_the_lock_goes_with_its_holder(tmp_path: Path) -> None:
    first = CameraLock(tmp_path, 5, "rec-a")
    second = CameraLock(tmp_path, 5, "rec-b")
    other_camera = CameraLock(tmp_path, 6, "rec-b")
    assert first.try_acquire() and first.held
    # Same process, another open: excluded like another process would be.
    assert not second.try_acquire() and not second.held
    assert "rec-a" in second.current_holder()
    assert other_camera.try_acquire()
    first.release()
    first.release()  # idempotent
    assert second.try_acquire()
    stopped: list[bool] = []
    assert not first.wait_blocking(lambda: bool(stopped.append(True)) or len(stopped) > 2)
    second.release()
    other_camera.release()


async def test_a_new_owner_waits_for_the_lock_before_it_starts(tmp_path: Path) -> None:
    old = CameraLock(tmp_path, 1, "old")
    assert old.try_acquire()
    new = CameraLock(tmp_path, 1, "new")
    waiting = asyncio.create_task(new.wait())
    await asyncio.sleep(0.6)
    assert not waiting.done()
    old.release()
    assert await asyncio.wait_for(waiting, 5)
    new.release()


class Index:
    """What management's index says (nothing indexed) and what the recorder tells it."""

    def __init__(self) -> None:
        self.forgotten: list[str] = []

    async def segment_index(self, camera_id: int) -> SegmentIndex:
        return SegmentIndex(paths=frozenset(), deleted=())

    async def confirm_purged(self, ids: list[int]) -> None:
        pass

    async def forget_missing(self, camera_id: int, paths: list[str]) -> None:
        self.forgotten += paths


class Announced:
    def __init__(self) -> None:
        self.paths: list[str] = []

    async def announce(self, segment: Any) -> None:
        self.paths.append(segment.relpath)


def _torn_copy(source: Path, root: Path, camera_id: int, start_ms: int) -> tuple[str, int]:
    rel = segment_relpath(camera_id, start_ms)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, root / rel)
    with open(root / rel, "r+b") as f:  # cut mid-fragment: what a live file looks like
        f.truncate(source.stat().st_size * 2 // 3)
    return rel, (root / rel).stat().st_size


async def test_reconcile_never_cuts_a_file_that_is_being_written(tmp_path: Path) -> None:
    clean = tmp_path / "src.mp4"
    write_fragmented(clean, count=30, gop=5)
    root = tmp_path / "rec"
    live_rel, live_size = _torn_copy(clean, root, 9, 1_700_000_000_000)
    dead_rel, _ = _torn_copy(clean, root, 9, 1_699_999_000_000)
    LIVE.add(live_rel)
    try:
        announced = Announced()
        await reconcile_camera(9, "continuous", root, Index(), announced,  # type: ignore[arg-type]
                               durable=False)
        assert (root / live_rel).stat().st_size == live_size  # untouched
        assert announced.paths == [dead_rel]  # the torn file of a dead writer is repaired
        assert walk(root / dead_rel).clean
    finally:
        LIVE.discard(live_rel)


def test_a_new_segment_is_live_before_its_file_exists(tmp_path: Path) -> None:
    dirs = DirMaker(tmp_path, durable=False)
    _start, rel = dirs.new_segment(4, 1_700_000_000_000.0)
    try:
        assert rel in LIVE and not (tmp_path / rel).exists()
        # The same millisecond again (a reconnect): another name, never the live one.
        _, again = dirs.new_segment(4, 1_700_000_000_000.0)
        assert again != rel
        LIVE.discard(again)
    finally:
        LIVE.discard(rel)


def test_outbox_records_survive_a_restart_and_go_once_delivered(tmp_path: Path) -> None:
    box = Outbox.for_instance(tmp_path, "rec-a", durable=True)
    assert box.open()
    for n in range(3):
        box.put("segments", {"n": n})
    box.put("notices", {"kind": "event"})
    assert box.count() == 4
    box.close()  # the process dies: the records stay
    again = Outbox.for_instance(tmp_path, "rec-a")
    assert again.open()
    records = again.pending("segments")
    assert [r.data["n"] for r in records] == [0, 1, 2]
    again.done(records[0])
    assert [r.data["n"] for r in again.pending("segments")] == [1, 2]
    seq = again.put("segments", {"n": 3}).seq
    assert seq > records[-1].seq  # numbering goes on after the old records
    # A second live process cannot open the same outbox.
    assert not Outbox.for_instance(tmp_path, "rec-a").open()
    # Another recorder adopts an outbox only once its owner is gone.
    other = Outbox.for_instance(tmp_path, "rec-b")
    assert other.open()
    assert other.orphans() == []
    again.close()
    adopted = other.orphans()
    assert [o.directory.name for o in adopted] == ["rec-a"]
    for channel in ("segments", "notices"):
        for record in adopted[0].pending(channel):
            adopted[0].done(record)
    assert adopted[0].remove_if_empty() and not (tmp_path / ".argus/outbox/rec-a").exists()
    other.close()


def test_outbox_memory_fallback_via_a_missing_directory(tmp_path: Path) -> None:
    # The channel directory is gone, so the write fails (as on ENOSPC): kept in memory.
    box = Outbox(tmp_path / "box", durable=False)
    assert box.open()
    shutil.rmtree(tmp_path / "box" / "segments")
    record = box.put("segments", {"path": "1/x.mp4"})
    assert record.path is None and box.count() == 1
    assert box.pending("segments") == [record]
    box.done(record)
    assert box.count() == 0
    box.close()


async def test_segments_stream_is_trimmed_only_below_what_was_acknowledged() -> None:
    redis = Redis.from_url(REDIS_URL)
    key = f"argus-trim-{uuid.uuid4().hex[:8]}:segments"
    try:
        ids = [(await redis.xadd(key, {"data": str(n)})).decode() for n in range(30)]
        assert await trim_acknowledged(redis, key, keep=10) == 0  # no group: nobody read it
        await redis.xgroup_create(key, "management", id="0")
        got = await redis.xreadgroup("management", "c1", {key: ">"}, count=20)
        read = [eid.decode() for eid, _ in got[0][1]]
        await redis.xack(key, "management", *read[:12])  # 12 acked, 8 pending, 10 unread
        removed = await trim_acknowledged(redis, key, keep=10)
        assert removed == 12
        left = [eid.decode() for eid, _ in await redis.xrange(key)]
        assert left == ids[12:]
        assert await trim_acknowledged(redis, key, keep=100) == 0  # short enough: kept
    finally:
        await redis.delete(key)
        await redis.aclose()


def _segment(root: Path, camera_id: int, start_ms: int, size: int, kind: str) -> str:
    rel = segment_relpath(camera_id, start_ms)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(f"....moov{KIND_TAG}{kind}".encode() + b"\0" * size)
    return rel


def test_local_guard_picks_the_oldest_continuous_files(tmp_path: Path) -> None:
    base = 1_700_000_000_000
    old_event = _segment(tmp_path, 1, base, 1000, "event")
    oldest = _segment(tmp_path, 1, base + 1000, 1000, "continuous")
    other_cam = _segment(tmp_path, 2, base + 2000, 1000, "continuous")
    live = _segment(tmp_path, 2, base + 3000, 1000, "continuous")
    newer = _segment(tmp_path, 1, base + 4000, 1000, "continuous")
    newest_1 = _segment(tmp_path, 1, base + 9000, 1000, "continuous")
    _segment(tmp_path, 2, base + 9500, 1000, "continuous")
    LIVE.add(live)
    try:
        picked = [p for _, p, _ in local_candidates(tmp_path, 2500, limit=10)]
    finally:
        LIVE.discard(live)
    assert picked == [oldest, other_cam, newer]
    assert old_event not in picked and newest_1 not in picked
    assert [p for _, p, _ in local_candidates(tmp_path, 10**9, limit=1)] == [oldest]
