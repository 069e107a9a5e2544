"""Camera tours in the console: a tile cycles through cameras at the dwell time, each switch
showing a player that has already decoded frames (the next camera is pre-connected); a tour
set up on a cell through the live view's dialog (not the API) does the same, and the dialog
stops it."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from console_helpers import load_layout, login, shot
from console_stack import ConsoleStack
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.timeout(180)  # per test

DWELL_S = 6

# Records, at the moment the tour's shown camera changes (the same task as React's commit),
# what the now visible player has: decoded frames, readyState, phase.
RECORD_JS = """() => {
  window.__tourSwitches = [];
  const tour = document.querySelector('.tour');
  new MutationObserver(() => {
    const layer = tour.querySelector('.tour-layer:not(.tour-next)');
    const video = layer && layer.querySelector('video');
    const tile = layer && layer.querySelector('.tile');
    window.__tourSwitches.push({
      camera: tour.getAttribute('data-tour-camera'),
      shown: tile ? tile.getAttribute('data-camera-id') : null,
      frames: video ? video.getVideoPlaybackQuality().totalVideoFrames : 0,
      ready: video ? video.readyState : 0,
      phase: tile ? tile.getAttribute('data-phase') : null,
      t: performance.now(),
    });
  }).observe(tour, { attributes: true, attributeFilter: ['data-tour-camera'] });
}"""

VISIBLE_FRAMES_JS = """() => {
  const v = document.querySelector('.tour .tour-layer:not(.tour-next) video');
  return !!v && v.getVideoPlaybackQuality().totalVideoFrames > 0;
}"""


def test_tour_switches_at_dwell_with_frames(page: Page, stack: ConsoleStack) -> None:
    cams = [stack.cameras[c] for c in ("cam2", "cam3", "cam4")]
    with stack.api(stack.operator) as api:
        r = api.post(
            "/api/v1/layouts",
            json={
                "name": "E2E tour",
                "grid": 1,
                "cells": [cams[0]],
                "tours": [{"cell": 0, "cameras": cams, "dwell_s": DWELL_S}],
            },
        )
        assert r.status_code == 201, r.text
    login(page, stack.operator)
    page.mouse.move(1, 1)  # off the grid: hovering would pause the tour
    load_layout(page, "E2E tour")
    tour = page.locator(".tour[data-tour-cell='0']")
    expect(tour).to_have_attribute("data-tour-camera", str(cams[0]))
    switches = _switches_with_frames(page, tour, [*cams[1:], cams[0], cams[1]])
    shot(page, "18-live-tour")
    gaps = [round((b["t"] - a["t"]) / 1000, 2) for a, b in itertools.pairwise(switches)]
    print(f"tour dwell {DWELL_S} s, measured switch intervals (s): {gaps}")

    # Hover pauses; a click holds the tour on its camera until Resume.
    tour.hover()
    expect(tour).to_have_attribute("data-tour-paused", "true")
    tour.locator(".tour-layer:not(.tour-next) video").click()
    page.mouse.move(1, 1)
    expect(tour).to_have_attribute("data-tour-paused", "true")
    held = tour.get_attribute("data-tour-camera")
    page.wait_for_timeout((DWELL_S + 2) * 1000)
    assert tour.get_attribute("data-tour-camera") == held
    tour.get_by_role("button", name="Resume").click()
    page.mouse.move(1, 1)
    expect(tour).to_have_attribute("data-tour-paused", "false")
    expect(tour).not_to_have_attribute(
        "data-tour-camera", held or "", timeout=(DWELL_S + 20) * 1000
    )


def _switches_with_frames(page: Page, tour: Locator, order: list[int]) -> list[dict[str, Any]]:
    """Waits for the tour to show ``order`` in turn; the switches recorded, each checked to
    show the camera's own player with decoded frames."""
    page.wait_for_function(VISIBLE_FRAMES_JS, timeout=30_000)
    page.evaluate(RECORD_JS)
    for expected in order:
        expect(tour).to_have_attribute(
            "data-tour-camera", str(expected), timeout=(DWELL_S + 20) * 1000
        )
    switches: list[dict[str, Any]] = page.evaluate("window.__tourSwitches")
    assert [int(s["camera"]) for s in switches][: len(order)] == order, switches
    for s in switches[: len(order)]:
        assert s["shown"] == s["camera"], s
        assert s["frames"] > 0 and s["ready"] >= 2 and s["phase"] == "playing", s
    return switches


def test_tour_set_up_in_the_dialog_switches_with_frames(page: Page, stack: ConsoleStack) -> None:
    cam3, cam4 = stack.cameras["cam3"], stack.cameras["cam4"]
    login(page, stack.operator)
    load_layout(page, "Lobby (shared)")  # cameras 1-4 in a 2x2 grid
    page.locator(f".tile[data-camera-id='{cam3}']").focus()  # selects cell 3
    page.get_by_test_id("tour-setup").click()
    dialog = page.get_by_role("dialog", name="Camera tour in cell 3")
    save = dialog.get_by_role("button", name="Save")
    expect(save).to_be_disabled()  # a tour needs two cameras
    dialog.get_by_label("Camera 3").check()
    dialog.get_by_label("Camera 4").check()
    dialog.get_by_label("Seconds per camera").fill(str(DWELL_S))
    save.click()
    expect(dialog).to_be_hidden()
    page.mouse.move(1, 1)  # off the grid: hovering pauses a tour

    tour = page.locator(".tour[data-tour-cell='2']")
    expect(tour).to_have_attribute("data-tour-camera", str(cam3))
    expect(page.locator(".tour")).to_have_count(1)
    _switches_with_frames(page, tour, [cam4, cam3, cam4])

    # The dialog opens again on the touring cell with its tour, and stops it.
    tour.locator(".tour-layer:not(.tour-next) .tile").focus()
    page.get_by_test_id("tour-setup").click()
    expect(dialog.get_by_label("Seconds per camera")).to_have_value(str(DWELL_S))
    dialog.get_by_role("button", name="Stop the tour").click()
    expect(page.locator(".tour")).to_have_count(0)
    expect(page.locator(f".tile[data-camera-id='{cam3}']")).to_be_visible()
