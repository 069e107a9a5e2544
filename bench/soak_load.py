"""The soak's load generators (bench/soak.py): WHEP viewers in a process of their own, an
HLS viewer and an API client; each runs until ``until`` (a ``time.time()``) and counts into
:class:`soak_measure.Stats` (the WHEP viewers into a JSON file)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
from _stack import SECRETS
from soak_measure import Stats, write_json


def login(api: str) -> str:
    """A fresh access token of the admin (tokens expire during a long run)."""
    resp = httpx.post(
        f"{api}/api/v1/auth/login",
        timeout=30,
        data={"username": SECRETS.admin_username, "password": SECRETS.admin_password},
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


class Token:
    """The current access token, renewed every ``every_s`` by :meth:`renew`."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.value = login(api)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.value}"}

    async def renew(self, until: float, every_s: float = 240.0) -> None:
        while time.time() + every_s < until:
            await asyncio.sleep(every_s)
            try:
                self.value = await asyncio.to_thread(login, self.api)
            except httpx.HTTPError as exc:
                print(f"  token renewal failed: {type(exc).__name__}", flush=True)



def whep_viewers(base: str, api: str, cameras: list[int], until: float, out: str) -> None:
    """WHEP viewers, one per camera in ``cameras``, until ``until``; frame counts written to
    ``out`` (JSON) every 5 s. Runs in a process of its own (spawn)."""
    from streaming_viewers import count_only
    from whep_client import whep_close, whep_connect

    async def run() -> None:
        headers = {"Authorization": f"Bearer {await asyncio.to_thread(login, api)}"}
        counts: dict[int, Any] = {}
        reconnects = dict.fromkeys(cameras, 0)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            viewers: dict[int, Any] = {}

            async def connect(cam: int) -> None:
                resp, viewer = await whep_connect(client, f"/whep/{cam}", headers)
                if resp.status_code != 201 or viewer is None:
                    return
                for _ in range(300):  # up to 30 s
                    if viewer.pc.connectionState == "connected":
                        break
                    await asyncio.sleep(0.1)
                if viewer.pc.connectionState == "connected":
                    viewers[cam] = viewer
                    counts[cam] = count_only(viewer.pc)
                else:
                    await viewer.pc.close()

            for cam in cameras:
                await connect(cam)
            while time.time() < until:
                for cam in cameras:
                    viewer = viewers.get(cam)
                    if viewer is None or viewer.pc.connectionState in ("failed", "closed"):
                        headers["Authorization"] = f"Bearer {await asyncio.to_thread(login, api)}"
                        if viewer is not None:
                            await viewer.pc.close()
                            viewers.pop(cam)
                        reconnects[cam] += 1
                        await connect(cam)
                write_json(
                    out,
                    {
                        "t": time.time(),
                        "reconnects": reconnects,
                        "frames": {c: n.frames for c, n in counts.items()},
                    },
                )
                await asyncio.sleep(5)
            for viewer in viewers.values():
                with contextlib.suppress(Exception):
                    await whep_close(client, viewer, headers)

    asyncio.run(run())


async def api_client(
    base: str, token: Token, cameras: list[int], until: float, stats: Stats
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for n in itertools.count():
            if time.time() >= until:
                return
            cam = cameras[n % len(cameras)]
            end = datetime.now(UTC)
            window = {"start": (end - timedelta(minutes=10)).isoformat(), "end": end.isoformat()}
            for path, params in (
                ("/api/v1/cameras", {}),
                (f"/api/v1/cameras/{cam}", {}),
                (f"/api/v1/cameras/{cam}/timeline", window),
                ("/api/v1/events", {"limit": 20}),
                ("/api/v1/alerts", {"limit": 20}),
            ):
                t0 = time.perf_counter()
                try:
                    resp = await c.get(path, params=params, headers=token.headers)
                    code = str(resp.status_code)
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                stats.api_ms.append((time.perf_counter() - t0) * 1000)
                if code != "200":
                    key = f"{path.split('/')[3]} {code}"
                    stats.api_errors[key] = stats.api_errors.get(key, 0) + 1
            await asyncio.sleep(1.0)


async def hls_viewer(base: str, token: Token, cam: int, until: float, stats: Stats) -> None:
    seen: set[str] = set()

    def err(key: str) -> None:
        stats.hls_errors[key] = stats.hls_errors.get(key, 0) + 1

    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        playlist = ""
        while time.time() < until:
            if not playlist:
                resp = await c.post(
                    "/v1/streams/start", json={"camera_id": cam}, headers=token.headers
                )
                if resp.status_code != 200:
                    err(f"start {resp.status_code}")
                    await asyncio.sleep(2)
                    continue
                playlist = urljoin(base + "/", resp.json()["hls_url"].lstrip("/"))
            try:
                resp = await c.get(playlist)
                if resp.status_code != 200:
                    err(f"playlist {resp.status_code}")
                    playlist = ""  # the session ended: start another
                    continue
                uris = [
                    line for line in resp.text.splitlines() if line and not line.startswith("#")
                ]
                for uri in uris:
                    url = urljoin(playlist, uri)
                    if url in seen:
                        continue
                    seg = await c.get(url)
                    if seg.status_code == 200:
                        seen.add(url)
                        stats.hls_segments += 1
                    else:
                        err(f"segment {seg.status_code}")
                if len(seen) > 5000:
                    seen = set(list(seen)[-500:])
            except httpx.HTTPError as exc:
                err(type(exc).__name__)
            await asyncio.sleep(1.0)

