"""One segment from local disk to the object store: upload, verify, index, unlink.

Before the upload the segment's fragment index is written beside it (``<start-ms>.idx``,
``argus_common.segindex``): the file is local and in the page cache now, and streaming
builds VOD playlists of tiered segments from it instead of downloading every object. It
stays local, like the preview stills, and retention deletes it with them.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import structlog

from argus_common.objectstore import ObjectStore, ObjectStoreError, object_key
from argus_common.segindex import remove_index, write_index
from argus_recording.layout import fsync_dir, safe_path
from argus_recording.management import RecordingManagement
from argus_recording.tiering import api
from argus_recording.tiering.metrics import UPLOAD_SECONDS, UPLOADED_BYTES, UPLOADS

log = structlog.get_logger("argus.recording.tiering")

Outcome = Literal["moved", "adopted", "gone", "missing", "failed"]


@dataclass(frozen=True)
class Moved:
    outcome: Outcome
    local_bytes: int = 0  # bytes freed on local disk


def remove_local(path: Path, durable: bool) -> int:
    """Unlink a tiered segment's local file and make that durable; returns bytes freed."""
    try:
        size = path.stat().st_size
        os.unlink(path)
    except FileNotFoundError:
        return 0
    if durable:
        fsync_dir(path.parent)
    return size


class Mover:
    """Moves segments of one recorder's recordings directory to one store."""

    def __init__(
        self, store: ObjectStore, mgmt: RecordingManagement, root: Path, prefix: str, durable: bool
    ) -> None:
        self.store = store
        self.mgmt = mgmt
        self.root = root
        self.prefix = prefix
        self.durable = durable

    def key(self, relpath: str) -> str:
        return object_key(self.prefix, relpath)

    async def move(self, item: api.TierItem) -> Moved:
        """Move one segment; any failure leaves it indexed as local and the file in place."""
        started = time.monotonic()
        try:
            path = safe_path(self.root, item.path)
        except ValueError:
            log.error("tier_path_refused", segment_id=item.id)
            return Moved("failed")
        key = self.key(item.path)
        try:
            if not await asyncio.to_thread(path.is_file):
                # Gone locally: an earlier upload may have landed (then the row is adopted);
                # otherwise the start-up reconcile forgets the row.
                info = await self.store.head(key)
                if info is None:
                    UPLOADS.labels("missing").inc()
                    return Moved("missing")
                outcome: Outcome = "adopted"
            else:
                # 0. the fragment index, kept locally (None: the reader falls back)
                await asyncio.to_thread(write_index, path, self.durable)
                info = await self.store.put_file(path, key)  # 1. upload, 2. verify
                UPLOADED_BYTES.inc(info.size)
                outcome = "moved"
            gone = await api.mark_tiered(self.mgmt, [(item.id, key)])  # 3. index
        except ObjectStoreError as exc:
            UPLOADS.labels("failed").inc()
            log.warning("tier_upload_failed", segment_id=item.id, error=str(exc))
            return Moved("failed")
        if item.id in gone:
            # Deleted (or being purged) meanwhile: the object must not outlive its row.
            await self._forget_object(key)
            await asyncio.to_thread(remove_index, path)  # retention may have run already
            UPLOADS.labels("gone").inc()
            return Moved("gone")
        freed = await asyncio.to_thread(remove_local, path, self.durable)  # 4. unlink
        UPLOADS.labels(outcome).inc()
        UPLOAD_SECONDS.observe(time.monotonic() - started)
        return Moved(outcome, freed)

    async def _forget_object(self, key: str) -> None:
        try:
            await self.store.delete(key)
        except ObjectStoreError as exc:  # reconcile finds it again (no row)
            log.warning("tier_orphan_left", error=str(exc))
