"""Small steps shared by the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"

FRAMES_JS = """(min) => {
  const vids = [...document.querySelectorAll('.tile video')];
  return vids.filter((v) => v.getVideoPlaybackQuality().totalVideoFrames > 0).length >= min;
}"""


def login(page: Page, user: tuple[str, str]) -> None:
    page.goto("/")
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("button[type=submit]")
    expect(page.locator(".topbar")).to_be_visible()


def alerts_live(page: Page) -> None:
    """Until the console's alert socket is open: toasts come only from its frames, so an
    alert raised before it opened shows as a banner or a count, never as a toast."""
    expect(page.locator(".bell .ws-dot.open")).to_have_count(1, timeout=15_000)


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def wait_frames(page: Page, count: int, timeout_ms: int = 30_000) -> None:
    """Until `count` tiles have decoded video frames."""
    page.wait_for_function(FRAMES_JS, arg=count, timeout=timeout_ms)


def load_layout(page: Page, name: str) -> None:
    select = page.locator(".layout-bar select")
    value = select.locator("option", has_text=name).first.get_attribute("value")
    assert value, f"no layout named {name}"
    select.select_option(value)
