"""Off-site copies of evidence (``/api/v1/offsite``), as background jobs against a real
SeaweedFS: a request is checked and queued (202 and the job; 503 without a store, 409 for an
unfinished export or a released hold, 403 without the permission), the app's runner copies
an export's bundle or the segments a range hold protects, from both tiers, with a manifest,
and audits it as the requester; a job whose runner died is claimed again and finished, a
store that refuses is tried again and then the job fails (audited)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.exports.models import Export
from argus_management.exports.service import bundle_path
from argus_management.offsite.models import OffsiteCopy
from argus_management.offsite.runner import MAX_ATTEMPTS, OffsiteRunner
from argus_management.recordings.models import RecordingSegment
from argus_testkit.objectstore import LocalObjectStore

from factories.cameras import create_camera
from factories.holds import hold_range
from factories.offsite import add_offsite_copy
from factories.recordings import add_segment
from factories.users import bearer, create_user

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
S3_KEYS = (
    "ARGUS_S3_ENDPOINT_URL",
    "ARGUS_S3_REGION",
    "ARGUS_S3_BUCKET",
    "ARGUS_S3_PREFIX",
    "ARGUS_S3_ACCESS_KEY_ID",
    "ARGUS_S3_SECRET_ACCESS_KEY",
    "ARGUS_S3_SECRET_ACCESS_KEY_FILE",
    "ARGUS_S3_PATH_STYLE",
    "ARGUS_S3_CACHE_DIR",
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalObjectStore]:
    with LocalObjectStore(tmp_path_factory.mktemp("s3"), bucket="argus-offsite-test") as s:
        yield s


@pytest.fixture
def s3_env(
    store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> LocalObjectStore:
    for key in S3_KEYS:
        monkeypatch.delenv(key, raising=False)
    for key, value in store.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ARGUS_S3_PREFIX", "site-a")
    monkeypatch.setenv("ARGUS_S3_CACHE_DIR", str(tmp_path / "cache"))
    return store


async def _done_export(
    maker: async_sessionmaker[AsyncSession], settings: Settings, state: str = "done"
) -> Export:
    async with maker() as s:
        export = Export(
            name="case 12",
            reason="investigation",
            items=[],
            range_start=T0,
            range_end=T0 + timedelta(minutes=1),
            state=state,
            created_by=1,
            manifest_sha256="ab" * 32,
        )
        s.add(export)
        await s.commit()
    path = bundle_path(settings, export)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK-bundle-" + bytes(range(256)) * 40)
    return export


def _get(store: LocalObjectStore, key: str) -> bytes:
    client = store.client()
    try:
        return bytes(client.get_object(Bucket=store.bucket, Key=key)["Body"].read())
    finally:
        client.close()


async def _audit(maker: async_sessionmaker[AsyncSession], action: str) -> list[dict[str, object]]:
    async with maker() as s:
        rows = await s.scalars(select(AuditEntry.summary).where(AuditEntry.action == action))
        return list(rows)


async def _finished(
    client: httpx.AsyncClient, headers: dict[str, str], accepted: httpx.Response
) -> dict[str, object]:
    """Follow a 202's job until the app's runner ends it (bounded: 30 s)."""
    assert accepted.status_code == 202, accepted.text
    location = accepted.headers["Location"]
    assert location == f"/api/v1/offsite/jobs/{accepted.json()['id']}"
    assert accepted.json()["state"] == "queued"
    for _ in range(300):
        job = (await client.get(location, headers=headers)).json()
        if job["state"] in ("done", "failed"):
            return dict(job)
        await asyncio.sleep(0.1)
    raise AssertionError(f"job still {job['state']} after 30 s")


async def _ticked_until(
    runner: OffsiteRunner, maker: async_sessionmaker[AsyncSession], job_id: int, state: str
) -> OffsiteCopy:
    """Tick ``runner`` until job ``job_id`` is in ``state`` (bounded: 100 rounds); its row.
    The app's own runner may take the job first: either one finishing it will do."""
    for _ in range(100):
        async with maker() as s:
            row = await s.get(OffsiteCopy, job_id)
            assert row is not None
            if row.state == state:
                return row
        await runner.tick()
        await asyncio.gather(*runner.running.values())
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} still {row.state}, not {state}, after 100 rounds")


