"""POST /internal/events: key check, idempotency, validation, the events stream, alerts."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.alerts.models import Alert
from argus_management.alerts.rules import AlertRule
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.events.models import Event

from factories.cameras import create_camera
from factories.events import event_body, internal_headers, report_event

URL = "/internal/events"


async def _rows(maker: async_sessionmaker[AsyncSession], model: type) -> list[Any]:
    async with maker() as s:
        return list(await s.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]


async def _stream(app: FastAPI) -> list[dict[str, Any]]:
    bus = app_state(app).bus
    entries = await bus.redis.xrange(bus.key("events"))
    return [json.loads(fields[b"data"]) for _, fields in entries]


@pytest.mark.parametrize("headers", [{}, {"X-Internal-Api-Key": "wrong-key-0123456789abcdef"}])
async def test_missing_or_wrong_key_is_401(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    headers: dict[str, str],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    resp = await client.post(URL, json=event_body(cam.id), headers=headers)
    assert resp.status_code == 401
    assert resp.json()["error"] == "Unauthorized"
    assert await _rows(maker, Event) == []


async def test_new_event_is_stored_streamed_and_redelivery_is_idempotent(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    body = event_body(cam.id, "motion.start", severity="warning", payload={"score": 0.8})
    first = await client.post(URL, json=body, headers=internal_headers(settings))
    assert first.status_code == 201, first.text
    event = first.json()
    assert event["source_id"] == body["id"] and event["camera_id"] == cam.id
    assert event["type"] == "motion.start" and event["severity"] == "warning"
    assert event["payload"] == {"score": 0.8}

    again = await client.post(URL, json=body, headers=internal_headers(settings))
    assert again.status_code == 200
    assert again.json() == event
    assert len(await _rows(maker, Event)) == 1

    stream = await _stream(app)
    assert len(stream) == 1  # the redelivery added nothing
    assert stream[0]["event_id"] == event["id"] and stream[0]["id"] == body["id"]
    assert stream[0]["type"] == "motion.start" and stream[0]["camera_id"] == cam.id
    assert len(await _rows(maker, Alert)) == 1  # nor raised a second alert


async def test_alerting_types_raise_alerts(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    cam = await create_camera(maker, settings.secret_key, name="Gate")
    motion = await report_event(client, settings, cam.id, "motion.start")
    rtmp = await report_event(client, settings, cam.id, "rtmp.publish")
    await report_event(client, settings, cam.id, "motion.end")
    await report_event(client, settings, cam.id, "stream.up")
    alerts = await _rows(maker, Alert)
    assert [(a.kind, a.severity, a.state, a.event_id) for a in alerts] == [
        ("motion", "warning", "open", motion["id"]),
        ("rtmp.received", "critical", "open", rtmp["id"]),
    ]
    assert alerts[1].title == "RTMP stream received" and "Gate" in alerts[1].detail


async def test_alert_rules_are_configurable(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = {
        "motion.start": None,
        "person.detected": AlertRule(kind="person", severity="info", title="Person detected"),
    }
    monkeypatch.setattr(settings, "alert_rules", rules)
    cam = await create_camera(maker, settings.secret_key)
    await report_event(client, settings, cam.id, "motion.start")
    await report_event(client, settings, cam.id, "person.detected")
    alerts = await _rows(maker, Alert)
    assert [(a.kind, a.severity, a.title) for a in alerts] == [
        ("person", "info", "Person detected")
    ]


async def test_redis_failure_after_commit_keeps_the_event(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def down(*_: Any, **__: Any) -> Any:
        raise ConnectionError("redis down")

    monkeypatch.setattr(app_state(app).bus, "add", down)
    monkeypatch.setattr(app_state(app).bus, "publish", down)
    cam = await create_camera(maker, settings.secret_key)
    event = await report_event(client, settings, cam.id, "motion.start")
    assert [e.id for e in await _rows(maker, Event)] == [event["id"]]
    assert len(await _rows(maker, Alert)) == 1


async def test_system_event_without_camera(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    event = await report_event(client, settings, None, "recorder.down")
    assert event["camera_id"] is None


def _raw(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


BAD_BODIES: list[tuple[str, bytes]] = [
    ("bad type", _raw(id="a1", type="Motion Start", ts="2026-01-01T00:00:00Z")),
    ("type too long", _raw(id="a1", type="x" * 65, ts="2026-01-01T00:00:00Z")),
    ("unknown field", _raw(id="a1", type="manual", ts="2026-01-01T00:00:00Z", admin=True)),
    ("missing id", _raw(type="manual", ts="2026-01-01T00:00:00Z")),
    ("bad id", _raw(id="", type="manual", ts="2026-01-01T00:00:00Z")),
    ("long id", _raw(id="i" * 65, type="manual", ts="2026-01-01T00:00:00Z")),
    ("bad severity", _raw(id="a1", type="manual", ts="2026-01-01T00:00:00Z", severity="meh")),
    ("future schema", _raw(id="a1", type="manual", ts="2026-01-01T00:00:00Z", v=99)),
    ("huge camera id", _raw(id="a1", type="manual", ts="2026-01-01T00:00:00Z", camera_id=2**40)),
    ("unknown camera", _raw(id="a1", type="manual", ts="2026-01-01T00:00:00Z", camera_id=999)),
    ("ts overflow", _raw(id="a1", type="manual", ts="0001-01-01T00:00:00+05:00")),
    ("ends before ts", _raw(id="a1", type="manual", ts="2026-01-01T00:00:00Z",
                            ends_at="2025-01-01T00:00:00Z")),
    ("NUL in payload", _raw(id="a1", type="manual", ts="2026-01-01T00:00:00Z",
                            payload={"k": "a\u0000b"})),
    ("NaN in payload", b'{"id":"a1","type":"manual","ts":"2026-01-01T00:00:00Z",'
                       b'"payload":{"k":NaN}}'),
    ("huge int in payload", b'{"id":"a1","type":"manual","ts":"2026-01-01T00:00:00Z",'
                            b'"payload":{"k":' + b"9" * 5000 + b"}}"),
    ("deep payload", b'{"id":"a1","type":"manual","ts":"2026-01-01T00:00:00Z","payload":{"k":'
                     + b"[" * 100 + b"]" * 100 + b"}}"),
    ("payload not an object", _raw(id="a1", type="manual", ts="2026-01-01T00:00:00Z",
                                   payload=[1, 2])),
    ("malformed JSON", b'{"id": "a1", "type": '),
    ("not UTF-8", b"\xff\xfe\x00garbage"),
    ("empty", b""),
]


@pytest.mark.parametrize(("case", "content"), BAD_BODIES, ids=[c for c, _ in BAD_BODIES])
async def test_bad_bodies_are_422(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], case: str, content: bytes,
) -> None:
    resp = await client.post(
        URL, content=content,
        headers={**internal_headers(settings), "Content-Type": "application/json"},
    )
    assert resp.status_code == 422, (case, resp.status_code, resp.text)
    body = resp.json()
    assert set(body) == {"error", "detail"} and body["detail"]
    assert await _rows(maker, Event) == []
    assert await _stream(app) == []


@pytest.mark.parametrize("size", [70 * 1024, 1024 * 1024])
async def test_oversized_payload_is_413(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], size: int,
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    body = event_body(cam.id, "manual", payload={"blob": "x" * size})
    resp = await client.post(URL, json=body, headers=internal_headers(settings))
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"] == "PayloadTooLarge"
    assert "xxxxxxxx" not in resp.text
    assert await _rows(maker, Event) == []


def _metric(text: str, name: str) -> float:
    line = next((x for x in text.splitlines() if x.startswith(name + " ")), None)
    return float(line.split()[1]) if line else 0.0


async def test_events_and_alerts_metrics(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    alerts_before = _metric((await client.get("/metrics")).text,
                            'argus_alerts_total{kind="rtmp.received"}')
    await report_event(client, settings, cam.id, "metric.probe")
    await report_event(client, settings, cam.id, "rtmp.publish")
    text = (await client.get("/metrics")).text
    assert _metric(text, 'argus_events_total{type="metric.probe"}') == 1.0
    assert _metric(text, 'argus_alerts_total{kind="rtmp.received"}') == alerts_before + 1


async def test_ts_defaults_to_now(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    body = {"id": "no-ts-1", "type": "manual", "camera_id": cam.id}
    resp = await client.post(URL, json=body, headers=internal_headers(settings))
    assert resp.status_code == 201, resp.text
    assert resp.json()["started_at"].startswith(str(datetime.now(UTC).year))


async def test_stored_event_row_fields(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    body = event_body(cam.id, "manual", ts=None, ends_at="2100-01-01T00:00:00+00:00")
    resp = await client.post(URL, json=body, headers=internal_headers(settings))
    assert resp.status_code == 201
    async with maker() as s:
        row = await s.scalar(select(Event).where(Event.source_id == body["id"]))
        assert row is not None and row.ended_at is not None and row.ended_at.year == 2100
        assert await s.scalar(select(func.count()).select_from(Event)) == 1


async def test_concurrent_redeliveries_store_one_row(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    body = event_body(cam.id, "motion.start")
    responses = await asyncio.gather(*(
        client.post(URL, json=body, headers=internal_headers(settings)) for _ in range(5)
    ))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await _rows(maker, Event)) == 1 and len(await _rows(maker, Alert)) == 1
    assert len(await _stream(app)) == 1
