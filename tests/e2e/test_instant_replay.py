"""Instant replay in the console: "-10 s" on a live tile of a freshly started camera plays
the last seconds from the recorder's open segment (60 s segments: nothing is indexed yet),
with the first click, on a tile that is not selected.

Its own stack (one camera, 60 s segments); Chromium through Playwright (conftest.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from console_helpers import login
from console_stack import ADMIN_PASSWORD, ConsoleStack, console_stack
from playwright.sync_api import Page, expect

from argus_testkit.tools import require

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"

FRAMES_JS = "(el) => el.querySelector('video').getVideoPlaybackQuality().totalVideoFrames"


@pytest.fixture(scope="module")
def stack() -> Iterator[ConsoleStack]:
    require("chromium")
    require("nginx")
    with console_stack(cameras=1, log_dir=ARTIFACTS / "logs-replay", segment_seconds=60) as s:
        yield s


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat()


def _open_segment_age_s(stack: ConsoleStack, camera_id: int) -> float:
    """Seconds since the newest segment file of the camera started (0 if none yet)."""
    names = [p.stem for p in (stack.recordings / str(camera_id)).glob("*/*/*.mp4")]
    if not names:
        return 0.0
    return time.time() - max(int(n) for n in names) / 1000


def test_ten_seconds_back_plays_the_open_segment(page: Page, stack: ConsoleStack) -> None:
    assert stack.recording, "the recorder is needed (argus-recording not installed)"
    camera_id = stack.cameras["cam1"]
    for _ in range(600):  # bounded: the recorder writes 12 s of its first segment
        if _open_segment_age_s(stack, camera_id) > 12:
            break
        time.sleep(0.1)
    assert _open_segment_age_s(stack, camera_id) > 12, "the recorder wrote no segment"
    # Nothing of the open segment is in the index yet.
    with stack.api(("admin", ADMIN_PASSWORD)) as api:
        timeline = api.get(
            f"/api/v1/cameras/{camera_id}/timeline",
            params={"start": iso(time.time() - 3600), "end": iso(time.time() + 60)},
        )
    assert timeline.status_code == 200, timeline.text
    assert timeline.json()["segments"] == []

    login(page, ("admin", ADMIN_PASSWORD))
    # A first login fills the live view with the user's cameras (here the one camera).
    tile = page.locator(f".tile[data-camera-id='{camera_id}']")
    expect(tile).to_have_attribute("data-phase", "playing", timeout=30_000)
    # The first click on "-10 s" of a tile that is not selected must work: it used to be
    # lost, because the button's focus selected the tile, the PTZ panel opened and moved
    # the button away between mouse down and up (the click went to the tile instead).
    expect(tile).not_to_have_class(re.compile(r"\bselected\b"))
    tile.get_by_role("button", name="Instant replay: play the last 10 seconds").click()
    expect(tile).to_have_attribute("data-replay", re.compile(r".+"))
    expect(tile.locator(".replay-badge")).to_be_visible()
    expect(tile).to_have_attribute("data-phase", "playing", timeout=30_000)
    asked = page.evaluate("Date.now()")
    replay_from = tile.get_attribute("data-replay") or ""
    assert replay_from
    # Decoded frames advance while the tile plays the recording.
    first = tile.evaluate(FRAMES_JS)
    page.wait_for_function(
        f"() => document.querySelector(\".tile[data-camera-id='{camera_id}'] video\")"
        f".getVideoPlaybackQuality().totalVideoFrames > {first + 30}",
        timeout=30_000,
    )
    assert page.evaluate("Date.now()") >= asked
    # "Live" returns the tile to the live stream.
    tile.get_by_role("button", name="Live", exact=True).click()
    expect(tile).not_to_have_attribute("data-replay", re.compile(r".+"))
    expect(tile).to_have_attribute("data-phase", "playing", timeout=30_000)
    # "-30 s" starts 30 s back (the open segment is shorter: playback starts at its start).
    before = page.evaluate("Date.now()")
    tile.get_by_role("button", name="Instant replay: play the last 30 seconds").click()
    expect(tile).to_have_attribute("data-replay", re.compile(r".+"))
    back_s = (before - _epoch_ms(tile.get_attribute("data-replay") or "")) / 1000
    assert 29 <= back_s <= 40, back_s
    tile.get_by_role("button", name="Live", exact=True).click()
    expect(tile).not_to_have_attribute("data-replay", re.compile(r".+"))


def _epoch_ms(iso_text: str) -> float:
    return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp() * 1000
