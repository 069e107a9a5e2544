"""Client of management's internal API (``X-Internal-Api-Key``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from argus_common.errors import Unavailable
from argus_common.events import EventMessage
from argus_recording.cameras import CameraConfig

log = structlog.get_logger("argus.recording.management")


@dataclass(frozen=True)
class PurgeItem:
    """A segment to delete, already marked deleted in the index."""

    id: int
    camera_id: int
    path: str
    bytes: int
    kind: str


@dataclass(frozen=True)
class SegmentIndex:
    """What the index holds for one camera."""

    paths: frozenset[str]
    deleted: tuple[PurgeItem, ...]


def _items(raw: list[dict[str, Any]]) -> list[PurgeItem]:
    return [
        PurgeItem(id=int(i["id"]), camera_id=int(i["camera_id"]), path=str(i["path"]),
                  bytes=int(i["bytes"]), kind=str(i["kind"]))
        for i in raw
    ]


class ManagementClient:
    """The calls the recorder makes to management; any failure is ``Unavailable``."""

    def __init__(self, base_url: str, internal_key: str, timeout_s: float = 10.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout_s,
            headers={"X-Internal-Api-Key": internal_key, "User-Agent": "argus-recording"},
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            resp = await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"management unreachable: {type(exc).__name__}") from None
        if resp.status_code >= 500 or resp.status_code in (401, 403):
            raise Unavailable(f"management answered {resp.status_code} to {method} {url}")
        return resp

    async def cameras(self) -> list[CameraConfig]:
        """Every camera (recording or not) with its credentials."""
        resp = await self._call("GET", "/internal/cameras")
        resp.raise_for_status()
        return [CameraConfig.from_api(item) for item in resp.json()]

    async def camera(self, camera_id: int) -> CameraConfig | None:
        """One camera, or None when it no longer exists."""
        resp = await self._call("GET", f"/internal/cameras/{camera_id}")
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return CameraConfig.from_api(resp.json())

    async def report_event(self, message: EventMessage) -> None:
        """``POST /internal/events`` (stream.up / stream.down); redelivery-safe by id."""
        resp = await self._call(
            "POST", "/internal/events", content=message.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        if resp.status_code >= 400:
            log.warning("event_refused", status=resp.status_code, type=message.type)

    async def segment_index(self, camera_id: int) -> SegmentIndex:
        resp = await self._call("GET", "/internal/segments/index", params={"camera_id": camera_id})
        resp.raise_for_status()
        body = resp.json()
        return SegmentIndex(paths=frozenset(body["paths"]), deleted=tuple(_items(body["deleted"])))

    async def purge_candidates(self, **request: Any) -> list[PurgeItem]:
        """Segments to delete (``mode="age"`` or ``mode="space", bytes=N``), marked deleted."""
        resp = await self._call("POST", "/internal/segments/purge-candidates", json=request)
        resp.raise_for_status()
        return _items(resp.json()["items"])

    async def confirm_purged(self, ids: list[int]) -> None:
        for i in range(0, len(ids), 5000):
            resp = await self._call("POST", "/internal/segments/purged",
                                    json={"ids": ids[i : i + 5000]})
            resp.raise_for_status()

    async def forget_missing(self, camera_id: int, paths: list[str]) -> None:
        for i in range(0, len(paths), 10_000):
            resp = await self._call("POST", "/internal/segments/missing",
                                    json={"camera_id": camera_id, "paths": paths[i : i + 10_000]})
            resp.raise_for_status()

    async def ping(self) -> bool:
        """Whether management answers ``/healthz``."""
        try:
            resp = await self._http.get("/healthz", timeout=2.0)
        except httpx.HTTPError:
            return False
        return resp.status_code == 200
