"""Export tests' helpers: real segments indexed, waiting for a job, reading a bundle."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_camsim.stamp import read_timestamp_ms
from argus_common.events import CHANNEL_ALERTS
from argus_management.deps import app_state
from argus_management.recordings.models import RecordingSegment

from factories.media import WrittenSegment, write_segments


def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def record(
    maker: async_sessionmaker[AsyncSession], root: Path, camera_id: int, start_ms: int,
    seconds: list[float], **kwargs: Any,
) -> list[WrittenSegment]:
    """Write real segments under ``root`` and index them as the recorder would."""
    written = await asyncio.to_thread(
        write_segments, root, camera_id, start_ms, seconds, **kwargs
    )
    async with maker() as session:
        for seg in written:
            session.add(RecordingSegment(
                camera_id=camera_id, path=seg.relpath, kind="continuous",
                started_at=at_ms(seg.start_ms), ended_at=at_ms(seg.end_ms),
                duration_s=(seg.end_ms - seg.start_ms) / 1000, bytes=seg.bytes, codec="h264",
                width=320, height=180, has_audio=seg.has_audio, kept=False, deleted_at=None,
            ))
        await session.commit()
    return written


class FrameWatch:
    """``export.*`` frames published on ``argus:alerts`` (what ``/ws/alerts`` forwards)."""

    def __init__(self, app: FastAPI) -> None:
        self.bus = app_state(app).bus
        self.frames: list[dict[str, Any]] = []
        self._pubsub: Any = None

    async def __aenter__(self) -> FrameWatch:
        self._pubsub = self.bus.redis.pubsub()
        await self._pubsub.subscribe(self.bus.key(CHANNEL_ALERTS))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._pubsub.unsubscribe()
        await self._pubsub.aclose()

    async def until(self, export_id: int, states: set[str], timeout: float = 90.0
                    ) -> dict[str, Any]:
        """The first frame of ``export_id`` in one of ``states`` (bounded by ``timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            msg = await self._pubsub.get_message(ignore_subscribe_messages=True,
                                                 timeout=max(0.1, deadline - loop.time()))
            if msg is None:
                continue
            frame = json.loads(msg["data"])
            if not str(frame.get("type", "")).startswith("export."):
                continue
            self.frames.append(frame)
            if frame.get("export_id") == export_id and frame.get("state") in states:
                return frame
        raise AssertionError(f"no export frame in {states} for {export_id} within {timeout}s")


async def download(client: httpx.AsyncClient, export_id: int, headers: dict[str, str]
                   ) -> bytes:
    resp = await client.get(f"/api/v1/exports/{export_id}/download", headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/zip"
    return resp.content


def stamps(mp4: bytes) -> tuple[list[int | None], int]:
    """The burnt-in stamps of every decoded frame, and the number of audio frames."""
    with av.open(io.BytesIO(mp4)) as container:
        frames = [read_timestamp_ms(f.to_ndarray(format="gray"), f.width, f.height)
                  for f in container.decode(video=0)]
    with av.open(io.BytesIO(mp4)) as container:
        audio = sum(1 for _ in container.decode(audio=0)) if container.streams.audio else 0
    return frames, audio


def rezip(bundle: bytes, name: str, change: Any) -> bytes:
    """The bundle with member ``name`` replaced by ``change(old bytes)`` (a valid zip)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bundle)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, change(data) if info.filename == name else data)
    return out.getvalue()


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
