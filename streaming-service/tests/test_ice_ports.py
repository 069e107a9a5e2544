"""WebRTC inside a UDP port range (STREAMING_ICE_PORT_MIN..MAX), as Compose publishes it."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aioice import stun
from fastapi import FastAPI
from pydantic import ValidationError
from streaming_support import World, serve, streaming_settings
from whep_client import whep_close, whep_connect

from argus_streaming.config import Settings
from argus_streaming.main import create_app
from argus_streaming.webrtc.sessions import WhepManager
from argus_testkit.services import BIN


def free_udp_range(size: int) -> tuple[int, int]:
    """``size`` consecutive UDP ports free on 127.0.0.1 a moment ago, below the ephemeral
    range (so the kernel does not hand them out meanwhile)."""
    for _ in range(50):
        low = random.randrange(20_000, 32_000 - size)
        socks: list[socket.socket] = []
        try:
            for port in range(low, low + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return low, low + size - 1
    raise RuntimeError("no free UDP port range found")


def candidate_ports(sdp: str) -> list[int]:
    """Ports of the ``a=candidate`` lines of an SDP."""
    return [int(line.split()[5]) for line in sdp.splitlines() if line.startswith("a=candidate:")]


@dataclass
class RangedService:
    app: FastAPI
    client: httpx.AsyncClient
    ports: tuple[int, int]

    @property
    def whep(self) -> WhepManager:
        manager: WhepManager = self.app.state.whep
        return manager


async def _ranged(world: World, size: int, **extra: object) -> AsyncIterator[RangedService]:
    low, high = free_udp_range(size)
    settings = streaming_settings(world.management_url, world.recordings,
                                  STREAMING_ICE_PORT_MIN=low, STREAMING_ICE_PORT_MAX=high,
                                  **extra)
    app = create_app(settings)
    server, task, base = await serve(app)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=15) as client:
            yield RangedService(app, client, (low, high))
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def ranged4(world: World) -> AsyncIterator[RangedService]:
    async for service in _ranged(world, 4):
        yield service


@pytest.fixture
async def ranged2(world: World) -> AsyncIterator[RangedService]:
    async for service in _ranged(world, 2):
        yield service


async def test_candidates_are_in_the_range_and_the_session_connects(
    world: World, ranged4: RangedService
) -> None:
    low, high = ranged4.ports
    headers = world.auth(world.viewer_id)
    resp, viewer = await whep_connect(ranged4.client, f"/whep/{world.camera_id}", headers,
                                      audio=True)
    assert resp.status_code == 201, resp.text
    assert viewer is not None
    try:
        ports = candidate_ports(viewer.answer)
        assert ports and all(low <= p <= high for p in ports), (ports, ranged4.ports)
        assert len(await viewer.frames(10, timeout_s=15)) == 10
        # The connected transport is the one bound inside the range.
        (session,) = ranged4.whep.sessions.values()
        assert session.pc.connectionState == "connected"
        transports = {t.sender.transport.transport for t in session.pc.getTransceivers()
                      if t.sender.transport is not None}
        for ice in transports:
            local = ice.iceGatherer.getLocalCandidates()
            assert local and all(low <= c.port <= high for c in local)
            assert ice.state == "completed"
    finally:
        assert await whep_close(ranged4.client, viewer, headers) == 200


async def test_exhausted_range_answers_503_and_closed_sessions_free_their_port(
    world: World, ranged2: RangedService
) -> None:
    low, high = ranged2.ports
    headers = world.auth()
    path = f"/whep/{world.camera_id}"
    # Another program holds one port of the range: it is skipped.
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    squatter.bind(("127.0.0.1", low))
    try:
        resp, first = await whep_connect(ranged2.client, path, headers)
        assert resp.status_code == 201, resp.text
        assert first is not None
        assert candidate_ports(first.answer) == [high]
        resp, none = await whep_connect(ranged2.client, path, headers)
        assert none is None
        assert resp.status_code == 503
        body = resp.json()
        assert body["error"] == "Unavailable"
        assert "STREAMING_ICE_PORT_MIN" in body["detail"] and f"{low}-{high}" in body["detail"]
        # The refused viewer left nothing behind.
        source = ranged2.app.state.sources.sources[(world.camera_id, "main")]
        assert len(source.subscribers) == 1
        assert len(ranged2.whep.sessions) == 1
        assert await whep_close(ranged2.client, first, headers) == 200
        # The port of the closed session is free again.
        resp, again = await whep_connect(ranged2.client, path, headers)
        assert resp.status_code == 201, resp.text
        assert again is not None
        assert candidate_ports(again.answer) == [high]
        assert len(await again.frames(3, timeout_s=15)) == 3
        assert await whep_close(ranged2.client, again, headers) == 200
    finally:
        squatter.close()


class StunResponder(asyncio.DatagramProtocol):
    """A minimal STUN server: answers every binding request with the sender's address."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            request = stun.parse_message(data)
        except ValueError:
            return
        response = stun.Message(message_method=request.message_method,
                                message_class=stun.Class.RESPONSE,
                                transaction_id=request.transaction_id)
        response.attributes["XOR-MAPPED-ADDRESS"] = addr
        self.transport.sendto(bytes(response), addr)


async def test_stun_candidates_use_the_range_socket(world: World) -> None:
    """With a STUN server, the server-reflexive candidate comes from the ranged socket."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(StunResponder,
                                                       local_addr=("127.0.0.1", 0))
    stun_port = transport.get_extra_info("sockname")[1]
    try:
        async for service in _ranged(world, 2, STREAMING_STUN_URLS=f"stun:127.0.0.1:{stun_port}"):
            low, high = service.ports
            headers = world.auth()
            resp, viewer = await whep_connect(service.client, f"/whep/{world.camera_id}",
                                              headers)
            assert resp.status_code == 201, resp.text
            assert viewer is not None
            kinds = {line.split()[7]: int(line.split()[5]) for line in viewer.answer.splitlines()
                     if line.startswith("a=candidate:")}
            assert set(kinds) == {"host", "srflx"}, viewer.answer
            assert all(low <= p <= high for p in kinds.values())
            assert len(await viewer.frames(3, timeout_s=15)) == 3
            assert await whep_close(service.client, viewer, headers) == 200
    finally:
        transport.close()


@pytest.mark.parametrize("env", [
    {"STREAMING_ICE_PORT_MIN": "40000"},
    {"STREAMING_ICE_PORT_MAX": "40010"},
    {"STREAMING_ICE_PORT_MIN": "40010", "STREAMING_ICE_PORT_MAX": "40000"},
    {"STREAMING_ICE_PORT_MIN": "40000", "STREAMING_ICE_PORT_MAX": "70000"},
])
def test_bad_port_range_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match=r"STREAMING_ICE_PORT|less than or equal"):
        Settings(**env)  # type: ignore[arg-type]


def test_port_range_settings() -> None:
    assert Settings().ice_port_range() is None  # type: ignore[call-arg]
    both = Settings(STREAMING_ICE_PORT_MIN=40000, STREAMING_ICE_PORT_MAX=40000)  # type: ignore[call-arg]
    assert both.ice_port_range() == (40000, 40000)


def test_service_refuses_to_start_with_half_a_range() -> None:
    env = {**os.environ, "ARGUS_ENV": "test", "STREAMING_ICE_PORT_MIN": "40000",
           "STREAMING_ICE_PORT_MAX": "", "STREAMING_PORT": "1"}
    result = subprocess.run([str(BIN / "argus-streaming")], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "STREAMING_ICE_PORT_MAX" in result.stderr
