"""The operator console end to end: nginx serving the build, the real services, Chromium."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from console_helpers import alerts_live, load_layout, login, shot, wait_frames
from console_stack import ConsoleStack, motion_event, utcnow
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(120)


def test_nginx_serves_the_console_and_proxies(stack: ConsoleStack) -> None:
    tls = stack.verify  # HTTPS with the certificate nginx generated for itself
    index = httpx.get(f"{stack.url}/live", timeout=5, verify=tls)  # client-side route
    assert index.status_code == 200 and '<div id="root">' in index.text
    assert "default-src 'self'" in index.headers["content-security-policy"]
    assert index.headers["cache-control"] == "no-cache"
    assert httpx.get(f"{stack.url}/api/v1/users/me", timeout=5, verify=tls).status_code == 401
    assert httpx.get(f"{stack.url}/healthz", timeout=5,
                     verify=tls).status_code == 200  # SPA, not proxied
    assert httpx.post(f"{stack.url}/whep/1", content=b"v=0", timeout=5, verify=tls,
                      headers={"Content-Type": "application/sdp"}).status_code == 401
    # Plain HTTP only redirects to HTTPS.
    plain = httpx.get(f"{stack.http_url}/live", timeout=5)
    assert plain.status_code == 308 and plain.headers["location"] == f"{stack.url}/live"


def test_login_messages(page: Page, stack: ConsoleStack) -> None:
    page.goto("/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    # A locked account: too many failures for that name (made directly, then in the UI).
    for _ in range(6):
        httpx.post(f"{stack.management}/api/v1/auth/login", timeout=10,
                   data={"username": "ghost-user", "password": "nope-nope"})
    page.fill("input[name=username]", "ghost-user")
    page.fill("input[name=password]", "nope-nope")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("locked")
    shot(page, "01-login-locked")


def test_live_grid_plays_webrtc(page: Page, stack: ConsoleStack) -> None:
    login(page, stack.admin)
    load_layout(page, "Lobby (shared)")
    expect(page.locator(".tile video")).to_have_count(4)
    wait_frames(page, 4)
    expect(page.locator('.tile[data-transport="webrtc"][data-phase="playing"]')).to_have_count(4)
    expect(page.locator('.badge[data-badge="live"]')).to_have_count(4)
    assert page.locator(".tile").first.get_attribute("data-stream") == "sub"
    shot(page, "02-live-4-grid")
    # Double-click enlarges one tile onto the main stream; double-click again goes back.
    page.locator(".tile").first.dblclick()
    expect(page.locator(".tile")).to_have_count(1)
    expect(page.locator(".tile").first).to_have_attribute("data-stream", "main")
    wait_frames(page, 1)
    shot(page, "03-live-enlarged")
    page.locator(".tile").first.dblclick()
    expect(page.locator(".tile")).to_have_count(4)


def test_layout_save_reload_load(page: Page, stack: ConsoleStack) -> None:
    login(page, stack.operator)
    # First login: the operator's four cameras fill an unsaved 2x2 view; emptied here.
    expect(page.locator(".grid")).to_have_attribute("data-grid", "4")
    expect(page.locator(".tile[data-camera-id]")).to_have_count(4)
    for _ in range(4):
        page.locator(".tile[data-camera-id]").first.get_by_role("button", name="Remove").click()
    page.locator("[data-grid-size='9']").click()
    for name in ("Camera 3", "Camera 1 (PTZ)"):
        page.locator(".cam-item", has_text=name).click()
    page.get_by_role("button", name="Save as…").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Name").fill("E2E night shift")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".layout-bar [role=status]")).to_contain_text("E2E night shift")
    # Somewhere else first, then the saved one back after a reload.
    load_layout(page, "Lobby (shared)")
    expect(page.locator(".grid")).to_have_attribute("data-grid", "4")
    page.reload()
    load_layout(page, "E2E night shift")
    expect(page.locator(".grid")).to_have_attribute("data-grid", "9")
    ids = [page.locator(".tile").nth(i).get_attribute("data-camera-id") for i in range(2)]
    assert ids == [str(stack.cameras["cam3"]), str(stack.cameras["cam1"])]
    with stack.api(stack.operator) as api:
        names = [layout["name"] for layout in api.get("/api/v1/layouts").json()["items"]]
    assert "E2E night shift" in names


def test_ptz_press_and_hold(page: Page, stack: ConsoleStack) -> None:
    login(page, stack.admin)
    load_layout(page, "Lobby (shared)")
    page.locator(f".tile[data-camera-id='{stack.cameras['cam1']}']").click()
    panel = page.locator(".ptz-panel")
    expect(panel).to_be_visible()
    before = stack.camsim("cam1")["ptz"]["pan"]
    right = panel.get_by_role("button", name="Pan right")
    right.hover()
    page.mouse.down()
    expect(panel.locator(".lock-indicator")).to_contain_text("You have control")
    deadline = time.monotonic() + 10  # the head turns while the button is held
    while not stack.camsim("cam1")["ptz"]["moving"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stack.camsim("cam1")["ptz"]["moving"], "the camera did not start moving"
    time.sleep(1.0)
    # Released outside the button: the move must stop all the same.
    page.mouse.move(5, 5)
    page.mouse.up()
    deadline = time.monotonic() + 10
    state = stack.camsim("cam1")["ptz"]
    while (state["moving"] or state["pan"] <= before) and time.monotonic() < deadline:
        time.sleep(0.2)
        state = stack.camsim("cam1")["ptz"]
    assert state["pan"] > before + 0.05, (before, state)
    assert not state["moving"]
    held = stack.camsim("cam1")["ptz"]["pan"]
    time.sleep(1.0)
    assert stack.camsim("cam1")["ptz"]["pan"] == held  # stopped, not drifting
    expect(panel.locator(".lock-indicator")).to_have_attribute("data-holder", "admin")
    # Another user sees who holds the lock.
    with stack.api(stack.operator) as api:
        lock = api.get(f"/api/v1/cameras/{stack.cameras['cam1']}/ptz/lock").json()
    assert lock["holder_username"] == "admin"
    shot(page, "04-ptz-panel")
    panel.get_by_role("button", name="Release control").click()
    expect(panel.locator(".lock-indicator")).to_contain_text("free")


def test_timeline_and_playback(page: Page, stack: ConsoleStack) -> None:
    assert stack.recording, "recording-service is not installed (uv sync)"
    cam = stack.cameras["cam2"]
    assert stack.internal_event(motion_event(cam, utcnow() - timedelta(seconds=6), 3)).status_code == 201
    with stack.api() as api:  # recordings indexed (2 s segments) before the page asks
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            tl = api.get(f"/api/v1/cameras/{cam}/timeline", params={
                "start": (utcnow() - timedelta(minutes=10)).isoformat(),
                "end": (utcnow() + timedelta(minutes=1)).isoformat()}).json()
            if tl["recordings"] and tl["events"]:
                break
            time.sleep(0.5)
    assert tl["recordings"], "no recording indexed"
    login(page, stack.admin)
    page.goto(f"/playback?camera={cam}")
    rec = page.locator("rect.tl-rec").first
    expect(rec).to_be_visible()
    expect(page.locator("rect.tl-event").first).to_be_visible()
    assert page.locator("rect.tl-rec").evaluate("r => getComputedStyle(r).fill") == "rgb(59, 130, 246)"
    assert page.locator("rect.tl-event").first.evaluate("r => getComputedStyle(r).fill") == "rgb(239, 68, 68)"
    # Click one second after the start of the recorded range.
    box = rec.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + min(box["width"] - 1, 2), box["y"] + box["height"] / 2)
    tile = page.locator(".playback-tile")
    expect(tile).to_have_attribute("data-phase", "playing", timeout=30_000)
    wait_frames(page, 1)
    expect(page.locator(".tl-playhead")).to_have_count(1)
    shot(page, "05-playback")
    page.get_by_role("button", name="Next event ▶").click()
    expect(tile).to_have_attribute("data-phase", "playing", timeout=30_000)



def test_hls_fallback(page: Page, stack: ConsoleStack) -> None:
    """WebRTC refused (too many viewers): live tiles and playback switch to HLS by themselves."""
    page.route("**/whep/**", lambda route: route.fulfill(
        status=429, content_type="application/json",
        body='{"error":"TooManyRequests","detail":"too many viewers"}'))
    login(page, stack.admin)
    page.locator(".cam-item", has_text="Camera 3").click()
    tile = page.locator(f".tile[data-camera-id='{stack.cameras['cam3']}']")
    expect(tile).to_have_attribute("data-transport", "hls")
    expect(tile).to_have_attribute("data-phase", "playing", timeout=40_000)
    wait_frames(page, 1)
    expect(tile.locator(".transport")).to_contain_text("HLS")
    shot(page, "05b-live-hls-fallback")
    if not stack.recording:
        return
    page.goto(f"/playback?camera={stack.cameras['cam2']}")
    rec = page.locator("rect.tl-rec").first
    expect(rec).to_be_visible()
    box = rec.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + min(box["width"] - 1, 3), box["y"] + box["height"] / 2)
    player = page.locator(".playback-tile")
    expect(player).to_have_attribute("data-transport", "hls")
    expect(player).to_have_attribute("data-phase", "playing", timeout=40_000)
    expect(player.locator(".transport")).to_have_text("HLS VOD")


def test_offline_toast(page: Page, stack: ConsoleStack) -> None:
    login(page, stack.admin)
    load_layout(page, "Lobby (shared)")
    wait_frames(page, 4)
    stack.fault("cam4", {"offline_s": 40})
    try:
        toast = page.locator(".toast[data-kind='camera.offline']")
        expect(toast).to_be_visible(timeout=40_000)
        expect(toast).to_contain_text("Camera 4 is offline")
        tile = page.locator(f".tile[data-camera-id='{stack.cameras['cam4']}'] .badge")
        expect(tile).to_have_attribute("data-badge", "offline", timeout=20_000)
        shot(page, "06-offline-toast")
    finally:
        stack.fault("cam4", {"offline_s": 0})



def test_rtmp_emergency_banner(page: Page, stack: ConsoleStack) -> None:
    login(page, stack.operator)
    alerts_live(page)  # the toast comes from the socket's frame (it failed at load 10)
    body = motion_event(stack.cameras["cam3"], utcnow(), 1)
    body |= {"type": "rtmp.publish", "severity": "critical", "payload": {"name": "phone-1"}}
    body.pop("ends_at")
    assert stack.internal_event(body).status_code == 201
    banner = page.get_by_role("alert", name="Emergency")
    expect(banner).to_contain_text("EMERGENCY: incoming stream from Camera 3")
    expect(page.locator(".toast[data-kind='rtmp.received']")).to_be_visible()
    shot(page, "06b-rtmp-emergency")
    banner.get_by_role("button", name="View live").click()
    expect(page.locator(f".tile.enlarged[data-camera-id='{stack.cameras['cam3']}']")).to_be_visible()
    banner.get_by_role("button", name="Acknowledge").click()
    expect(banner).to_have_count(0)
    page.goto("/alerts")
    page.get_by_label("State").select_option("acked")
    expect(page.locator("tr[data-kind='rtmp.received']").first).to_be_visible()


def test_japanese(page: Page, stack: ConsoleStack) -> None:
    login(page, stack.admin)
    page.get_by_test_id("language").select_option("ja")
    nav = page.get_by_role("navigation", name="メインメニュー")
    expect(nav).to_contain_text("ライブ")
    expect(nav).to_contain_text("再生")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.reload()  # the choice is kept
    expect(page.get_by_role("navigation", name="メインメニュー")).to_contain_text("イベント")
    expect(page.get_by_role("button", name="名前を付けて保存…")).to_be_visible()
    load_layout(page, "Lobby (shared)")
    wait_frames(page, 4)
    expect(page.locator('.badge[data-badge="live"]').first).to_have_text("ライブ")
    shot(page, "07-live-japanese")
    page.goto("/playback")
    expect(page.get_by_role("button", name="次のイベント ▶")).to_be_visible()
    expect(page.locator(".timeline")).to_have_count(1)
    shot(page, "08-playback-japanese")


def test_admin_pages_and_audit(page: Page, stack: ConsoleStack) -> None:
    login(page, stack.admin)
    page.goto("/admin/cameras")
    expect(page.get_by_role("heading", name="Cameras")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(4)
    shot(page, "09-admin-cameras")
    page.get_by_role("button", name="Motion zones").first.click()
    expect(page.locator(".zone-stage canvas")).to_be_visible(timeout=20_000)
    box = page.locator(".zone-overlay").bounding_box()
    assert box is not None
    for fx, fy in ((0.2, 0.4), (0.8, 0.4), (0.8, 0.9), (0.2, 0.9)):
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.get_by_role("button", name="Finish polygon").click()
    shot(page, "10-motion-zones")
    page.locator("dialog[open]").get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("saved")
    page.goto("/admin/users")
    expect(page.locator("tr[data-username='viewer1']")).to_be_visible()
    shot(page, "11-admin-users")
    page.goto("/admin/rtmp")
    page.get_by_label("Name").fill("phone-e2e")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("rtmp-secret")).to_be_visible()
    shot(page, "12-rtmp-keys")
    page.goto("/events")
    expect(page.get_by_role("heading", name="Events")).to_be_visible()
    page.get_by_label("Type").fill("motion.start")
    card = page.locator(".event-card").first
    expect(card).to_contain_text("Motion")
    expect(card.locator(".snapshot")).not_to_contain_text("Loading")
    shot(page, "13-events")
    page.goto("/alerts")
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    shot(page, "14-alerts")
    # The audit log shows what this session's users did.
    # Live viewing writes video.start rows per session, so each action is looked up through
    # the filter in the URL (the page keeps its filters there).
    for action in ("layout.create", "ptz.lock", "camera.update", "video.start"):
        page.goto(f"/admin/audit?action={action}")
        expect(page.locator(f"tr[data-action='{action}']").first).to_be_visible()
    page.goto("/admin/audit")
    page.get_by_label("Action").fill("layout.create")
    expect(page.locator("tbody tr")).to_have_count(2)  # the seeded layout and the e2e one
    expect(page.locator("tbody")).to_contain_text("operator1")
    shot(page, "15-audit-log")


def test_viewer_cannot_see_admin(page: Page, stack: ConsoleStack) -> None:
    login(page, stack.viewer)
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav).to_contain_text("Live")
    expect(nav).not_to_contain_text("Administration")
    expect(page.locator(".cam-item")).to_have_count(2)  # only the granted cameras
    page.goto("/admin/users")
    expect(page.get_by_test_id("forbidden")).to_be_visible()
    page.goto("/admin/audit")
    expect(page.get_by_test_id("forbidden")).to_be_visible()
    shot(page, "16-viewer-forbidden")
    with stack.api(stack.viewer) as api:  # the API enforces it too
        assert api.get("/api/v1/audit").status_code == 403
    # Change the password, sign out, sign in with the new one.
    page.goto("/live")
    page.get_by_test_id("user-menu").click()
    page.get_by_role("menuitem", name="Change password").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Current password").fill(stack.viewer[1])
    dialog.get_by_label("New password", exact=True).fill("viewer-password-2")
    dialog.get_by_label("Repeat the new password").fill("viewer-password-2")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_contain_text("Your password has been changed.")
    dialog.get_by_role("button", name="Close").first.click()
    page.get_by_test_id("user-menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.locator("input[name=username]")).to_be_visible()
    login(page, (stack.viewer[0], "viewer-password-2"))


def test_tablet_width(page: Page, stack: ConsoleStack) -> None:
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright
    login(page, stack.operator)
    load_layout(page, "Lobby (shared)")
    wait_frames(page, 4)
    grid = page.locator(".grid").bounding_box()
    assert grid is not None and grid["width"] > 600  # the grid, not the lists, gets the width
    page.locator(f".tile[data-camera-id='{stack.cameras['cam1']}']").click()
    expect(page.locator(".ptz-panel")).to_be_visible()
    shot(page, "17-tablet-live")
