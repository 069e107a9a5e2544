"""Retention: per-camera age limits and the disk guard, run by one recorder at a time.

The recorder holding the ``retention`` lease asks management for segments to delete
(management picks them, skipping kept segments and kept events, and marks the rows), then
unlinks the files, fsyncs their directories and confirms, so the rows go last. The disk
guard starts with the oldest continuous recordings and only reaches event recordings
when none are left. Recording never stops for it: workers keep writing throughout.

Without management (or without Redis, when nobody can hold the lease) the disk guard still
runs, locally: it deletes the oldest continuous segment files on disk (never an event clip,
never a file being written) until enough is free, and queues the removed paths in the
outbox; management drops their rows when it is back. Kept segments, kept events and legal
holds live in management: every recorder keeps a copy of what they protect
(``GET /internal/segments/protected``, refreshed each minute, saved beside the recordings as
``.argus-protected.json`` so a restart without management still has it), and the local
guard skips every file it covers.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import structlog

from argus_common.errors import Unavailable
from argus_common.events import EventMessage
from argus_common.leases import Leases
from argus_common.retry import every
from argus_common.segindex import remove_index
from argus_common.stills import remove_stills
from argus_recording.config import Settings
from argus_recording.fencing import LIVE
from argus_recording.layout import fsync_dir, list_segments, safe_path, start_ms_of
from argus_recording.management import Protected, PurgeItem, RecordingManagement
from argus_recording.metrics import DISK_FREE, DISK_TOTAL, PURGED
from argus_recording.writer import KIND_TAG

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
            remove_stills(path)  # first: a crash in between leaves no orphan still
            remove_index(path)  # the fragment index kept when it was tiered, the same way
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


def remove_local_stills(root: Path, items: Iterable[PurgeItem]) -> None:
    """Unlink the preview stills and the fragment index (``argus_common.segindex``) kept
    locally beside segments that are not local."""
    for item in items:
        try:
            path = safe_path(root, item.path)
            remove_stills(path)
            remove_index(path)
        except (ValueError, OSError):
            continue


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


def is_event_clip(path: Path) -> bool:
    """Whether a segment file is an event recording: both writers put the kind tag into
    the header written when the file opens."""
    try:
        with open(path, "rb") as f:
            head = f.read(16384)
    except OSError:
        return True  # unreadable: not ours to judge, leave it
    return f"{KIND_TAG}event".encode() in head


PROTECTED_FILE = ".argus-protected.json"
_PROTECTED_REFRESH_S = 60.0
_FILE_SPAN_MS = 3_600_000  # a camera's last file is taken to span at most an hour


def save_protected(root: Path, protected: Protected) -> None:
    """Write the copy of what management protects (atomically: temp file, rename)."""
    tmp = root / f"{PROTECTED_FILE}.tmp"
    tmp.write_text(json.dumps(protected.to_json()))
    os.replace(tmp, root / PROTECTED_FILE)


def load_protected(root: Path) -> Protected | None:
    """The last saved copy, or None (never fetched, or unreadable)."""
    try:
        return Protected.from_json(json.loads((root / PROTECTED_FILE).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def local_candidates(
    root: Path, need: int, limit: int, protected: Protected | None = None
) -> list[tuple[int, str, int]]:
    """``(camera_id, relpath, bytes)`` of the oldest continuous segment files on disk,
    oldest first, adding up to at least ``need`` bytes (at most ``limit`` files). Files
    being written (``fencing.LIVE``, and each camera's newest file), event clips and files
    ``protected`` covers (a file spans from its start to the camera's next file) are never
    picked."""
    found: list[tuple[int, int, str]] = []
    try:
        cameras = [e.name for e in os.scandir(root) if e.is_dir() and e.name.isdigit()]
    except OSError:
        return []
    for name in cameras:
        files = list_segments(root, int(name))
        # A camera's newest file may be open in another recorder: never a candidate.
        newest = max(files, key=lambda r: start_ms_of(r) or 0, default=None)
        starts = sorted((start_ms_of(r) or 0, r) for r in files)
        for n, (start, relpath) in enumerate(starts):
            if not start or relpath in LIVE or relpath == newest:
                continue
            end = starts[n + 1][0] if n + 1 < len(starts) else start + _FILE_SPAN_MS
            if protected is not None and protected.covers(int(name), relpath, start, end):
                continue
            found.append((start, int(name), relpath))
    picked: list[tuple[int, str, int]] = []
    freed = 0
    for _start, camera_id, relpath in sorted(found):
        if freed >= need or len(picked) >= limit:
            break
        path = root / relpath
        if is_event_clip(path):
            continue
        try:
            size = path.stat().st_size
        except OSError:
            continue
        picked.append((camera_id, relpath, size))
        freed += size
    return picked


def disk_threshold(settings: Settings, total: int) -> int:
    """Free bytes the guard keeps: the larger of the absolute and the percentage limits."""
    return max(settings.min_free_bytes, int(total * settings.min_free_percent / 100))


class Retention:
    """The retention loop of one recorder (acts only while it holds the lease)."""

    def __init__(
        self, settings: Settings, management: RecordingManagement, leases: Leases,
        report: Callable[[EventMessage], Awaitable[None]] | None = None,
        forget: Callable[[int, list[str]], Awaitable[None]] | None = None,
        holder_tick: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.management = management
        self.leases = leases
        self.report = report
        self.forget = forget
        self.holder_tick = holder_tick
        self.root = settings.recordings_dir
        # Tiering (tiering/runner.py), when an object store is configured: deletes the
        # objects of purged tiered segments, and frees disk by tiering before purging.
        self.delete_objects: Callable[[list[PurgeItem]], Awaitable[list[int]]] | None = None
        self.make_room: Callable[[int], Awaitable[int]] | None = None
        self._holding = False
        self._next_age = 0.0
        self._disk_low: bool | None = None
        self._next_protected = 0.0

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
        await self._refresh_protected()
        try:
            holding: bool | None = await self._lease()
        except Exception as exc:  # Redis away: nobody can hold the lease now
            log.debug("retention_lease_unknown", error=type(exc).__name__)
            holding = None
        if holding is False:
            return
        if low:
            await self._guard(threshold - usage.free, local=holding is None)
        if holding is None:
            return
        if self.holder_tick is not None:
            await self.holder_tick()
        if time.monotonic() >= self._next_age:
            self._next_age = time.monotonic() + self.settings.retention_interval_s
            try:
                await self._by_age()
            except Unavailable:  # management away: age limits can wait, try again soon
                self._next_age = time.monotonic() + min(60.0, self.settings.retention_interval_s)
                log.debug("retention_waiting_for_management")

    async def _refresh_protected(self) -> None:
        """Keep the local copy of what management protects (every recorder: any of them
        may have to guard the disk alone)."""
        if time.monotonic() < self._next_protected:
            return
        try:
            protected = await self.management.protected(**self._roll())
        except Exception as exc:  # management away (or refusing): the saved copy stands
            log.debug("protected_refresh_failed", error=type(exc).__name__)
            self._next_protected = time.monotonic() + 5.0
            return
        await asyncio.to_thread(save_protected, self.root, protected)
        self._next_protected = time.monotonic() + _PROTECTED_REFRESH_S

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

    async def _guard(self, need: int, local: bool = False) -> None:
        if self.make_room is not None and not local:
            need -= await self.make_room(need)
            if need <= 0:
                return
        try:
            if local:
                raise Unavailable("no retention lease without Redis")
            items = await self.management.purge_candidates(
                mode="space", bytes=need, limit=self.settings.purge_batch, **self._roll()
            )
        except Unavailable as exc:
            await self._guard_locally(need, str(exc))
            return
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

    async def _guard_locally(self, need: int, why: str) -> None:
        """Free ``need`` bytes without management: the oldest continuous files go."""
        protected = await asyncio.to_thread(load_protected, self.root)
        picked = await asyncio.to_thread(local_candidates, self.root, need,
                                         self.settings.purge_batch, protected)
        if not picked:
            log.warning("disk_low_nothing_to_purge_locally", need_bytes=need)
            return
        items = [PurgeItem(id=0, camera_id=c, path=p, bytes=b, kind="continuous")
                 for c, p, b in picked]
        await asyncio.to_thread(delete_files, self.root, items, self.settings.fsync)
        by_camera: dict[int, list[str]] = {}
        for camera_id, relpath, _ in picked:
            by_camera.setdefault(camera_id, []).append(relpath)
        if self.forget is not None:
            for camera_id, paths in by_camera.items():
                await self.forget(camera_id, paths)
        PURGED.labels("disk_local").inc(len(picked))
        log.warning("disk_guard_purged_locally", segments=len(picked),
                    bytes=sum(b for _, _, b in picked), need_bytes=need, reason=why)

    async def _delete(self, items: list[PurgeItem], reason: str) -> int:
        local = [i for i in items if i.tier != "object"]
        done = await asyncio.to_thread(delete_files, self.root, local, self.settings.fsync)
        remote = [i for i in items if i.tier == "object"]
        if remote and self.delete_objects is not None:
            # A tiered segment's stills stayed on local disk: they go with its object.
            await asyncio.to_thread(remove_local_stills, self.root, remote)
            done += await self.delete_objects(remote)
        await self.management.confirm_purged(done)
        PURGED.labels(reason).inc(len(done))
        gone = set(done)
        return sum(i.bytes for i in items if i.id in gone)
