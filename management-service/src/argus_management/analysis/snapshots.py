"""Event snapshots: JPEGs under ``ARGUS_DATA_DIR/snapshots/<camera>/<event>.jpg``.

``events.snapshot_path`` holds the path relative to the data directory. A snapshot is
written to a temporary name and renamed, so a reader never sees half a file; posting it
again replaces it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import NotFound, PayloadTooLarge, Unprocessable
from argus_management.config import Settings
from argus_management.events.models import Event

SNAPSHOT_DIR = "snapshots"
_JPEG_START = b"\xff\xd8\xff"
_JPEG_END = b"\xff\xd9"


def snapshot_file(settings: Settings, relative: str) -> Path:
    return Path(settings.data_dir) / relative


async def read_limited(request: Request, limit: int, what: str = "body") -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"{what} larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"{what} larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)


async def store_snapshot(
    session: AsyncSession, settings: Settings, event_id: int, data: bytes
) -> Event:
    """Save ``data`` (a JPEG) as the snapshot of event ``event_id``."""
    if not data.startswith(_JPEG_START) or not data.rstrip(b"\x00").endswith(_JPEG_END):
        raise Unprocessable("body is not a JPEG image")
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound("event not found")
    camera = str(event.camera_id) if event.camera_id is not None else "system"
    relative = f"{SNAPSHOT_DIR}/{camera}/{event.id}.jpg"
    await asyncio.to_thread(_write, snapshot_file(settings, relative), data)
    event.snapshot_path = relative
    await session.flush()
    return event


def existing_snapshot(settings: Settings, event: Event) -> Path:
    """The snapshot file of ``event``; 404 when it has none (or it was removed)."""
    if not event.snapshot_path:
        raise NotFound("this event has no snapshot")
    path = snapshot_file(settings, event.snapshot_path)
    root = Path(settings.data_dir).resolve()
    if not path.resolve().is_relative_to(root) or not path.is_file():
        raise NotFound("this event has no snapshot")
    return path
