"""The summary timeline (resolution_s): a month window, ranges merged at the resolution,
gaps with their causes, events counted by class, and a camera group's cameras."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.alerts.models import Alert
from argus_management.config import Settings
from argus_management.events.models import Event
from argus_management.rbac.models import CameraGroup, camera_group_members

from factories.cameras import create_camera
from factories.recordings import add_segment
from factories.users import bearer, create_user

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_summary_merges_at_resolution_and_explains_gaps(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    # 00:00-00:10 with a 20 s hole at 00:05; nothing 00:10-01:00 (camera offline from
    # 00:10 to 00:40, then unexplained); 01:00-01:05; 1 s short of the day's end nothing.
    for minute in range(10):
        await add_segment(maker, cam.id, T0 + timedelta(minutes=minute),
                          seconds=40 if minute == 4 else 60)
    for minute in range(60, 65):
        await add_segment(maker, cam.id, T0 + timedelta(minutes=minute))
    async with maker() as s:
        s.add(Alert(kind="camera.offline", severity="warning", state="resolved",
                    camera_id=cam.id, title="Camera offline", detail="", payload={},
                    created_at=T0 + timedelta(minutes=10),
                    resolved_at=T0 + timedelta(minutes=40)))
        s.add(Alert(kind="disk.low", severity="critical", state="resolved", camera_id=None,
                    title="Recording disk space low", detail="", payload={},
                    created_at=T0 + timedelta(minutes=70),
                    resolved_at=T0 + timedelta(minutes=80)))
        for i, (kind, minute) in enumerate([("motion.start", 1), ("motion.end", 2),
                                            ("motion.start", 61), ("manual", 62),
                                            ("object.person", 62)]):
            s.add(Event(source_id=f"sum-{i}", camera_id=cam.id, type=kind, severity="info",
                        started_at=T0 + timedelta(minutes=minute), ended_at=None,
                        payload={}, snapshot_path=None, kept=False, created_at=T0))
        await s.commit()
    end = T0 + timedelta(days=30)
    resp = await client.get(f"/api/v1/cameras/{cam.id}/timeline", headers=admin_headers,
                            params={"start": _iso(T0), "end": _iso(end), "resolution_s": 60})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["resolution_s"] == 60 and body["segments"] == []
    ranges = [(_ts(r["start"]), _ts(r["end"])) for r in body["recordings"]]
    assert ranges == [(T0, T0 + timedelta(minutes=10)),  # the 20 s hole is below 60 s
                      (T0 + timedelta(hours=1), T0 + timedelta(minutes=65))]
    gaps = [(_ts(g["start"]), _ts(g["end"]), g["cause"]) for g in body["gaps"]]
    assert gaps[0] == (T0 + timedelta(minutes=10), T0 + timedelta(hours=1), "camera_offline")
    assert gaps[1][:2] == (T0 + timedelta(minutes=65), end) and gaps[1][2] == "disk"
    classes = {c["type"]: c for c in body["event_classes"]}
    assert set(classes) == {"motion.start", "manual", "object.person"}  # no end markers
    assert classes["motion.start"]["count"] == 2
    assert classes["motion.start"]["buckets"] == [[1, 1], [61, 1]]
    assert {e["type"] for e in body["events"]} == {"motion.start", "manual", "object.person"}

    fine = await client.get(f"/api/v1/cameras/{cam.id}/timeline", headers=admin_headers,
                            params={"start": _iso(T0), "end": _iso(T0 + timedelta(hours=1)),
                                    "resolution_s": 1})
    hole = [(_ts(g["start"]), g["cause"]) for g in fine.json()["gaps"]]
    assert hole[0] == (T0 + timedelta(minutes=4, seconds=40), "unknown")

    for params in ({"start": _iso(T0), "end": _iso(T0 + timedelta(days=32)),
                    "resolution_s": 600},
                   {"start": _iso(T0), "end": _iso(T0 + timedelta(days=8))},
                   {"start": _iso(T0), "end": _iso(T0 + timedelta(days=30)),
                    "resolution_s": 1}):
        bad = await client.get(f"/api/v1/cameras/{cam.id}/timeline", headers=admin_headers,
                               params=params)
        assert bad.status_code == 422, params


async def test_group_timeline_lists_the_visible_cameras(
    client: httpx.AsyncClient, app: object, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    await add_segment(maker, a.id, T0)
    await add_segment(maker, b.id, T0 + timedelta(minutes=1))
    async with maker() as s:
        group = CameraGroup(name="yard")
        s.add(group)
        await s.flush()
        await s.execute(camera_group_members.insert(), [
            {"group_id": group.id, "camera_id": a.id}, {"group_id": group.id, "camera_id": b.id}])
        await s.commit()
    viewer = await create_user(maker, "viewer", camera_ids=[b.id])
    params = {"start": _iso(T0), "end": _iso(T0 + timedelta(hours=1)), "resolution_s": 10}
    from argus_management.deps import app_state

    resp = await client.get(f"/api/v1/camera-groups/{group.id}/timeline", params=params,
                            headers=bearer(app_state(app), viewer))  # type: ignore[arg-type]
    assert resp.status_code == 200, resp.text
    assert [c["camera_id"] for c in resp.json()["cameras"]] == [b.id]
    missing = await client.get("/api/v1/camera-groups/999999/timeline", params=params,
                               headers=bearer(app_state(app), viewer))  # type: ignore[arg-type]
    assert missing.status_code == 404
    no_res = await client.get(f"/api/v1/camera-groups/{group.id}/timeline",
                              params={k: v for k, v in params.items() if k != "resolution_s"},
                              headers=bearer(app_state(app), viewer))  # type: ignore[arg-type]
    assert no_res.status_code == 422
