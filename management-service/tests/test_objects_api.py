"""GET /api/v1/search, the review queue and marking objects reviewed: filters, sorting,
paging, per-camera grants, bad input (4xx, never 500) and the audit rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state

from factories.cameras import create_camera
from factories.objects import add_objects, object_payload, report_object_event, track_payload
from factories.users import bearer, create_user

T0 = datetime(2026, 12, 8, 9, 0, 0, tzinfo=UTC)


async def _ids(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> list[int]:
    resp = await client.get(f"/api/v1/search?{query}", headers=headers)
    assert resp.status_code == 200, resp.text
    return [item["id"] for item in resp.json()["items"]]


async def test_search_filters_sort_and_pages(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    person, car, other_day, on_b = await add_objects(maker, [
        {"camera_id": a.id, "first_seen": T0, "label": "person", "color": "red",
         "score": 0.9, "dwell_s": 12.0},
        {"camera_id": a.id, "first_seen": T0 + timedelta(hours=1), "label": "vehicle",
         "color": "white", "score": 0.7, "dwell_s": 3.0},
        {"camera_id": a.id, "first_seen": T0 - timedelta(days=1), "label": "person",
         "color": "red", "score": 0.5},
        {"camera_id": b.id, "first_seen": T0 + timedelta(minutes=5), "label": "person",
         "color": "blue", "score": 0.95},
    ])
    h = admin_headers
    assert await _ids(client, h, "") == [car.id, on_b.id, person.id, other_day.id]
    assert await _ids(client, h, "label=person") == [on_b.id, person.id, other_day.id]
    assert await _ids(client, h, "label=person&label=vehicle&camera_id=" + str(a.id)) == [
        car.id, person.id, other_day.id]
    day = f"start={T0.date()}T00:00:00Z&end={T0.date()}T23:59:59Z"
    assert await _ids(client, h, f"label=person&camera_id={a.id}&{day}&color=red") == [
        person.id]
    assert await _ids(client, h, "color=blue&color=white") == [car.id, on_b.id]
    assert await _ids(client, h, "min_dwell_s=10") == [person.id]
    assert await _ids(client, h, "min_score=0.8&sort=score") == [on_b.id, person.id]
    assert await _ids(client, h, "sort=score&order=asc") == [
        other_day.id, car.id, person.id, on_b.id]
    page = (await client.get("/api/v1/search?limit=2&offset=1", headers=h)).json()
    assert page["total"] == 4 and [i["id"] for i in page["items"]] == [on_b.id, person.id]
    assert page["limit"] == 2 and page["offset"] == 1
    item = page["items"][1]
    assert item["label"] == "person" and item["camera_id"] == a.id
    assert item["snapshot_url"] is None and item["reviewed"] is False


async def test_zone_and_line_filters_from_reported_events(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    await report_object_event(client, settings, cam.id, "object.zone_enter",
                              object_payload(track_id="s-1", zone="door"), ts=T0)
    await report_object_event(client, settings, cam.id, "object.line_cross",
                              object_payload(track_id="s-2", line="gate"), ts=T0)
    await report_object_event(client, settings, cam.id, "object.track",
                              track_payload(T0, 3, track_id="s-3", zones=["yard"]), ts=T0)
    h = admin_headers
    found = (await client.get("/api/v1/search?zone=door", headers=h)).json()["items"]
    assert [i["track_id"] for i in found] == ["s-1"]
    found = (await client.get("/api/v1/search?line=gate", headers=h)).json()["items"]
    assert [i["track_id"] for i in found] == ["s-2"]
    found = (await client.get("/api/v1/search?zone=yard", headers=h)).json()["items"]
    assert [i["track_id"] for i in found] == ["s-3"]
    assert (await client.get("/api/v1/search?zone=gate", headers=h)).json()["total"] == 0


async def test_grants_limit_search_review_and_detail(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    app: FastAPI,
) -> None:
    mine = await create_camera(maker, settings.secret_key)
    theirs = await create_camera(maker, settings.secret_key)
    seen, hidden = await add_objects(maker, [
        {"camera_id": mine.id, "first_seen": T0}, {"camera_id": theirs.id, "first_seen": T0},
    ])
    viewer = bearer(app_state(app), await create_user(maker, "viewer", camera_ids=[mine.id]))
    assert await _ids(client, viewer, "") == [seen.id]
    # Asking for an ungranted camera by id returns nothing of it, not an error that leaks it.
    assert await _ids(client, viewer, f"camera_id={theirs.id}") == []
    assert await _ids(client, viewer, f"camera_id={theirs.id}&camera_id={mine.id}") == [seen.id]
    queue = (await client.get("/api/v1/review", headers=viewer)).json()
    assert [i["id"] for i in queue["items"]] == [seen.id]
    summary = (await client.get("/api/v1/review/summary", headers=viewer)).json()
    assert [(s["camera_id"], s["unreviewed"]) for s in summary] == [(mine.id, 1)]
    assert (await client.get(f"/api/v1/objects/{hidden.id}", headers=viewer)).status_code == 404
    assert (await client.get(f"/api/v1/objects/{seen.id}", headers=viewer)).status_code == 200
    # Viewers hold events:read but not events:ack.
    resp = await client.post(f"/api/v1/objects/{seen.id}/review", headers=viewer)
    assert resp.status_code == 403
    operator = bearer(app_state(app), await create_user(maker, "operator",
                                                        camera_ids=[mine.id]))
    assert (await client.post(f"/api/v1/objects/{hidden.id}/review", headers=operator)
            ).status_code == 404
    bulk = await client.post("/api/v1/objects/review", headers=operator,
                             json={"ids": [seen.id, hidden.id, 999999]})
    assert bulk.status_code == 200 and bulk.json() == {"count": 1}
    async with maker() as s:
        from argus_management.objects.models import TrackedObject

        rows = {o.id: o.reviewed for o in await s.scalars(select(TrackedObject))}
    assert rows == {seen.id: True, hidden.id: False}
    no_token = await client.get("/api/v1/search")
    assert no_token.status_code == 401


async def test_review_one_and_many_are_audited(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    a = await create_camera(maker, settings.secret_key)
    b = await create_camera(maker, settings.secret_key)
    o1, o2, o3 = await add_objects(maker, [
        {"camera_id": a.id, "first_seen": T0}, {"camera_id": a.id, "first_seen": T0},
        {"camera_id": b.id, "first_seen": T0 + timedelta(seconds=1)},
    ])
    h = admin_headers
    queue = (await client.get(f"/api/v1/review?camera_id={a.id}", headers=h)).json()
    assert queue["total"] == 2
    one = await client.post(f"/api/v1/objects/{o1.id}/review", headers=h)
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["reviewed"] is True and body["reviewed_by"] is not None
    assert body["reviewed_at"] is not None
    assert (await client.get(f"/api/v1/review?camera_id={a.id}", headers=h)).json()[
        "total"] == 1
    done = (await client.get(f"/api/v1/review?camera_id={a.id}&reviewed=true", headers=h)
            ).json()
    assert [i["id"] for i in done["items"]] == [o1.id]
    undo = await client.post(f"/api/v1/objects/{o1.id}/review", headers=h,
                             json={"reviewed": False})
    assert undo.json()["reviewed"] is False and undo.json()["reviewed_by"] is None
    bulk = await client.post("/api/v1/objects/review", headers=h,
                             json={"ids": [o1.id, o2.id, o3.id, o1.id]})
    assert bulk.json() == {"count": 3}
    again = await client.post("/api/v1/objects/review", headers=h, json={"ids": [o1.id]})
    assert again.json() == {"count": 0}  # nothing changed: no audit row either
    summary = (await client.get("/api/v1/review/summary", headers=h)).json()
    assert summary == []
    async with maker() as s:
        rows = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "object.review")
                                    .order_by(AuditEntry.id)))
    assert len(rows) == 3
    assert rows[0].target_id == str(o1.id) and rows[0].summary["reviewed"] is True
    assert rows[1].summary["reviewed"] is False
    assert sorted(rows[2].summary["ids"]) == sorted([o1.id, o2.id, o3.id])


async def test_bad_input_is_4xx(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    h = admin_headers
    for query in (
        "color=chartreuse", "label=%3Cscript%3E", "start=2026-01-02T00:00:00Z&end=2026-01-01",
        "min_score=2", "min_score=nan", "min_dwell_s=-1", "sort=size", "order=up",
        "camera_id=0", "camera_id=99999999999", "camera_id=abc", "limit=100000", "offset=-1",
        "start=9999-01-01T00:00:00Z", "zone=" + "z" * 65, "reviewed=maybe",
        "&".join(f"label=l{i}" for i in range(40)),
    ):
        resp = await client.get(f"/api/v1/search?{query}", headers=h)
        assert resp.status_code == 422, (query, resp.status_code, resp.text)
        assert resp.json()["error"], query
    for url, body in (
        ("/api/v1/objects/review", {"ids": []}),
        ("/api/v1/objects/review", {"ids": list(range(1, 502))}),
        ("/api/v1/objects/review", {"ids": [0]}),
        ("/api/v1/objects/review", {"ids": [1], "extra": 1}),
        ("/api/v1/objects/1/review", {"reviewed": "yes please"}),
        ("/api/v1/objects/0/review", {}),
    ):
        resp = await client.post(url, headers=h, json=body)
        assert resp.status_code == 422, (url, body, resp.text)
    assert (await client.get("/api/v1/objects/12345", headers=h)).status_code == 404
    assert (await client.get("/api/v1/review?camera_id=-3", headers=h)).status_code == 422
