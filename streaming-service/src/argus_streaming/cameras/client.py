"""management-service as seen from here: camera access, stream URLs, the timeline.

Access is checked the way ``docs/contracts.md`` says: ``GET /api/v1/cameras/{id}`` with the
user's own token (200 may watch, 404 unknown or not granted, 401 bad token), cached for a
few seconds per (token id, camera). Stream URLs with credentials come from the internal API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from argus_common.errors import NotFound, Unauthorized, Unavailable
from argus_streaming.cameras.urls import with_userinfo

_CACHE_MAX = 10_000


@dataclass(frozen=True)
class CameraEndpoint:
    """Where to pull one stream of a camera. ``url`` holds credentials: never log it."""

    camera_id: int
    stream: str
    url: str = field(repr=False)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 3.0


@dataclass(frozen=True)
class SegmentRef:
    """A recorded segment file from the timeline (path relative to ``RECORDINGS_DIR``)."""

    path: str
    start: datetime
    end: datetime


class ManagementClient:
    """HTTP client of management-service with a short access cache."""

    def __init__(
        self, base_url: str, internal_api_key: str, access_cache_s: float,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = http or httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=httpx.Timeout(5.0, connect=2.0)
        )
        self._key = internal_api_key
        self._cache_s = access_cache_s
        self._access: dict[tuple[str, int], float] = {}

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    async def _get(self, path: str, headers: dict[str, str], **params: Any) -> httpx.Response:
        try:
            return await self._http.get(path, headers=headers, params=params or None)
        except httpx.HTTPError:
            raise Unavailable("management-service is unreachable") from None

    async def check_access(self, token: str, jti: str, camera_id: int) -> None:
        """Return if the token's user may see ``camera_id``; 404/401/503 otherwise."""
        now = time.monotonic()
        key = (jti, camera_id)
        expires = self._access.get(key)
        if expires is not None and expires > now:
            return
        resp = await self._get(f"/api/v1/cameras/{camera_id}",
                               {"Authorization": f"Bearer {token}"})
        if resp.status_code == 401:
            raise Unauthorized("invalid token")
        if resp.status_code in (403, 404):
            raise NotFound("camera not found")
        if resp.status_code != 200:
            raise Unavailable(f"management-service answered {resp.status_code}")
        if len(self._access) >= _CACHE_MAX:
            self._access.clear()
        self._access[key] = now + self._cache_s

    async def endpoint(self, camera_id: int, stream: str) -> CameraEndpoint:
        """The pull URL (with credentials) of a camera's main or sub stream."""
        resp = await self._get(f"/internal/cameras/{camera_id}", {"X-Internal-Api-Key": self._key})
        if resp.status_code == 404:
            raise NotFound("camera not found")
        if resp.status_code != 200:
            raise Unavailable(f"management-service answered {resp.status_code}")
        cam = resp.json()
        if not cam.get("enabled", True):
            raise NotFound("camera is disabled")
        url = cam["stream_url"]
        if stream == "sub" and cam.get("sub_stream_url"):
            url = cam["sub_stream_url"]
        return CameraEndpoint(
            camera_id=camera_id,
            stream=stream if stream == "main" or cam.get("sub_stream_url") else "main",
            url=with_userinfo(url, cam.get("username"), cam.get("password")),
            connect_timeout_s=float(cam.get("connect_timeout_s") or 5.0),
            read_timeout_s=float(cam.get("read_timeout_s") or 3.0),
        )

    async def segments(
        self, token: str, camera_id: int, start: datetime, end: datetime
    ) -> list[SegmentRef]:
        """Recorded segments overlapping ``[start, end]`` (timeline contract), by start."""
        resp = await self._get(
            f"/api/v1/cameras/{camera_id}/timeline", {"Authorization": f"Bearer {token}"},
            start=start.isoformat(), end=end.isoformat(),
        )
        if resp.status_code == 401:
            raise Unauthorized("invalid token")
        if resp.status_code in (403, 404):
            raise NotFound("camera or timeline not found")
        if resp.status_code != 200:
            raise Unavailable(f"management-service timeline answered {resp.status_code}")
        out = []
        for seg in resp.json().get("segments", []):
            try:
                out.append(SegmentRef(
                    path=str(seg["path"]),
                    start=datetime.fromisoformat(str(seg["start"]).replace("Z", "+00:00")),
                    end=datetime.fromisoformat(str(seg["end"]).replace("Z", "+00:00")),
                ))
            except (KeyError, ValueError):
                continue
        return sorted(out, key=lambda s: s.start)
