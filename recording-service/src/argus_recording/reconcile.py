"""Start-up reconcile of one camera's files with the index (before recording it).

- rows marked deleted whose file is still there (a purge interrupted): unlink, confirm;
- files the index does not know (never announced): repair a torn tail, announce; drop
  files with nothing playable. Files this process is writing (``fencing.LIVE``) are left
  alone, and the caller holds the camera's writer lock or its worker does, so no other
  process writes any of them: a salvage never cuts a live file;
- indexed files that are gone: removed from the index, but only when the camera's
  directory exists (an unmounted volume must not wipe the index).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog

from argus_recording.announce import Announcer
from argus_recording.fencing import LIVE
from argus_recording.layout import list_segments
from argus_recording.management import RecordingManagement
from argus_recording.metrics import ADOPTED
from argus_recording.retention import delete_files
from argus_recording.salvage import salvage

log = structlog.get_logger("argus.recording.reconcile")


async def reconcile_camera(
    camera_id: int, default_kind: str, root: Path, management: RecordingManagement,
    announcer: Announcer, durable: bool,
) -> None:
    """Make the files of ``camera_id`` and the index agree."""
    index = await management.segment_index(camera_id)
    # Deleted rows on the object store are the tiering reconcile's (tiering/reconcile.py).
    local_deleted = [item for item in index.deleted if item.tier != "object"]
    if local_deleted:
        gone = await asyncio.to_thread(delete_files, root, local_deleted, durable)
        await management.confirm_purged(gone)
    deleted_paths = {item.path for item in index.deleted}
    on_disk = await asyncio.to_thread(list_segments, root, camera_id)
    # A tiered segment's leftover local copy is not an orphan either.
    orphans = sorted(p for p in on_disk - index.paths - deleted_paths - index.tiered
                     if p not in LIVE)
    adopted = 0
    for relpath in orphans:
        if relpath in LIVE:  # opened since the listing (by name it cannot be: belt and braces)
            continue
        segment = await asyncio.to_thread(salvage, root, relpath, camera_id, default_kind,
                                          durable)
        if segment is None:
            ADOPTED.labels("dropped").inc()
            continue
        await announcer.announce(segment)
        ADOPTED.labels("adopted").inc()
        adopted += 1
    missing = sorted(index.paths - on_disk)
    if missing and (root / str(camera_id)).is_dir():
        await management.forget_missing(camera_id, missing)
    if orphans or missing or index.deleted:
        log.info("reconciled", camera_id=camera_id, adopted=adopted,
                 dropped=len(orphans) - adopted, missing=len(missing),
                 purged=len(index.deleted))
