"""The timeline's ``growing`` stretch: the segment a recorder is still writing, up to its
last complete fragment, until the segment is indexed."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import utcnow
from argus_management.config import Settings
from argus_management.recordings.growing import written_s
from argus_management.recordings.models import RecordingSegment

from factories.cameras import create_camera
from factories.media import write_segments


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _cut_last_fragment(path: Path) -> None:
    """Cut the file inside its last ``mdat``, as a recorder mid-GOP leaves it."""
    data = path.read_bytes()
    last = data.rfind(b"mdat") - 4
    assert last > 0
    os.truncate(path, last + 100)


async def test_growing_stretch_until_indexed(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    admin_headers: dict[str, str],
    maker: async_sessionmaker[AsyncSession],
) -> None:
    cam = await create_camera(maker, settings.secret_key)
    root = Path(settings.recordings_root())
    start_ms = int((utcnow() - timedelta(seconds=20)).timestamp() * 1000)
    # 1 s GOPs; the fifth fragment is being written: four whole seconds are on disk.
    (seg,) = write_segments(root, cam.id, start_ms, [5.0], audio=False)
    began = datetime.fromtimestamp(start_ms / 1000, UTC)
    relpath = f"{cam.id}/{began:%Y-%m-%d}/{began:%H}/{start_ms}.mp4"  # the recorder's layout
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    (root / seg.relpath).rename(path)
    _cut_last_fragment(path)
    written = written_s(path)
    assert written is not None and abs(written - 4.0) < 0.15
    window = {
        "start": (began - timedelta(minutes=5)).isoformat(),
        "end": (utcnow() + timedelta(minutes=1)).isoformat(),
    }

    for extra in ({}, {"resolution_s": 1}):
        resp = await client.get(
            f"/api/v1/cameras/{cam.id}/timeline", params={**window, **extra}, headers=admin_headers
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["recordings"] == [] and body["segments"] == []
        (grow,) = body["growing"]
        assert _ts(grow["start"]) == began
        assert abs((_ts(grow["end"]) - began).total_seconds() - written) < 0.01
        # The summary's gaps (from the index alone) leave out what is being written.
        for gap in body["gaps"]:
            assert _ts(gap["end"]) <= _ts(grow["start"]) or _ts(gap["start"]) >= _ts(grow["end"])
        if extra:
            assert body["gaps"] and _ts(body["gaps"][0]["end"]) == began

    # Once the segment closes and is indexed, its row is the range and nothing grows.
    async with maker() as session:
        session.add(
            RecordingSegment(
                camera_id=cam.id,
                path=relpath,
                kind="continuous",
                started_at=began,
                ended_at=began + timedelta(seconds=5),
                duration_s=5.0,
                bytes=seg.bytes,
                codec="h264",
                width=320,
                height=180,
                has_audio=False,
                kept=False,
            )
        )
        await session.commit()
    resp = await client.get(
        f"/api/v1/cameras/{cam.id}/timeline", params=window, headers=admin_headers
    )
    body = resp.json()
    assert body["growing"] == [] and len(body["segments"]) == 1
    # A window that ends before the file began has nothing growing either.
    resp = await client.get(
        f"/api/v1/cameras/{cam.id}/timeline",
        params={
            "start": (began - timedelta(minutes=5)).isoformat(),
            "end": (began - timedelta(minutes=1)).isoformat(),
        },
        headers=admin_headers,
    )
    assert resp.json()["growing"] == []
