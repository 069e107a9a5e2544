"""Admin, user and camera factories over management's HTTP API (for real-process tests and
benchmarks; in-process API tests have their own in management-service/tests)."""

from __future__ import annotations

from typing import Any

import httpx


def login(api: str, username: str, password: str) -> str:
    """An access token for ``username`` (raises on a failed login)."""
    resp = httpx.post(f"{api}/api/v1/auth/login",
                      data={"username": username, "password": password}, timeout=10)
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    """``{"Authorization": "Bearer <token>"}``."""
    return {"Authorization": f"Bearer {token}"}


def admin_headers(api: str, username: str, password: str) -> dict[str, str]:
    """Authorization headers of a fresh admin login."""
    return bearer(login(api, username, password))


def api_client(api: str, token: str, timeout_s: float = 15) -> httpx.Client:
    """An ``httpx.Client`` on ``api`` sending ``token``."""
    return httpx.Client(base_url=api, timeout=timeout_s, headers=bearer(token))


def create_camera(api: str, token: str, name: str, stream_url: str, **fields: Any) -> int:
    """Register a camera (as ``token``'s user); returns its id (asserts 201)."""
    resp = httpx.post(f"{api}/api/v1/cameras", headers=bearer(token), timeout=10,
                      json={"name": name, "stream_url": stream_url, **fields})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def create_user(api: str, token: str, username: str, password: str,
                roles: list[str] | None = None, cameras: list[int] | None = None) -> int:
    """Create a user with ``roles`` (default viewer), granted ``cameras``; returns its id."""
    resp = httpx.post(f"{api}/api/v1/users", headers=bearer(token), timeout=10, json={
        "username": username, "password": password, "roles": roles or ["viewer"]})
    assert resp.status_code == 201, resp.text
    user_id = int(resp.json()["id"])
    if cameras is not None:
        grant = httpx.put(f"{api}/api/v1/users/{user_id}/cameras", headers=bearer(token),
                          timeout=10, json={"camera_ids": cameras})
        assert grant.status_code == 200, grant.text
    return user_id


def internal_headers(internal_key: str) -> dict[str, str]:
    """The header internal calls carry."""
    return {"X-Internal-Api-Key": internal_key}
