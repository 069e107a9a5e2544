"""The JWKS (``/.well-known/jwks.json``, ``/api/v1/auth/jwks``): public, cacheable, and a
token verifies with a key taken from it; during a rollover both keys are listed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from argus_common.jwt import JwtCodec
from argus_common.keys import KeySource, kid_of, private_pem, public_pem, signer_keys
from argus_management.config import Settings
from argus_management.deps import app_state

from conftest import ADMIN_PASSWORD

PATHS = ("/.well-known/jwks.json", "/api/v1/auth/jwks")


async def _jwks(client: httpx.AsyncClient, path: str = PATHS[0]) -> dict[str, dict[str, Any]]:
    resp = await client.get(path)  # no Authorization: public
    assert resp.status_code == 200, resp.text
    assert "max-age=" in resp.headers["cache-control"]
    assert "public" in resp.headers["cache-control"]
    return {k["kid"]: k for k in resp.json()["keys"]}


async def _access_token(client: httpx.AsyncClient) -> str:
    resp = await client.post("/api/v1/auth/login",
                             data={"username": "admin", "password": ADMIN_PASSWORD})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def _write(path: Path, text: str) -> None:
    """Write a key file so that its change is seen (the key set compares mtime and size;
    two writes within one timer tick could share an mtime)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def _verify(token: str, jwks: dict[str, dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """Verify ``token`` as a third party would: the key named by its kid, from the JWKS."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(jwks[kid])
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=["EdDSA"],
                                        audience=settings.jwt_audience,
                                        issuer=settings.jwt_issuer)
    return claims


async def test_a_token_verifies_with_a_key_from_the_jwks(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    both = [await _jwks(client, path) for path in PATHS]
    assert both[0] == both[1]
    token = await _access_token(client)
    assert _verify(token, both[0], settings)["typ"] == "access"
    for key in both[0].values():
        assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}  # no private part ("d")


async def test_both_keys_are_listed_during_a_rollover(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old_kid, new_kid = kid_of(old.public_key()), kid_of(new.public_key())
    private, public = tmp_path / "signing.pem", tmp_path / "public.pem"
    _write(private, private_pem(old))
    _write(public, public_pem(old.public_key()))
    keys = signer_keys("test", KeySource(path=str(private)), KeySource(path=str(public)),
                       recheck_s=0)
    codec = JwtCodec(keys, settings.jwt_issuer, settings.jwt_audience)
    monkeypatch.setattr(app_state(app), "jwt", codec)
    assert set(await _jwks(client)) == {old_kid}
    old_token = await _access_token(client)

    # Step 1: the next public key is published beside the old one.
    _write(public, public_pem(old.public_key()) + public_pem(new.public_key()))
    listed = await _jwks(client)
    assert set(listed) == {old_kid, new_kid}
    assert next(iter(listed)) == old_kid  # the signing key first
    # Step 2: management signs with the next key; tokens of both keys verify from the JWKS.
    _write(private, private_pem(new))
    listed = await _jwks(client)
    assert set(listed) == {old_kid, new_kid} and next(iter(listed)) == new_kid
    new_token = await _access_token(client)
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert _verify(new_token, listed, settings)["typ"] == "access"
    assert _verify(old_token, listed, settings)["typ"] == "access"
    # Step 3: the old key is withdrawn.
    _write(public, public_pem(new.public_key()))
    assert set(await _jwks(client)) == {new_kid}
