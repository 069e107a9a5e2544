"""The camera edit form shows what a camera's ONVIF device cannot do: opening it probes the
camera again through management with the stored credentials (the simulator's cam2 lacks the
optional services: ``no_optional``; cam1 lacks only imaging)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from console_helpers import ARTIFACTS, login, shot
from console_stack import ConsoleStack, console_stack
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def stack() -> Iterator[ConsoleStack]:
    logs = ARTIFACTS / "logs" / "test_camera_edit_onvif"
    with console_stack(cameras=2, recording=False, log_dir=logs,
                       camsim_args=("--quirk=cam2:no_optional",)) as s:
        yield s


def _edit(page: Page, camera_id: int) -> None:
    page.locator(f"tr[data-camera-id='{camera_id}']").get_by_role("button", name="Edit").click()
    expect(page.locator("dialog[open]")).to_be_visible()


def test_edit_form_lists_onvif_warnings(page: Page, stack: ConsoleStack) -> None:
    login(page, stack.admin)
    page.goto("/admin/cameras")
    _edit(page, stack.cameras["cam2"])
    dialog = page.locator("dialog[open]")
    warnings = dialog.get_by_test_id("onvif-warnings")
    expect(warnings).to_be_visible(timeout=20_000)
    expect(warnings.locator("li").filter(has_text="PTZ not available")).to_have_count(1)
    expect(warnings.locator("li").filter(has_text="events not available")).to_have_count(1)
    shot(page, "30-camera-edit-onvif-warnings")
    dialog.get_by_role("button", name="Cancel").click()

    _edit(page, stack.cameras["cam1"])
    dialog = page.locator("dialog[open]")
    warnings = dialog.get_by_test_id("onvif-warnings")
    # The simulator offers no imaging service; cam1 has PTZ and events.
    expect(warnings.locator("li").filter(has_text="imaging not available")).to_have_count(
        1, timeout=20_000
    )
    expect(warnings.locator("li").filter(has_text="PTZ not available")).to_have_count(0)
    expect(warnings.locator("li").filter(has_text="events not available")).to_have_count(0)
