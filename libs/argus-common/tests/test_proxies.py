"""The client address behind trusted proxies (argus_common.proxies), and its middleware on
a real ASGI app."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from argus_common.proxies import ClientAddressMiddleware, client_address, parse_trusted

NETS = parse_trusted("127.0.0.1, 10.0.0.0/8, ::1")


@pytest.mark.parametrize(("peer", "xff", "real", "expected"), [
    ("127.0.0.1", "198.51.100.1", None, "198.51.100.1"),  # nginx on loopback
    ("198.51.100.9", "1.2.3.4", "1.2.3.4", "198.51.100.9"),  # untrusted peer: headers ignored
    ("127.0.0.1", "192.0.2.66, 203.0.113.5", None, "203.0.113.5"),  # forged left entry
    ("127.0.0.1", "203.0.113.5, 10.1.2.3", None, "203.0.113.5"),  # two trusted hops
    ("127.0.0.1", "10.1.2.3, 10.1.2.4", None, "10.1.2.3"),  # all trusted: left-most
    ("127.0.0.1", "garbage, 203.0.113.5", None, "203.0.113.5"),
    ("127.0.0.1", "203.0.113.5, garbage", None, "127.0.0.1"),  # nothing believable
    ("127.0.0.1", None, "203.0.113.7", "203.0.113.7"),
    ("127.0.0.1", "[2001:db8::1]:4711", None, "2001:db8::1"),
    ("::ffff:127.0.0.1", "203.0.113.8:5555", None, "203.0.113.8"),
    ("127.0.0.1", "1.1.1.1," * 2000, None, "127.0.0.1"),  # oversized: not parsed
])
def test_client_address(peer: str, xff: str | None, real: str | None, expected: str) -> None:
    assert client_address(peer, xff, real, NETS) == expected


def test_nobody_trusted_and_bad_spec() -> None:
    assert client_address("127.0.0.1", "203.0.113.5", None, parse_trusted("")) == "127.0.0.1"
    with pytest.raises(ValueError):
        parse_trusted("127.0.0.1, not-an-address")


async def test_middleware_rewrites_the_client() -> None:
    async def whoami(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.client.host if request.client else "-")

    trusted = {"spec": "127.0.0.1"}
    app = ClientAddressMiddleware(Starlette(routes=[Route("/", whoami)]),
                                  trusted=lambda: trusted["spec"])
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        # Two header lines make one list; the right-most untrusted entry wins.
        resp = await c.get("/", headers=[("X-Forwarded-For", "192.0.2.1"),
                                         ("X-Forwarded-For", "203.0.113.9")])
        assert resp.text == "203.0.113.9"
        trusted["spec"] = ""
        assert (await c.get("/", headers={"X-Forwarded-For": "203.0.113.9"})).text == "127.0.0.1"
