"""Client of management's internal API (``X-Internal-Api-Key``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import structlog

from argus_analysis.cameras import CameraConfig
from argus_common.errors import Unavailable
from argus_common.events import EventMessage

log = structlog.get_logger("argus.analysis.management")


class Refused(Exception):
    """Management answered 4xx: retrying the same request cannot help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status


class ManagementClient:
    """The calls the analyser makes; a transport failure or 5xx is ``Unavailable``."""

    def __init__(self, base_url: str, internal_key: str, timeout_s: float = 10.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout_s,
            headers={"X-Internal-Api-Key": internal_key, "User-Agent": "argus-analysis"},
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

    @staticmethod
    def _check(resp: httpx.Response) -> None:
        if resp.status_code >= 400:
            raise Refused(resp.status_code, resp.text[:200])

    async def cameras(self) -> list[CameraConfig]:
        """Every camera with its credentials and analysis settings."""
        resp = await self._call("GET", "/internal/cameras")
        self._check(resp)
        return [CameraConfig.from_api(item) for item in resp.json()]

    async def camera(self, camera_id: int) -> CameraConfig | None:
        """One camera, or None when it no longer exists."""
        resp = await self._call("GET", f"/internal/cameras/{camera_id}")
        if resp.status_code == 404:
            return None
        self._check(resp)
        return CameraConfig.from_api(resp.json())

    async def report_event(self, message: EventMessage) -> int:
        """``POST /internal/events``; returns the stored event's id (a redelivery of the
        same message id returns the row stored the first time)."""
        resp = await self._call(
            "POST", "/internal/events", content=message.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        self._check(resp)
        return int(resp.json()["id"])

    async def upload_snapshot(self, event_id: int, jpeg: bytes) -> None:
        """``POST /internal/events/{id}/snapshot`` (image/jpeg body)."""
        resp = await self._call(
            "POST", f"/internal/events/{event_id}/snapshot", content=jpeg,
            headers={"Content-Type": "image/jpeg"},
        )
        self._check(resp)

    async def job(self, job_id: str) -> dict[str, Any] | None:
        """A job's state, or None when it no longer exists."""
        resp = await self._call("GET", f"/internal/analysis/jobs/{job_id}")
        if resp.status_code == 404:
            return None
        self._check(resp)
        body: dict[str, Any] = resp.json()
        return body

    async def update_job(self, job_id: str, **fields: Any) -> None:
        """``PUT /internal/analysis/jobs/{id}``: state, progress and counts."""
        resp = await self._call("PUT", f"/internal/analysis/jobs/{job_id}", json=fields)
        self._check(resp)

    async def download_upload(self, job_id: str, dest: Path) -> int:
        """Stream a job's uploaded file into ``dest``; returns its size."""
        size = 0
        try:
            async with self._http.stream(
                "GET", f"/internal/analysis/jobs/{job_id}/upload", timeout=60.0
            ) as resp:
                if resp.status_code >= 500:
                    raise Unavailable(f"management answered {resp.status_code}")
                if resp.status_code >= 400:
                    raise Refused(resp.status_code, "upload not available")
                with dest.open("wb") as out:
                    async for chunk in resp.aiter_bytes(1 << 20):
                        out.write(chunk)
                        size += len(chunk)
        except httpx.HTTPError as exc:
            raise Unavailable(f"management unreachable: {type(exc).__name__}") from None
        return size

    async def ping(self) -> bool:
        """Whether management answers ``/healthz``."""
        try:
            resp = await self._http.get("/healthz", timeout=2.0)
        except httpx.HTTPError:
            return False
        return resp.status_code == 200
