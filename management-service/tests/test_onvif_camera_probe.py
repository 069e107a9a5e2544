"""``POST /api/v1/cameras/{id}/onvif/probe``: a registered ONVIF camera probed again with its
stored address and credentials (the console's camera form shows the warnings), against a
simulated camera that lacks the optional services and asks for Digest credentials."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.deps import app_state

from factories.cameras import create_camera
from factories.camsim import Camsim, launch
from factories.onvif_sim import SIM_PASSWORD, SIM_USER
from factories.users import create_user, login

CAMERAS = "/api/v1/cameras"


@pytest.fixture(scope="module")
def bare_camera() -> Iterator[Camsim]:
    sim = launch(
        "--cameras", "1", "--auth", "digest", "--username", SIM_USER, "--password", SIM_PASSWORD,
        "--resolution", "320x180", "--sub-resolution", "160x90", "--fps", "5",
        "--quirk=cam1:no_optional", onvif=True,
    )  # fmt: skip
    yield sim
    sim.stop()


async def test_a_registered_camera_is_probed_with_its_stored_credentials(
    client: httpx.AsyncClient,
    app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    bare_camera: Camsim,
) -> None:
    body = {
        "name": "Bare", "onvif_host": "127.0.0.1", "onvif_port": bare_camera.onvif_ports["cam1"],
        "username": SIM_USER, "password": SIM_PASSWORD, "onvif_profile": "main",
        "connect_timeout_s": 2.0, "read_timeout_s": 2.0,
    }  # fmt: skip
    r = await client.post(CAMERAS, json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    cam = r.json()["id"]

    r = await client.post(f"{CAMERAS}/{cam}/onvif/probe", headers=admin_headers)
    assert r.status_code == 200, r.text
    out = r.json()
    warnings = out["warnings"]
    assert any(w.startswith("PTZ not available") for w in warnings), warnings
    assert any(w.startswith("events not available") for w in warnings), warnings
    assert out["port"] == bare_camera.onvif_ports["cam1"]
    assert SIM_PASSWORD not in r.text

    # The stored password is what got in: with a wrong one the camera refuses it.
    r = await client.patch(f"{CAMERAS}/{cam}", json={"password": "wrong-password"},
                           headers=admin_headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"{CAMERAS}/{cam}/onvif/probe", headers=admin_headers)
    assert r.status_code == 502, r.text

    # No ONVIF address: 409; not an admin (no cameras:write): 403; no such camera: 404.
    plain = await create_camera(maker, app_state(app).settings.secret_key, name="Plain")
    r = await client.post(f"{CAMERAS}/{plain.id}/onvif/probe", headers=admin_headers)
    assert r.status_code == 409, r.text
    user = await create_user(maker, "operator", camera_ids=[cam])
    viewer = await login(client, user.username)
    r = await client.post(f"{CAMERAS}/{cam}/onvif/probe", headers=viewer)
    assert r.status_code == 403, r.text
    r = await client.post(f"{CAMERAS}/999999/onvif/probe", headers=admin_headers)
    assert r.status_code == 404, r.text


async def test_repeated_probes_of_a_camera_are_one_audit_row_with_a_count(
    client: httpx.AsyncClient,
    maker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    bare_camera: Camsim,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The camera form probes its camera each time it opens: within the throttle's minute
    one row per user and camera is written at once, the later probes are counted and get
    one row with their count when the minute is over."""
    from argus_management.audit import throttle

    at = datetime.now(UTC).replace(second=5, microsecond=0)

    class _Frozen(datetime):  # every probe in the same minute of the throttle
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> _Frozen:
            return cls.fromtimestamp(at.timestamp(), tz)

    monkeypatch.setattr(throttle, "datetime", _Frozen)
    body = {
        "name": "Form", "onvif_host": "127.0.0.1", "onvif_port": bare_camera.onvif_ports["cam1"],
        "username": SIM_USER, "password": SIM_PASSWORD, "onvif_profile": "main",
        "connect_timeout_s": 2.0, "read_timeout_s": 2.0,
    }  # fmt: skip
    r = await client.post(CAMERAS, json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    cam = r.json()["id"]
    for _ in range(3):
        r = await client.post(f"{CAMERAS}/{cam}/onvif/probe", headers=admin_headers)
        assert r.status_code == 200, r.text

    async def rows() -> list[AuditEntry]:
        async with maker() as s:
            return list(await s.scalars(
                select(AuditEntry).where(AuditEntry.action == "camera.onvif_probe")
                .order_by(AuditEntry.id)
            ))

    (first,) = await rows()
    assert (first.target_type, first.target_id) == ("camera", str(cam))
    assert first.user_id is not None and "count" not in first.summary
    assert await throttle.flush_due(maker, at + timedelta(seconds=60)) == 1
    first_again, counted = await rows()
    assert first_again.id == first.id
    assert counted.summary["count"] == 2 and counted.user_id == first.user_id
    assert (counted.target_type, counted.target_id) == ("camera", str(cam))
    assert counted.summary["profiles"] == ["main", "sub"]
