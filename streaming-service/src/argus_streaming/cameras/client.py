"""management-service as seen from here: camera access, stream URLs, the timeline.

Access is checked the way ``docs/contracts.md`` says: ``GET /api/v1/cameras/{id}`` with the
user's own token (200 may watch, 404 unknown or not granted, 401 bad token), cached for a
few seconds per (token id, camera). Stream URLs with credentials come from the internal API
through the shared client (``argus_common.management``) and its camera model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from argus_common import management as kit
from argus_common.cameras import Camera
from argus_common.errors import NotFound, Unauthorized, Unavailable

_CACHE_MAX = 10_000
_CHECK_BATCH = 2000  # sessions per POST /internal/access


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
    tier: str = "local"  # "object": on the object store as ``object_key``
    object_key: str | None = None


class ManagementClient(kit.ManagementClient[Camera]):
    """The shared management client (``argus_common.management``) with a short access
    cache and the calls streaming makes for its users."""

    def __init__(
        self, base_url: str, internal_api_key: str, access_cache_s: float,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, internal_api_key, Camera, user_agent="argus-streaming",
                         timeout=httpx.Timeout(5.0, connect=2.0), http=http)
        self._cache_s = access_cache_s
        self._access: dict[tuple[str, int], float] = {}

    async def _user_get(self, path: str, token: str, **params: Any) -> httpx.Response:
        """A public API call made with the user's own token (never the internal key)."""
        return await self.send("GET", path, internal=False, params=params or None,
                               headers={"Authorization": f"Bearer {token}"})

    async def check_access(self, token: str, jti: str, camera_id: int,
                           display: bool = False) -> None:
        """Return if the token's user may see ``camera_id``; 404/401/503 otherwise. A wall
        monitor's display token (``display``) may see only the cameras pushed to it."""
        now = time.monotonic()
        key = (jti, camera_id)
        expires = self._access.get(key)
        if expires is not None and expires > now:
            return
        path = (f"/api/v1/wall-display/cameras/{camera_id}" if display
                else f"/api/v1/cameras/{camera_id}")
        resp = await self._user_get(path, token)
        if resp.status_code == 401:
            raise Unauthorized("invalid token")
        if resp.status_code in (403, 404):
            raise NotFound("camera not found")
        if resp.status_code != 200:
            raise Unavailable(f"management-service answered {resp.status_code}")
        if len(self._access) >= _CACHE_MAX:
            self._access.clear()
        self._access[key] = now + self._cache_s

    async def sees_all_cameras(self, token: str) -> bool:
        """Whether the token's user sees every camera (``all_cameras`` of ``/users/me``:
        the administrators, who may stop a shared HLS session for everyone)."""
        resp = await self._user_get("/api/v1/users/me", token)
        if resp.status_code == 401:
            raise Unauthorized("invalid token")
        if resp.status_code != 200:
            raise Unavailable(f"management-service answered {resp.status_code}")
        return bool(resp.json().get("all_cameras"))

    async def still_allowed(self, items: list[dict[str, Any]]) -> list[bool]:
        """``POST /internal/access``: for each ``{user_id, camera_id, jti, fam,
        recordings}``, whether that token's user may still watch that camera."""
        out: list[bool] = []
        for n in range(0, len(items), _CHECK_BATCH):
            chunk = items[n:n + _CHECK_BATCH]
            resp = await self.call("POST", "/internal/access", json={"items": chunk})
            self.check(resp)
            allowed = resp.json().get("allowed")
            if not isinstance(allowed, list) or len(allowed) != len(chunk):
                raise Unavailable("management-service answered an unexpected access check")
            out += [a is True for a in allowed]
        return out

    def forget_access(self) -> None:
        """Drop every cached access answer (authorization changed somewhere)."""
        self._access.clear()

    async def endpoint(self, camera_id: int, stream: str) -> CameraEndpoint:
        """The pull URL (with credentials) of a camera's main or sub stream."""
        try:
            cam = await self.camera(camera_id)
        except kit.Refused as exc:
            raise Unavailable(f"management-service answered {exc.status}") from None
        if cam is None:
            raise NotFound("camera not found")
        if not cam.enabled:
            raise NotFound("camera is disabled")
        sub = stream == "sub" and cam.sub_stream_url is not None
        return CameraEndpoint(
            camera_id=camera_id,
            stream="sub" if sub else "main",
            url=cam.source_url(prefer_sub=sub),
            connect_timeout_s=cam.connect_timeout_s,
            read_timeout_s=cam.read_timeout_s,
        )

    async def segments(
        self, token: str, camera_id: int, start: datetime, end: datetime
    ) -> list[SegmentRef]:
        """Recorded segments overlapping ``[start, end]`` (timeline contract), by start."""
        resp = await self._user_get(
            f"/api/v1/cameras/{camera_id}/timeline", token,
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
                    tier=str(seg.get("tier") or "local"),
                    object_key=seg.get("object_key"),
                ))
            except (KeyError, ValueError):
                continue
        return sorted(out, key=lambda s: s.start)
