"""Evidence exports: remuxed MP4s with exact in/out points across segment boundaries and a
recorder restart, audio kept, a signed bundle that verifies (and stops verifying when any
byte changes), progress on the alerts channel, audit rows, holds, restart of a job."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import utcnow
from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.events.models import Event
from argus_management.exports.models import Export
from argus_management.exports.service import expire_exports
from argus_management.exports.verify import load_public_key, verify_bundle

from factories.cameras import create_camera
from factories.exports import FrameWatch, at_ms, download, flip, iso, record, rezip, stamps
from factories.users import bearer, create_user

T0 = 1_795_000_000_000  # epoch ms of the first recorded frame
FPS = 10
FRAME_MS = 1000 // FPS
GOP_MS = 1000
VERIFY = [sys.executable, "-m", "argus_management.exports.verify"]


def _root(settings: Settings) -> Path:
    return Path(settings.recordings_root())


async def _export(client: httpx.AsyncClient, headers: dict[str, str], app: FastAPI,
                  body: dict[str, object]) -> tuple[int, dict[str, object]]:
    async with FrameWatch(app) as watch:
        resp = await client.post("/api/v1/exports", json=body, headers=headers)
        assert resp.status_code == 202, resp.text
        export_id = resp.json()["id"]
        assert resp.json()["state"] == "queued"
        frame = await watch.until(export_id, {"done", "failed"})
    assert frame["type"] == "export.done", frame
    return export_id, frame


async def test_export_across_boundaries_and_restart_verifies(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], admin_headers: dict[str, str], tmp_path: Path,
) -> None:
    cam = await create_camera(maker, settings.secret_key, name="Gate")
    # 0-4 s, 4-8 s back to back, then the recorder restarts: 11-15 s.
    await record(maker, _root(settings), cam.id, T0, [4.0, 4.0, 4.0], fps=FPS,
                 gaps_s=[0.0, 3.0])
    start_ms, end_ms = T0 + 2_450, T0 + 13_600
    export_id, _ = await _export(client, admin_headers, app, {
        "name": "gate incident", "reason": "police request 42",
        "cameras": [cam.id], "start": iso(at_ms(start_ms)), "end": iso(at_ms(end_ms)),
    })
    body = (await client.get(f"/api/v1/exports/{export_id}", headers=admin_headers)).json()
    assert body["state"] == "done" and body["progress"] == 1.0 and body["held"] is False
    [info] = body["files"]
    assert info["camera_id"] == cam.id and info["audio"] is True
    assert info["gaps"] == [[iso(at_ms(T0 + 8_000)), iso(at_ms(T0 + 11_000))]]

    bundle = await download(client, export_id, admin_headers)
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        mp4 = zf.read(info["name"])
        audit_rows = json.loads(zf.read("audit.json"))
    assert names == {info["name"], "audit.json", "manifest.json", "manifest.sig",
                     "public_key.pem"}
    assert manifest["reason"] == "police request 42"
    assert manifest["exported_by"]["username"] == "admin"
    assert manifest["items"][0]["camera_name"] == "Gate"
    assert any(r["action"] == "export.create" for r in audit_rows)
    # faststart: the moov comes before the media.
    assert mp4[4:8] == b"ftyp" and mp4.index(b"moov") < mp4.index(b"mdat")

    frames, audio = stamps(mp4)
    assert None not in frames
    stamped = [f for f in frames if f is not None]
    # First: within one GOP before the start (the edit list may show it from the start).
    assert start_ms - GOP_MS <= stamped[0] <= start_ms + FRAME_MS
    # Last: the frame shown at the end, within one frame of it.
    assert end_ms - FRAME_MS <= stamped[-1] <= end_ms + FRAME_MS
    recorded = [ms for ms in range(T0, T0 + 15_000, FRAME_MS)
                if not T0 + 8_000 <= ms < T0 + 11_000]
    assert stamped == [ms for ms in recorded if stamped[0] <= ms <= stamped[-1]]
    assert stamped == sorted(set(stamped))
    assert audio > 0.9 * (end_ms - start_ms - 3_000) / 1000 * 48_000 / 1024

    # The bundle verifies: with the site's published key, and with its own.
    key = (await client.get("/api/v1/exports/public-key", headers=admin_headers)).json()
    assert key["fingerprint"] == manifest["signing_key"]["fingerprint"]
    site_key = load_public_key(key["public_key_pem"].encode())
    assert verify_bundle(io.BytesIO(bundle), site_key).valid
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    pem = tmp_path / "site.pem"
    pem.write_text(key["public_key_pem"])
    ok = subprocess.run([*VERIFY, str(path), "--public-key", str(pem)], capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert key["fingerprint"] in ok.stdout

    # One flipped byte anywhere fails, and says where.
    for name in (info["name"], "audit.json"):
        bad = rezip(bundle, name, lambda d: flip(d, len(d) // 2))
        result = verify_bundle(io.BytesIO(bad), site_key)
        assert not result.valid and any(r.startswith(f"{name}: SHA-256 mismatch")
                                        for r in result.reasons), result.reasons
        path.write_bytes(bad)
        cli = subprocess.run([*VERIFY, str(path)], capture_output=True, text=True, timeout=60)
        assert cli.returncode == 1 and name in cli.stdout, cli.stdout
    bad = rezip(bundle, "manifest.json", lambda d: d.replace(b"police request 42",
                                                             b"police request 43"))
    result = verify_bundle(io.BytesIO(bad), site_key)
    assert not result.valid and result.reasons[0].startswith("bad signature")
    raw = flip(bundle, bundle.index(mp4[1000:1064]) + 10)  # inside the stored MP4
    result = verify_bundle(io.BytesIO(raw), site_key)
    assert not result.valid and info["name"] in " ".join(result.reasons)
    stranger = Ed25519PrivateKey.generate().public_key()
    result = verify_bundle(io.BytesIO(bundle), stranger)
    assert not result.valid and result.reasons[0].startswith("bad signature")

    # The server verifies uploads too.
    checked = await client.post("/api/v1/exports/verify", headers=admin_headers,
                                files={"bundle": ("b.zip", bundle, "application/zip")})
    assert checked.status_code == 200 and checked.json()["valid"] is True
    checked = await client.post("/api/v1/exports/verify", headers=admin_headers,
                                files={"bundle": ("b.zip", raw, "application/zip")})
    assert checked.json()["valid"] is False

    async with maker() as s:
        actions = [(a, t) for a, t in await s.execute(
            select(AuditEntry.action, AuditEntry.target_id).order_by(AuditEntry.id))]
        access = await s.scalar(select(AuditEntry).where(AuditEntry.action == "video.export"))
    assert ("export.create", str(export_id)) in actions
    assert access is not None and access.target_id == str(cam.id)
    assert access.summary["export_id"] == export_id

    # Exports outlive their recordings.
    for f in _root(settings).joinpath(str(cam.id)).rglob("*.mp4"):
        f.unlink()
    assert await download(client, export_id, admin_headers) == bundle


async def test_batch_export_of_events_with_padding(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    await record(maker, _root(settings), cam.id, T0, [6.0], fps=FPS, audio=False)
    async with maker() as s:
        events = [
            Event(source_id=f"ev-{i}", camera_id=cam.id, type="manual", severity="info",
                  started_at=at_ms(T0 + ms), ended_at=at_ms(T0 + ms + 500), payload={},
                  snapshot_path=None, kept=False, created_at=utcnow())
            for i, ms in enumerate((1_000, 4_000))
        ]
        s.add_all(events)
        await s.commit()
    export_id, _ = await _export(client, admin_headers, app, {
        "name": "two events", "reason": "review", "events": [e.id for e in events],
        "pre_s": 0.5, "post_s": 0.5,
    })
    body = (await client.get(f"/api/v1/exports/{export_id}", headers=admin_headers)).json()
    assert [i["event_id"] for i in body["items"]] == [e.id for e in events]
    assert len(body["files"]) == 2 and all(not f["audio"] for f in body["files"])
    bundle = await download(client, export_id, admin_headers)
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        first = stamps(zf.read(body["files"][0]["name"]))[0]
    assert T0 + 500 - GOP_MS <= first[0] <= T0 + 500 + FRAME_MS  # type: ignore[operator]
    assert first[-1] <= T0 + 2_000 + FRAME_MS  # type: ignore[operator]


async def test_a_job_left_running_by_a_dead_process_is_restarted(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    await record(maker, _root(settings), cam.id, T0, [3.0], fps=FPS)
    async with FrameWatch(app) as watch:
        async with maker() as s:
            export = Export(
                name="left over", reason="crash test", state="running", runner="gone-1",
                items=[{"camera_id": cam.id, "start": iso(at_ms(T0)),
                        "end": iso(at_ms(T0 + 2_000))}],
                range_start=at_ms(T0), range_end=at_ms(T0 + 2_000), progress=0.4,
                bytes_done=10, bytes_total=100, attempts=1, file_bytes=0, files=[],
                heartbeat_at=utcnow() - timedelta(hours=1), created_at=utcnow(),
            )
            s.add(export)
            await s.commit()
        frame = await watch.until(export.id, {"done", "failed"})
    assert frame["state"] == "done"
    async with maker() as s:
        again = await s.get(Export, export.id)
    assert again is not None and again.attempts == 2 and again.runner != "gone-1"


async def test_held_export_cannot_be_deleted_until_released(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    await record(maker, _root(settings), cam.id, T0, [2.0], fps=FPS, audio=False)
    export_id, _ = await _export(client, admin_headers, app, {
        "name": "keep", "reason": "court", "cameras": [cam.id],
        "start": iso(at_ms(T0)), "end": iso(at_ms(T0 + 1_500)),
    })
    hold = await client.post("/api/v1/holds", headers=admin_headers, json={
        "kind": "export", "export_id": export_id, "reason": "case 7"})
    assert hold.status_code == 201, hold.text
    listed = (await client.get("/api/v1/exports", headers=admin_headers)).json()
    assert listed["items"][0]["held"] is True
    refused = await client.delete(f"/api/v1/exports/{export_id}", headers=admin_headers)
    assert refused.status_code == 409
    # Retention passes over it too.
    async with maker() as s:
        await s.execute(update(Export).values(expires_at=utcnow() - timedelta(days=1)))
        await s.commit()
    async with maker() as s:
        assert await expire_exports(s, settings, utcnow()) == []
        await s.commit()
    released = await client.post(f"/api/v1/holds/{hold.json()['id']}/release",
                                 headers=admin_headers, json={"reason": "case closed"})
    assert released.status_code == 200 and released.json()["active"] is False
    gone = await client.delete(f"/api/v1/exports/{export_id}", headers=admin_headers)
    assert gone.status_code == 204
    assert not (Path(settings.data_dir) / "exports" / f"export-{export_id}.zip").exists()
    async with maker() as s:
        actions = list(await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert {"export.create", "hold.create", "hold.release", "export.delete"} <= set(actions)


async def test_export_permissions_and_visibility(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    hidden = await create_camera(maker, settings.secret_key)
    viewer = await create_user(maker, "viewer", camera_ids=[cam.id])
    operator = await create_user(maker, "operator", camera_ids=[cam.id])
    body = {"name": "x", "reason": "y", "cameras": [cam.id],
            "start": iso(at_ms(T0)), "end": iso(at_ms(T0 + 1000))}
    state = app_state(app)
    assert (await client.post("/api/v1/exports", json=body,
                              headers=bearer(state, viewer))).status_code == 403
    ops = bearer(state, operator)
    assert (await client.post("/api/v1/exports", json={**body, "cameras": [hidden.id]},
                              headers=ops)).status_code == 404
    too_long = {**body, "end": iso(at_ms(T0 + 2 * 86_400_000))}
    assert (await client.post("/api/v1/exports", json=too_long,
                              headers=ops)).status_code == 422
    assert (await client.post("/api/v1/exports", json={**body, "reason": ""},
                              headers=ops)).status_code == 422
    created = await client.post("/api/v1/exports", json=body, headers=ops)
    assert created.status_code == 202
    other = await create_user(maker, "operator", camera_ids=[cam.id])
    assert (await client.get(f"/api/v1/exports/{created.json()['id']}",
                             headers=bearer(state, other))).status_code == 404
    assert (await client.get("/api/v1/exports/public-key",
                             headers=bearer(state, viewer))).status_code == 200
