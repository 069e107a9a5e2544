"""A background loop that does not end when cancelled cannot hold management's shutdown:
after SHUTDOWN_GRACE_S the lifespan goes on and names the loop in its log."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from argus_management import main
from argus_management.config import Settings


async def test_a_stubborn_background_loop_is_named_and_left_behind(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                await release.wait()  # ignores its cancellation until released

    real = main.background_tasks

    def with_stubborn(state: Any) -> dict[str, Any]:
        return {**real(state), "stubborn": stubborn()}

    monkeypatch.setattr(main, "background_tasks", with_stubborn)
    # Long enough for the real loops' own clean-up at a stop (the audit throttle's flush,
    # the job runners' hand-back: database writes) on a loaded machine, where 0.5 s once
    # left five of them pending; the stubborn loop outlasts any grace.
    monkeypatch.setattr(main, "SHUTDOWN_GRACE_S", 3.0)
    logs = _Log()
    monkeypatch.setattr(main, "log", logs)  # (structlog may cache its loggers: no capture)
    app = main.create_app(settings, run_migrations=False)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.2)  # the loops have started
    assert ("shutdown_tasks_pending", {"tasks": ["stubborn"]}) in logs.warnings
    release.set()


class _Log:
    """Stands in for the module's logger: keeps its warnings."""

    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def info(self, event: str, **kw: Any) -> None:
        pass

    def warning(self, event: str, **kw: Any) -> None:
        self.warnings.append((event, kw))

    error = warning
