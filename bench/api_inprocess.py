"""CPU cost of one cached ``GET /api/v1/cameras`` inside the app, without HTTP parsing.

Calls the ASGI app directly (no sockets), so the figure is the framework plus ARGUS's own
per-request work (token check, one Redis round trip, principal and response caches). With
``--profile``, prints the functions with the most self time. Used to find where the time goes
behind the wrk figure of ``api_cameras.py``.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import statistics
import sys
import time
import uuid

import asyncpg
import httpx

from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.main import create_app

PG = "postgresql://postgres@127.0.0.1:5432"
N = 1000
ROUNDS = 7


async def main(profile: bool) -> None:
    name = f"argus_prof_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(f"{PG}/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    settings = Settings(
        ARGUS_ENV="test", DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}",
        ARGUS_REDIS_NAMESPACE=f"argus-prof-{name[-8:]}", SECRET_KEY="p" * 32,
        INTERNAL_API_KEY="q" * 32, ARGUS_ADMIN_PASSWORD="admin-pass-1",
        MANAGEMENT_BCRYPT_ROUNDS=4, LOG_LEVEL="WARNING",
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            token = app_state(app).jwt.issue("1", "access", 900).token
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                auth = {"Authorization": f"Bearer {token}"}
                for i in range(100):
                    await client.post("/api/v1/cameras", headers=auth, json={
                        "name": f"c{i}", "stream_url": f"rtsp://10.0.0.{i}/x", "password": "p" * 8,
                    })
            headers = [(b"authorization", f"Bearer {token}".encode()), (b"host", b"t")]

            async def call() -> None:
                scope = {
                    "type": "http", "method": "GET", "path": "/api/v1/cameras",
                    "raw_path": b"/api/v1/cameras", "query_string": b"limit=100",
                    "headers": headers, "client": ("127.0.0.1", 1), "server": ("t", 80),
                    "scheme": "http", "root_path": "", "http_version": "1.1", "app": app,
                    "state": {},
                }

                async def receive() -> dict[str, object]:
                    return {"type": "http.request", "body": b"", "more_body": False}

                async def send(_: object) -> None:
                    return None

                await app(scope, receive, send)

            for _ in range(300):
                await call()
            prof = cProfile.Profile() if profile else None
            rounds = []
            for _ in range(ROUNDS):
                cpu = time.process_time()
                if prof:
                    prof.enable()
                for _ in range(N):
                    await call()
                if prof:
                    prof.disable()
                rounds.append((time.process_time() - cpu) / N * 1e6)
            # The minimum is the least disturbed by other work on the machine.
            print(f"cached GET /api/v1/cameras?limit=100: {min(rounds):.0f} us CPU per request "
                  f"(min of {ROUNDS} rounds of {N}; median {statistics.median(rounds):.0f})"
                  f"{' under the profiler' if prof else ''}")
            if prof:
                pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    finally:
        conn = await asyncpg.connect(f"{PG}/postgres")
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main("--profile" in sys.argv))
