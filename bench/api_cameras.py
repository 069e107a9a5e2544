"""Authenticated ``GET /api/v1/cameras`` under load (wrk), and the cost of a login.

Setup: PostgreSQL scratch database, 100 cameras, management-service as a real process with
2 uvicorn workers, 50 concurrent connections from Debian's ``wrk`` on the same machine.
Prints requests/s and latency percentiles. Usage: ``.venv/bin/python bench/api_cameras.py``.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import time

import httpx
from _stack import ADMIN_PASSWORD, management, scratch_database

from argus_common.jwt import JwtCodec
from argus_common.keys import development_keys

DURATION_S = 20
CONNECTIONS = 50


def _wrk(url: str, token: str) -> str:
    exe = shutil.which("wrk")
    if exe is None:
        sys.exit("wrk is missing: apt-get install wrk")
    out = subprocess.run(
        [exe, "-t2", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--latency",
         "-H", f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, timeout=DURATION_S + 60, check=True,
    )
    return out.stdout


def main() -> None:
    # --no-liveness: without the camera liveness checker, whose probes of the 100 (unreachable)
    # bench cameras flip their status mid-run and so invalidate the cached lists.
    extra = {"MANAGEMENT_LIVENESS_ENABLED": "false"} if "--no-liveness" in sys.argv else {}
    print(f"liveness checker {'off' if extra else 'on'}")
    with scratch_database() as db, management(db, workers=2, **extra) as base:
        client = httpx.Client(base_url=base, timeout=30)
        t0 = time.perf_counter()
        login = client.post("/api/v1/auth/login",
                            data={"username": "admin", "password": ADMIN_PASSWORD})
        if login.status_code == 200:
            token = login.json()["access_token"]
            timings = []
            for _ in range(10):
                t = time.perf_counter()
                client.post("/api/v1/auth/login",
                            data={"username": "admin", "password": ADMIN_PASSWORD})
                timings.append((time.perf_counter() - t) * 1000)
            print(f"login (bcrypt cost 12): median {statistics.median(timings):.0f} ms "
                  f"over 10 sequential logins (first {1000 * (time.perf_counter() - t0):.0f} ms)")
        else:
            codec = JwtCodec(development_keys(), "argus", "argus-api")
            token = codec.issue("1", "access", 3600).token
            print("login endpoint unavailable; minted a token directly")
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(100):
            resp = client.post("/api/v1/cameras", headers=headers, json={
                "name": f"bench-{i:03d}", "stream_url": f"rtsp://10.0.{i // 250}.{i % 250}/main",
                "username": "viewer", "password": "cam-pass-1",
                "analysis": {"enabled": True, "zones": [[[0, 0], [1, 0], [1, 1]]]},
            })
            resp.raise_for_status()
        page = client.get("/api/v1/cameras?limit=100", headers=headers)
        print(f"GET /api/v1/cameras?limit=100 body: {len(page.content)} bytes, "
              f"{len(page.json()['items'])} cameras")
        report = _wrk(f"{base}/api/v1/cameras?limit=100", token)
        rps = re.search(r"Requests/sec:\s+([\d.]+)", report)
        lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", report, re.MULTILINE))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
        rate = rps.group(1) if rps else "?"
        print(f"wrk {CONNECTIONS} connections, {DURATION_S} s: {rate} req/s, "
              f"p50 {lat.get('50')}, p90 {lat.get('90')}, p99 {lat.get('99')}, "
              f"non-2xx {errors.group(1) if errors else 0}")


if __name__ == "__main__":
    main()
