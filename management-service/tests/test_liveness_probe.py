"""The RTSP and ONVIF probes against the real camera simulator: Basic, Digest, refused
credentials, timeouts, refused connections, offline cameras."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from argus_common.rtsp import auth as httpauth
from argus_management.liveness.onvif_probe import probe_onvif
from argus_management.liveness.probes import ProbeTarget, probe_camera
from argus_management.liveness.rtsp_probe import probe_rtsp, strip_userinfo

from factories.camsim import Camsim, free_port, launch

USER, PASSWORD = "probe-user", "probe-Pa55"


@pytest.fixture(scope="module")
def digest_sim() -> Iterator[Camsim]:
    sim = launch("--cameras", "2", "--auth", "digest", "--username", USER,
                 "--password", PASSWORD, onvif=True)
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def basic_sim() -> Iterator[Camsim]:
    sim = launch("--cameras", "1", "--auth", "basic", "--username", USER,
                 "--password", PASSWORD, "--no-digest-qop")
    yield sim
    sim.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


async def test_digest_with_right_credentials_is_ok(digest_sim: Camsim) -> None:
    result = await probe_rtsp(digest_sim.url(1), USER, PASSWORD)
    assert result.outcome == "ok" and result.status == 200, result
    assert result.duration_s > 0


async def test_basic_with_right_credentials_is_ok(basic_sim: Camsim) -> None:
    result = await probe_rtsp(basic_sim.url(1, "sub"), USER, PASSWORD)
    assert result.outcome == "ok", result


@pytest.mark.parametrize("which", ["digest", "basic"])
async def test_wrong_credentials_are_auth_failed(
    which: str, digest_sim: Camsim, basic_sim: Camsim
) -> None:
    sim = digest_sim if which == "digest" else basic_sim
    result = await probe_rtsp(sim.url(1), USER, "wrong")
    assert (result.outcome, result.status) == ("auth_failed", 401), result
    assert which in result.detail and "wrong" not in result.detail


async def test_no_credentials_for_a_protected_camera_is_auth_failed(digest_sim: Camsim) -> None:
    result = await probe_rtsp(digest_sim.url(1))
    assert (result.outcome, result.detail) == ("auth_failed", "credentials required")


async def test_options_needs_no_credentials(digest_sim: Camsim) -> None:
    result = await probe_rtsp(digest_sim.url(1), method="OPTIONS")
    assert result.outcome == "ok"


async def test_unknown_path_is_an_error(digest_sim: Camsim) -> None:
    url = f"rtsp://127.0.0.1:{digest_sim.rtsp_port}/cam9/main"
    result = await probe_rtsp(url, USER, PASSWORD)
    assert (result.outcome, result.status) == ("error", 404)


async def test_refused_connection() -> None:
    result = await probe_rtsp(f"rtsp://127.0.0.1:{free_port()}/x", USER, PASSWORD)
    assert result.outcome == "refused"


async def test_silent_server_times_out() -> None:
    """A server that accepts and never answers: the read timeout bounds the probe."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        result = await probe_rtsp(f"rtsp://127.0.0.1:{port}/x", read_timeout=0.3)
    assert result.outcome == "timeout" and 0.25 < result.duration_s < 2.0, result


async def test_stalled_camera_times_out(digest_sim: Camsim) -> None:
    await digest_sim.fault(2, stall=True)
    try:
        result = await probe_rtsp(digest_sim.url(2), USER, PASSWORD, read_timeout=0.5)
    finally:
        await digest_sim.fault(2, stall=False)
    assert result.outcome == "timeout", result


async def test_offline_camera_is_unreachable_and_recovers(digest_sim: Camsim) -> None:
    await digest_sim.fault(2, offline_s=30)
    try:
        result = await probe_rtsp(digest_sim.url(2), USER, PASSWORD)
        assert result.outcome == "unreachable", result
    finally:
        await digest_sim.fault(2, offline_s=0)
    assert (await probe_rtsp(digest_sim.url(2), USER, PASSWORD)).outcome == "ok"


async def test_unsupported_scheme_and_malformed_url() -> None:
    assert (await probe_rtsp("http://127.0.0.1/x")).outcome == "unsupported"
    assert (await probe_rtsp("rtsp://127.0.0.1:99999/x")).outcome == "error"


async def test_many_probes_in_parallel(digest_sim: Camsim) -> None:
    results = await asyncio.gather(
        *(probe_rtsp(digest_sim.url(1 + i % 2, "sub"), USER, PASSWORD) for i in range(40))
    )
    assert {r.outcome for r in results} == {"ok"}


async def test_onvif_probe(digest_sim: Camsim, client: httpx.AsyncClient) -> None:
    port = digest_sim.onvif_ports["cam1"]
    result = await probe_onvif(client, "127.0.0.1", port)
    assert (result.outcome, result.status) == ("ok", 200), result
    refused = await probe_onvif(client, "127.0.0.1", free_port())
    assert refused.outcome == "refused"


async def test_onvif_camera_offline_fails_on_onvif_first(
    digest_sim: Camsim, client: httpx.AsyncClient
) -> None:
    target = ProbeTarget(
        camera_id=2, kind="onvif", stream_url=digest_sim.url(2), username=USER,
        password=PASSWORD, onvif_host="127.0.0.1", onvif_port=digest_sim.onvif_ports["cam2"],
    )
    assert (await probe_camera(target, client)).outcome == "ok"
    await digest_sim.fault(2, offline_s=30)
    try:
        result = await probe_camera(target, client)
    finally:
        await digest_sim.fault(2, offline_s=0)
    assert (result.outcome, result.status) == ("error", 503) and "ONVIF" in result.detail


async def test_rtmp_cameras_are_not_probed(client: httpx.AsyncClient) -> None:
    target = ProbeTarget(camera_id=1, kind="rtmp", stream_url="rtmp://127.0.0.1/live/x")
    assert (await probe_camera(target, client)).outcome == "unreachable"
    assert "Pa55" not in repr(ProbeTarget(1, "rtsp", "rtsp://h/x", "u", "Pa55"))


def test_digest_header_matches_the_simulator() -> None:
    """Our Digest answer is what the simulator's own server-side check computes."""
    from argus_camsim.rtsp.auth import digest_response

    challenge = httpauth.parse_challenge(
        'Digest realm="ARGUS-CamSim", nonce="abc123", algorithm="MD5", qop="auth"'
    )
    header = httpauth.digest_header(challenge, "u", "p", "DESCRIBE", "rtsp://h/x", cnonce="c0")
    params = httpauth.parse_challenge(header).params
    expected = digest_response("u", "p", "DESCRIBE", "rtsp://h/x", "abc123", qop="auth",
                               nc="00000001", cnonce="c0")
    assert params["response"] == expected
    assert httpauth.choose([httpauth.parse_challenge('Basic realm="x"'), challenge]) is challenge


def test_request_line_never_carries_credentials() -> None:
    assert strip_userinfo("rtsp://u:p@cam.local:554/s?x=1") == "rtsp://cam.local:554/s?x=1"
    assert strip_userinfo("rtsp://u:p@[::1]/s") == "rtsp://[::1]/s"
