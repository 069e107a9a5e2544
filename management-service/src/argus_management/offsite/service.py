"""Copying evidence off-site: to the object store, under ``<ARGUS_S3_PREFIX>/evidence/``.

- an export: its signed bundle, ``evidence/exports/<id>/argus-export-<id>.zip``;
- a hold: an export hold copies that export; a range or event hold copies every indexed
  segment of the camera overlapping the held time (an event's range widened by
  ``pre_s``/``post_s``), from either tier, to ``evidence/holds/<id>/<segment path>``.

Each copy ends with a ``manifest.json`` beside it (what was copied, sizes, MD5s, who and
when). A request only checks and queues a job (``jobs.py``); the runner (``runner.py``)
copies and audits (``export.offsite`` / ``hold.offsite``). Uploads are checked by size and
MD5 (``ObjectStore.put_file``). A copy again overwrites the same keys.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import Conflict, NotFound, Unavailable, Unprocessable
from argus_common.events import utcnow
from argus_common.objectstore import (
    ObjectStore,
    ObjectStoreError,
    ObjectStoreSettings,
    SegmentFiles,
    object_key,
)
from argus_management.config import Settings
from argus_management.events.models import Event
from argus_management.exports.models import Export
from argus_management.exports.service import bundle_path, visible_export
from argus_management.holds.models import Hold
from argus_management.holds.service import visible_hold
from argus_management.rbac.principal import Principal
from argus_management.recordings.models import RecordingSegment
from argus_management.recordings.ranges import resolve_event_ends

FOLDER = "evidence"


@dataclass
class Copied:
    folder: str
    bucket: str = ""
    entries: list[dict[str, Any]] = field(default_factory=list)
    missing: int = 0

    @property
    def bytes(self) -> int:
        return sum(int(e["bytes"]) for e in self.entries)


def inside(root: Path, relative: str) -> Path | None:
    """``root/relative`` when it stays under ``root`` (no ``..`` or absolute path)."""
    base = os.path.abspath(root)
    path = os.path.normpath(os.path.join(base, relative))
    return Path(path) if path.startswith(base + os.sep) else None


def _settings() -> ObjectStoreSettings:
    s3 = ObjectStoreSettings()
    if not s3.enabled:
        raise Unavailable("no object store is configured (ARGUS_S3_BUCKET)")
    return s3


async def _put(store: ObjectStore, copied: Copied, path: Path, name: str) -> None:
    key = f"{copied.folder}/{name}"
    try:
        info = await store.put_file(path, key)
    except ObjectStoreError as exc:
        raise Unavailable(f"the object store refused the copy: {exc}") from exc
    copied.entries.append({"name": name, "key": key, "bytes": info.size, "etag": info.etag})


async def _finish(store: ObjectStore, copied: Copied, what: dict[str, Any]) -> None:
    """Write ``manifest.json`` beside the copied objects."""
    manifest = {**what, "objects": copied.entries, "missing": copied.missing}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manifest.json"
        path.write_text(json.dumps(manifest, indent=1, default=str))
        await _put(store, copied, path, "manifest.json")


async def copy_export(
    session: AsyncSession, settings: Settings, who: str, export_id: int
) -> Copied:
    """Copy a finished export's bundle off-site (the job runner; the request checked who
    may ask)."""
    export = await session.get(Export, export_id)
    if export is None:
        raise NotFound("the export is gone")
    s3 = _settings()
    async with ObjectStore(s3) as store:
        await store.ensure_bucket()
        copied = await _copy_bundle(store, settings, s3, export)
        await _finish(
            store,
            copied,
            _who(who, {"export_id": export.id, "manifest_sha256": export.manifest_sha256}),
        )
    return copied


async def _copy_bundle(
    store: ObjectStore, settings: Settings, s3: ObjectStoreSettings, export: Export
) -> Copied:
    if export.state != "done":
        raise Conflict(f"the export is {export.state}, not done")
    path = bundle_path(settings, export)
    if not path.is_file():
        raise NotFound("the bundle file is missing")
    copied = Copied(object_key(s3.prefix, f"{FOLDER}/exports/{export.id}"), s3.bucket)
    await _put(store, copied, path, f"argus-export-{export.id}.zip")
    return copied


def _who(who: str, what: dict[str, Any]) -> dict[str, Any]:
    return {**what, "copied_by": who, "copied_at": utcnow().isoformat()}


async def _held_range(
    session: AsyncSession, hold: Hold, pre_s: float, post_s: float
) -> tuple[datetime, datetime]:
    if hold.kind == "range":
        assert hold.range_start is not None and hold.range_end is not None
        return hold.range_start, hold.range_end
    event = await session.get(Event, hold.event_id) if hold.event_id else None
    if event is None:
        raise NotFound("the held event is gone")
    end = (await resolve_event_ends(session, [event])).get(event.id) or utcnow()
    return (
        event.started_at - timedelta(seconds=pre_s),
        max(end, event.started_at) + timedelta(seconds=post_s),
    )


async def copy_hold(
    session: AsyncSession,
    settings: Settings,
    who: str,
    hold_id: int,
    pre_s: float,
    post_s: float,
) -> Copied:
    """Copy what an active hold protects off-site (the job runner)."""
    hold = await session.get(Hold, hold_id)
    if hold is None:
        raise NotFound("the hold is gone")
    if hold.released_at is not None:
        raise Conflict("the hold is released")
    s3 = _settings()
    if hold.kind == "export":
        assert hold.export_id is not None
        export = await session.get(Export, hold.export_id)
        if export is None:
            raise NotFound("the held export is gone")
        async with ObjectStore(s3) as store:
            await store.ensure_bucket()
            copied = await _copy_bundle(store, settings, s3, export)
            await _finish(store, copied, _who(who, {"hold_id": hold.id, "export_id": export.id}))
        return copied
    return await _copy_segments(session, settings, s3, who, hold, pre_s, post_s)


async def check_export(
    session: AsyncSession, settings: Settings, principal: Principal, export_id: int
) -> None:
    """The request's checks: the caller sees the export, it is done, a store is set."""
    export = await visible_export(session, principal, export_id)
    if export.state != "done":
        raise Conflict(f"the export is {export.state}, not done")
    if not bundle_path(settings, export).is_file():
        raise NotFound("the bundle file is missing")
    _settings()


