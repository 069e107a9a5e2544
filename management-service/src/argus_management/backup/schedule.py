"""The daily backup at ``MANAGEMENT_BACKUP_AT`` (UTC). Every worker runs this loop; an
exclusive file lock and the status file make one of them take the backup."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import structlog

from argus_management.backup.locking import try_flock
from argus_management.backup.run import STATUS_FILE, read_json, run_backup

log = structlog.get_logger("argus.backup")
# A backup newer than this counts as today's (another worker or the CLI took it).
_RECENT_S = 12 * 3600


def next_run(now: datetime, at: dtime) -> datetime:
    """The next instant after ``now`` at time of day ``at`` (UTC)."""
    today = now.astimezone(UTC).replace(
        hour=at.hour, minute=at.minute, second=at.second, microsecond=0
    )
    return today if today > now else today + timedelta(days=1)


async def backup_once_locked(database_url: str, backup_dir: str, keep_days: float) -> bool:
    """Take a backup unless another process holds the lock or took one recently."""
    d = Path(backup_dir)
    async with try_flock(d / ".lock") as mine:
        if not mine:
            return False
        status = read_json(d / STATUS_FILE)
        last = status.get("taken_at") if status else None
        if isinstance(last, (int, float)) and time.time() - last < _RECENT_S:
            return False
        await run_backup(database_url, backup_dir, keep_days)
        return True


async def run_backup_schedule(
    database_url: str, backup_dir: str, at: dtime, keep_days: float
) -> None:
    """Sleep until the next backup time, back up, repeat (until cancelled)."""
    while True:
        now = datetime.now(UTC)
        await asyncio.sleep((next_run(now, at) - now).total_seconds())
        try:
            await backup_once_locked(database_url, backup_dir, keep_days)
        except Exception as exc:  # logged and retried tomorrow; the age alert fires at 26 h
            log.error("backup_failed", error=str(exc)[:500], exc_type=type(exc).__name__)
