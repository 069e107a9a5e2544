"""The summary timeline over a month: ``GET /api/v1/cameras/{id}/timeline`` with
``resolution_s`` on 30 days of one camera (43,200 segments of 60 s) in PostgreSQL.

A scratch database is created, migrated, filled (segments with a few gaps, 2,000 motion
events, a camera.offline alert) and dropped. Requests go through the whole app in-process
(httpx ASGI transport: token check, Redis, the database), sequentially; latency is per
request, wall clock. Target (issue W2 6/10): p95 <= 100 ms.

    .venv/bin/python bench/timeline_bench.py [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.main import create_app

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DAYS = 30
T0 = datetime(2026, 10, 1, tzinfo=UTC)


async def fill(dsn: str, cam: int) -> None:
    """A month of minute segments of ``cam`` (gaps: an hour every 5 days), events."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = []
        for minute in range(DAYS * 24 * 60):
            if minute % (5 * 1440) < 60 and minute > 60:
                continue  # a gap
            start = T0 + timedelta(minutes=minute)
            ms = int(start.timestamp() * 1000)
            rows.append((cam, f"{cam}/{start:%Y-%m-%d}/{start:%H}/{ms}.mp4", "continuous",
                         start, start + timedelta(minutes=1), 60.0, 30_000_000, "h264",
                         1920, 1080, True, False))
        await conn.copy_records_to_table(
            "recording_segments", records=rows,
            columns=["camera_id", "path", "kind", "started_at", "ended_at", "duration_s",
                     "bytes", "codec", "width", "height", "has_audio", "kept"])
        events = []
        for i in range(2000):
            at = T0 + timedelta(seconds=i * DAYS * 86400 / 2000)
            events.append((f"bench-{i}", cam, "motion.start" if i % 2 == 0 else "manual",
                           "info", at, at + timedelta(seconds=30), "{}", False))
        await conn.copy_records_to_table(
            "events", records=events,
            columns=["source_id", "camera_id", "type", "severity", "started_at", "ended_at",
                     "payload", "kept"])
        await conn.execute(
            "INSERT INTO alerts (kind, severity, state, camera_id, title, detail, payload, "
            "created_at, resolved_at) VALUES ('camera.offline', 'warning', 'resolved', $1, "
            "'offline', '', '{}', $2, $3)", cam, T0 + timedelta(days=5),
            T0 + timedelta(days=5, hours=1))
        # What autovacuum does soon after a bulk load: statistics and the visibility map
        # (index-only scans need it).
        await conn.execute("VACUUM ANALYZE")
        count = await conn.fetchval("SELECT count(*) FROM recording_segments")
        print(f"segments: {count}, events: 2000", flush=True)
    finally:
        await conn.close()


async def main(requests: int) -> None:
    name = f"argus_tl_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{PG.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    settings = Settings(
        ARGUS_ENV="test", DATABASE_URL=url, ARGUS_REDIS_NAMESPACE=f"argus-tl-{name[-8:]}",
        SECRET_KEY="p" * 32, INTERNAL_API_KEY="q" * 32, ARGUS_ADMIN_PASSWORD="admin-pass-1",
        MANAGEMENT_BCRYPT_ROUNDS=4, LOG_LEVEL="WARNING", MANAGEMENT_LIVENESS_ENABLED=False,
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            async with app_state(app).sessionmaker() as session:
                camera = Camera(name="bench", stream_url="rtsp://127.0.0.1:8554/x",
                                username="", password_enc=None)
                session.add(camera)
                await session.commit()
                cam = camera.id
            await fill(f"{PG}/{name}", cam)
            token = app_state(app).jwt.issue("1", "access", 3600).token
            auth = {"Authorization": f"Bearer {token}"}
            end = T0 + timedelta(days=DAYS)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for resolution in (3600, 600, 60):
                    params = {"start": T0.isoformat(), "end": end.isoformat(),
                              "resolution_s": resolution}
                    first = await client.get(f"/api/v1/cameras/{cam}/timeline",
                                             params=params, headers=auth)
                    assert first.status_code == 200, first.text
                    body = first.json()
                    times = []
                    for _ in range(requests):
                        t = time.perf_counter()
                        resp = await client.get(f"/api/v1/cameras/{cam}/timeline",
                                                params=params, headers=auth)
                        times.append((time.perf_counter() - t) * 1000)
                        assert resp.status_code == 200
                    times.sort()
                    p95 = times[int(0.95 * len(times)) - 1]
                    print(f"30 days, resolution {resolution:>5} s: ranges "
                          f"{len(body['recordings'])}, gaps {len(body['gaps'])} "
                          f"({', '.join(sorted({g['cause'] for g in body['gaps']}))}), "
                          f"event classes {len(body['event_classes'])}, events "
                          f"{len(body['events'])}, {len(first.content)} bytes | median "
                          f"{statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
                          f"max {times[-1]:.1f} ms ({requests} requests)", flush=True)
    finally:
        admin = await asyncpg.connect(f"{PG}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    asyncio.run(main(parser.parse_args().requests))
