"""The tiering loop of one recorder: acts only while it holds the ``tiering`` lease.

Every ``RECORDING_TIER_INTERVAL_S`` the holder asks management for due segments and moves
them (a few at once), then refreshes the metrics; every
``RECORDING_TIER_RECONCILE_INTERVAL_S`` (and first thing after taking the lease) it runs
the reconcile; the back-fill of missing fragment indexes runs beside it (sidecars.py,
:meth:`Tiering.run_sidecars`). Retention calls :meth:`Tiering.delete_objects` for purged
segments that live on the store, and the disk guard :meth:`Tiering.make_room` before it
purges anything.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import structlog

from argus_common.errors import Unavailable
from argus_common.leases import Leases
from argus_common.objectstore import ObjectStore, ObjectStoreError, ObjectStoreSettings
from argus_common.retry import every
from argus_common.segindex import remove_index
from argus_recording.config import Settings
from argus_recording.layout import safe_path
from argus_recording.management import PurgeItem, RecordingManagement
from argus_recording.retention import Retention
from argus_recording.tiering import api
from argus_recording.tiering.config import TieringSettings
from argus_recording.tiering.metrics import BACKLOG, LAG, TIER_BYTES, TIER_SEGMENTS
from argus_recording.tiering.mover import Moved, Mover
from argus_recording.tiering.reconcile import safe_reconcile
from argus_recording.tiering.sidecars import SidecarBackfill

log = structlog.get_logger("argus.recording.tiering")

LEASE = "tiering"


class Tiering:
    """Tiering for one recorder process."""

    def __init__(
        self,
        settings: TieringSettings,
        store_settings: ObjectStoreSettings,
        mgmt: RecordingManagement,
        leases: Leases,
        root: Path,
        durable: bool,
    ) -> None:
        self.settings = settings
        self.store_settings = store_settings
        self.mgmt = mgmt
        self.leases = leases
        self.root = root
        self.durable = durable
        self.store = ObjectStore(store_settings)
        self.mover = Mover(self.store, mgmt, self.root, store_settings.prefix, durable)
        self._holding = False
        self._started = False
        self._next_reconcile = 0.0
        self._busy = asyncio.Lock()  # one pass, make_room or reconcile at a time
        self.sidecars = SidecarBackfill(
            self.store,
            root,
            store_settings.prefix,
            durable,
            per_minute=settings.sidecars_per_minute,
            concurrency=settings.concurrency,
            interval_s=settings.reconcile_interval_s,
            active=lambda: self._holding and self._started,
        )

    @property
    def enabled(self) -> bool:
        return self.store_settings.enabled

    async def _ensure_started(self) -> None:
        if not self._started:
            await self.store.start()
            await self.store.ensure_bucket()
            self._started = True

    async def run(self) -> None:
        """A tick every ``interval_s`` until cancelled (a failed one is logged)."""
        try:
            await every(self.settings.interval_s, self.tick, event="tiering_failed", log=log)
        finally:
            await self.store.close()

    async def run_sidecars(self) -> None:
        """The back-fill of missing fragment indexes: looks every ``interval_s`` whether a
        pass is due (only the lease holder makes one), until cancelled."""
        await every(
            self.settings.interval_s, self.sidecars.tick, event="sidecar_backfill_failed", log=log
        )

    async def _lease(self) -> bool:
        if self._holding:
            self._holding = bool(await self.leases.renew([LEASE]))
        if not self._holding:
            self._holding = await self.leases.acquire(LEASE)
            if self._holding:
                self._next_reconcile = 0.0  # a new holder checks what the last one left
        return self._holding

    async def release(self) -> None:
        if self._holding:
            self._holding = False
            await self.leases.release(LEASE)

    async def tick(self) -> None:
        """One round: lease, reconcile when due, move due segments, metrics."""
        try:
            if not await self._lease():
                return
        except Exception as exc:  # Redis away: nobody holds the lease now
            log.debug("tiering_lease_unknown", error=type(exc).__name__)
            return
        try:
            async with self._busy:
                await self._ensure_started()
                if time.monotonic() >= self._next_reconcile:
                    self._next_reconcile = time.monotonic() + self.settings.reconcile_interval_s
                    await safe_reconcile(
                        self.store,
                        self.mgmt,
                        self.root,
                        self.store_settings.prefix,
                        self.durable,
                        self.settings.orphan_grace_s,
                    )
                # Always asked: a camera may carry its own age (camera API) even when
                # RECORDING_TIER_* name none; management then answers with nothing.
                await self._by_age()
            await self._stats()
        except (ObjectStoreError, Unavailable) as exc:
            log.warning("tiering_waiting", error=str(exc))

    async def _by_age(self) -> None:
        request = {
            "default_hours": self.settings.after_hours,
            "hours": {str(c): h for c, h in self.settings.camera_hours.items()},
            "limit": self.settings.batch,
        }
        for _ in range(20):  # bounded: the next tick goes on
            found = await api.candidates(self.mgmt, **request)
            self._backlog(found)
            if not found.items:
                return
            results = await self._move_all(found.items)
            if not any(r.outcome in ("moved", "adopted") for r in results):
                return  # nothing moved (store failing): wait for the next tick
            if len(found.items) < self.settings.batch:
                found = await api.candidates(self.mgmt, **request)
                self._backlog(found)
                return

    def _backlog(self, found: api.Candidates) -> None:
        BACKLOG.set(found.due)
        if found.items:
            oldest = min(i.due_at for i in found.items)
            LAG.set(max(0.0, (datetime.now(UTC) - oldest).total_seconds()))
        else:
            LAG.set(0.0)

    async def _move_all(self, items: list[api.TierItem]) -> list[Moved]:
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def one(item: api.TierItem) -> Moved:
            async with gate:
                return await self.mover.move(item)

        return list(await asyncio.gather(*(one(i) for i in items)))

    async def _stats(self) -> None:
        stats = await api.stats(self.mgmt)
        for tier in ("local", "object"):
            TIER_BYTES.labels(tier).set(stats.get(f"{tier}_bytes", 0))
            TIER_SEGMENTS.labels(tier).set(stats.get(f"{tier}_segments", 0))

    async def make_room(self, need: int) -> int:
        """The disk guard: move the oldest local segments until ``need`` bytes are freed;
        returns the bytes freed (0 when the store is not usable now)."""
        if not self.settings.disk_guard:
            return 0
        freed = 0
        try:
            async with self._busy:
                await self._ensure_started()
                found = await api.candidates(self.mgmt, bytes=need, limit=self.settings.batch)
                for result in await self._move_all(found.items):
                    freed += result.local_bytes
        except (ObjectStoreError, Unavailable) as exc:
            log.warning("tier_make_room_failed", error=str(exc))
        if freed:
            log.warning("disk_guard_tiered", bytes=freed, need_bytes=need)
        return freed

    async def delete_objects(self, items: list[PurgeItem]) -> list[int]:
        """Retention: delete the objects of purged tiered segments; returns the ids done
        (a failure leaves the row marked, for the next purge or the reconcile)."""
        done: list[int] = []
        try:
            await self._ensure_started()
        except ObjectStoreError as exc:
            log.warning("tier_delete_failed", error=str(exc))
            return done
        for item in items:
            if not item.object_key:
                done.append(item.id)
                continue
            try:
                await self.store.delete(item.object_key)
            except ObjectStoreError as exc:
                log.warning("tier_delete_failed", segment_id=item.id, error=str(exc))
                continue
            # Retention removed the fragment index already; a back-fill (sidecars.py) may
            # have written it again since: it goes with the object.
            await asyncio.to_thread(_remove_index, self.root, item.path)
            done.append(item.id)
        return done


def _remove_index(root: Path, relpath: str) -> None:
    try:
        remove_index(safe_path(root, relpath))
    except (ValueError, OSError):
        return


def tiering_for(
    settings: Settings, mgmt: RecordingManagement, leases: Leases, retention: Retention
) -> Tiering | None:
    """The recorder's tiering when an object store is configured (``ARGUS_S3_BUCKET``),
    wired into retention (object deletion, the disk guard); else None."""
    store_settings = ObjectStoreSettings()
    if not store_settings.enabled:
        return None
    tiering = Tiering(
        TieringSettings(), store_settings, mgmt, leases, settings.recordings_dir, settings.fsync
    )
    retention.delete_objects = tiering.delete_objects
    retention.make_room = tiering.make_room
    return tiering
