"""A small external agent for ARGUS's ``WS /ws/analysis``: prints analysed frames.

    python examples/analysis_client.py --url http://127.0.0.1:8001 --user admin \\
        --password secret --camera 1 --camera 2 [--motion-only]

It logs in (OAuth2 password flow at ``/api/v1/auth/login``; or give ``--token`` /
``ARGUS_TOKEN``), opens ``/ws/analysis`` with the token in the ``Authorization`` header and
subprotocol ``json``, subscribes to the cameras, answers pings and prints one JSON line per
``frameAnalyzed`` frame. When the connection drops (or the server refuses it: too many
sessions, 4429) it reconnects after 1, 2, 5, 10, 20, 30, then every 60 s; a session that
got going resets the delay. An expired token (4401) means a new login when a password was
given. Needs ``httpx`` and ``websockets`` (both in the workspace's dev group).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

BACKOFF_S = (1, 2, 5, 10, 20, 30, 60)
CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN, CLOSE_TOO_MANY = 4401, 4403, 4429


class Fatal(Exception):
    """Retrying cannot help (wrong password, missing permission)."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def login(base: str, username: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        resp = await client.post("/api/v1/auth/login",
                                 data={"username": username, "password": password})
    if resp.status_code in (400, 401, 403, 423):
        raise Fatal(f"login refused: {resp.status_code} {resp.text[:200]}")
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def ws_url(base: str) -> str:
    scheme, _, rest = base.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}/ws/analysis"


async def session(url: str, token: str, cameras: list[int], motion_only: bool) -> bool:
    """One connection; returns True when it got going (the backoff starts over)."""
    started = False
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"},
                       subprotocols=["json"], open_timeout=10) as ws:  # type: ignore[list-item]
        async for raw in ws:
            message: dict[str, Any] = json.loads(raw)
            event = message.get("event")
            if event == "sessionStarted":
                started = True
                log(f"session {message['sessionId']} started; subscribing to {cameras}")
                await ws.send(json.dumps({"subscribe": cameras}))
            elif event == "subscribed":
                payload = message["payload"]
                log(f"following cameras {payload['cameraIds']} (not visible: "
                    f"{payload['denied']})")
            elif event == "ping":
                await ws.send(json.dumps({"event": "pong"}))
            elif event == "frameAnalyzed":
                if not motion_only or message["payload"]["motion"]:
                    print(json.dumps({"timestamp": message["timestamp"], **message["payload"]}),
                          flush=True)
            elif event == "error":
                log(f"server: {message['payload'].get('detail')}")
    return started


async def run(args: argparse.Namespace) -> None:
    token = args.token or os.environ.get("ARGUS_TOKEN", "")
    attempt = 0
    while True:
        try:
            if not token:
                if not args.password:
                    raise Fatal("give --token (or ARGUS_TOKEN) or --user and --password")
                token = await login(args.url, args.user, args.password)
            if await session(ws_url(args.url), token, args.camera, args.motion_only):
                attempt = 0
            log("connection closed by the server")
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            reason = exc.rcvd.reason if exc.rcvd else ""
            log(f"closed: {code} {reason}")
            if code == CLOSE_FORBIDDEN:
                raise Fatal("this user lacks the analysis:read permission") from None
            if code == CLOSE_UNAUTHORIZED:
                token = ""  # expired or revoked: log in again (or fail without a password)
                if not args.password:
                    raise Fatal("token refused; give a new one") from None
        except (OSError, InvalidStatus, TimeoutError, httpx.HTTPError) as exc:
            log(f"cannot connect: {type(exc).__name__}: {exc}")
        delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
        attempt += 1
        log(f"reconnecting in {delay} s")
        await asyncio.sleep(delay)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="management base URL")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default=os.environ.get("ARGUS_PASSWORD"))
    parser.add_argument("--token", help="an access token instead of a login")
    parser.add_argument("--camera", type=int, action="append", required=True,
                        help="camera id to follow (repeatable)")
    parser.add_argument("--motion-only", action="store_true",
                        help="print only frames with motion")
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    task = loop.create_task(run(args))
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        pass
    except Fatal as exc:
        log(str(exc))
        raise SystemExit(2) from None
    finally:
        loop.close()


if __name__ == "__main__":
    main()
