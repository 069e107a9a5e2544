"""Fixtures of the console's end-to-end tests: one native stack per module, headless Debian
Chromium (Playwright, never ``playwright install``), screenshots under artifacts/e2e/.

Module scope, not session: the sync Playwright API keeps its event loop marked as running
while it is open, which would break ``asyncio.run`` in the test modules that come after."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from argus_testkit.tools import require

sys.path.insert(0, str(Path(__file__).parent))

from console_stack import ROOT, ConsoleStack, console_stack

ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
]


def _require_tools() -> None:
    """Chromium, nginx, and npm when the console is not built: a missing one fails."""
    require("chromium")
    require("nginx")
    if not (ROOT / "web-frontend" / "dist" / "index.html").exists():
        require("npm")


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[ConsoleStack]:
    _require_tools()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Logs per module: under pytest-xdist two modules' stacks may run at once.
    logs = ARTIFACTS / "logs" / request.module.__name__.rsplit(".", 1)[-1]
    with console_stack(cameras=4, log_dir=logs) as s:
        yield s


@pytest.fixture(scope="module")
def browser(stack: ConsoleStack) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: object, stack: ConsoleStack, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh context (no cookies, no storage) and page at tablet-to-desktop size."""
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    # The console is HTTPS with a self-signed certificate (test_nginx_serves_the_console_
    # and_proxies checks it properly); the browser accepts it as a user would.
    context = browser.new_context(viewport={"width": 1366, "height": 820}, locale="en-US",
                                  base_url=stack.url, ignore_https_errors=True)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield pg
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            pg.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"))
            (ARTIFACTS / f"FAILED-{request.node.name}.log").write_text(stack.logs())
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep
