"""Login, refresh rotation with reuse detection, logout, and tokens that must be refused."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.keys import DEV_KID, DEV_PRIVATE_KEY, kid_of
from argus_management.audit.models import AuditEntry
from argus_management.auth.models import RefreshToken
from argus_management.deps import app_state

from conftest import ADMIN_PASSWORD
from factories.users import DEFAULT_PASSWORD, bearer, create_user

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"
SECRET = "test-secret-key-0123456789abcdef"  # conftest's SECRET_KEY
# The signing key management uses when none is configured (development and tests).
KEY = DEV_PRIVATE_KEY
KID = {"kid": DEV_KID}


def _signed(claims: dict[str, Any], key: Ed25519PrivateKey = KEY) -> str:
    """``claims`` signed the way management signs (EdDSA, the key's id in ``kid``)."""
    return jwt.encode(claims, key, "EdDSA", headers={"kid": kid_of(key.public_key())})


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, data={"username": username, "password": password})


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user_id: int, typ: str = "access", **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": str(user_id), "typ": typ, "iat": now, "nbf": now, "exp": now + 600,
              "jti": f"j{now}{user_id}", "iss": "argus", "aud": "argus-api"}
    claims.update(over)
    return claims


async def _audit(maker: async_sessionmaker[AsyncSession], action: str) -> list[AuditEntry]:
    async with maker() as s:
        rows = await s.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return list(rows.all())


async def test_login_returns_tokens_and_user(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession]
) -> None:
    resp = await _login(client, "admin", ADMIN_PASSWORD)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["refresh_expires_in"] == 12 * 3600  # the absolute session lifetime caps it
    assert body["user"]["username"] == "admin"
    assert body["user"]["roles"] == ["admin"]
    assert "users:manage" in body["user"]["permissions"]
    assert resp.headers["cache-control"] == "no-store"
    me = await client.get(ME, headers=_auth(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "admin"
    [entry] = await _audit(maker, "auth.login")
    assert entry.username == "admin" and entry.user_id == body["user"]["id"]
    assert entry.ip == "127.0.0.1" and entry.result == "success"
    assert ADMIN_PASSWORD not in json.dumps(entry.summary)


async def test_wrong_password_and_unknown_user_look_the_same(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession]
) -> None:
    wrong = await _login(client, "admin", "not-the-password")
    unknown = await _login(client, "nobody-" + "x" * 80, "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {
        "error": "Unauthorized", "detail": "invalid username or password"
    }
    failed = await _audit(maker, "auth.login_failed")
    assert [(e.username, e.result, e.summary["reason"]) for e in failed] == [
        ("admin", "failure", "bad_password"),
        (("nobody-" + "x" * 80)[:64], "failure", "unknown_user"),
    ]
    assert failed[0].user_id is not None and failed[1].user_id is None
    assert all("not-the-password" not in json.dumps(e.summary) for e in failed)


async def test_disabled_user_cannot_login_or_refresh(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(maker)
    tokens = (await _login(client, user.username, DEFAULT_PASSWORD)).json()
    async with maker() as s:
        row = await s.get(type(user), user.id)
        assert row is not None
        row.is_active = False
        await s.commit()
    resp = await _login(client, user.username, DEFAULT_PASSWORD)
    assert resp.status_code == 401
    assert resp.json()["detail"] == "invalid username or password"
    resp = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 401


@pytest.mark.parametrize(
    "password", ["nul\x00byte-password", "é" * 40, "x" * 5000, ""]
)
async def test_odd_passwords_are_plain_failures(client: httpx.AsyncClient, password: str) -> None:
    resp = await _login(client, "admin", password)
    assert resp.status_code in (401, 422), resp.text
    assert resp.json()["error"] in ("Unauthorized", "ValidationError")


async def test_odd_usernames_are_plain_failures(client: httpx.AsyncClient) -> None:
    for name in ["ad\x00min", "x" * 5000]:
        resp = await _login(client, name, "whatever-password")
        assert resp.status_code == 401, resp.text


async def test_refresh_rotates_tokens(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession]
) -> None:
    first = (await _login(client, "admin", ADMIN_PASSWORD)).json()
    resp = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert resp.status_code == 200, resp.text
    second = resp.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert (await client.get(ME, headers=_auth(second["access_token"]))).status_code == 200
    async with maker() as s:
        rows = (await s.scalars(select(RefreshToken).order_by(RefreshToken.issued_at))).all()
    assert len(rows) == 2
    assert rows[0].family_id == rows[1].family_id
    assert sum(r.used_at is not None for r in rows) == 1
    # And the new one rotates again.
    third = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200


async def test_refresh_reuse_revokes_the_family(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession]
) -> None:
    first = (await _login(client, "admin", ADMIN_PASSWORD)).json()
    other_session = (await _login(client, "admin", ADMIN_PASSWORD)).json()
    second = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    reused = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert "already used" in reused.json()["detail"]
    # The token the thief or the victim got from the rotation dies too...
    resp = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert resp.status_code == 401
    assert resp.json()["detail"] == "token revoked"
    # ...but another login (another family) is untouched.
    ok = await client.post(REFRESH, json={"refresh_token": other_session["refresh_token"]})
    assert ok.status_code == 200
    [entry] = await _audit(maker, "auth.refresh_reuse")
    assert entry.username == "admin" and entry.result == "denied"
    assert entry.summary == {"tokens_revoked": 2}


