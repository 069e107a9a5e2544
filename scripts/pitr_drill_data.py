"""The ARGUS rows the point-in-time drill writes (``pitr_drill.py``): management's schema by
its own migrations, and in each phase cameras, their recording segments and audit rows
written through management's models and its audit code (each audit row chained to the last
by ``audit.service.record``, as a request would)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argus_management import migrate
from argus_management.audit import service as audit
from argus_management.cameras.models import Camera
from argus_management.db import make_engine, make_sessionmaker
from argus_management.rbac.principal import Actor
from argus_management.recordings.models import RecordingSegment

ACTOR = Actor(user_id=None, username="pitr-drill", ip="127.0.0.1", user_agent="pitr-drill")
SEGMENTS_PER_CAMERA = 6


async def migrate_schema(url: str) -> None:
    """Management's migrations, head included (as ``make run`` does at start)."""
    await migrate.upgrade_async(url)


async def write_phase(url: str, phase: str, cameras: int) -> None:
    """``cameras`` cameras named after ``phase``, each with its segments; an audit row for
    each camera and each segment."""
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(hours=1)
    try:
        for c in range(cameras):
            async with maker() as s:
                camera = Camera(name=f"{phase}-{c}", stream_url=f"rtsp://127.0.0.1:8554/{c}")
                s.add(camera)
                await s.flush()
                await audit.record(s, ACTOR, "camera.create", "camera", camera.id, {"phase": phase})
                for i in range(SEGMENTS_PER_CAMERA):
                    t = start + timedelta(minutes=i)
                    segment = RecordingSegment(
                        camera_id=camera.id,
                        path=f"{camera.id}/{phase}-{i}.mp4",
                        started_at=t,
                        ended_at=t + timedelta(seconds=60),
                    )
                    s.add(segment)
                    await s.flush()
                    await audit.record(
                        s, ACTOR, "recording.index", "recording_segment", segment.id, {"i": i}
                    )
                await s.commit()
    finally:
        await engine.dispose()
