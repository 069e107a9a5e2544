"""Raw SOAP/HTTP requests against the ONVIF device: security edge cases and faults."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import defusedxml.ElementTree as SafeET
import httpx
import pytest

from argus_camsim.model import CameraInfo
from argus_camsim.onvif import OnvifAuth, OnvifServer, start_onvif

USER, PASSWORD = "operator", "pa55word"
NS_S = "http://www.w3.org/2003/05/soap-envelope"
NS_TDS = "http://www.onvif.org/ver10/device/wsdl"
NS_TRT = "http://www.onvif.org/ver10/media/wsdl"
NS_TPTZ = "http://www.onvif.org/ver20/ptz/wsdl"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


async def snapshot() -> bytes:
    return JPEG


def digest_token(created: datetime, password: str = PASSWORD, nonce: bytes | None = None) -> str:
    nonce = nonce if nonce is not None else os.urandom(16)
    created_text = created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    digest = base64.b64encode(
        hashlib.sha1(
            nonce + created_text.encode() + password.encode(), usedforsecurity=False
        ).digest()
    ).decode()
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
        f"<wsse:Username>{USER}</wsse:Username>"
        f'<wsse:Password Type="{PROFILE}#PasswordDigest">{digest}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created_text}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def text_token(password: str) -> str:
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{USER}</wsse:Username>"
        f'<wsse:Password Type="{PROFILE}#PasswordText">{password}</wsse:Password>'
        "</wsse:UsernameToken></wsse:Security>"
    )


def soap(body: str, security: str = "") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{NS_S}" xmlns:tds="{NS_TDS}" xmlns:trt="{NS_TRT}" '
        f'xmlns:tptz="{NS_TPTZ}"><s:Header>{security}</s:Header><s:Body>{body}</s:Body>'
        "</s:Envelope>"
    ).encode()


def subcodes(response: httpx.Response) -> list[str]:
    root = SafeET.fromstring(response.content)
    return [el.text or "" for el in root.iter(f"{{{NS_S}}}Value")]


Start = Callable[..., Awaitable[OnvifServer]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    servers: list[OnvifServer] = []

    async def _start(camera: CameraInfo | None = None, **kwargs: Any) -> OnvifServer:
        auth = kwargs.pop("auth", OnvifAuth(USER, PASSWORD, required=True))
        rtsp_base = kwargs.pop("rtsp_base", "rtsp://127.0.0.1:8554")
        cam = camera or CameraInfo(index=1, name="Lobby")
        server = await start_onvif(cam, "127.0.0.1", 0, auth, snapshot, rtsp_base, **kwargs)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        await server.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def post(
    http: httpx.AsyncClient,
    server: OnvifServer,
    payload: bytes,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    all_headers = {"Content-Type": "application/soap+xml; charset=utf-8", **(headers or {})}
    return await http.post(server.device_url, content=payload, headers=all_headers, **kwargs)


GET_INFO = "<tds:GetDeviceInformation/>"


async def test_created_an_hour_off_is_refused(start: Start, http: httpx.AsyncClient) -> None:
    server = await start()
    for offset in (timedelta(hours=-1), timedelta(hours=1)):
        token = digest_token(datetime.now(UTC) + offset)
        response = await post(http, server, soap(GET_INFO, token))
        assert response.status_code == 400
        assert subcodes(response) == ["s:Sender", "ter:NotAuthorized"]


async def test_created_inside_window_is_accepted(start: Start, http: httpx.AsyncClient) -> None:
    server = await start()
    response = await post(
        http, server, soap(GET_INFO, digest_token(datetime.now(UTC) - timedelta(seconds=200)))
    )
    assert response.status_code == 200
    assert b"<tds:Model>CamSim</tds:Model>" in response.content


async def test_window_follows_the_device_clock(start: Start, http: httpx.AsyncClient) -> None:
    # A camera whose clock is 1 h ahead accepts tokens created by its own clock only.
    server = await start(clock_offset_s=3600)
    now = datetime.now(UTC)
    assert (await post(http, server, soap(GET_INFO, digest_token(now)))).status_code == 400
    skewed = digest_token(now + timedelta(hours=1))
    assert (await post(http, server, soap(GET_INFO, skewed))).status_code == 200


async def test_custom_skew_window(start: Start, http: httpx.AsyncClient) -> None:
    server = await start(auth=OnvifAuth(USER, PASSWORD, required=True, skew_window_s=5))
    token = digest_token(datetime.now(UTC) - timedelta(seconds=30))
    assert (await post(http, server, soap(GET_INFO, token))).status_code == 400


async def test_wrong_digest_and_replayed_nonce(start: Start, http: httpx.AsyncClient) -> None:
    server = await start()
    wrong = digest_token(datetime.now(UTC), password="guess")
    assert (await post(http, server, soap(GET_INFO, wrong))).status_code == 400
    token = digest_token(datetime.now(UTC))
    assert (await post(http, server, soap(GET_INFO, token))).status_code == 200
    replay = await post(http, server, soap(GET_INFO, token))
    assert replay.status_code == 400
    assert "ter:NotAuthorized" in subcodes(replay)


async def test_password_text(start: Start, http: httpx.AsyncClient) -> None:
    server = await start()
    assert (await post(http, server, soap(GET_INFO, text_token(PASSWORD)))).status_code == 200
    assert (await post(http, server, soap(GET_INFO, text_token("nope")))).status_code == 400


async def test_no_credentials_gets_digest_challenge(start: Start, http: httpx.AsyncClient) -> None:
    server = await start()
    response = await post(http, server, soap(GET_INFO))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Digest ")
    assert subcodes(response) == ["s:Sender", "ter:NotAuthorized"]
    # HTTP Digest is accepted for SOAP too.
    auth = httpx.DigestAuth(USER, PASSWORD)
    assert (await post(http, server, soap(GET_INFO), auth=auth)).status_code == 200
    bad = httpx.DigestAuth(USER, "nope")
    assert (await post(http, server, soap(GET_INFO), auth=bad)).status_code in (400, 401)


async def test_system_date_and_time_without_credentials(
    start: Start, http: httpx.AsyncClient
) -> None:
    server = await start(clock_offset_s=-7200)
    response = await post(http, server, soap("<tds:GetSystemDateAndTime/>"))
    assert response.status_code == 200
    hour = SafeET.fromstring(response.content).find(".//{*}UTCDateTime/{*}Time/{*}Hour")
    assert hour is not None
    assert int(hour.text or "") == (datetime.now(UTC) - timedelta(hours=2)).hour


async def test_auth_not_required(start: Start, http: httpx.AsyncClient) -> None:
    server = await start(auth=OnvifAuth(USER, PASSWORD, required=False))
    assert (await post(http, server, soap(GET_INFO))).status_code == 200
    wrong = digest_token(datetime.now(UTC), password="guess")
    assert (await post(http, server, soap(GET_INFO, wrong))).status_code == 400
    snap = await http.get(f"http://127.0.0.1:{server.port}/onvif/snapshot.jpg")
    assert (snap.status_code, snap.content) == (200, JPEG)


async def test_snapshot_requires_http_auth(start: Start, http: httpx.AsyncClient) -> None:
    server = await start()
    url = f"http://127.0.0.1:{server.port}/onvif/snapshot.jpg"
    assert (await http.get(url)).status_code == 401
    assert (await http.get(url, auth=httpx.BasicAuth(USER, "x"))).status_code == 401
    for auth in (httpx.BasicAuth(USER, PASSWORD), httpx.DigestAuth(USER, PASSWORD)):
        response = await http.get(url, auth=auth)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.content == JPEG


async def test_ptz_on_camera_without_ptz_is_a_fault(start: Start, http: httpx.AsyncClient) -> None:
    server = await start(CameraInfo(index=2, name="Fixed", has_ptz=False))
    token = digest_token(datetime.now(UTC))
    stop = "<tptz:Stop><tptz:ProfileToken>main</tptz:ProfileToken></tptz:Stop>"
    url = server.device_url.replace("device_service", "ptz_service")
    response = await http.post(url, content=soap(stop, token))
    assert response.status_code == 500  # SOAP 1.2: Receiver faults map to 500
    assert subcodes(response) == ["s:Receiver", "ter:ActionNotSupported"]
    caps = await post(http, server, soap("<tds:GetCapabilities/>", digest_token(datetime.now(UTC))))
    assert b"ptz_service" not in caps.content and b"media_service" in caps.content


async def test_unknown_operation_and_malformed_input(start: Start, http: httpx.AsyncClient) -> None:
    server = await start()
    unknown = await post(http, server, soap("<tds:SystemReboot/>", digest_token(datetime.now(UTC))))
    assert subcodes(unknown) == ["s:Receiver", "ter:ActionNotSupported"]
    broken = await post(http, server, b"<s:Envelope><not-closed>")
    assert broken.status_code == 400
    assert subcodes(broken) == ["s:Sender", "ter:WellFormed"]
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + soap("<tds:GetDeviceInformation>&b;</tds:GetDeviceInformation>")
    )
    refused = await post(http, server, bomb)
    assert refused.status_code == 400
    assert subcodes(refused) == ["s:Sender", "ter:WellFormed"]


async def test_bad_ptz_arguments(start: Start, http: httpx.AsyncClient) -> None:
    server = await start()
    url = server.device_url.replace("device_service", "ptz_service")
    bad_duration = (
        "<tptz:ContinuousMove><tptz:ProfileToken>main</tptz:ProfileToken>"
        '<tptz:Velocity><tt:PanTilt xmlns:tt="http://www.onvif.org/ver10/schema" x="0.5" y="0"/>'
        "</tptz:Velocity><tptz:Timeout>5 seconds</tptz:Timeout></tptz:ContinuousMove>"
    )
    response = await http.post(url, content=soap(bad_duration, digest_token(datetime.now(UTC))))
    assert response.status_code == 400
    assert subcodes(response)[:2] == ["s:Sender", "ter:InvalidArgVal"]
    not_a_number = bad_duration.replace('x="0.5"', 'x="fast"').replace("5 seconds", "PT1S")
    response = await http.post(url, content=soap(not_a_number, digest_token(datetime.now(UTC))))
    assert response.status_code == 400


async def test_offline_answers_503(start: Start, http: httpx.AsyncClient) -> None:
    camera = CameraInfo(index=5, name="Flaky")
    server = await start(camera)
    camera.faults.offline_until = time.monotonic() + 60
    response = await post(http, server, soap("<tds:GetSystemDateAndTime/>"))
    assert response.status_code == 503
    assert (await http.get(f"http://127.0.0.1:{server.port}/onvif/snapshot.jpg")).status_code == 503
    camera.faults.offline_until = 0.0
    assert (await post(http, server, soap("<tds:GetSystemDateAndTime/>"))).status_code == 200


async def test_urls_follow_the_host_the_client_used(start: Start, http: httpx.AsyncClient) -> None:
    # Bound to a wildcard, the RTSP host is unknown: the client's Host header is used.
    server = await start(rtsp_base="rtsp://0.0.0.0:8554")
    host = {"Host": f"camsim.example:{server.port}"}
    get_services = (
        "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>"
    )
    token = digest_token(datetime.now(UTC))
    services = await post(http, server, soap(get_services, token), headers=host)
    assert f"http://camsim.example:{server.port}/onvif/media_service".encode() in services.content
    uri_request = (
        "<trt:GetStreamUri><trt:StreamSetup><tt:Stream xmlns:tt='http://www.onvif.org/ver10/schema'>"
        "RTP-Unicast</tt:Stream></trt:StreamSetup><trt:ProfileToken>sub</trt:ProfileToken>"
        "</trt:GetStreamUri>"
    )
    uri = await post(http, server, soap(uri_request, digest_token(datetime.now(UTC))), headers=host)
    assert b"rtsp://camsim.example:8554/cam1/sub" in uri.content
