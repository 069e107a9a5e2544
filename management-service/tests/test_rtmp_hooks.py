"""The nginx-rtmp hooks in-process: what a publish registers (once, atomically), what is
refused (and leaves nothing), one publisher per name, on_update and on_publish_done."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.errors import Unprocessable
from argus_management.alerts.models import Alert
from argus_management.audit.models import AuditEntry
from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.events.models import Event
from argus_management.rbac.models import CameraGrant
from argus_management.rtmp import publish as publish_module
from argus_management.rtmp.models import StreamKey

from factories.events import service_key
from factories.rtmp import create_key, hook, hook_body, next_client_id, publish
from factories.users import bearer, create_user


async def _count(maker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with maker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def _events(maker: async_sessionmaker[AsyncSession]) -> list[Event]:
    async with maker() as s:
        return list(await s.scalars(select(Event).order_by(Event.id)))


async def _stream(app: FastAPI) -> list[dict[str, Any]]:
    bus = app_state(app).bus
    entries = await bus.redis.xrange(bus.key("events"))
    return [json.loads(fields[b"data"]) for _, fields in entries]


async def _nothing_registered(maker: async_sessionmaker[AsyncSession], app: FastAPI) -> None:
    assert await _count(maker, Camera) == 0
    assert await _count(maker, Event) == 0
    assert await _count(maker, Alert) == 0
    assert await _stream(app) == []
    async with maker() as s:
        ok = await s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "rtmp.publish", AuditEntry.result == "success"))
    assert ok == 0


@pytest.fixture
async def owner(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession]
) -> dict[str, Any]:
    user = await create_user(maker, "operator")
    headers = bearer(app_state(app), user)
    key = await create_key(client, headers, "phone")
    return {"id": user.id, "headers": headers, "key": key["key"], "key_id": key["id"]}


async def test_publish_registers_camera_event_alert_audit_once(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], owner: dict[str, Any],
) -> None:
    resp = await publish(client, settings, "phone", owner["key"], "41")
    assert resp.status_code == 200, resp.text
    cam_id, event_id = resp.json()["camera_id"], resp.json()["event_id"]
    async with maker() as s:
        cam = await s.get(Camera, cam_id)
        grants = list(await s.scalars(select(CameraGrant.user_id).where(
            CameraGrant.camera_id == cam_id)))
        audit = (await s.scalars(select(AuditEntry).where(
            AuditEntry.action == "rtmp.publish"))).one()
        alert = (await s.scalars(select(Alert))).one()
    assert cam is not None and cam.kind == "rtmp" and cam.recording_mode == "events"
    assert cam.stream_url == "rtmp://127.0.0.1:1935/live/phone" and cam.status == "online"
    assert cam.owner_id == owner["id"] and grants == [owner["id"]]
    assert audit.user_id == owner["id"] and audit.ip == "192.0.2.7"
    assert audit.target_id == str(cam_id) and owner["key"] not in json.dumps(audit.summary)
    assert (alert.kind, alert.severity, alert.title) == (
        "rtmp.received", "critical", "RTMP stream received")
    assert alert.event_id == event_id and alert.camera_id == cam_id
    [event] = await _events(maker)
    assert (event.id, event.type, event.ended_at) == (event_id, "rtmp.publish", None)
    [streamed] = await _stream(app)
    assert streamed["type"] == "rtmp.publish" and streamed["event_id"] == event_id
    # Visible to the owner and admins, not to another operator.
    other = bearer(app_state(app), await create_user(maker, "operator"))
    admin = {"Authorization": f"Bearer {app_state(app).jwt.issue('1', 'access', 900).token}"}
    assert (await client.get(f"/api/v1/cameras/{cam_id}", headers=owner["headers"])
            ).status_code == 200
    assert (await client.get(f"/api/v1/cameras/{cam_id}", headers=admin)).status_code == 200
    assert (await client.get(f"/api/v1/cameras/{cam_id}", headers=other)).status_code == 404
    [key] = (await client.get("/api/v1/rtmp/keys", headers=owner["headers"])).json()["items"]
    assert key["camera_id"] == cam_id and key["last_used_at"] is not None


async def test_second_publisher_is_refused_and_its_done_ignored(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], owner: dict[str, Any],
) -> None:
    assert (await publish(client, settings, "phone", owner["key"], "1")).status_code == 200
    second = await publish(client, settings, "phone", owner["key"], "2")
    assert second.status_code == 409 and second.json()["error"] == "Conflict"
    # nginx-rtmp sends publish_done for the refused connection as well: no effect.
    done = await hook(client, settings, "on_publish_done",
                      hook_body("publish_done", "phone", owner["key"], "2"))
    assert done.status_code == 200
    [event] = await _events(maker)
    assert event.ended_at is None
    refused = await hook(client, settings, "on_update",
                         hook_body("update_publish", "phone", owner["key"], "2"))
    assert refused.status_code == 409
    kept = await hook(client, settings, "on_update",
                      hook_body("update_publish", "phone", owner["key"], "1"))
    assert kept.status_code == 200
    # Players (recorder, streaming) get update notifications too, without a key: nginx's
    # "allow play" rules admitted them already, dropping them would cut recordings short.
    player = await hook(client, settings, "on_update",
                        hook_body("update_play", "phone", None, "3"))
    assert player.status_code == 200
    # A call that does not belong to the hook is refused.
    odd = await hook(client, settings, "on_publish_done",
                     hook_body("update_publish", "phone", owner["key"], "1"))
    assert odd.status_code == 400


async def test_racing_publishers_one_wins(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    owner: dict[str, Any],
) -> None:
    answers = await asyncio.gather(*(
        publish(client, settings, "phone", owner["key"], str(100 + i)) for i in range(4)))
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409]
    assert await _count(maker, Camera) == 1 and await _count(maker, Event) == 1


async def test_done_ends_the_event_and_republish_reactivates(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], owner: dict[str, Any],
) -> None:
    first = (await publish(client, settings, "phone", owner["key"], "7")).json()
    done = await hook(client, settings, "on_publish_done",
                      hook_body("publish_done", "phone", owner["key"], "7"))
    assert done.status_code == 200, done.text
    start, end = await _events(maker)
    assert start.ended_at is not None and end.type == "rtmp.unpublish"
    assert end.payload["publish_event_id"] == start.id
    async with maker() as s:
        cam = await s.get(Camera, first["camera_id"])
    assert cam is not None and cam.status == "offline"
    assert [m["type"] for m in await _stream(app)] == ["rtmp.publish", "rtmp.unpublish"]
    again = await publish(client, settings, "phone", owner["key"], "8")
    assert again.status_code == 200 and again.json()["camera_id"] == first["camera_id"]
    assert await _count(maker, Camera) == 1 and await _count(maker, Alert) == 2
    async with maker() as s:
        cam = await s.get(Camera, first["camera_id"])
    assert cam is not None and cam.status == "online"


@pytest.mark.parametrize(("name", "key", "status"), [
    ("phone", "wrong-key-wrong-key-wrong-key-01", 403),
    ("phone", None, 403),
    ("phone", "", 403),
    ("phone", "short", 403),
    ("nobody", "wrong-key-wrong-key-wrong-key-01", 403),
    ("bad name", "x" * 32, 400),
    ("a" * 65, "x" * 32, 400),
    ("../etc", "x" * 32, 400),
    ("", "x" * 32, 400),
])
async def test_refused_publishes_leave_nothing(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], owner: dict[str, Any], name: str,
    key: str | None, status: int,
) -> None:
    resp = await publish(client, settings, name, key)
    assert resp.status_code == status, resp.text
    await _nothing_registered(maker, app)
    async with maker() as s:
        denied = list(await s.scalars(select(AuditEntry).where(
            AuditEntry.action == "rtmp.publish", AuditEntry.result == "denied")))
    assert len(denied) == 1 and denied[0].summary["reason"] in {
        "bad_key", "no_key", "bad_name"}


async def test_revoked_and_expired_keys_are_refused_and_drop_the_publisher(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], owner: dict[str, Any],
) -> None:
    assert (await publish(client, settings, "phone", owner["key"], "5")).status_code == 200
    url = f"/api/v1/rtmp/keys/{owner['key_id']}"
    assert (await client.delete(url, headers=owner["headers"])).status_code == 204
    dropped = await hook(client, settings, "on_update",
                         hook_body("update_publish", "phone", owner["key"], "5"))
    assert dropped.status_code == 403
    assert (await publish(client, settings, "phone", owner["key"], "6")).status_code in (403,
                                                                                      409)
    fresh = await create_key(client, owner["headers"], "phone2")
    async with maker() as s:
        await s.execute(update(StreamKey).where(StreamKey.id == fresh["id"]).values(
            expires_at=func.now()))
        await s.commit()
    assert (await publish(client, settings, "phone2", fresh["key"])).status_code == 403


async def test_disabled_camera_refuses(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    owner: dict[str, Any],
) -> None:
    first = (await publish(client, settings, "phone", owner["key"], "9")).json()
    await hook(client, settings, "on_publish_done",
               hook_body("publish_done", "phone", owner["key"], "9"))
    async with maker() as s:
        await s.execute(update(Camera).values(enabled=False))
        await s.commit()
    resp = await publish(client, settings, "phone", owner["key"], "10")
    assert resp.status_code == 403 and "disabled" in resp.json()["detail"]
    assert await _count(maker, Event) == 2  # the first publish and its end only
    async with maker() as s:
        cam = await s.get(Camera, first["camera_id"])
    assert cam is not None and cam.status == "offline"


async def test_failure_midway_rolls_everything_back_and_frees_the_name(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], owner: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def failing(*_: Any, **__: Any) -> Any:
        raise Unprocessable("event refused")

    monkeypatch.setattr(publish_module, "ingest_event", failing)
    resp = await publish(client, settings, "phone", owner["key"], "11")
    assert resp.status_code == 422
    await _nothing_registered(maker, app)
    assert await _count(maker, CameraGrant) == 0
    monkeypatch.undo()
    assert (await publish(client, settings, "phone", owner["key"], "12")).status_code == 200


@pytest.mark.parametrize("body", [
    b"", b"\xff\xfe", b"app=live&name=phone", b"app=live&name=phone&clientid=x",
    b"app=live&name=phone&clientid=1&name=other&key=" + b"k" * 32,
    b"app=other&name=phone&clientid=1&key=" + b"k" * 32,
    b"&".join([b"f%d=1" % i for i in range(100)]),
])
async def test_malformed_notifications_are_4xx(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], body: bytes,
) -> None:
    for which in ("on_publish", "on_update", "on_publish_done"):
        resp = await hook(client, settings, which, body)
        assert 400 <= resp.status_code < 500, (which, resp.text)
    assert await _count(maker, Camera) == 0


async def test_oversized_notification_is_413(
    client: httpx.AsyncClient, settings: Settings,
) -> None:
    resp = await hook(client, settings, "on_publish", b"a=" + b"x" * 20_000)
    assert resp.status_code == 413


@pytest.mark.parametrize("key", ["", "wrong-internal-key-0123456789"])
async def test_internal_key_is_required(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    owner: dict[str, Any], key: str,
) -> None:
    body = hook_body("publish", "phone", owner["key"], next_client_id())
    resp = await hook(client, settings, "on_publish", body, internal_key=key)
    assert resp.status_code == 401
    # The header form works too (for callers that can set headers).
    ok = await client.post("/internal/rtmp/on_publish", content=body, headers={
        "X-Internal-Api-Key": service_key(settings, "rtmp"),
        "Content-Type": "application/x-www-form-urlencoded"})
    assert ok.status_code == 200


async def test_redis_down_refuses_publishing_but_keeps_publishers(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], owner: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new publish needs the claim (fail closed: 503); a running one is not cut off by a
    Redis outage (fail open), since nginx would drop it on any non-2xx update answer."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from argus_management.rtmp import active

    assert (await publish(client, settings, "phone", owner["key"], "21")).status_code == 200

    async def down(*_: Any, **__: Any) -> Any:
        raise RedisConnectionError("redis is down")

    monkeypatch.setattr(active, "claim", down)
    monkeypatch.setattr(active, "renew", down)
    other = await create_key(client, owner["headers"], "phone-b")
    refused = await publish(client, settings, "phone-b", other["key"], "22")
    assert refused.status_code == 503
    assert await _count(maker, Camera) == 1
    kept = await hook(client, settings, "on_update",
                      hook_body("update_publish", "phone", owner["key"], "21"))
    assert kept.status_code == 200 and kept.json()["result"] == "unverified"


async def test_client_strings_with_control_characters_are_cleaned(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    owner: dict[str, Any],
) -> None:
    """The flash version string is the RTMP client's own: a NUL in it must not reach the
    audit row (PostgreSQL refuses NUL in text), nor turn into a 500."""
    body = hook_body("publish", "phone", owner["key"], "31").replace(
        b"flashver=FMLE/3.0%20(compatible%3B%20Lavf59.27", b"flashver=evil%00%0Aclient")
    resp = await hook(client, settings, "on_publish", body)
    assert resp.status_code == 200, resp.text
    async with maker() as s:
        audit = (await s.scalars(select(AuditEntry).where(
            AuditEntry.action == "rtmp.publish"))).one()
    assert audit.user_agent == "evilclient"
