"""JWT codec and the error envelope."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

from argus_common.errors import Conflict, Unauthorized, install_error_handlers
from argus_common.jwt import JwtCodec

CODEC = JwtCodec.hs256("unit-secret-0123456789abcdef-0123456", "argus", "argus-api")


def test_roundtrip_and_type_check() -> None:
    token = CODEC.issue("5", "access", 60).token
    assert CODEC.decode(token, "access")["sub"] == "5"
    with pytest.raises(Unauthorized):
        CODEC.decode(token, "refresh")


@pytest.mark.parametrize(
    "codec",
    [
        JwtCodec.hs256("another-secret-0123456789abcd-0123456", "argus", "argus-api"),
        JwtCodec.hs256("unit-secret-0123456789abcdef-0123456", "someone-else", "argus-api"),
        JwtCodec.hs256("unit-secret-0123456789abcdef-0123456", "argus", "other-audience"),
    ],
)
def test_foreign_tokens_refused(codec: JwtCodec) -> None:
    with pytest.raises(Unauthorized):
        CODEC.decode(codec.issue("5", "access", 60).token, "access")


def test_expired_refused() -> None:
    with pytest.raises(Unauthorized, match="expired"):
        CODEC.decode(CODEC.issue("5", "access", -10).token, "access")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int


async def test_error_envelope_for_raised_validation_and_unknown() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/x")
    async def x(body: Body) -> dict[str, int]:
        if body.n == 1:
            raise Conflict("taken")
        if body.n == 2:
            raise RuntimeError("boom with secret")
        return {"n": body.n}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.post("/x", json={"n": 1})).json() == {"error": "Conflict", "detail": "taken"}
        bad = await c.post("/x", json={"n": "a", "extra": 1})
        assert bad.status_code == 422 and bad.json()["error"] == "ValidationError"
        boom = await c.post("/x", json={"n": 2})
        assert boom.status_code == 500
        assert boom.json() == {"error": "InternalError", "detail": "internal server error"}


def test_cached_verification_still_expires() -> None:
    codec = JwtCodec.hs256("unit-secret-0123456789abcdef-0123456", "argus", "argus-api")
    token = codec.issue("5", "access", 60).token
    first = codec.decode(token, "access")
    first["sub"] = "tampered"  # a caller changing its copy changes nothing cached
    assert codec.decode(token, "access")["sub"] == "5"
    with pytest.raises(Unauthorized):
        codec.decode(token, "refresh")  # the cache is per type too
    short = codec.issue("5", "access", 1)
    assert codec.decode(short.token, "access")["sub"] == "5"  # now cached
    time.sleep(max(0.0, short.expires_at + 0.05 - time.time()))  # its lifetime passes
    with pytest.raises(Unauthorized, match="expired"):
        codec.decode(short.token, "access")
