"""object.* events -> tracked objects, alerts of the object rules, and snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.config import Settings
from argus_management.events.models import Event
from argus_management.objects.models import TrackedObject, TrackedObjectPlace

from factories.analysis import jpeg_bytes
from factories.cameras import create_camera
from factories.events import internal_headers
from factories.objects import object_payload, report_object_event, track_payload

T0 = datetime(2026, 12, 8, 9, 0, 0, tzinfo=UTC)


async def _objects(maker: async_sessionmaker[AsyncSession]) -> list[TrackedObject]:
    async with maker() as s:
        return list(await s.scalars(select(TrackedObject).order_by(TrackedObject.id)))


async def test_zone_and_line_events_then_summary_make_one_object(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    enter = await report_object_event(
        client, settings, cam.id, "object.zone_enter",
        object_payload(zone="door", score=0.6, color="blue"), ts=T0 + timedelta(seconds=2))
    [obj] = await _objects(maker)
    # Findable as soon as the first event is in: the zone event's snapshot until the summary.
    assert (obj.label, obj.track_id, obj.zones, obj.lines, obj.ended) == (
        "person", "1a2b3c4d-1", ["door"], [], False)
    assert obj.event_id == enter["id"] and obj.color == "blue" and obj.score == 0.6
    await report_object_event(
        client, settings, cam.id, "object.line_cross",
        object_payload(line="gate", direction="left_to_right", score=0.9),
        ts=T0 + timedelta(seconds=5))
    await report_object_event(client, settings, cam.id, "object.zone_leave",
                              object_payload(zone="door", dwell_s=4.0),
                              ts=T0 + timedelta(seconds=6))
    summary = await report_object_event(
        client, settings, cam.id, "object.track",
        track_payload(T0, 9.5, score=0.93, color="red", zones=["door", "hall"],
                      lines=["gate"]),
        ts=T0, ends_at=T0 + timedelta(seconds=9.5))
    [obj] = await _objects(maker)
    assert obj.ended and obj.event_id == summary["id"]
    assert obj.first_seen == T0 and obj.last_seen == T0 + timedelta(seconds=9.5)
    assert obj.dwell_s == 9.5 and obj.score == 0.93 and obj.color == "red"
    assert obj.zones == ["door", "hall"] and obj.lines == ["gate"]
    assert obj.direction == "right" and obj.mean_score == 0.7 and len(obj.path) == 2
    async with maker() as s:
        places = sorted((p.kind, p.name) for p in await s.scalars(select(TrackedObjectPlace)))
    assert places == [("line", "gate"), ("zone", "door"), ("zone", "hall")]

    # The snapshot: none until the analyser uploads the summary's best frame.
    detail = (await client.get(f"/api/v1/objects/{obj.id}", headers=admin_headers)).json()
    assert detail["snapshot_url"] is None
    assert [e["type"] for e in detail["events"]] == [
        "object.track", "object.zone_enter", "object.line_cross", "object.zone_leave"]
    up = await client.post(f"/internal/events/{summary['id']}/snapshot", content=jpeg_bytes(),
                           headers={**internal_headers(settings, "analysis"),
                                    "Content-Type": "image/jpeg"})
    assert up.status_code == 200, up.text
    detail = (await client.get(f"/api/v1/objects/{obj.id}", headers=admin_headers)).json()
    assert detail["snapshot_url"] == f"/api/v1/events/{summary['id']}/snapshot"
    assert detail["box"] == {"x": 0.4, "y": 0.5, "w": 0.1, "h": 0.3}
    snap = await client.get(detail["snapshot_url"], headers=admin_headers)
    assert snap.status_code == 200 and snap.headers["content-type"] == "image/jpeg"


async def test_object_rules_raise_alerts_but_not_for_track_or_leave(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    for type, extra in (
        ("object.zone_enter", {"zone": "door"}), ("object.zone_leave", {"zone": "door"}),
        ("object.line_cross", {"line": "gate", "direction": "left_to_right"}),
        ("object.zone_dwell", {"zone": "door", "dwell_s": 10.0}),
        ("object.zone_count", {"zone": "door", "count": 4}),
        ("object.zone_count", {"zone": "door", "count": 5}),
        ("object.track", {}),
    ):
        await report_object_event(client, settings, cam.id, type, object_payload(**extra))
    alerts = (await client.get("/api/v1/alerts?limit=50", headers=admin_headers)).json()["items"]
    kinds = sorted(a["kind"] for a in alerts)
    assert kinds == ["object.count", "object.count", "object.dwell", "object.line",
                     "object.zone"]
    zone = next(a for a in alerts if a["kind"] == "object.zone")
    assert zone["severity"] == "warning" and zone["camera_id"] == cam.id
    assert zone["payload"]["event_type"] == "object.zone_enter"


async def test_unusable_payloads_store_the_event_and_no_object(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    bad = [
        {},  # nothing
        object_payload(label="<script>"),
        object_payload(track_id=""),
        object_payload(label=7),
        object_payload(track_id="x" * 65),
    ]
    for payload in bad:
        await report_object_event(client, settings, cam.id, "object.zone_enter", payload)
    assert await _objects(maker) == []
    # Odd fields are dropped, the object is kept.
    await report_object_event(
        client, settings, cam.id, "object.track",
        object_payload(score=7.5, color="chartreuse", box={"x": "a"}, zones=["ok", "<bad>", 3],
                       path=[[0, 2, 2], "x", [1.0, 0.5, 0.5]], first_seen="not a time",
                       dwell_s=-1, direction="sideways"),
        ts=T0)
    [obj] = await _objects(maker)
    assert (obj.score, obj.color, obj.box, obj.zones, obj.direction) == (0.0, None, {},
                                                                        ["ok"], None)
    assert obj.path == [[1.0, 0.5, 0.5]] and obj.first_seen == T0 and obj.dwell_s == 0.0
    async with maker() as s:
        assert len(list(await s.scalars(select(Event)))) == 6


async def test_same_track_id_on_two_cameras_are_two_objects(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    app: FastAPI,
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    for cam in (a, b):
        await report_object_event(client, settings, cam.id, "object.zone_enter",
                                  object_payload(zone="door"))
    assert sorted(o.camera_id for o in await _objects(maker)) == sorted([a.id, b.id])