async def test_logout_revokes_access_token_and_family(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession]
) -> None:
    tokens = (await _login(client, "admin", ADMIN_PASSWORD)).json()
    headers = _auth(tokens["access_token"])
    assert (await client.get(ME, headers=headers)).status_code == 200
    resp = await client.post(LOGOUT, headers=headers,
                             json={"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 204
    me = await client.get(ME, headers=headers)
    assert me.status_code == 401
    assert me.json()["detail"] == "token revoked"
    resp = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 401
    [entry] = await _audit(maker, "auth.logout")
    assert entry.username == "admin" and entry.summary == {"refresh_tokens_revoked": 1}


async def test_logout_without_body_ends_the_session_family(client: httpx.AsyncClient) -> None:
    tokens = (await _login(client, "admin", ADMIN_PASSWORD)).json()
    resp = await client.post(LOGOUT, headers=_auth(tokens["access_token"]))
    assert resp.status_code == 204
    resp = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 401


async def test_logout_needs_a_valid_access_token(client: httpx.AsyncClient) -> None:
    assert (await client.post(LOGOUT)).status_code == 401
    tokens = (await _login(client, "admin", ADMIN_PASSWORD)).json()
    resp = await client.post(LOGOUT, headers=_auth(tokens["refresh_token"]))
    assert resp.status_code == 401


async def test_refresh_token_is_not_an_access_token(client: httpx.AsyncClient) -> None:
    tokens = (await _login(client, "admin", ADMIN_PASSWORD)).json()
    resp = await client.get(ME, headers=_auth(tokens["refresh_token"]))
    assert resp.status_code == 401
    assert resp.json()["detail"] == "invalid token type"
    resp = await client.post(REFRESH, json={"refresh_token": tokens["access_token"]})
    assert resp.status_code == 401
    assert resp.json()["detail"] == "invalid token type"


def _forged(app: FastAPI, user_id: int) -> dict[str, str]:
    good = app_state(app).jwt.issue(str(user_id), "access", 600).token
    header, payload, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered_payload = _b64({**claims, "sub": str(user_id + 1)})
    flipped = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    return {
        "expired": app_state(app).jwt.issue(str(user_id), "access", -30).token,
        "tampered_payload": f"{header}.{tampered_payload}.{sig}",
        "tampered_signature": f"{header}.{payload}.{flipped}",
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user_id))}.",
        "wrong_audience": _signed(_claims(user_id, aud="other-api")),
        "wrong_issuer": _signed(_claims(user_id, iss="not-argus")),
        "wrong_key": _signed(_claims(user_id), Ed25519PrivateKey.generate()),
        # The unknown key claims the real key's id: the signature still decides.
        "wrong_key_real_kid": jwt.encode(_claims(user_id), Ed25519PrivateKey.generate(),
                                         "EdDSA", headers=KID),
        "no_kid": jwt.encode(_claims(user_id), KEY, "EdDSA"),
        # The shared SECRET_KEY no longer mints tokens (every service used to hold it).
        "hs256_secret_key": jwt.encode(_claims(user_id), SECRET, "HS256", headers=KID),
        "hs512": jwt.encode(_claims(user_id), SECRET * 2, "HS512"),
        "no_typ": _signed(_claims(user_id, typ=None)),
        "garbage": "not.a.jwt",
    }


