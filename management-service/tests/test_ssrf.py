"""SSRF guards on the hosts management connects to (issue 16, finding 6).

Every spelling of a forbidden address is refused (the C library reads ``2852039166`` as
169.254.169.254), names are resolved before the check (the resolver is replaced here, so no
DNS is needed), probes connect to the address that was checked, ONVIF service addresses stay
on the device's host, and a camera's stored password does not follow a new host unless it
is given again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common import addresses
from argus_management.cameras.crypto import decrypt_secret
from argus_management.cameras.models import Camera
from argus_management.deps import app_state
from argus_management.liveness.probes import ProbeTarget, probe_camera
from argus_management.onvif.device import confine_xaddrs

CAMERAS = "/api/v1/cameras"
METADATA_SPELLINGS = [
    "2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518", "0XA9FEA9FE",
    "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]", "[64:ff9b::a9fe:a9fe]",
    "[2002:a9fe:a9fe::1]", "[fe80::1%25eth0]",
]


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names -> addresses the resolver answers (anything else does not resolve)."""
    table: dict[str, list[str]] = {}

    async def getaddrinfo(host: str) -> list[str]:
        if host not in table:
            raise OSError("name does not resolve")
        return table[host]

    monkeypatch.setattr(addresses, "_getaddrinfo", getaddrinfo)
    return table


@pytest.mark.parametrize("host", METADATA_SPELLINGS)
async def test_every_spelling_of_a_link_local_address_is_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str], host: str
) -> None:
    resp = await client.post(
        CAMERAS, json={"name": "Sneaky", "stream_url": f"rtsp://{host}/stream"},
        headers=admin_headers,
    )
    assert resp.status_code == 422, resp.text
    assert "link-local" in resp.json()["detail"]


@pytest.mark.parametrize(("host", "word"), [
    ("0.0.0.0", "unspecified"), ("0", "unspecified"), ("[::]", "unspecified"),
    ("224.0.0.1", "multicast"), ("[fd00:ec2::254]", "metadata"),
])
async def test_other_addresses_no_camera_has_are_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str], host: str, word: str
) -> None:
    resp = await client.post(
        CAMERAS, json={"name": "Odd", "stream_url": f"rtsp://{host}/x"}, headers=admin_headers
    )
    assert resp.status_code == 422 and word in resp.json()["detail"], resp.text


