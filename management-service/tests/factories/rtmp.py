"""Stream keys and nginx-rtmp notifications for tests."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import quote

import httpx

from argus_management.config import Settings

from factories.events import service_key

_client_ids = itertools.count(1000)


def next_client_id() -> str:
    """A fresh nginx connection number."""
    return str(next(_client_ids))


async def create_key(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, **extra: Any
) -> dict[str, Any]:
    """Create a stream key through the API; returns the creation answer (with the secret)."""
    resp = await client.post("/api/v1/rtmp/keys", json={"name": name, **extra}, headers=headers)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def hook_body(call: str, name: str, key: str | None, client_id: str, *extra: str) -> bytes:
    """A notification as nginx-rtmp 1.2 sends it: its own fields, then the publisher's URL
    arguments appended as they were (``key=…``)."""
    fields = [
        "app=live", "flashver=FMLE/3.0%20(compatible%3B%20Lavf59.27", "swfurl=",
        "tcurl=rtmp://127.0.0.1:1935/live", "pageurl=", "addr=192.0.2.7",
        f"clientid={client_id}", f"call={call}", f"name={quote(name, safe='')}",
    ]
    if call == "publish":
        fields.append("type=live")
    if key is not None:
        fields.append(f"key={key}")
    return "&".join([*fields, *extra]).encode()


async def hook(
    client: httpx.AsyncClient, settings: Settings, which: str, body: bytes,
    internal_key: str | None = None,
) -> httpx.Response:
    """POST a notification to ``/internal/rtmp/<which>`` the way nginx does (key in the URL)."""
    secret = service_key(settings, "rtmp") if internal_key is None else internal_key
    return await client.post(
        f"/internal/rtmp/{which}", params={"internal_key": secret}, content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


async def publish(
    client: httpx.AsyncClient, settings: Settings, name: str, key: str | None,
    client_id: str | None = None,
) -> httpx.Response:
    return await hook(client, settings, "on_publish",
                      hook_body("publish", name, key, client_id or next_client_id()))
