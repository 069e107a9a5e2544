"""Tiering to a real S3 store: SeaweedFS (``weed server -s3``), management (PostgreSQL,
Redis), the camera simulator and the recorder run as processes, stopped by PID at the end.

In order: segments move to the store (object verified, row points at it, local file gone,
the timeline says ``object``); crash states between the steps and a kill -9 during a large
upload leave exactly one reachable copy and no orphan once the restarted recorder has
reconciled; retention by age deletes the objects of old tiered segments; sidecars missing
from segments tiered before they were written are made by the restarted recorder.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from recstack import (
    REDIS_URL,
    WATCHED,
    Database,
    Proc,
    admin_api,
    drop_namespace,
    start_management,
    start_recorder,
    start_simulator,
    wait_until,
)
from redis import Redis

from argus_common.events import STREAM_SEGMENTS, SegmentClosed
from argus_common.mp4index import index_file
from argus_common.segindex import encode, index_path, read_index
from argus_recording.layout import segment_relpath
from argus_testkit.objectstore import LocalObjectStore

pytestmark = pytest.mark.timeout(240)

RECORDER = {
    "RECORDING_SEGMENT_SECONDS": "3",
    "RECORDING_LEASE_TTL_S": "3",
    "RECORDING_DISK_CHECK_INTERVAL_S": "1",
    "RECORDING_RETENTION_INTERVAL_S": "1",
    "RECORDINGS_MIN_FREE_BYTES": "0",
    "RECORDING_MIN_FREE_PERCENT": "0",
    "RECORDING_TIER_INTERVAL_S": "1",
    "RECORDING_TIER_RECONCILE_INTERVAL_S": "2",
    "RECORDING_TIER_ORPHAN_GRACE_S": "0",
}


@dataclass
class Stack:
    db: Database
    namespace: str
    api: httpx.Client
    recordings: Path
    management: str
    store: LocalObjectStore
    s3: Any
    camera: int
    recorder: Proc | None = None
    recorder_url: str = ""

    def start_recorder(self, wait: bool = True, **extra: str) -> Proc:
        env = {
            **RECORDER,
            **self.store.env(),
            "ARGUS_S3_CACHE_DIR": str(self.recordings.parent / "cache"),
            "RECORDING_TIER_CAMERAS": f"{self.camera}:0",
            **extra,
        }
        self.recorder, self.recorder_url = start_recorder(
            self.namespace, self.management, self.recordings, "rec-t", wait, **env
        )
        WATCHED[:] = [self.recorder]
        return self.recorder

    def rows(self) -> list[dict[str, Any]]:
        return self.db.fetch(
            "SELECT * FROM recording_segments WHERE camera_id = $1 "
            "AND deleted_at IS NULL ORDER BY started_at",
            self.camera,
        )

    def objects(self) -> dict[str, int]:
        """Key -> size of every object in the bucket."""
        out: dict[str, int] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.store.bucket):
            for item in page.get("Contents", []):
                out[item["Key"]] = item["Size"]
        return out

    def announce(self, rel: str, start: datetime, size: int) -> None:
        """Index a file written by the test (what the recorder's announcer does)."""
        message = SegmentClosed(
            camera_id=self.camera,
            path=rel,
            start=start,
            end=start + timedelta(seconds=3),
            duration=3.0,
            bytes=size,
            codec="h264",
            width=320,
            height=180,
        )
        redis = Redis.from_url(REDIS_URL)
        try:
            redis.xadd(f"{self.namespace}:{STREAM_SEGMENTS}", {"data": message.model_dump_json()})
        finally:
            redis.close()

    def consistent(self) -> list[str]:
        """What breaks "each live segment has exactly one reachable copy, no orphans"."""
        problems = []
        objects = self.objects()
        paths = set()
        for row in self.rows():
            paths.add(row["path"])
            local = (self.recordings / row["path"]).exists()
            if row["tier"] == "object":
                if row["object_key"] not in objects:
                    problems.append(f"{row['path']}: tiered but no object")
                if local:
                    problems.append(f"{row['path']}: tiered and still local")
            else:
                if not local:
                    problems.append(f"{row['path']}: local row without a file")
                if row["path"] in objects:
                    problems.append(f"{row['path']}: local row and an object")
        for key in objects:
            if key not in paths:
                problems.append(f"{key}: object without a live row")
        return problems


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("tiering")
    namespace = f"argus-tier-{uuid.uuid4().hex[:8]}"
    db = Database()
    db.create()
    procs: list[Proc] = []
    store = LocalObjectStore(base / "s3", bucket="argus-tier-test")
    stack: Stack | None = None
    saved = dict(os.environ)
    try:
        store.start()
        # Management reads tiered segments for exports from the same store.
        os.environ.update({**store.env(), "ARGUS_S3_CACHE_DIR": str(base / "mgmt-cache")})
        mgmt, mgmt_url = start_management(db, namespace, base / "data")
        os.environ.clear()
        os.environ.update(saved)
        procs.append(mgmt)
        sim, rtsp, _ = start_simulator(1, "--resolution", "320x180", "--fps", "15", "--gop", "1")
        procs.append(sim)
        api = admin_api(mgmt_url)
        resp = api.post(
            "/api/v1/cameras",
            json={
                "name": "tiered",
                "stream_url": f"rtsp://127.0.0.1:{rtsp}/cam1/main",
                "recording_mode": "continuous",
            },
        )
        assert resp.status_code == 201, resp.text
        stack = Stack(
            db,
            namespace,
            api,
            base / "recordings",
            mgmt_url,
            store,
            store.client(),
            resp.json()["id"],
        )
        stack.start_recorder()
        yield stack
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if stack is not None:
            if stack.recorder is not None:
                stack.recorder.stop()
            stack.api.close()
            stack.s3.close()
        for proc in reversed(procs):
            proc.stop()
        store.stop()
        drop_namespace(namespace)
        db.drop()


def test_segments_move_to_the_object_store_verified(stack: Stack) -> None:
    def two_tiered() -> list[dict[str, Any]] | None:
        rows = [r for r in stack.rows() if r["tier"] == "object"]
        return rows[:2] if len(rows) >= 2 else None

    tiered = wait_until(two_tiered, 60, 0.5, "two segments tiered")
    for row in tiered:
        assert row["object_key"] == row["path"]
        assert not (stack.recordings / row["path"]).exists()
        head = stack.s3.head_object(Bucket=stack.store.bucket, Key=row["object_key"])
        body = stack.s3.get_object(Bucket=stack.store.bucket, Key=row["object_key"])["Body"].read()
        assert head["ContentLength"] == len(body) == row["bytes"]
        assert head["ETag"].strip('"') == hashlib.md5(body, usedforsecurity=False).hexdigest()
        assert body[4:8] == b"ftyp"
        # The fragment index stays beside it, the same index the object itself gives.
        copy = stack.recordings.parent / "indexed.mp4"
        copy.write_bytes(body)
        assert read_index(stack.recordings / row["path"]) == index_file(copy)
        copy.unlink()
    since = tiered[0]["started_at"].replace(tzinfo=UTC) - timedelta(seconds=1)
    resp = stack.api.get(
        f"/api/v1/cameras/{stack.camera}/timeline",
        params={"start": since.isoformat(), "end": datetime.now(UTC).isoformat()},
    )
    assert resp.status_code == 200, resp.text
    tiers = {s["path"]: s["tier"] for s in resp.json()["segments"]}
    assert tiers[tiered[0]["path"]] == "object"
    metrics = httpx.get(f"{stack.recorder_url}/metrics", timeout=5).text
    assert "argus_recording_tier_uploaded_bytes_total" in metrics
    assert 'argus_recording_tier_bytes{tier="object"}' in metrics


def test_tiered_segments_export(stack: Stack) -> None:
    rows = [r for r in stack.rows() if r["tier"] == "object"][:2]
    start = rows[0]["started_at"].replace(tzinfo=UTC)
    end = rows[-1]["ended_at"].replace(tzinfo=UTC)
    assert not any((stack.recordings / r["path"]).exists() for r in rows)
    resp = stack.api.post(
        "/api/v1/exports",
        json={
            "name": "tiered",
            "reason": "tiering test",
            "cameras": [stack.camera],
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )
    assert resp.status_code == 202, resp.text
    export_id = resp.json()["id"]

    def finished() -> dict[str, Any] | None:
        body = stack.api.get(f"/api/v1/exports/{export_id}").json()
        return body if body["state"] in ("done", "failed") else None

    done = wait_until(finished, 90, 0.5, "the export")
    assert done["state"] == "done", done
    assert done["files"] and done["files"][0]["frames"] > 0
    exported = done["files"][0]
    span = datetime.fromisoformat(exported["end"]) - datetime.fromisoformat(exported["start"])
    assert span.total_seconds() > 1


def test_crash_states_and_kill_9_during_upload_leave_one_copy(stack: Stack) -> None:
    assert stack.recorder is not None
    stack.recorder.stop()
    source = next(r for r in stack.rows() if r["tier"] == "object")
    body = stack.s3.get_object(Bucket=stack.store.bucket, Key=source["object_key"])["Body"].read()
    made = []
    for n in range(2):  # two local segments, indexed while no recorder runs
        start = datetime.now(UTC) - timedelta(hours=2, seconds=-3 * n)
        rel = segment_relpath(stack.camera, int(start.timestamp() * 1000))
        (stack.recordings / rel).parent.mkdir(parents=True, exist_ok=True)
        (stack.recordings / rel).write_bytes(body)
        stack.announce(rel, start, len(body))
        made.append(rel)
    rows = wait_until(
        lambda: (
            [r for r in stack.rows() if r["path"] in made]
            if len([r for r in stack.rows() if r["path"] in made]) == 2
            else None
        ),
        20,
        0.2,
        "rows of the test's segments",
    )
    # Crash after the upload, before the index: an object beside a local row.
    a = rows[0]
    stack.s3.put_object(
        Bucket=stack.store.bucket, Key=a["path"], Body=(stack.recordings / a["path"]).read_bytes()
    )
    # Crash after the index, before the unlink: a tiered row with its local file left.
    b = rows[1]
    stack.s3.put_object(
        Bucket=stack.store.bucket, Key=b["path"], Body=(stack.recordings / b["path"]).read_bytes()
    )
    stack.db.execute(
        "UPDATE recording_segments SET tier = 'object', object_key = path WHERE id = $1", b["id"]
    )
    # An object whose row is gone (uploaded, then the row was purged).
    orphan = segment_relpath(stack.camera, int((time.time() - 7200) * 1000))
    stack.s3.put_object(Bucket=stack.store.bucket, Key=orphan, Body=b"orphan")
    # A large segment, so the restarted recorder is killed while it uploads it.
    start = datetime.now(UTC) - timedelta(hours=1)
    big = segment_relpath(stack.camera, int(start.timestamp() * 1000))
    (stack.recordings / big).parent.mkdir(parents=True, exist_ok=True)
    with open(stack.recordings / big, "wb") as f:
        f.write((stack.recordings / a["path"]).read_bytes()[:32])
        f.write(os.urandom(300 * 2**20))
    size = (stack.recordings / big).stat().st_size
    stack.announce(big, start, size)
    wait_until(lambda: any(r["path"] == big for r in stack.rows()), 20, 0.2, "big row")

    # Watched from its start, not from its readiness: the big segment is the oldest due and
    # may be uploaded whole before a loaded recorder answers /readyz (the test once missed
    # the upload that way). Wait until its upload is under way, then kill -9.
    proc = stack.start_recorder(wait=False)
    wait_until(
        lambda: _reading(proc.pid, stack.recordings / big),
        30,
        0.05,
        "the recorder reading the big segment",
    )
    proc.kill()
    assert (stack.recordings / big).exists()

    stack.start_recorder()
    wait_until(
        lambda: (
            not stack.consistent()
            and not any(
                r["tier"] == "local" and r["path"] in (a["path"], b["path"], big)
                for r in stack.rows()
            )
            and orphan not in stack.objects()
        ),
        90,
        0.5,
        "reconcile and tiering to settle",
    )
    objects = stack.objects()
    tiered = {r["path"]: r for r in stack.rows()}
    for path in (a["path"], b["path"], big):
        assert tiered[path]["tier"] == "object" and not (stack.recordings / path).exists()
        assert objects[path] == tiered[path]["bytes"] or path == big
    assert objects[big] == size
    assert orphan not in objects
    # a was moved again, b's index was written by the reconcile before it dropped the copy.
    for path in (a["path"], b["path"]):
        assert read_index(stack.recordings / path) is not None, path


def _reading(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (its upload is reading it)."""
    try:
        return any(
            os.readlink(f"/proc/{pid}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{pid}/fd")
        )
    except OSError:
        return False


def test_retention_deletes_tiered_objects(stack: Stack) -> None:
    source = next(r for r in stack.rows() if r["tier"] == "object")
    body = stack.s3.get_object(Bucket=stack.store.bucket, Key=source["object_key"])["Body"].read()
    old = []
    for days in (3, 4):
        start = datetime.now(UTC) - timedelta(days=days)
        rel = segment_relpath(stack.camera, int(start.timestamp() * 1000))
        (stack.recordings / rel).parent.mkdir(parents=True, exist_ok=True)
        (stack.recordings / rel).write_bytes(body)
        stack.announce(rel, start, len(body))
        old.append(rel)
    wait_until(lambda: all(p in stack.objects() for p in old), 60, 0.5, "old segments tiered")
    wait_until(lambda: not any((stack.recordings / p).exists() for p in old), 30, 0.2,
               "old segments' local copies removed")
    assert all(index_path(stack.recordings / p).is_file() for p in old)
    resp = stack.api.patch(f"/api/v1/cameras/{stack.camera}", json={"retention_days": 2})
    assert resp.status_code == 200, resp.text

    def purged() -> bool:
        rows = stack.db.fetch("SELECT path FROM recording_segments WHERE path = ANY($1)", old)
        return not rows and not (set(old) & set(stack.objects()))

    wait_until(purged, 60, 0.5, "old tiered segments purged from the store")
    assert not stack.consistent()
    assert not any(index_path(stack.recordings / p).exists() for p in old)


def test_sidecars_missing_from_before_are_made_in_the_background(stack: Stack) -> None:
    """Segments tiered before the recorder wrote fragment indexes (their sidecars removed
    while no recorder runs) get them from the restarted recorder's back-fill, the same bytes
    the indexer makes of each object."""
    def tiered_with_sidecars() -> list[dict[str, Any]]:
        rows = [
            r for r in stack.rows()
            if r["tier"] == "object" and index_path(stack.recordings / r["path"]).is_file()
        ]
        return rows[:3] if len(rows) >= 3 else []

    rows = wait_until(tiered_with_sidecars, 60, 0.5, "three tiered segments")
    assert stack.recorder is not None
    stack.recorder.stop()
    for row in rows:
        index_path(stack.recordings / row["path"]).unlink()
    stack.start_recorder(RECORDING_TIER_SIDECARS_PER_MINUTE="600")
    wait_until(
        lambda: all(index_path(stack.recordings / r["path"]).is_file() for r in rows),
        60,
        0.3,
        "the missing sidecars back-filled",
    )
    copy = stack.recordings.parent / "backfilled.mp4"
    for row in rows:
        body = stack.s3.get_object(Bucket=stack.store.bucket, Key=row["object_key"])["Body"].read()
        copy.write_bytes(body)
        expected = encode(index_file(copy), len(body))
        assert index_path(stack.recordings / row["path"]).read_bytes() == expected, row["path"]
        assert not (stack.recordings / row["path"]).exists()
    copy.unlink()
    metrics = httpx.get(f"{stack.recorder_url}/metrics", timeout=5).text
    assert 'argus_recording_tier_sidecar_backfill_total{outcome="made"}' in metrics
    assert not stack.consistent()
