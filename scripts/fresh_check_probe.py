"""Probe of ``make fresh-check``: wait (bounded) until a running ``make run`` serves the
console, has recorded a segment and plays a WHEP frame through the console's nginx, and
print how long each took from ``--since`` (epoch seconds), as ``probe <what> <seconds>``.

Runs on the host with the workspace's venv (aiortc), against the stack started in the
fresh root (same network namespace). Exit status 0 when all three were seen.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "streaming-service" / "tests"))

from whep_client import whep_close, whep_connect  # noqa: E402


def say(what: str, since: float) -> None:
    print(f"probe {what} {time.time() - since:.1f}", flush=True)


async def wait_for(check, what: str, deadline: float, interval_s: float = 1.0):  # type: ignore[no-untyped-def]
    """Call the async ``check`` until it returns something truthy, at most until
    ``deadline`` (monotonic)."""
    while True:
        try:
            value = await check()
        except (httpx.HTTPError, OSError, ValueError, KeyError):  # not up yet, or half up
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(interval_s)


async def probe(console: str, data: Path, since: float, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    # The console may redirect to HTTPS with the stack's self-signed certificate: the
    # address it ends on is used for the rest (a redirected POST would turn into a GET).
    async with httpx.AsyncClient(timeout=10, follow_redirects=True, verify=False) as c:  # noqa: S501
        async def console_up() -> str | None:
            resp = await c.get(console)
            ok = resp.status_code == 200 and "<html" in resp.text.lower()
            return str(resp.url.copy_with(path="/", query=None)) if ok else None

        origin = await wait_for(console_up, "the console", deadline)
        say("console", since)
        print(f"probe-info console at {origin}", flush=True)

    async with httpx.AsyncClient(base_url=origin, timeout=10, verify=False) as client:  # noqa: S501

        async def token() -> str | None:
            pw_file = data / ".admin_password"
            if not pw_file.exists():
                return None
            resp = await client.post("/api/v1/auth/login", data={
                "username": "admin", "password": pw_file.read_text().strip()[:16]})
            return str(resp.json()["access_token"]) if resp.status_code == 200 else None

        headers = {"Authorization": f"Bearer {await wait_for(token, 'a login', deadline)}"}

        async def camera() -> int | None:
            resp = await client.get("/api/v1/cameras", headers=headers)
            body = resp.json()
            items = body.get("items", body) if isinstance(body, dict) else body
            return int(items[0]["id"]) if resp.status_code == 200 and items else None

        camera_id = await wait_for(camera, "a demo camera", deadline)

        async def segment() -> bool:
            return any((data / "recordings").rglob("*.mp4"))

        await wait_for(segment, "a recorded segment", deadline)
        say("segment", since)

        async def frame() -> bool:
            _resp, viewer = await whep_connect(client, f"/whep/{camera_id}", headers)
            if viewer is None:
                return False
            try:
                await viewer.frames(1, timeout_s=20)
                return True
            except TimeoutError:
                return False
            finally:
                await whep_close(client, viewer, headers)

        await wait_for(frame, "a WHEP frame", deadline, interval_s=3.0)
        say("whep_frame", since)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--console", default="http://127.0.0.1:3000")
    parser.add_argument("--data", type=Path, required=True, help="the stack's data directory")
    parser.add_argument("--since", type=float, default=time.time())
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    try:
        asyncio.run(probe(args.console, args.data, args.since, args.timeout))
    except TimeoutError as exc:
        print(f"probe failed: {exc}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