async def test_names_are_resolved_before_the_check(
    client: httpx.AsyncClient, admin_headers: dict[str, str], fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["169.254.169.254.nip.test"] = ["169.254.169.254"]
    fake_dns["twofaced.test"] = ["10.0.0.7", "::ffff:169.254.169.254"]
    fake_dns["camera.test"] = ["10.0.0.8"]
    for host in ("169.254.169.254.nip.test", "twofaced.test"):
        resp = await client.post(
            CAMERAS, json={"name": host, "stream_url": f"rtsp://{host}/s"}, headers=admin_headers
        )
        assert resp.status_code == 422 and "link-local" in resp.json()["detail"], resp.text
        onvif = await client.post(
            CAMERAS, json={"name": host, "stream_url": "rtsp://10.0.0.8/s", "onvif_host": host},
            headers=admin_headers,
        )
        assert onvif.status_code == 422 and onvif.json()["detail"].startswith("onvif_host")
        probe = await client.post(f"{CAMERAS}/onvif/probe", json={"host": host, "port": 80},
                                  headers=admin_headers)
        assert probe.status_code == 422, probe.text
    ok = await client.post(CAMERAS, json={"name": "Fine", "stream_url": "rtsp://camera.test/s"},
                           headers=admin_headers)
    assert ok.status_code == 201, ok.text


@pytest.fixture
async def rtsp_listener() -> AsyncIterator[tuple[int, list[str]]]:
    """A TCP server on 127.0.0.1 answering any RTSP request 404; records request lines."""
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        seen.append(lines[0])
        cseq = next((line.split(":", 1)[1].strip() for line in lines
                     if line.lower().startswith("cseq:")), "1")
        writer.write(f"RTSP/1.0 404 Not Found\r\nCSeq: {cseq}\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port, seen
    server.close()
    await server.wait_closed()


async def test_the_liveness_probe_connects_to_the_checked_address(
    fake_dns: dict[str, list[str]], rtsp_listener: tuple[int, list[str]]
) -> None:
    port, seen = rtsp_listener
    fake_dns["cam.test"] = ["127.0.0.1"]  # a name real DNS does not know: pinned, it works
    target = ProbeTarget(camera_id=1, kind="rtsp", stream_url=f"rtsp://cam.test:{port}/live")
    async with httpx.AsyncClient() as client:
        result = await probe_camera(target, client)
        assert result.status == 404, result
        assert seen == [f"DESCRIBE rtsp://127.0.0.1:{port}/live RTSP/1.0"]
        # Later the name points at the metadata service (DNS rebinding): no connection.
        fake_dns["cam.test"] = ["169.254.169.254"]
        refused = await probe_camera(target, client)
        assert refused.outcome == "error" and "link-local" in refused.detail
        onvif = ProbeTarget(camera_id=2, kind="onvif", stream_url=f"rtsp://127.0.0.1:{port}/x",
                            onvif_host="cam.test", onvif_port=port)
        assert (await probe_camera(onvif, client)).outcome == "error"
        gone = ProbeTarget(camera_id=3, kind="rtsp", stream_url=f"rtsp://nowhere.test:{port}/x")
        assert (await probe_camera(gone, client)).outcome == "unreachable"
    assert len(seen) == 1


def test_onvif_service_addresses_stay_on_the_device_host() -> None:
    given = {
        "media": "http://10.0.0.5:8080/onvif/media_service",
        "ptz": "http://192.0.2.99:8081/onvif/ptz_service",  # another host
        "events": "http://169.254.169.254/latest/meta-data/",  # the metadata service
        "imaging": "http://2852039166/x",
    }
    kept = confine_xaddrs(given, "10.0.0.5")
    assert kept == {
        "media": "http://10.0.0.5:8080/onvif/media_service",
        "ptz": "http://10.0.0.5:8081/onvif/ptz_service",
    }
    allowed = confine_xaddrs(given, "10.0.0.5", allow_foreign=True)
    assert allowed == {
        "media": "http://10.0.0.5:8080/onvif/media_service",
        "ptz": "http://192.0.2.99:8081/onvif/ptz_service",
    }
    assert confine_xaddrs({"ptz": "http://h:1/p"}, "fd00::5")["ptz"] == "http://[fd00::5]:1/p"


async def _camera_with_password(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> int:
    resp = await client.post(CAMERAS, json={
        "name": "Door", "stream_url": "rtsp://10.0.0.9:554/main",
        "sub_stream_url": "rtsp://10.0.0.9:554/sub", "username": "op", "password": "door-pw-1",
    }, headers=admin_headers)
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


async def test_a_new_host_needs_the_password_again(
    client: httpx.AsyncClient, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cid = await _camera_with_password(client, admin_headers)
    url = f"{CAMERAS}/{cid}"
    for change in ({"stream_url": "rtsp://203.0.113.66:554/main"},
                   {"sub_stream_url": "rtsp://203.0.113.66/sub"},
                   {"onvif_host": "203.0.113.66"}):
        resp = await client.patch(url, json=change, headers=admin_headers)
        assert resp.status_code == 422, resp.text
        assert resp.json()["detail"].startswith("password: required")
    async with maker() as s:
        row = await s.get(Camera, cid)
        assert row is not None and row.stream_url == "rtsp://10.0.0.9:554/main"
    # Same host, another path or port: no password needed.
    same = await client.patch(url, json={"stream_url": "rtsp://10.0.0.9:8554/main2"},
                              headers=admin_headers)
    assert same.status_code == 200 and same.json()["has_password"] is True


async def test_the_new_host_takes_a_new_password_or_none(
    client: httpx.AsyncClient, app: object, admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cid = await _camera_with_password(client, admin_headers)
    url = f"{CAMERAS}/{cid}"
    moved = await client.patch(
        url, json={"stream_url": "rtsp://10.0.0.10/main", "sub_stream_url": None,
                   "password": "new-host-pw"}, headers=admin_headers,
    )
    assert moved.status_code == 200, moved.text
    async with maker() as s:
        row = await s.get(Camera, cid)
        assert row is not None
        key = app_state(app).settings.secret_key  # type: ignore[arg-type]
        assert decrypt_secret(key, row.password_enc) == "new-host-pw"
    cleared = await client.patch(
        url, json={"stream_url": "rtsp://10.0.0.11/main", "password": None},
        headers=admin_headers,
    )
    assert cleared.status_code == 200 and cleared.json()["has_password"] is False
    # Without a stored password there is nothing to leak: hosts change freely.
    free = await client.patch(url, json={"stream_url": "rtsp://10.0.0.12/main"},
                              headers=admin_headers)
    assert free.status_code == 200
    # Credentials in the new URL count as the password given again.
    await client.patch(url, json={"password": "again-pw"}, headers=admin_headers)
    inline = await client.patch(url, json={"stream_url": "rtsp://op:inline-pw@10.0.0.13/m"},
                                headers=admin_headers)
    assert inline.status_code == 200 and inline.json()["has_password"] is True


async def test_a_resolver_that_does_not_answer_counts_as_not_resolving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unreachable DNS server holds a lookup for its own timeouts (10 s and more): the
    check gives up after RESOLVE_TIMEOUT_S, as if the name did not resolve."""
    async def hangs(host: str) -> list[str]:
        await asyncio.sleep(30)
        return ["203.0.113.9"]

    monkeypatch.setattr(addresses, "_getaddrinfo", hangs)
    monkeypatch.setattr(addresses, "RESOLVE_TIMEOUT_S", 0.2)
    async with asyncio.timeout(5):
        assert await addresses.resolve("camera.example") == []
        with pytest.raises(addresses.AddressRefused, match="does not resolve"):
            await addresses.check_host("camera.example", addresses.parse_networks("10.0.0.0/8"))
