"""The analyser's calls to management: the shared client plus snapshots and file jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from argus_analysis.cameras import CameraConfig
from argus_common.errors import Unavailable
from argus_common.management import ManagementClient, Refused


class AnalysisManagement(ManagementClient[CameraConfig]):
    """``ManagementClient`` with the analyser's calls; a transport failure or 5xx is
    ``Unavailable``, another 4xx ``Refused`` (``argus_common.management``)."""

    def __init__(self, base_url: str, internal_key: str, timeout_s: float = 10.0) -> None:
        super().__init__(base_url, internal_key, CameraConfig, user_agent="argus-analysis",
                         timeout=timeout_s)

    async def upload_snapshot(self, event_id: int, jpeg: bytes) -> None:
        """``POST /internal/events/{id}/snapshot`` (image/jpeg body)."""
        resp = await self.call(
            "POST", f"/internal/events/{event_id}/snapshot", content=jpeg,
            headers={"Content-Type": "image/jpeg"},
        )
        self.check(resp)

    async def job(self, job_id: str) -> dict[str, Any] | None:
        """A job's state, or None when it no longer exists."""
        resp = await self.call("GET", f"/internal/analysis/jobs/{job_id}")
        if resp.status_code == 404:
            return None
        self.check(resp)
        body: dict[str, Any] = resp.json()
        return body

    async def update_job(self, job_id: str, **fields: Any) -> None:
        """``PUT /internal/analysis/jobs/{id}``: state, progress and counts."""
        resp = await self.call("PUT", f"/internal/analysis/jobs/{job_id}", json=fields)
        self.check(resp)

    async def download_upload(self, job_id: str, dest: Path) -> int:
        """Stream a job's uploaded file into ``dest``; returns its size."""
        size = 0
        try:
            async with self._http.stream(
                "GET", f"/internal/analysis/jobs/{job_id}/upload", timeout=60.0,
                headers=self.internal_headers(),
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
