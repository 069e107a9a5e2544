"""``analysis.objects`` camera settings (the analyser's contract) and retention by class:
the age purge keeps recordings around objects of chosen labels."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import utcnow
from argus_management.cameras.models import Camera
from argus_management.config import Settings

from factories.cameras import create_camera
from factories.events import internal_headers
from factories.objects import add_objects
from factories.recordings import add_segment

OBJECTS: dict[str, Any] = {
    "enabled": True, "detector": "auto", "labels": ["person", "vehicle"], "min_score": 0.5,
    "zones": [{"name": "door", "polygon": [[0.1, 0.5], [0.5, 0.5], [0.5, 1], [0.1, 1]],
               "labels": ["person"], "dwell_s": 10, "max_count": 3}],
    "lines": [{"name": "gate", "a": [0.5, 0.3], "b": [0.5, 1.0],
               "direction": "left_to_right", "labels": []}],
    "retention_days": {"person": 30},
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**OBJECTS, **changes}


async def test_objects_settings_round_trip_and_reach_the_analyser(
    client: httpx.AsyncClient, settings: Settings, admin_headers: dict[str, str],
) -> None:
    body = {"name": "Door", "stream_url": "rtsp://10.0.0.9/m",
            "analysis": {"enabled": True, "objects": OBJECTS}}
    made = await client.post("/api/v1/cameras", headers=admin_headers, json=body)
    assert made.status_code == 201, made.text
    objects = made.json()["analysis"]["objects"]
    assert objects["zones"][0]["dwell_s"] == 10 and objects["lines"][0]["a"] == [0.5, 0.3]
    assert objects["retention_days"] == {"person": 30}
    internal = await client.get("/internal/cameras", headers=internal_headers(settings,
                                                                              "analysis"))
    cam = next(c for c in internal.json() if c["id"] == made.json()["id"])
    assert cam["analysis"]["objects"]["zones"][0]["name"] == "door"
    # A camera without objects: null, so the analyser applies its defaults.
    plain = await client.post("/api/v1/cameras", headers=admin_headers,
                              json={"name": "Plain", "stream_url": "rtsp://10.0.0.8/m"})
    assert plain.json()["analysis"]["objects"] is None
    patched = await client.patch(f"/api/v1/cameras/{plain.json()['id']}", headers=admin_headers,
                                 json={"analysis": {"enabled": True,
                                                    "objects": {"enabled": True}}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["analysis"]["objects"]["detector"] == "auto"


async def test_bad_objects_settings_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
) -> None:
    zone = OBJECTS["zones"][0]
    line = OBJECTS["lines"][0]
    bad = [
        _with(detector="yolo"), _with(min_score=1.5), _with(labels=["<x>"]),
        _with(labels=["a"] * 33), _with(unknown=True),
        _with(zones=[{**zone, "polygon": [[0, 0], [1, 1]]}]),
        _with(zones=[{**zone, "polygon": [[0, 0], [1.5, 1], [0, 1]]}]),
        _with(zones=[{**zone, "name": ""}]), _with(zones=[{**zone, "name": "a/b"}]),
        _with(zones=[{**zone, "dwell_s": 0}]), _with(zones=[{**zone, "max_count": -1}]),
        _with(zones=[zone] * 17), _with(zones=[zone, zone]),
        _with(lines=[{**line, "name": "door"}]),  # names are unique across zones and lines
        _with(lines=[{**line, "direction": "up"}]), _with(lines=[{**line, "b": line["a"]}]),
        _with(lines=[{**line, "a": [0.5]}]),
        _with(retention_days={"person": 0}), _with(retention_days={"person": 99999}),
        _with(retention_days={"<p>": 3}), _with(retention_days=[30]),
        _with(zones="door"), "on",
    ]
    for i, objects in enumerate(bad):
        resp = await client.post("/api/v1/cameras", headers=admin_headers, json={
            "name": f"Bad {i}", "stream_url": "rtsp://10.0.0.9/m",
            "analysis": {"enabled": True, "objects": objects}})
        assert resp.status_code == 422, (objects, resp.text)
        assert resp.json()["error"]


async def test_age_purge_keeps_recordings_around_objects_of_chosen_labels(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    other = await create_camera(maker, settings.secret_key)
    for c in (cam, other):
        async with maker() as s:
            await s.execute(update(Camera).where(Camera.id == c.id).values(
                retention_days=2,
                analysis={"enabled": True, "objects": {"enabled": True,
                                                       "retention_days": {"person": 30}}}))
            await s.commit()
    now = utcnow().replace(microsecond=0)
    t = now - timedelta(days=5)
    person_seg = await add_segment(maker, cam.id, t)
    vehicle_seg = await add_segment(maker, cam.id, t + timedelta(minutes=5))
    plain_seg = await add_segment(maker, cam.id, t + timedelta(minutes=10))
    # Just after a person's span: kept only thanks to the post-roll.
    roll_seg = await add_segment(maker, cam.id, t + timedelta(minutes=16))
    ancient_seg = await add_segment(maker, cam.id, now - timedelta(days=40))
    recent_seg = await add_segment(maker, cam.id, now - timedelta(hours=1))
    other_seg = await add_segment(maker, other.id, t)
    await add_objects(maker, [
        {"camera_id": cam.id, "label": "person", "first_seen": t + timedelta(seconds=20),
         "last_seen": t + timedelta(seconds=40)},
        {"camera_id": cam.id, "label": "vehicle", "first_seen": t + timedelta(minutes=5, seconds=5)},
        {"camera_id": cam.id, "label": "person", "first_seen": t + timedelta(minutes=15),
         "last_seen": t + timedelta(minutes=15, seconds=50)},
        {"camera_id": cam.id, "label": "person", "first_seen": now - timedelta(days=40)},
        {"camera_id": cam.id, "label": "person", "first_seen": now - timedelta(hours=1)},
    ])
    h = internal_headers(settings)
    resp = await client.post("/internal/segments/purge-candidates", headers=h,
                             json={"mode": "age", "camera_ids": [cam.id], "post_roll_s": 30})
    assert resp.status_code == 200, resp.text
    picked = {i["id"] for i in resp.json()["items"]}
    # The person's (30 days) is kept; the vehicle's and the plain one go after 2 days; a
    # person 40 days ago is past its 30 days.
    assert picked == {vehicle_seg.id, plain_seg.id, ancient_seg.id}
    assert person_seg.id not in picked and roll_seg.id not in picked
    assert recent_seg.id not in picked
    # The disk guard ignores retention by class: space wins.
    everything = await client.post("/internal/segments/purge-candidates", headers=h,
                                   json={"mode": "space", "bytes": 10**9, "limit": 100})
    ids = {i["id"] for i in everything.json()["items"]}
    assert {person_seg.id, roll_seg.id, other_seg.id} <= ids
