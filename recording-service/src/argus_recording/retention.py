"""Retention: per-camera age limits and the disk guard, run by one recorder at a time.

The recorder holding the ``retention`` lease asks management for segments to delete
(management picks them, skipping kept segments and kept events, and marks the rows), then
unlinks the files, fsyncs their directories and confirms, so the rows go last. The disk
guard starts with the oldest continuous recordings and only reaches event recordings
when none are left. Recording never stops for it: workers keep writing throughout.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import structlog

from argus_common.events import EventMessage
from argus_common.leases import Leases
from argus_common.retry import every
from argus_recording.config import Settings
from argus_recording.layout import fsync_dir, safe_path
from argus_recording.management import PurgeItem, RecordingManagement
from argus_recording.metrics import DISK_FREE, DISK_TOTAL, PURGED

log = structlog.get_logger("argus.recording.retention")

LEASE = "retention"
_MAX_ROUNDS = 20


def delete_files(root: Path, items: Iterable[PurgeItem], durable: bool) -> list[int]:
    """Unlink each item's file, fsync the directories, prune empty ones; returns the ids
    whose file is gone (already missing counts as gone)."""
    done: list[int] = []
    dirs: set[Path] = set()
    for item in items:
        try:
            path = safe_path(root, item.path)
        except ValueError:
            log.error("purge_path_refused", segment_id=item.id)
            continue
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("purge_unlink_failed", path=item.path, error=type(exc).__name__)
            continue
        dirs.add(path.parent)
        done.append(item.id)
    for directory in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        _sync_and_prune(root, directory, durable)
    return done


def _sync_and_prune(root: Path, directory: Path, durable: bool) -> None:
    # Hour and day directories that became empty go too (never the camera's own).
    try:
        if durable and directory.exists():
            fsync_dir(directory)
        current = directory
        while len(current.relative_to(root).parts) > 1:
            os.rmdir(current)  # raises when not empty
            if durable:
                fsync_dir(current.parent)
            current = current.parent
    except OSError:
        return


def disk_threshold(settings: Settings, total: int) -> int:
    """Free bytes the guard keeps: the larger of the absolute and the percentage limits."""
    return max(settings.min_free_bytes, int(total * settings.min_free_percent / 100))


class Retention:
    """The retention loop of one recorder (acts only while it holds the lease)."""

    def __init__(
        self, settings: Settings, management: RecordingManagement, leases: Leases,
        report: Callable[[EventMessage], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.management = management
        self.leases = leases
        self.report = report
        self.root = settings.recordings_dir
        self._holding = False
        self._next_age = 0.0
        self._disk_low: bool | None = None

    def _roll(self) -> dict[str, float]:
        return {"pre_roll_s": self.settings.pre_roll_s + 5.0,
                "post_roll_s": self.settings.post_roll_s + 5.0}

    async def run(self) -> None:
        """A tick every ``disk_check_interval_s`` until cancelled (a failed one is logged)."""
        await every(self.settings.disk_check_interval_s, self.tick, event="retention_failed",
                    log=log)

    async def tick(self) -> None:
        usage = await asyncio.to_thread(shutil.disk_usage, self.root)
        DISK_FREE.set(usage.free)
        DISK_TOTAL.set(usage.total)
        threshold = disk_threshold(self.settings, usage.total)
        low = usage.free < threshold
        if low != self._disk_low and (low or self._disk_low is not None):
            await self._disk_event(low, usage.free, usage.total, threshold)
        self._disk_low = low
        if not await self._lease():
            return
        if low:
            await self._guard(threshold - usage.free)
        if time.monotonic() >= self._next_age:
            self._next_age = time.monotonic() + self.settings.retention_interval_s
            await self._by_age()

    async def _disk_event(self, low: bool, free: int, total: int, threshold: int) -> None:
        """``disk.low`` when the volume crosses below the threshold, ``disk.ok`` back above
        (docs/contracts.md); each recorder reports for itself."""
        if self.report is None:
            return
        payload = {
            "recorder": self.settings.instance_id, "path": str(self.root),
            "free_bytes": free, "total_bytes": total,
            "free_ratio": round(free / total, 4) if total else 0.0,
            "threshold_ratio": round(min(threshold / total, 1.0), 4) if total else 0.0,
        }
        await self.report(EventMessage(
            type="disk.low" if low else "disk.ok", severity="critical" if low else "info",
            payload=payload,
        ))

    async def _lease(self) -> bool:
        if self._holding:
            self._holding = bool(await self.leases.renew([LEASE]))
        if not self._holding:
            self._holding = await self.leases.acquire(LEASE)
        return self._holding

    async def release(self) -> None:
        if self._holding:
            self._holding = False
            await self.leases.release(LEASE)

    async def _guard(self, need: int) -> None:
        items = await self.management.purge_candidates(
            mode="space", bytes=need, limit=self.settings.purge_batch, **self._roll()
        )
        if not items:
            log.warning("disk_low_nothing_to_purge", need_bytes=need)
            return
        freed = await self._delete(items, "disk")
        log.warning("disk_guard_purged", segments=len(items), bytes=freed, need_bytes=need)

    async def _by_age(self) -> None:
        for _ in range(_MAX_ROUNDS):
            items = await self.management.purge_candidates(
                mode="age", limit=self.settings.purge_batch, **self._roll()
            )
            if not items:
                return
            await self._delete(items, "age")
            log.info("retention_purged", segments=len(items))
            if len(items) < self.settings.purge_batch:
                return

    async def _delete(self, items: list[PurgeItem], reason: str) -> int:
        done = await asyncio.to_thread(delete_files, self.root, items, self.settings.fsync)
        await self.management.confirm_purged(done)
        PURGED.labels(reason).inc(len(done))
        gone = set(done)
        return sum(i.bytes for i in items if i.id in gone)