async def check_hold(session: AsyncSession, principal: Principal, hold_id: int) -> None:
    """The request's checks: the caller sees the hold (and its export), it is active."""
    hold = await visible_hold(session, principal, hold_id)
    if hold.released_at is not None:
        raise Conflict("the hold is released")
    if hold.kind == "export":
        assert hold.export_id is not None
        await visible_export(session, principal, hold.export_id)
    _settings()


async def _copy_segments(
    session: AsyncSession,
    settings: Settings,
    s3: ObjectStoreSettings,
    who: str,
    hold: Hold,
    pre_s: float,
    post_s: float,
) -> Copied:
    start, end = await _held_range(session, hold, pre_s, post_s)
    if end - start > timedelta(seconds=settings.export_max_range_s):
        raise Unprocessable(
            f"the held time is longer than {settings.export_max_range_s} s; "
            "export it in parts and copy the exports"
        )
    rows = list(
        await session.scalars(
            select(RecordingSegment)
            .where(
                RecordingSegment.camera_id == hold.camera_id,
                RecordingSegment.deleted_at.is_(None),
                RecordingSegment.started_at < end,
                RecordingSegment.ended_at > start,
            )
            .order_by(RecordingSegment.started_at)
        )
    )
    root = Path(settings.recordings_root())
    copied = Copied(object_key(s3.prefix, f"{FOLDER}/holds/{hold.id}"), s3.bucket)
    files = SegmentFiles(root, s3)
    try:
        async with ObjectStore(s3) as store:
            await store.ensure_bucket()
            for seg in rows:
                local = inside(root, seg.path)
                if local is None:
                    copied.missing += 1
                    continue
                found = await files.local_path(local, seg.tier, seg.object_key, seg.bytes)
                if found is None:
                    copied.missing += 1
                    continue
                await _put(store, copied, found, seg.path)
            await _finish(
                store,
                copied,
                _who(
                    who,
                    {
                        "hold_id": hold.id,
                        "camera_id": hold.camera_id,
                        "reason": hold.reason,
                        "start": start.isoformat(),
                        "end": end.isoformat(),
                    },
                ),
            )
    finally:
        await files.close()
    return copied
