"""Video wall (issue 20): a second browser page opened as a wall monitor with its display
key receives a camera an operator drags onto the monitor in the wall overview and plays
it (frames decoded); then an alarm (motion on another camera, the monitor's alarm kind)
pushes that camera to the monitor, which plays it and keeps it across a reload. A clear
reaches the monitor through its /ws/wall-display socket, before its 15 s fallback poll."""

from __future__ import annotations

import pytest
from console_helpers import login, shot
from console_stack import ConsoleStack, motion_event, utcnow
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.timeout(120)

# Decoded frames in the monitor's tile of this camera.
TILE_FRAMES_JS = """(id) => {
  const v = document.querySelector(`.wall-monitor .tile[data-camera-id='${id}'] video`);
  return !!v && v.getVideoPlaybackQuality().totalVideoFrames > 0;
}"""


def test_wall_monitor_plays_pushed_and_alarm_cameras(
    page: Page, browser: Browser, stack: ConsoleStack
) -> None:
    pushed, alarmed = stack.cameras["cam2"], stack.cameras["cam3"]
    with stack.api() as api:
        r = api.post("/api/v1/walls", json={"name": "E2E wall"})
        assert r.status_code == 201, r.text
        wall = r.json()["id"]
        r = api.post(
            f"/api/v1/walls/{wall}/monitors", json={"name": "Monitor A", "alarm_kinds": ["motion"]}
        )
        assert r.status_code == 201, r.text
        monitor = r.json()["id"]
        r = api.post(f"/api/v1/walls/{wall}/monitors/{monitor}/credential")
        assert r.status_code == 201, r.text
        display_url = r.json()["display_url"]

    # The monitor: its own browser context (no user session), opened with the key.
    context = browser.new_context(
        viewport={"width": 960, "height": 540},
        locale="en-US",
        base_url=stack.url,
        ignore_https_errors=True,
    )
    context.set_default_timeout(15_000)
    wall_page = context.new_page()
    errors: list[str] = []
    wall_page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        wall_page.goto(display_url)
        screen = wall_page.locator(f".wall-monitor[data-monitor-id='{monitor}']")
        expect(screen).to_have_attribute("data-source-kind", "empty")
        expect(screen).to_have_attribute("data-push", "open")  # its /ws/wall-display
        assert "key=" not in wall_page.url  # the key left the address bar

        # The operator drags a camera onto the monitor in the wall overview.
        login(page, stack.operator)
        page.goto("/walls")
        card = page.locator(f".monitor-card[data-monitor-id='{monitor}']")
        expect(card).to_have_attribute("data-online", "true")
        page.locator(f".camera-list .cam-item[data-camera-id='{pushed}']").drag_to(card)
        expect(card).to_have_attribute("data-cameras", str(pushed))
        expect(card).to_have_attribute("data-source-kind", "camera")

        expect(screen).to_have_attribute("data-cameras", str(pushed))
        wall_page.wait_for_function(TILE_FRAMES_JS, arg=pushed, timeout=30_000)
        shot(wall_page, "20-wall-monitor-pushed")

        # An alarm on another camera takes the monitor (its alarm kind is "motion").
        body = motion_event(alarmed, utcnow(), 3)
        assert stack.internal_event(body).status_code == 201
        expect(screen).to_have_attribute("data-source-kind", "alarm")
        expect(screen).to_have_attribute("data-cameras", str(alarmed))
        wall_page.wait_for_function(TILE_FRAMES_JS, arg=alarmed, timeout=30_000)
        expect(wall_page.locator(".wall-banner.alarm")).to_contain_text("Camera 3")
        expect(card).to_have_attribute("data-source-kind", "alarm")
        shot(wall_page, "21-wall-monitor-alarm")
        shot(page, "22-wall-overview")

        # A reload (the key is remembered) shows the same content and plays it.
        wall_page.reload()
        expect(screen).to_have_attribute("data-cameras", str(alarmed))
        wall_page.wait_for_function(TILE_FRAMES_JS, arg=alarmed, timeout=30_000)

        # The display key opens nothing else: not the camera list, not another camera.
        statuses = wall_page.evaluate(
            """async ([wall, monitor, other]) => {
          const login = await fetch('/api/v1/wall-display/token', {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({wall_id: wall, monitor_id: monitor,
              key: localStorage.getItem(`argus.wall.${wall}.${monitor}`)})});
          const token = (await login.json()).access_token;
          const h = {Authorization: `Bearer ${token}`};
          const list = await fetch('/api/v1/cameras', {headers: h});
          const pc = new RTCPeerConnection();
          pc.addTransceiver('video', {direction: 'recvonly'});
          const offer = await pc.createOffer();
          pc.close();
          const whep = await fetch(`/whep/${other}`, {method: 'POST',
            headers: {...h, 'Content-Type': 'application/sdp'}, body: offer.sdp});
          return [login.status, list.status, whep.status];
        }""",
            [wall, monitor, pushed],
        )
        assert statuses[0] == 200 and statuses[1] == 401 and statuses[2] == 404, statuses

        # A push arrives through the monitor's socket: the page re-reads at once. Bounded
        # below the 15 s poll an open socket keeps, and the frame itself is counted.
        expect(screen).to_have_attribute("data-push", "open")
        heard = int(screen.get_attribute("data-push-changes") or "0")
        with stack.api() as api:
            r = api.post(f"/api/v1/walls/{wall}/monitors/{monitor}/push", json={"kind": "clear"})
            assert r.status_code == 200, r.text
        expect(screen).to_have_attribute("data-source-kind", "empty", timeout=10_000)
        wall_page.wait_for_function(
            """([monitor, heard]) => Number(document.querySelector(
              `.wall-monitor[data-monitor-id='${monitor}']`)?.dataset.pushChanges) > heard""",
            arg=[monitor, heard], timeout=10_000,
        )
    finally:
        context.close()
    assert not errors, f"uncaught errors in the monitor page: {errors}"
