"""Seed: the main design, "users and authentication": signup and login, asserted against the
running management.

The seed writes them bare, ``POST /signup`` and ``POST /login``. ARGUS serves them under
``/api/v1/auth/`` (docs/contracts.md, "Seed documents", says why: one versioned REST prefix
that the console's nginx, the OpenAPI document and the RBAC route walk all rely on), and the
bare paths are not served. What the seed gives of the forms is kept: signup takes
``{"username", "email", "password"}`` and makes a viewer; login is the OAuth2 password flow
(form fields ``username``/``password``) answering ``{"access_token", "token_type":
"bearer"}``; the token is a JWT sent as ``Authorization: Bearer``.
"""

from __future__ import annotations

import base64
import json

import httpx
from seedstack import SeedStack

from argus_testkit.factories import bearer

PASSWORD = "seed-signup-password-1"


def _claims(token: str) -> dict[str, object]:
    """The (unverified) claims of a JWT: the token is one."""
    part = token.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return claims


def test_signup(management: SeedStack) -> None:
    """Main design, "users": signup with username, e-mail and password creates a viewer
    (ARGUS: ``POST /api/v1/auth/signup``, 201, and only where ``ARGUS_ALLOW_SIGNUP`` is on);
    the password is stored as a bcrypt hash."""
    body = {"username": "seed-signup", "email": "seed-signup@example.com", "password": PASSWORD}
    resp = httpx.post(f"{management.management}/api/v1/auth/signup", json=body, timeout=15)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert set(created) == {"id", "username", "email", "roles"}  # never the password
    assert created["username"] == "seed-signup" and created["email"] == body["email"]
    assert created["roles"] == ["viewer"] and isinstance(created["id"], int)
    rows = management.db.fetch(
        "SELECT u.password_hash, r.name FROM users u JOIN user_roles ur ON ur.user_id = u.id "
        "JOIN roles r ON r.id = ur.role_id WHERE u.username = 'seed-signup'")
    assert [r["name"] for r in rows] == ["viewer"]
    assert rows[0]["password_hash"].startswith("$2b$")
    again = httpx.post(f"{management.management}/api/v1/auth/signup", json=body, timeout=15)
    assert again.status_code == 409 and again.json()["error"] == "Conflict"


def test_login_is_the_oauth2_password_flow(management: SeedStack) -> None:
    """Main design, "authentication": login with the OAuth2 password form answers a bearer
    JWT (ARGUS: ``POST /api/v1/auth/login``; also a rotating refresh token, ``expires_in``
    and the user), which authenticates the API; a wrong password is a 401 in the error
    envelope."""
    api = management.management
    resp = httpx.post(f"{api}/api/v1/auth/login", timeout=15,
                      data={"username": "admin", "password": management.env[
                          "ARGUS_ADMIN_PASSWORD"]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer" and body["access_token"]
    assert {"refresh_token", "expires_in", "user"} <= set(body)
    assert resp.headers["cache-control"] == "no-store"
    claims = _claims(body["access_token"])
    assert claims["sub"] == str(body["user"]["id"]) and "exp" in claims
    me = httpx.get(f"{api}/api/v1/users/me", headers=bearer(body["access_token"]), timeout=10)
    assert me.status_code == 200 and me.json()["username"] == "admin"
    wrong = httpx.post(f"{api}/api/v1/auth/login", timeout=15,
                       data={"username": "admin", "password": "not-the-password"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "Unauthorized"


def test_bare_seed_paths_are_not_served(management: SeedStack) -> None:
    """Main design: the seed's bare ``/signup`` and ``/login``. ARGUS keeps every REST route
    under ``/api/v1`` and does not alias them (one prefix for the proxy, the OpenAPI
    document and the permission walk): they are 404s, and the OpenAPI document names the
    ARGUS paths."""
    api = management.management
    for path in ("/signup", "/login"):
        resp = httpx.post(f"{api}{path}", data={"username": "admin", "password": "x"},
                          timeout=10)
        assert resp.status_code == 404, (path, resp.text)
    paths = httpx.get(f"{api}/api/v1/openapi.json", timeout=10).json()["paths"]
    assert {"/api/v1/auth/signup", "/api/v1/auth/login"} <= set(paths)
    assert not {"/signup", "/login"} & set(paths)
