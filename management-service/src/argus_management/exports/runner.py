"""The export worker: claims queued jobs and runs them, a few at a time (``job_runner``:
claims, heartbeats, stale takeover, hand-back at shutdown). A job taken over from a process
that died is started over (its partial file is replaced). The media work runs in a thread;
the loop renews the heartbeat, stores the progress and publishes ``export.progress``
frames, and stops the thread when the job is deleted. The scratch folders a crashed process
left behind (``.ranged-<id>-<hex>``) are swept at start and hourly
(:meth:`ExportRunner.sweep_scratch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import shutil
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_ALERTS, utcnow
from argus_common.objectstore import SegmentFiles
from argus_management.config import Settings
from argus_management.exports import ranged, service
from argus_management.exports.bundle import (
    BundleJob,
    BundleResult,
    ItemSpec,
    Progress,
    build_bundle,
)
from argus_management.exports.models import Export
from argus_management.exports.remux import NothingRecorded
from argus_management.exports.schemas import ExportFrame
from argus_management.exports.signing import SigningKey, load_signing_key
from argus_management.job_runner import JobRunner
from argus_management.recordings.models import RecordingSegment

log = structlog.get_logger("argus.exports.runner")

MAX_ATTEMPTS = 3
_PROGRESS_S = 1.0
_EXPIRE_EVERY_S = 3600.0
_MAX_SEGMENT = timedelta(hours=1, minutes=5)
_SCRATCH = re.compile(r"\.ranged-(\d+)-[0-9a-f]+")


def argus_version() -> str:
    try:
        return version("argus-management")
    except PackageNotFoundError:
        return "unknown"


class ExportRunner(JobRunner):
    """Claims and runs export jobs for one process (``MANAGEMENT_EXPORT_CONCURRENCY``)."""

    model = Export
    kind = "export"

    def __init__(
        self, settings: Settings, maker: async_sessionmaker[AsyncSession], bus: RedisBus
    ) -> None:
        super().__init__(settings, maker, log)
        self.bus = bus
        self._key: SigningKey | None = None
        self._next_expiry = 0.0
        # Segments tiered to the object store are read through a local cache.
        self.segment_files = SegmentFiles(Path(settings.recordings_root()))

    def key(self) -> SigningKey:
        if self._key is None:
            self._key = load_signing_key(self.settings.data_dir,
                                         self.settings.export_signing_key_file)
        return self._key

    def claim_values(self) -> dict[str, object]:
        return {"progress": 0.0, "bytes_done": 0}

    async def closed(self) -> None:
        await self.segment_files.close()

    async def tick(self) -> None:
        """One round: expire when due, then claim jobs while slots are free."""
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_expiry:
            self._next_expiry = loop.time() + _EXPIRE_EVERY_S
            await self.expire()
            try:
                await self.sweep_scratch()
            except Exception:  # leftovers wait for the next sweep; the claims go on
                log.exception("export_scratch_sweep_failed")
        await super().tick()

    async def expire(self) -> None:
        async with self.maker() as session:
            paths = await service.expire_exports(session, self.settings, utcnow())
            await session.commit()
        for path in paths:
            path.unlink(missing_ok=True)
        if paths:
            log.info("exports_expired", count=len(paths))

    async def sweep_scratch(self) -> None:
        """Remove the scratch folders (``.ranged-<id>-<hex>``) no live job owns: a folder is
        kept while its job runs here, while its row is ``running`` with a heartbeat fresher
        than ``MANAGEMENT_EXPORT_STALE_S`` (another process's job, which nobody may claim),
        and while anything in it changed within that time. A job older than that can be
        claimed again by any process and is started over in a new folder."""
        stale_s = self.settings.export_stale_s
        found = await asyncio.to_thread(
            _old_scratch, service.exports_dir(self.settings), time.time() - stale_s)
        ids = {export_id for export_id, _path in found} - set(self.running)
        if not ids:
            return
        fresh = utcnow() - timedelta(seconds=stale_s)
        async with self.maker() as session:
            live = set(await session.scalars(select(Export.id).where(
                Export.id.in_(ids), Export.state == "running",
                Export.heartbeat_at.is_not(None), Export.heartbeat_at >= fresh)))
        gone = [path for export_id, path in found
                if export_id in ids and export_id not in live]
        for path in gone:
            await asyncio.to_thread(shutil.rmtree, path, ignore_errors=True)
        if gone:
            log.info("export_scratch_swept", count=len(gone))

    async def _job(self, session: AsyncSession, export: Export, scratch: Path) -> BundleJob:
        root = Path(self.settings.recordings_root())
        camera_ids = sorted({int(i["camera_id"]) for i in export.items})
        names = await service.camera_names(session, camera_ids)
        items = []
        for raw in export.items:
            camera_id = int(raw["camera_id"])
            start = datetime.fromisoformat(raw["start"]).astimezone(UTC)
            end = datetime.fromisoformat(raw["end"]).astimezone(UTC)
            rows = await session.execute(
                select(RecordingSegment.path, RecordingSegment.started_at,
                       RecordingSegment.tier, RecordingSegment.object_key).where(
                    RecordingSegment.camera_id == camera_id,
                    RecordingSegment.deleted_at.is_(None),
                    RecordingSegment.started_at < end,
                    RecordingSegment.started_at >= start - _MAX_SEGMENT,
                    RecordingSegment.ended_at > start,
                ).order_by(RecordingSegment.started_at, RecordingSegment.id)
            )
            segments = []
            for path, at, tier, key in rows:
                # A tiered segment the range covers in part: only the fragments it needs.
                found = await ranged.source_segment(
                    self.segment_files, root / path, tier, key, at.timestamp(),
                    start.timestamp(), end.timestamp(), scratch)
                if found is not None:
                    segments.append(found)
            items.append(ItemSpec(camera_id=camera_id, camera_name=names.get(camera_id, ""),
                                  start=start, end=end, segments=segments,
                                  event_id=raw.get("event_id")))
        return BundleJob(
            export_id=export.id, name=export.name, reason=export.reason,
            exported_by={"user_id": export.created_by, "username": export.created_by_name,
                         "ip": export.created_ip},
            created_at=export.created_at, argus_version=argus_version(), items=items,
            audit_rows=await service.audit_rows(session, export), key=self.key(),
            path=service.bundle_path(self.settings, export),
        )

    async def execute(self, export_id: int) -> None:
        """Run one claimed job to its end (done or failed)."""
        # Parts of tiered segments fetched for this job (exports/ranged.py), removed after.
        scratch = service.exports_dir(self.settings) / (
            f".ranged-{export_id}-{secrets.token_hex(4)}")
        try:
            await self._execute(export_id, scratch)
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, ignore_errors=True)

    async def _execute(self, export_id: int, scratch: Path) -> None:
        async with self.maker() as session:
            export = await session.get(Export, export_id)
            if export is None:
                return
            if export.attempts > MAX_ATTEMPTS:
                await self._finish(export_id, error=f"gave up after {MAX_ATTEMPTS} attempts")
                return
            job = await self._job(session, export, scratch)
            first_camera = int(export.items[0]["camera_id"])
        progress = Progress()
        work = asyncio.ensure_future(asyncio.to_thread(build_bundle, job, progress))
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=_PROGRESS_S)
                if not work.done() and not await self._beat(export_id, progress, first_camera):
                    progress.cancel.set()  # deleted, or taken over: stop writing
        except asyncio.CancelledError:
            progress.cancel.set()
            with contextlib.suppress(BaseException):
                await work
            raise
        try:
            result = work.result()
        except NothingRecorded as exc:
            await self._finish(export_id, error=str(exc), camera_id=first_camera)
        except InterruptedError:
            log.info("export_stopped", export_id=export_id)
        except Exception as exc:
            log.exception("export_failed", export_id=export_id)
            await self._finish(export_id, error=f"{type(exc).__name__}: {exc}"[:500],
                               camera_id=first_camera)
        else:
            await self._finish(export_id, result=result, camera_id=first_camera)

    async def _beat(self, export_id: int, progress: Progress, camera_id: int) -> bool:
        """Renew the heartbeat and store the progress; False when the job is no longer ours."""
        ratio = progress.done / progress.total if progress.total else 0.0
        async with self.maker() as session:
            result = await session.execute(
                update(Export).where(Export.id == export_id, Export.runner == self.name,
                                     Export.state == "running")
                .values(heartbeat_at=utcnow(), progress=round(ratio, 4),
                        bytes_done=progress.done, bytes_total=progress.total)
            )
            await session.commit()
        if getattr(result, "rowcount", 0) != 1:
            return False
        await self._publish("export.progress", export_id, camera_id, "running", ratio,
                            progress.done, progress.total)
        return True

    async def _finish(self, export_id: int, *, result: BundleResult | None = None,
                      error: str | None = None, camera_id: int | None = None) -> None:
        now = utcnow()
        values: dict[str, object] = {"finished_at": now, "heartbeat_at": now,
                                     "expires_at": now + timedelta(
                                         days=self.settings.export_retention_days)}
        if result is not None:
            values.update(state="done", progress=1.0, bytes_done=result.bytes,
                          bytes_total=result.bytes, file_name=result.path.name,
                          file_bytes=result.bytes, manifest_sha256=result.manifest_sha256,
                          files=result.files, error=None)
        else:
            values.update(state="failed", error=error)
        async with self.maker() as session:
            done = await session.execute(
                update(Export).where(Export.id == export_id, Export.runner == self.name)
                .values(**values)
            )
            await session.commit()
        if getattr(done, "rowcount", 0) != 1:
            if result is not None:  # deleted meanwhile: do not leave its file behind
                result.path.unlink(missing_ok=True)
            return
        log.info("export_finished", export_id=export_id, state=values["state"],
                 bytes=result.bytes if result else 0)
        if camera_id is not None:
            size = result.bytes if result else 0
            await self._publish(f"export.{values['state']}", export_id, camera_id,
                                str(values["state"]), 1.0 if result else 0.0, size, size,
                                error)

    async def _publish(self, kind: str, export_id: int, camera_id: int, state: str,
                       progress: float, done: int, total: int, error: str | None = None
                       ) -> None:
        frame = ExportFrame(type=kind, export_id=export_id, camera_id=camera_id,
                            state=state,
                            progress=round(progress, 4), bytes_done=done, bytes_total=total,
                            ts=utcnow(), error=error)
        try:
            await self.bus.publish(CHANNEL_ALERTS, frame)
        except Exception as exc:  # progress frames are best effort: the API has the state
            log.debug("export_progress_not_published", error=type(exc).__name__)


def _old_scratch(base: Path, before: float) -> list[tuple[int, Path]]:
    """The scratch folders in ``base`` (with their export ids) where nothing changed since
    ``before`` (epoch s). Blocking."""
    try:
        entries = list(base.iterdir())
    except FileNotFoundError:
        return []
    old = []
    for path in entries:
        match = _SCRATCH.fullmatch(path.name)
        if match is None or not path.is_dir():
            continue
        try:
            changed = max([path.stat().st_mtime] + [f.stat().st_mtime for f in path.iterdir()])
        except FileNotFoundError:
            continue  # removed meanwhile (its job ended)
        if changed < before:
            old.append((int(match.group(1)), path))
    return old
