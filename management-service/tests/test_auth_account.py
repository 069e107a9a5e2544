"""Password policy, signup, password reset through the outbox, password change, /users/me."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.auth.models import PasswordResetToken
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.rbac.models import User

from conftest import ADMIN_PASSWORD
from factories.users import DEFAULT_PASSWORD, create_user, login

SIGNUP = "/api/v1/auth/signup"
RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
NEW_PASSWORD = "brand-new-Passw0rd"


async def _audit(maker: async_sessionmaker[AsyncSession], action: str) -> list[AuditEntry]:
    async with maker() as s:
        rows = await s.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return list(rows.all())


async def _user_with_email(maker: async_sessionmaker[AsyncSession], email: str) -> User:
    user = await create_user(maker)
    async with maker() as s:
        await s.execute(update(User).where(User.id == user.id).values(email=email))
        await s.commit()
    return user


def _outbox(settings: Settings) -> Path:
    return Path(settings.data_dir) / "outbox.jsonl"


def _mails_to(settings: Settings, email: str) -> list[dict[str, str]]:
    path = _outbox(settings)
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [m for m in lines if m["to"] == email]


def _token_of(mail: dict[str, str]) -> str:
    match = re.search(r"/reset-password\?token=([A-Za-z0-9_-]+)", mail["body"])
    assert match, mail["body"]
    return match.group(1)


async def _tokens(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    resp = await client.post(
        "/api/v1/auth/login", data={"username": username, "password": password}
    )
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


# -- policy and signup ---------------------------------------------------------------------

@pytest.fixture
def signup_on(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_state(app).settings, "allow_signup", True)


async def test_signup_is_off_by_default(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        SIGNUP, json={"username": "newbie", "password": "long-enough-pw"}
    )
    assert resp.status_code == 403
    assert resp.json() == {"error": "Forbidden", "detail": "signup is disabled on this server"}


@pytest.mark.usefixtures("signup_on")
async def test_signup_creates_a_viewer(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession]
) -> None:
    resp = await client.post(
        SIGNUP, json={"username": "new.user-1", "email": "new@example.com",
                      "password": "long-enough-pw"},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["username"] == "new.user-1" and body["roles"] == ["viewer"]
    assert body["email"] == "new@example.com"
    headers = await login(client, "new.user-1", "long-enough-pw")
    me = (await client.get(ME, headers=headers)).json()
    assert me["roles"] == ["viewer"] and "users:manage" not in me["permissions"]
    [entry] = await _audit(maker, "auth.signup")
    assert entry.user_id == body["id"] and "long-enough-pw" not in json.dumps(entry.summary)
    # Taken names, whatever their case, and taken e-mail addresses.
    for dup in ({"username": "NEW.USER-1"}, {"username": "other", "email": "NEW@example.com"},
                {"username": "ADMIN"}):
        resp = await client.post(SIGNUP, json={"password": "long-enough-pw", **dup})
        assert resp.status_code == 409, (dup, resp.text)


@pytest.mark.usefixtures("signup_on")
@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"username": "shorty", "password": "7-chars"}, "at least 8 characters"),
        ({"username": "longpw", "password": "é" * 36 + "x"}, "at most 72 bytes"),  # 73 bytes
        ({"username": "nul-pw", "password": "abc\x00defghij"}, "NUL"),
        ({"username": "a b", "password": "long-enough-pw"}, "username"),
        ({"username": "ab", "password": "long-enough-pw"}, "username"),
        ({"username": "x" * 65, "password": "long-enough-pw"}, "username"),
        ({"username": "okname", "email": "not-an-email", "password": "long-enough-pw"},
         "email"),
    ],
)
async def test_signup_validation(
    client: httpx.AsyncClient, payload: dict[str, str], fragment: str
) -> None:
    resp = await client.post(SIGNUP, json=payload)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == "ValidationError"
    assert fragment in resp.json()["detail"]


@pytest.mark.usefixtures("signup_on")
async def test_72_byte_password_is_accepted(client: httpx.AsyncClient) -> None:
    password = "é" * 36  # exactly 72 bytes
    resp = await client.post(SIGNUP, json={"username": "multibyte", "password": password})
    assert resp.status_code == 201, resp.text
    await login(client, "multibyte", password)
    # One more byte would be cut by bcrypt: it must not log in as the same password.
    resp = await client.post(
        "/api/v1/auth/login", data={"username": "multibyte", "password": password + "x"}
    )
    assert resp.status_code == 401


# -- password reset ------------------------------------------------------------------------

async def test_password_reset_end_to_end(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    user = await _user_with_email(maker, "reset-me@example.com")
    old_session = await _tokens(client, user.username, DEFAULT_PASSWORD)
    resp = await client.post(RESET, json={"email": "Reset-Me@example.com"})
    assert resp.status_code == 202
    [mail] = _mails_to(settings, "reset-me@example.com")
    assert mail["subject"] == "ARGUS password reset"
    assert mail["body"].count("http://127.0.0.1:3000/reset-password?token=") == 1
    token = _token_of(mail)
    async with maker() as s:
        [row] = (await s.scalars(select(PasswordResetToken))).all()
    assert row.token_hash != token and len(row.token_hash) == 64  # only the hash is kept

    resp = await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert resp.status_code == 204, resp.text
    await login(client, user.username, NEW_PASSWORD)
    resp = await client.post(
        "/api/v1/auth/login", data={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert resp.status_code == 401
    # Sessions opened before the reset are gone.
    resp = await client.post(REFRESH, json={"refresh_token": old_session["refresh_token"]})
    assert resp.status_code == 401
    # Single use.
    resp = await client.post(CONFIRM, json={"token": token, "new_password": "another-passw0rd"})
    assert resp.status_code == 400
    assert resp.json() == {"error": "BadRequest", "detail": "invalid or expired reset token"}

    [req] = await _audit(maker, "auth.password_reset_request")
    assert req.target_id == str(user.id) and req.summary == {"by": "email", "mail_sent": True}
    done = await _audit(maker, "auth.password_reset")
    assert [(e.result, e.user_id) for e in done] == [("success", user.id), ("failure", user.id)]
    assert all(token not in json.dumps(e.summary) for e in [req, *done])


async def test_password_reset_never_reveals_accounts(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_user(maker, username="no-email-user")  # exists, but no address to mail
    answers = [
        await client.post(RESET, json={"email": "nobody@example.com"}),
        await client.post(RESET, json={"username": "ghost"}),
        await client.post(RESET, json={"username": "no-email-user"}),
        await client.post(RESET, json={"username": "nul\x00name"}),
    ]
    assert {r.status_code for r in answers} == {202}
    assert len({r.text for r in answers}) == 1
    assert _mails_to(settings, "nobody@example.com") == []
    assert (await client.post(RESET, json={})).status_code == 422


async def test_reset_by_username_and_bad_tokens(
    client: httpx.AsyncClient, settings: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    user = await _user_with_email(maker, "by-name@example.com")
    assert (await client.post(RESET, json={"username": user.username})).status_code == 202
    [mail] = _mails_to(settings, "by-name@example.com")
    # A second request within the cooldown sends nothing more.
    assert (await client.post(RESET, json={"username": user.username})).status_code == 202
    assert len(_mails_to(settings, "by-name@example.com")) == 1
    for bad in ["wrong-token", _token_of(mail) + "x", "\x00"]:
        resp = await client.post(CONFIRM, json={"token": bad, "new_password": NEW_PASSWORD})
        assert resp.status_code == 400, resp.text
    # Policy applies to the new password.
    resp = await client.post(CONFIRM, json={"token": _token_of(mail), "new_password": "short"})
    assert resp.status_code == 422
    # An expired token is refused too.
    async with maker() as s:
        await s.execute(
            update(PasswordResetToken).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        await s.commit()
    resp = await client.post(CONFIRM, json={"token": _token_of(mail), "new_password": NEW_PASSWORD})
    assert resp.status_code == 400


# -- password change and /users/me -------------------------------------------------------

async def test_change_password(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession]
) -> None:
    user = await create_user(maker)
    other = await _tokens(client, user.username, DEFAULT_PASSWORD)
    mine = await _tokens(client, user.username, DEFAULT_PASSWORD)
    headers = {"Authorization": f"Bearer {mine['access_token']}"}
    url = f"{ME}/password"

    async def change(current: str, new: str) -> int:
        body = {"current_password": current, "new_password": new}
        return (await client.put(url, headers=headers, json=body)).status_code

    async def refresh(tokens: dict[str, str]) -> int:
        body = {"refresh_token": tokens["refresh_token"]}
        return (await client.post(REFRESH, json=body)).status_code

    assert await change("wrong-password", NEW_PASSWORD) == 400
    assert await change(DEFAULT_PASSWORD, "short") == 422
    assert await change(DEFAULT_PASSWORD, NEW_PASSWORD) == 204
    await login(client, user.username, NEW_PASSWORD)
    # The other session ends; this one keeps working.
    assert await refresh(other) == 401
    assert await refresh(mine) == 200
    assert (await client.get(ME, headers=headers)).status_code == 200
    changes = await _audit(maker, "auth.password_change")
    assert [e.result for e in changes] == ["failure", "success"]
    assert changes[1].summary["refresh_tokens_revoked"] == 1
    assert all(NEW_PASSWORD not in json.dumps(e.summary) for e in changes)
    assert (await client.put(url, json={"current_password": "x" * 8,
                                        "new_password": NEW_PASSWORD})).status_code == 401


async def test_me(client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession]) -> None:
    from factories.cameras import create_camera

    cam = await create_camera(maker, "test-secret-key-0123456789abcdef")
    user = await create_user(maker, camera_ids=[cam.id])
    me = await client.get(ME, headers=await login(client, user.username))
    assert me.status_code == 200
    body = me.json()
    assert body == {
        "id": user.id, "username": user.username, "email": None, "roles": ["viewer"],
        "permissions": sorted(["cameras:read", "recordings:read", "events:read",
                               "layouts:write"]),
        "camera_ids": [cam.id], "all_cameras": False,
    }
    admin = (await client.get(ME, headers=await login(client, "admin", ADMIN_PASSWORD))).json()
    assert admin["all_cameras"] is True
    assert (await client.get(ME)).status_code == 401
