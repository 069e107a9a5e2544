"""Cameras that do not behave like our simulator: each quirk mode of the simulator
(``--quirk camN:<mode>``) is probed and registered, and what the camera cannot do comes back
as "not available" with a warning instead of failing the probe, the registration or the PTZ
panel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from factories.camsim import Camsim, launch
from factories.onvif_sim import SIM_PASSWORD, SIM_USER

PROBE = "/api/v1/cameras/onvif/probe"
CAMERAS = "/api/v1/cameras"
QUIRKS = (
    "namespaces", "no_optional", "legacy", "slow", "clock", "no_time", "bad_presets", "no_media2"
)
# Timeouts short enough that the slow camera's optional answers (6 s) come too late.
TIMEOUTS = {"connect_timeout_s": 1.0, "read_timeout_s": 1.0}


@pytest.fixture(scope="module")
def quirky() -> Iterator[Camsim]:
    flags = [f"--quirk=cam{i}:{q}" for i, q in enumerate(QUIRKS, start=1)]
    sim = launch(
        "--cameras",
        str(len(QUIRKS)),
        "--auth",
        "digest",
        "--username",
        SIM_USER,
        "--password",
        SIM_PASSWORD,
        "--resolution",
        "320x180",
        "--sub-resolution",
        "160x90",
        "--fps",
        "5",
        *flags,
        onvif=True,
    )
    yield sim
    sim.stop()


def _port(sim: Camsim, quirk: str) -> int:
    return sim.onvif_ports[f"cam{QUIRKS.index(quirk) + 1}"]


def _has(warnings: list[str], start: str) -> bool:
    return any(w.startswith(start) for w in warnings)


async def _probe(
    client: httpx.AsyncClient, admin: dict[str, str], sim: Camsim, quirk: str
) -> dict[str, Any]:
    body = {
        "host": "127.0.0.1",
        "port": _port(sim, quirk),
        "username": SIM_USER,
        "password": SIM_PASSWORD,
        **TIMEOUTS,
    }
    resp = await client.post(PROBE, json=body, headers=admin)
    assert resp.status_code == 200, (quirk, resp.text)
    out: dict[str, Any] = resp.json()
    assert [p["token"] for p in out["profiles"]] == ["main", "sub"], quirk
    assert all(p["stream_uri"].endswith(("/main", "/sub")) for p in out["profiles"]), quirk
    return out


@pytest.mark.parametrize("quirk", QUIRKS)
async def test_each_quirk_still_probes_and_registers(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    quirky: Camsim,
    quirk: str,
) -> None:
    out = await _probe(client, admin_headers, quirky, quirk)
    caps, ptz, warnings = out["capabilities"], out["ptz"], out["warnings"]
    snapshot = out["profiles"][0]["snapshot_uri"]
    if quirk == "no_optional":
        assert caps["ptz"] is False and caps["events"] is False
        assert ptz["supported"] is False and _has(warnings, "PTZ not available")
        assert snapshot is None and _has(warnings, "snapshot URI")
        assert _has(warnings, "events not available")
    else:
        assert caps["ptz"] is True and caps["events"] is True, quirk
        assert ptz["supported"] is True and ptz["profile"] == "main", quirk
    if quirk in ("slow", "bad_presets"):
        assert ptz["presets_available"] is False and _has(warnings, "PTZ presets"), warnings
    elif quirk != "no_optional":
        assert ptz["presets_available"] is True, (quirk, warnings)
    if quirk == "slow":
        assert snapshot is None and _has(warnings, "snapshot URI")
    if quirk in ("namespaces", "legacy", "clock", "no_time", "bad_presets"):
        assert snapshot is not None and snapshot.endswith("/onvif/snapshot.jpg"), quirk
    # Media2 wherever the device lists it (GetCapabilities, the legacy path, does not).
    assert caps["media2"] is (quirk not in ("legacy", "no_media2")), quirk
    assert not _has(warnings, "Media2"), (quirk, warnings)
    if quirk == "no_media2":
        assert snapshot is not None and ptz["presets_available"] is True
    if quirk == "clock":
        assert 3 * 3600 < out["time_offset_s"] < 3 * 3600 + 60
    if quirk == "no_time":
        assert caps["time"] is False and _has(warnings, "camera clock")
    else:
        assert caps["time"] is True and not _has(warnings, "camera clock"), quirk

    # Registration straight from the profiles, with what works.
    body = {
        "name": f"quirk-{quirk}",
        "onvif_host": "127.0.0.1",
        "onvif_port": _port(quirky, quirk),
        "username": SIM_USER,
        "password": SIM_PASSWORD,
        "onvif_profile": "main",
        "onvif_sub_profile": "sub",
        **TIMEOUTS,
    }
    resp = await client.post(CAMERAS, json=body, headers=admin_headers)
    assert resp.status_code == 201, (quirk, resp.text)
    camera = resp.json()
    assert camera["stream_url"].endswith("/main") and camera["sub_stream_url"].endswith("/sub")
    assert camera["has_ptz"] is (quirk != "no_optional"), quirk

    # By URL with an ONVIF host but no profile: PTZ is asked of the device, not assumed.
    by_url = {
        "name": f"url-{quirk}",
        "stream_url": camera["stream_url"],
        "onvif_host": "127.0.0.1",
        "onvif_port": _port(quirky, quirk),
        "username": SIM_USER,
        "password": SIM_PASSWORD,
        **TIMEOUTS,
    }
    resp = await client.post(CAMERAS, json=by_url, headers=admin_headers)
    assert resp.status_code == 201, (quirk, resp.text)
    assert resp.json()["has_ptz"] is (quirk != "no_optional"), quirk

    if quirk in ("slow", "bad_presets"):
        # The PTZ panel: presets are "none", the status still answers.
        ptz_url = f"{CAMERAS}/{camera['id']}/ptz"
        presets = await client.get(f"{ptz_url}/presets", headers=admin_headers)
        assert presets.status_code == 200 and presets.json() == [], presets.text
        status = await client.get(f"{ptz_url}/status", headers=admin_headers)
        assert status.status_code == 200, status.text
        if quirk == "slow":
            assert status.json()["position"]["pan"] is None
            assert _has(status.json()["warnings"], "PTZ status")
        else:
            assert status.json()["warnings"] == []


async def test_an_explicit_has_ptz_is_kept_without_asking(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    quirky: Camsim,
) -> None:
    body = {
        "name": "told",
        "stream_url": "rtsp://127.0.0.1:8554/cam1/main",
        "onvif_host": "127.0.0.1",
        "onvif_port": _port(quirky, "no_optional"),
        "has_ptz": True,
    }
    resp = await client.post(CAMERAS, json=body, headers=admin_headers)
    assert resp.status_code == 201 and resp.json()["has_ptz"] is True, resp.text