async def test_export_copied_offsite(
    client: httpx.AsyncClient,
    settings: Settings,
    maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    s3_env: LocalObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    export = await _done_export(maker, settings)
    resp = await client.post(f"/api/v1/offsite/exports/{export.id}", headers=admin_headers)
    body = await _finished(client, admin_headers, resp)
    folder = f"site-a/evidence/exports/{export.id}"
    assert body["state"] == "done", body
    assert (body["bucket"], body["folder"], body["objects"]) == (s3_env.bucket, folder, 2)
    assert (body["kind"], body["target_id"], body["requested_by"]) == ("export", export.id, "admin")
    stored = _get(s3_env, f"{folder}/argus-export-{export.id}.zip")
    assert stored == bundle_path(settings, export).read_bytes()
    manifest = json.loads(_get(s3_env, f"{folder}/manifest.json"))
    assert manifest["export_id"] == export.id and manifest["manifest_sha256"] == "ab" * 32
    [done] = [a for a in await _audit(maker, "export.offsite") if a["job_id"] == body["id"]]
    assert done["folder"] == folder
    assert {"job_id": body["id"]} in await _audit(maker, "offsite.request")

    queued = await _done_export(maker, settings, state="queued")
    resp = await client.post(f"/api/v1/offsite/exports/{queued.id}", headers=admin_headers)
    assert resp.status_code == 409
    assert (
        await client.post("/api/v1/offsite/exports/999999", headers=admin_headers)
    ).status_code == 404
    monkeypatch.setenv("ARGUS_S3_BUCKET", "")
    resp = await client.post(f"/api/v1/offsite/exports/{export.id}", headers=admin_headers)
    assert resp.status_code == 503 and resp.json()["error"] == "Unavailable"


async def test_held_range_copied_offsite_from_both_tiers(
    client: httpx.AsyncClient,
    settings: Settings,
    maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    s3_env: LocalObjectStore,
    app: FastAPI,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    segs = [await add_segment(maker, cam.id, T0 + timedelta(minutes=m), size=0) for m in range(4)]
    root = Path(settings.recordings_root())
    content = {}
    for i, seg in enumerate(segs):
        content[seg.path] = f"segment {i} ".encode() * 500
    for seg in segs[:2]:  # local tier: files on disk
        (root / seg.path).parent.mkdir(parents=True, exist_ok=True)
        (root / seg.path).write_bytes(content[seg.path])
    # The third is on the object tier only.
    tiered_key = f"site-a/{segs[2].path}"
    s3 = s3_env.client()
    s3.put_object(Bucket=s3_env.bucket, Key=tiered_key, Body=content[segs[2].path])
    s3.close()
    async with maker() as s:
        row = await s.get(RecordingSegment, segs[2].id)
        assert row is not None
        row.tier, row.object_key, row.bytes = "object", tiered_key, len(content[segs[2].path])
        await s.commit()

    hold_id = await hold_range(
        client,
        admin_headers,
        cam.id,
        T0 + timedelta(seconds=30),
        T0 + timedelta(minutes=2, seconds=30),
    )
    viewer = await create_user(maker, "viewer", camera_ids=[cam.id])
    denied = await client.post(
        f"/api/v1/offsite/holds/{hold_id}", headers=bearer(app_state(app), viewer)
    )
    assert denied.status_code == 403

    resp = await client.post(f"/api/v1/offsite/holds/{hold_id}", headers=admin_headers)
    job = await _finished(client, admin_headers, resp)
    folder = f"site-a/evidence/holds/{hold_id}"
    assert (job["state"], job["objects"], job["missing"]) == ("done", 4, 0)  # 3 + manifest
    # another user's job is not found for the viewer
    seen = await client.get(
        f"/api/v1/offsite/jobs/{job['id']}", headers=bearer(app_state(app), viewer)
    )
    assert seen.status_code == 404
    for seg in segs[:3]:
        assert _get(s3_env, f"{folder}/{seg.path}") == content[seg.path]
    manifest = json.loads(_get(s3_env, f"{folder}/manifest.json"))
    assert [o["name"] for o in manifest["objects"]] == [s.path for s in segs[:3]]
    [entry] = [a for a in await _audit(maker, "hold.offsite") if a["job_id"] == job["id"]]
    assert (entry["objects"], entry["folder"]) == (4, folder)

    await client.post(
        f"/api/v1/holds/{hold_id}/release", headers=admin_headers, json={"reason": "closed"}
    )
    again = await client.post(f"/api/v1/offsite/holds/{hold_id}", headers=admin_headers)
    assert again.status_code == 409


async def test_a_dead_runners_job_is_finished_and_a_refusing_store_fails_it(
    settings: Settings,
    maker: async_sessionmaker[AsyncSession],
    s3_env: LocalObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    export = await _done_export(maker, settings)
    now = datetime.now(UTC)
    # claimed by a management process that died mid-copy: its heartbeat stopped
    dead = await add_offsite_copy(
        maker,
        export.id,
        state="running",
        attempts=1,
        runner="gone-host-1-abc",
        heartbeat_at=now - timedelta(hours=1),
    )
    runner = OffsiteRunner(settings, maker)
    row = await _ticked_until(runner, maker, dead.id, "done")
    assert (row.attempts, row.objects) == (2, 2)
    folder = f"site-a/evidence/exports/{export.id}"
    assert _get(s3_env, f"{folder}/argus-export-{export.id}.zip") == (
        bundle_path(settings, export).read_bytes()
    )

    # The store is gone after the request: tried again, then failed and audited as such.
    monkeypatch.setenv("ARGUS_S3_BUCKET", "")
    refused = await add_offsite_copy(maker, export.id)
    row = await _ticked_until(runner, maker, refused.id, "failed")
    assert row.attempts == MAX_ATTEMPTS
    assert row.error is not None and "ARGUS_S3_BUCKET" in row.error
    async with maker() as s:
        entry = await s.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "export.offsite", AuditEntry.result == "failure"
            )
        )
    assert entry is not None and entry.summary["job_id"] == refused.id
