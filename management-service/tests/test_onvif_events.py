"""ONVIF events: management's PullPoint subscription to the simulator's events service turns
the camera's motion, tampering and digital-input events into ARGUS events and alerts on
/ws/alerts, and subscribes again after the camera restarts.

The delay from the simulator raising an event to the alert frame is measured and printed
(not asserted: no timing assertions in tests)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect

from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.events.models import Event
from argus_management.main import create_app
from argus_management.onvif.pullpoint import parse
from argus_testkit.ports import free_port

from factories.onvif_sim import OnvifSim, create_onvif_camera, launch_onvif


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    s = launch_onvif(cameras=1)
    yield s
    s.stop()


@pytest.fixture
async def events_server(settings: Settings) -> AsyncIterator[str]:
    """A management process with the ONVIF event watcher on (the shared test app has it
    off, like the liveness checker), served by uvicorn for /ws/alerts."""
    events_settings = settings.model_copy(
        update={"onvif_events": True, "onvif_events_reconcile_s": 0.3}
    )
    application = create_app(events_settings, run_migrations=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "events server did not start"
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 20)


async def _subscriptions(sim: OnvifSim) -> int:
    return int((await sim.camera("cam1"))["onvif"]["event_subscriptions"])


async def _wait_subscribed(sim: OnvifSim, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while await _subscriptions(sim) < 1:
        assert time.monotonic() < deadline, "management did not subscribe"
        await asyncio.sleep(0.1)


async def _raise(sim: OnvifSim, **body: Any) -> None:
    async with httpx.AsyncClient(timeout=5) as c:
        resp = await c.post(f"{sim.sim.control}/events/cam1", json=body)
    assert resp.status_code == 200, resp.text


async def _alert(ws: ClientConnection, timeout_s: float = 10.0) -> dict[str, Any]:
    """The next alert frame (other frames skipped)."""
    async with asyncio.timeout(timeout_s):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if str(frame.get("type", "")).startswith("alert."):
                return frame


async def _timed_alert(ws: ClientConnection, sim: OnvifSim, **body: Any) -> dict[str, Any]:
    start = time.monotonic()
    await _raise(sim, **body)
    alert = await _alert(ws)
    print(f"ONVIF {body} -> /ws/alerts {alert['type']}: {(time.monotonic() - start) * 1000:.0f} ms")
    return alert


async def test_camera_events_reach_ws_alerts_and_survive_a_restart(
    app: FastAPI,
    maker: async_sessionmaker[AsyncSession],
    sim: OnvifSim,
    events_server: str,
) -> None:
    state = app_state(app)
    cam = await create_onvif_camera(maker, state.settings.secret_key, sim.onvif_ports["cam1"])
    await _wait_subscribed(sim)
    token = str(state.jwt.issue("1", "access", 900).token)
    ws = await connect(f"ws://{events_server}/ws/alerts", subprotocols=["bearer", token])  # type: ignore[list-item]
    try:
        assert json.loads(await ws.recv())["type"] == "ready"
        motion = await _timed_alert(ws, sim, topic="motion", state=True)
        assert motion["camera_id"] == cam.id and motion["type"] == "alert.motion"
        tamper = await _timed_alert(ws, sim, topic="tamper", state=True)
        assert tamper["type"] == "alert.tamper" and tamper["severity"] == "critical"
        alarm = await _timed_alert(ws, sim, topic="input", state=True, input="2")
        assert alarm["type"] == "alert.input" and alarm["camera_id"] == cam.id

        # The camera restarts: its subscriptions are gone; management subscribes again.
        await sim.sim.fault(1, offline_s=1.5)
        await asyncio.sleep(1.6)
        await _wait_subscribed(sim)
        await _raise(sim, topic="motion", state=False)  # motion.end: no alert
        again = await _timed_alert(ws, sim, topic="motion", state=True)
        assert again["type"] == "alert.motion" and again["camera_id"] == cam.id
    finally:
        await ws.close()

    async with maker() as session:
        rows = (
            await session.scalars(select(Event).where(Event.camera_id == cam.id).order_by(Event.id))
        ).all()
    types = [r.type for r in rows]
    assert types == ["motion.start", "tamper.start", "input.start", "motion.end", "motion.start"], (
        types
    )
    assert rows[0].payload["source"] == "onvif" and rows[2].payload["input"] == "2"


def test_parse_accepts_vendor_spellings_and_ignores_the_rest() -> None:
    from lxml import etree

    def note(topic: str, xml: str) -> Any:
        message = etree.fromstring(xml)
        return type(
            "N",
            (),
            {
                "Topic": type("T", (), {"_value_1": topic})(),
                "Message": type("M", (), {"_value_1": message})(),
            },
        )()

    tt = 'xmlns:tt="http://www.onvif.org/ver10/schema"'
    alarm = note(
        "tns1:VideoSource/MotionAlarm",
        f'<tt:Message {tt} PropertyOperation="Changed"><tt:Source>'
        '<tt:SimpleItem Name="Source" Value="vs0"/></tt:Source><tt:Data>'
        '<tt:SimpleItem Name="State" Value="true"/></tt:Data></tt:Message>',
    )
    event = parse(alarm)
    assert event is not None and (event.kind, event.state) == ("motion", True)
    relay = note(
        "tns1:Device/Trigger/DigitalInput",
        f'<tt:Message {tt} PropertyOperation="Initialized"><tt:Source>'
        '<tt:SimpleItem Name="InputToken" Value="DI_1"/></tt:Source><tt:Data>'
        '<tt:SimpleItem Name="LogicalState" Value="false"/></tt:Data></tt:Message>',
    )
    event = parse(relay)
    assert event is not None and event.kind == "input" and event.source == "DI_1"
    assert event.initial and not event.state
    assert parse(note("tns1:Monitoring/ProcessorUsage", f"<tt:Message {tt}/>")) is None
    no_state = note(
        "tns1:RuleEngine/CellMotionDetector/Motion",
        f'<tt:Message {tt}><tt:Data><tt:SimpleItem Name="IsMotion" Value="maybe"/>'
        "</tt:Data></tt:Message>",
    )
    assert parse(no_state) is None
