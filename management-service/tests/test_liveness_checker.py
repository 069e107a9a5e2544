"""The liveness checker, one cycle at a time (no timing): probes against the simulator,
evidence from the media services, hysteresis, alerts, recorder heartbeats, the lease."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management import versions
from argus_management.alerts.models import Alert
from argus_management.alerts.service import raise_alert
from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.liveness.checker import LivenessChecker
from argus_management.liveness.gauges import refresh_gauges
from argus_management.liveness.recorders import REGISTRY as RECORDER_REGISTRY

from factories.cameras import CAMERA_PASSWORD, create_camera
from factories.camsim import Camsim, free_port, launch
from factories.events import report_event


@pytest.fixture(scope="module")
def sim() -> Iterator[Camsim]:
    s = launch("--cameras", "2", "--auth", "digest", "--username", "camuser",
               "--password", CAMERA_PASSWORD)
    yield s
    s.stop()


def checker_settings(settings: Settings, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "liveness_enabled": True, "liveness_interval_s": 1.0, "liveness_evidence_s": 30.0,
        "liveness_offline_after": 2, "liveness_alert_window_s": 300.0,
    }
    values.update(extra)
    return settings.model_copy(update=values)


@pytest.fixture
async def checker(app: FastAPI, settings: Settings) -> AsyncIterator[LivenessChecker]:
    c = LivenessChecker(checker_settings(settings), app_state(app).sessionmaker, app_state(app).bus)
    yield c
    await c.aclose()


async def _camera(maker: async_sessionmaker[AsyncSession], camera_id: int) -> Camera:
    async with maker() as s:
        cam = await s.get(Camera, camera_id)
        assert cam is not None
        return cam


async def _set(maker: async_sessionmaker[AsyncSession], camera_id: int, **values: Any) -> None:
    async with maker() as s:
        await s.execute(update(Camera).where(Camera.id == camera_id).values(**values))
        await s.commit()


async def _alerts(maker: async_sessionmaker[AsyncSession], kind: str) -> list[Alert]:
    async with maker() as s:
        return list(await s.scalars(select(Alert).where(Alert.kind == kind).order_by(Alert.id)))


def _dead_url() -> str:
    return f"rtsp://127.0.0.1:{free_port()}/cam1/main"


async def test_simulator_camera_goes_online_and_the_api_shows_it(
    checker: LivenessChecker, app: FastAPI, settings: Settings, sim: Camsim,
    maker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient,
) -> None:
    cam = await create_camera(maker, settings.secret_key, stream_url=sim.url(1))
    admin = {"Authorization": f"Bearer {app_state(app).jwt.issue('1', 'access', 900).token}"}
    before = await client.get("/api/v1/cameras", headers=admin)
    assert before.json()["items"][0]["status"] == "unknown"  # now cached at this version
    bus = app_state(app).bus
    version = await bus.redis.get(bus.key(versions.CAMERAS))
    report = await checker.cycle()
    assert report.probed == 1 and report.results[cam.id].outcome == "ok"
    assert [(t.old, t.new) for t in report.transitions] == [("unknown", "online")]
    row = await _camera(maker, cam.id)
    assert row.status == "online" and row.last_seen is not None
    assert row.updated_at == cam.updated_at  # a status is not a configuration change
    assert await bus.redis.get(bus.key(versions.CAMERAS)) != version
    after = await client.get("/api/v1/cameras", headers=admin)
    assert after.json()["items"][0]["status"] == "online"
    assert await _alerts(maker, "camera.online") == []  # unknown -> online is no news
    await refresh_gauges(maker)
    assert REGISTRY.get_sample_value("argus_cameras", {"status": "online"}) == 1
    assert REGISTRY.get_sample_value("argus_camera_up", {"camera_id": str(cam.id)}) == 1


async def test_outage_raises_offline_after_two_checks_and_recovery_resolves_it(
    checker: LivenessChecker, settings: Settings, sim: Camsim,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key, name="Gate", stream_url=sim.url(2))
    await checker.cycle()
    await sim.fault(2, offline_s=60)
    try:
        first = await checker.cycle()
        assert first.results[cam.id].outcome == "unreachable" and not first.transitions
        assert (await _camera(maker, cam.id)).status == "online"  # hysteresis
        second = await checker.cycle()
        assert [(t.old, t.new) for t in second.transitions] == [("online", "offline")]
    finally:
        await sim.fault(2, offline_s=0)
    [offline] = await _alerts(maker, "camera.offline")
    assert (offline.state, offline.severity, offline.camera_id) == ("open", "critical", cam.id)
    assert "Gate" in offline.title and CAMERA_PASSWORD not in offline.detail
    assert offline.payload["reason"] == "unreachable"
    assert (await _camera(maker, cam.id)).status == "offline"
    await checker.cycle()
    [offline] = await _alerts(maker, "camera.offline")
    assert offline.state == "resolved" and offline.resolved_at is not None
    [online] = await _alerts(maker, "camera.online")
    assert (online.state, online.severity) == ("open", "info")
    assert (await _camera(maker, cam.id)).status == "online"


async def test_flapping_raises_one_offline_alert_per_window(
    checker: LivenessChecker, settings: Settings, sim: Camsim,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key, stream_url=sim.url(1))
    await _set(maker, cam.id, recording_mode="off")
    dead = _dead_url()
    await checker.cycle()
    for _ in range(3):  # three full outages, each long enough to go offline
        await _set(maker, cam.id, stream_url=dead)
        await checker.cycle()
        await checker.cycle()
        assert (await _camera(maker, cam.id)).status == "offline"
        await _set(maker, cam.id, stream_url=sim.url(1))
        await checker.cycle()
        assert (await _camera(maker, cam.id)).status == "online"
    offline = await _alerts(maker, "camera.offline")
    assert len(offline) == 1 and offline[0].severity == "warning"  # not recording
    assert len(await _alerts(maker, "camera.online")) == 1


async def test_stream_up_evidence_replaces_the_probe_until_stream_down(
    checker: LivenessChecker, settings: Settings, client: httpx.AsyncClient,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key, stream_url=_dead_url())
    await report_event(client, settings, cam.id, "stream.up", payload={"recorder": "rec-1"})
    report = await checker.cycle()
    assert report.probed == 0 and report.results[cam.id].outcome == "evidence"
    assert (await _camera(maker, cam.id)).status == "online"
    await report_event(client, settings, cam.id, "stream.down",
                       payload={"recorder": "rec-1", "reason": "timeout"})
    assert (await checker.cycle()).results[cam.id].outcome == "refused"
    await checker.cycle()
    assert (await _camera(maker, cam.id)).status == "offline"
    [alert] = await _alerts(maker, "camera.offline")
    assert alert.payload["reason"] == "refused"


async def test_stale_evidence_is_not_enough(
    checker: LivenessChecker, settings: Settings, client: httpx.AsyncClient,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key, stream_url=_dead_url())
    old = datetime.now(UTC) - timedelta(seconds=120)
    await report_event(client, settings, cam.id, "stream.up", ts=old)
    report = await checker.cycle()
    assert report.probed == 1 and report.results[cam.id].outcome == "refused"


async def test_recorder_heartbeat_expiry_raises_recorder_down_once_and_return_resolves(
    checker: LivenessChecker, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    bus = app_state(app).bus
    cam = await create_camera(maker, settings.secret_key, stream_url=_dead_url())
    beat = json.dumps({"instance": "rec-a", "ts": 0, "cameras_up": [cam.id]})
    await bus.redis.set(bus.key("recorder:rec-a"), beat, px=60_000)
    report = await checker.cycle()
    assert report.probed == 0 and report.results[cam.id].outcome == "evidence"
    assert await bus.redis.hexists(bus.key(RECORDER_REGISTRY), "rec-a")
    await bus.redis.delete(bus.key("recorder:rec-a"))  # as if its TTL ran out
    await checker.cycle()
    await checker.cycle()
    [down] = await _alerts(maker, "recorder.down")
    assert (down.state, down.severity, down.camera_id) == ("open", "critical", None)
    assert down.payload["instance"] == "rec-a" and "rec-a" in down.title
    assert not await bus.redis.hexists(bus.key(RECORDER_REGISTRY), "rec-a")
    await bus.redis.set(bus.key("recorder:rec-a"), beat, px=60_000)
    await checker.cycle()
    [down] = await _alerts(maker, "recorder.down")
    assert down.state == "resolved"


async def test_disabling_a_camera_makes_it_unknown_and_resolves_its_alert(
    checker: LivenessChecker, settings: Settings, maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key, stream_url=_dead_url())
    await checker.cycle()
    await checker.cycle()
    [alert] = await _alerts(maker, "camera.offline")
    await _set(maker, cam.id, enabled=False)
    report = await checker.cycle()
    assert report.checked == 0
    assert (await _camera(maker, cam.id)).status == "unknown"
    [alert] = await _alerts(maker, "camera.offline")
    assert alert.state == "resolved"


async def test_only_the_lease_holder_checks(
    app: FastAPI, settings: Settings, maker: async_sessionmaker[AsyncSession],
) -> None:
    await create_camera(maker, settings.secret_key, stream_url=_dead_url())
    s = checker_settings(settings)
    one = LivenessChecker(s, maker, app_state(app).bus)
    two = LivenessChecker(s, maker, app_state(app).bus)
    try:
        assert await one.tick() is not None
        assert await two.tick() is None
        assert await one.tick() is not None  # renewed
        await one.lease.release()
        assert await two.tick() is not None
    finally:
        await one.aclose()
        await two.aclose()


async def test_disk_low_dedupes_per_recorder_and_disk_ok_resolves(
    settings: Settings, client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession],
) -> None:
    low = {"recorder": "rec-1", "free_bytes": 10, "total_bytes": 1000, "free_ratio": 0.01}
    await report_event(client, settings, None, "disk.low", severity="critical", payload=low)
    await report_event(client, settings, None, "disk.low", severity="critical", payload=low)
    await report_event(client, settings, None, "disk.low",
                       payload={**low, "recorder": "rec-2"})
    alerts = await _alerts(maker, "disk.low")
    assert [(a.camera_id, a.severity, a.payload["dedupe_key"]) for a in alerts] == [
        (None, "critical", "rec-1"), (None, "critical", "rec-2")
    ]
    await report_event(client, settings, None, "disk.ok", payload={"recorder": "rec-1"})
    assert [a.state for a in await _alerts(maker, "disk.low")] == ["resolved", "open"]


async def test_first_sighting_resolves_a_stale_offline_alert_quietly(
    checker: LivenessChecker, app: FastAPI, settings: Settings, sim: Camsim,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """An offline alert left open (status reset, restart) must not outlive the camera's
    return, nor swallow the next outage's alert through dedupe."""
    cam = await create_camera(maker, settings.secret_key, stream_url=sim.url(1))
    async with maker() as session:
        await raise_alert(session, app_state(app).bus, kind="camera.offline", title="old",
                          camera_id=cam.id, dedupe_key="")
        await session.commit()
    report = await checker.cycle()
    assert [(t.old, t.new) for t in report.transitions] == [("unknown", "online")]
    [stale] = await _alerts(maker, "camera.offline")
    assert stale.state == "resolved"
    assert await _alerts(maker, "camera.online") == []
