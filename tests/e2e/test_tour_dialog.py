"""The live view's camera-tour dialog: a tour set up on a cell through the dialog (not the
API) cycles that cell through its cameras at the dwell time, each switch showing a player
that had already decoded frames."""

from __future__ import annotations

import pytest
from console_helpers import load_layout, login
from console_stack import ConsoleStack
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(150)

DWELL_S = 5

# At each change of the tour's camera: the camera now shown and its decoded frames.
RECORD_JS = """() => {
  window.__switches = [];
  const tour = document.querySelector('.tour');
  new MutationObserver(() => {
    const layer = tour.querySelector('.tour-layer:not(.tour-next)');
    const video = layer && layer.querySelector('video');
    const tile = layer && layer.querySelector('.tile');
    window.__switches.push({
      camera: tour.getAttribute('data-tour-camera'),
      shown: tile ? tile.getAttribute('data-camera-id') : null,
      frames: video ? video.getVideoPlaybackQuality().totalVideoFrames : 0,
    });
  }).observe(tour, { attributes: true, attributeFilter: ['data-tour-camera'] });
}"""

VISIBLE_FRAMES_JS = """() => {
  const v = document.querySelector('.tour .tour-layer:not(.tour-next) video');
  return !!v && v.getVideoPlaybackQuality().totalVideoFrames > 0;
}"""


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
    page.wait_for_function(VISIBLE_FRAMES_JS, timeout=30_000)
    page.evaluate(RECORD_JS)
    order = [cam4, cam3, cam4]
    for expected in order:
        expect(tour).to_have_attribute(
            "data-tour-camera", str(expected), timeout=(DWELL_S + 20) * 1000
        )
    switches = page.evaluate("window.__switches")
    assert [int(s["camera"]) for s in switches][: len(order)] == order, switches
    for s in switches[: len(order)]:
        assert s["shown"] == s["camera"] and s["frames"] > 0, s

    # The dialog opens again on the touring cell with its tour, and stops it.
    tour.locator(".tour-layer:not(.tour-next) .tile").focus()
    page.get_by_test_id("tour-setup").click()
    expect(dialog.get_by_label("Seconds per camera")).to_have_value(str(DWELL_S))
    dialog.get_by_role("button", name="Stop the tour").click()
    expect(page.locator(".tour")).to_have_count(0)
    expect(page.locator(f".tile[data-camera-id='{cam3}']")).to_be_visible()
