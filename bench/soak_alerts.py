"""The soak's alert probe (bench/soak.py): motion switched on on the next camera every
``every_s``, the ``alert.motion`` awaited on ``/ws/alerts``; a probe that saw none in time is
explained on the spot (:func:`explain_miss`)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from soak_load import Token
from soak_measure import ANALYSER_COUNTERS, Stats, analyser_counts


async def alert_prober(
    api: str,
    token: Token,
    control: str,
    cameras: list[int],
    every_s: float,
    until: float,
    stats: Stats,
) -> None:
    from websockets.asyncio.client import connect

    ws_url = f"ws://{api.split('://', 1)[1]}/ws/alerts"
    async with httpx.AsyncClient(timeout=10) as c:
        for n in itertools.count():
            if time.time() + every_s >= until:
                return
            index = n % len(cameras)
            cam = cameras[index]
            try:
                async with connect(ws_url, subprotocols=["bearer", token.value]) as ws:  # type: ignore[list-item]
                    await asyncio.wait_for(ws.recv(), 10)  # "ready"
                    before = await analyser_counts(c, stats.analyser_metrics)
                    t0 = time.time()
                    (
                        await c.post(f"{control}/motion/cam{index + 1}", json={"on": True})
                    ).raise_for_status()
                    try:
                        async with asyncio.timeout(20):
                            while True:
                                msg = json.loads(await ws.recv())
                                if (
                                    msg.get("type") == "alert.motion"
                                    and msg.get("camera_id") == cam
                                ):
                                    stats.alert_s.append(time.time() - t0)
                                    break
                    except TimeoutError:
                        stats.alert_missed += 1
                        await explain_miss(c, api, token, cam, t0, before, stats)
            except Exception as exc:
                print(f"  alert probe: {type(exc).__name__}: {exc}", flush=True)
                stats.alert_missed += 1
                stats.misses.append({"camera": cam, "t": time.time(), "error": repr(exc)})
            await asyncio.sleep(2)
            with contextlib.suppress(httpx.HTTPError):
                await c.post(f"{control}/motion/cam{index + 1}", json={"on": False})
            await asyncio.sleep(max(0.0, every_s - 2))


async def explain_miss(
    c: httpx.AsyncClient,
    api: str,
    token: Token,
    cam: int,
    t0: float,
    before: dict[str, dict[int, float]],
    stats: Stats,
) -> None:
    """After a probe saw no ``alert.motion`` in time: what the analyser did with the
    camera's frames meanwhile (analysed, skipped for lag, reconnects), whether its
    ``motion.start`` reached management, and whether the alert was raised (then only the
    WebSocket missed it)."""
    since = datetime.fromtimestamp(t0 - 5, UTC).isoformat()
    after = await analyser_counts(c, stats.analyser_metrics)
    found: dict[str, Any] = {
        "camera": cam,
        "t": t0,
        **{
            name: after[name].get(cam, 0.0) - before[name].get(cam, 0.0)
            for name in ANALYSER_COUNTERS.values()
        },
    }
    lookups: tuple[tuple[str, str, dict[str, Any]], ...] = (
        ("event", "/api/v1/events", {"camera_id": cam, "type": "motion.start", "start": since}),
        ("alert", "/api/v1/alerts", {"camera_id": cam, "kind": "motion"}),
    )
    for name, path, params in lookups:
        try:
            resp = await c.get(f"{api}{path}", params={**params, "limit": 1}, headers=token.headers)
            items = resp.json().get("items", []) if resp.status_code == 200 else []
        except (httpx.HTTPError, ValueError) as exc:
            found[name] = f"lookup failed: {type(exc).__name__}"
            continue
        stamp = (items[0].get("ts") or items[0].get("created_at")) if items else None
        when = datetime.fromisoformat(stamp).timestamp() - t0 if stamp else None
        # An alert older than the probe belongs to an earlier one.
        found[name] = round(when, 2) if when is not None and when > -5 else None
    stats.misses.append(found)
    print(
        f"  alert missed: camera {cam}; analyser frames analysed {found['analysed']:.0f}, "
        f"skipped (behind) {found['skipped']:.0f}, reconnects {found['reconnects']:.0f}; "
        f"motion.start stored "
        f"{'no' if found.get('event') is None else str(found['event']) + ' s after'}; alert "
        f"{'no' if found.get('alert') is None else str(found['alert']) + ' s after'}",
        flush=True,
    )