async def test_bad_access_tokens_are_refused(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await _admin_id(maker)
    # The same claims signed properly are accepted: the refusals below are about the flaw.
    control = _signed(_claims(admin))
    assert (await client.get(ME, headers=_auth(control))).status_code == 200
    for name, token in _forged(app, admin).items():
        resp = await client.get(ME, headers=_auth(token))
        assert resp.status_code == 401, (name, resp.text)
        assert resp.json()["error"] == "Unauthorized"
    resp = await client.get(ME, headers=_auth(_forged(app, admin)["expired"]))
    assert resp.json()["detail"] == "token expired"


async def test_bad_refresh_tokens_are_refused(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await _admin_id(maker)
    real = (await _login(client, "admin", ADMIN_PASSWORD)).json()["refresh_token"]
    header, payload, sig = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    cases = {
        "expired": app_state(app).jwt.issue(str(admin), "refresh", -30).token,
        "tampered": f"{header}.{_b64({**claims, 'exp': claims['exp'] + 1})}.{sig}",
        "alg_none": f"{_b64({'alg': 'none'})}.{_b64(_claims(admin, 'refresh'))}.",
        "wrong_audience": _signed(_claims(admin, "refresh", aud="x")),
        "wrong_issuer": _signed(_claims(admin, "refresh", iss="x")),
        "hs256_secret_key": jwt.encode(_claims(admin, "refresh"), SECRET, "HS256", headers=KID),
        # Validly signed but never issued (not in refresh_tokens): refused as well.
        "not_issued": _signed(_claims(admin, "refresh")),
        "non_numeric_sub": _signed(_claims(admin, "refresh", sub="abc")),
    }
    for name, token in cases.items():
        resp = await client.post(REFRESH, json={"refresh_token": token})
        assert resp.status_code == 401, (name, resp.text)
    # None of the refusals spent the real token.
    assert (await client.post(REFRESH, json={"refresh_token": real})).status_code == 200


async def test_minted_token_without_family_still_works(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(maker)
    headers = bearer(app_state(app), user)
    assert (await client.post(LOGOUT, headers=headers)).status_code == 204
    assert (await client.get(ME, headers=headers)).status_code == 401


async def _admin_id(maker: async_sessionmaker[AsyncSession]) -> int:
    from argus_management.rbac.models import User

    async with maker() as s:
        user_id = await s.scalar(select(User.id).where(User.username == "admin"))
    assert user_id is not None
    return int(user_id)


async def test_malformed_input_is_never_a_server_error(client: httpx.AsyncClient) -> None:
    raw_json = {"Content-Type": "application/json"}
    raw_form = {"Content-Type": "application/x-www-form-urlencoded"}
    tokens = (await _login(client, "admin", ADMIN_PASSWORD)).json()
    headers = _auth(tokens["access_token"])
    requests = [
        ("POST", LOGIN, raw_form, b"username=%FF%FE&password=%C3%28%00xxxxxxxx"),
        ("POST", LOGIN, raw_form, b"username=admin"),
        ("POST", LOGIN, raw_json, b'{"username": "admin", "password": "x"}'),
        ("POST", REFRESH, raw_json, b'{"refresh_token": "\\ud800"}'),
        ("POST", REFRESH, raw_json, b'{"refresh_token": 12}'),
        ("POST", REFRESH, raw_json, b"not json"),
        ("POST", "/api/v1/auth/password-reset", raw_json, b'{"email": "a\\u0000@x.org"}'),
        ("POST", "/api/v1/auth/password-reset", raw_json, b'{"username": "\\ud800abc"}'),
        ("POST", "/api/v1/auth/password-reset", raw_json, b'{"email": "\\udfff@x.org"}'),
        ("POST", "/api/v1/auth/password-reset/confirm", raw_json,
         b'{"token": "\\ud800", "new_password": "long-enough-pw"}'),
        ("POST", "/api/v1/auth/signup", raw_json, b'{"username": "\\ud800\\ud800\\ud800"}'),
        ("POST", LOGOUT, {**raw_json, **headers}, b'{"refresh_token": "\\ud800"}'),
        ("POST", LOGOUT, {**raw_json, **headers}, b"[1, 2]"),
    ]
    for method, url, hdrs, content in requests:
        resp = await client.request(method, url, headers=hdrs, content=content)
        assert resp.status_code < 500, (url, content, resp.text)
        assert set(resp.json()) == {"error", "detail"} or resp.status_code == 202, resp.text


async def test_revoked_family_takes_its_access_tokens_along(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession]
) -> None:
    """Refresh reuse and password changes end the family's access tokens at once."""
    user = await create_user(maker, "operator")
    first = await client.post("/api/v1/auth/login",
                              data={"username": user.username, "password": DEFAULT_PASSWORD})
    tokens = first.json()
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/api/v1/users/me", headers=access)).status_code == 200
    rotated = await client.post("/api/v1/auth/refresh",
                                json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    reuse = await client.post("/api/v1/auth/refresh",
                              json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401
    for token in (tokens["access_token"], rotated.json()["access_token"]):
        resp = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, resp.text

    # A password change keeps the caller's session and ends the others.
    mine = (await client.post("/api/v1/auth/login", data={
        "username": user.username, "password": DEFAULT_PASSWORD})).json()
    other = (await client.post("/api/v1/auth/login", data={
        "username": user.username, "password": DEFAULT_PASSWORD})).json()
    h_mine = {"Authorization": f"Bearer {mine['access_token']}"}
    changed = await client.put("/api/v1/users/me/password", headers=h_mine, json={
        "current_password": DEFAULT_PASSWORD, "new_password": "a-brand-new-pass"})
    assert changed.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=h_mine)).status_code == 200
    h_other = {"Authorization": f"Bearer {other['access_token']}"}
    assert (await client.get("/api/v1/users/me", headers=h_other)).status_code == 401
