"""Scratch folders of ranged exports (``exports/.ranged-<id>-<hex>``) that a crashed process
left behind are swept when a runner starts; a folder another process's live job uses, or
one changed within the stale age, is kept."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import utcnow
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.exports import service
from argus_management.exports.models import Export
from argus_management.exports.runner import ExportRunner

from factories.exports import at_ms


def _folder(base: Path, name: str, age_s: float) -> Path:
    """A scratch folder with one fetched part, last changed ``age_s`` ago."""
    path = base / name
    path.mkdir(parents=True)
    part = path / "seg-0000.mp4"
    part.write_bytes(b"\0" * 64)
    then = time.time() - age_s
    for p in (part, path):
        os.utime(p, (then, then))
    return path


async def _export(maker: async_sessionmaker[AsyncSession], state: str, runner: str | None,
                  beat_age_s: float) -> int:
    async with maker() as s:
        export = Export(
            name=f"scratch {state}", reason="sweep", state=state, runner=runner, attempts=1,
            items=[{"camera_id": 1, "start": at_ms(0).isoformat(),
                    "end": at_ms(1_000).isoformat()}],
            range_start=at_ms(0), range_end=at_ms(1_000),
            heartbeat_at=utcnow() - timedelta(seconds=beat_age_s))
        s.add(export)
        await s.commit()
        return int(export.id)


async def test_a_starting_runner_sweeps_only_the_scratch_no_live_job_owns(
    app: FastAPI, settings: Settings, maker: async_sessionmaker[AsyncSession],
) -> None:
    base = service.exports_dir(settings)
    old = settings.export_stale_s + 60
    # Another process's live job (a long remux, its parts fetched long ago), and a finished
    # one whose process died before removing its folder. (A running job with a stale
    # heartbeat is not used: a runner would claim it in the same round.)
    live = await _export(maker, "running", "other-worker-1", 1)
    done = await _export(maker, "done", None, old)
    kept_live = _folder(base, f".ranged-{live}-0a1b2c3d", old)
    gone_done = _folder(base, f".ranged-{done}-0a1b2c3d", old)
    gone_missing = _folder(base, ".ranged-999999-0a1b2c3d", old)  # its export deleted
    kept_fresh = _folder(base, ".ranged-999998-0a1b2c3d", 1)  # just being fetched
    kept_other = _folder(base, "keep-me", old)  # not a scratch folder
    runner = ExportRunner(settings, maker, app_state(app).bus)
    try:
        await runner.tick()  # its first round
    finally:
        await runner.closed()
    assert not runner.running  # nothing was claimed
    assert kept_live.is_dir() and kept_fresh.is_dir() and kept_other.is_dir()
    assert not gone_done.exists() and not gone_missing.exists()
