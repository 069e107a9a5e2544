"""Tiering reconcile: make the index, the local disk and the object store agree.

For each camera found on the store or on disk:
- a tiered row whose local file is still there (a crash between index and unlink): the
  object is checked (present, same size), the fragment index written beside it if the
  crash came before that (``argus_common.segindex``) and the local file removed;
- a row marked deleted whose segment is on the store (a purge interrupted): the object
  is deleted and the row confirmed gone;
- an object with no row at all (uploaded, then the row was purged or forgotten) and older
  than the grace period: deleted;
  in both cases a fragment index left beside where the segment was (the back-fill of
  ``sidecars.py`` may have made one) goes with the object;
- a local row whose file is gone while its object exists: the row is pointed at the object;
- a fragment index with no segment (no local file, no object in the listing, no live row)
  and older than the grace period: removed (a back-fill that wrote it while the segment was
  purged and died before its check). The mover writes a sidecar before it uploads and
  unlinks the file only after the object is there, so a sidecar whose upload is in flight
  has its file (and a live row); the camera's sidecars are looked at before the store is
  listed, and the grace period (as for objects: an upload on its way) covers a listing that
  lags a completed upload.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path

import structlog

from argus_common.objectstore import ObjectStore, ObjectStoreError
from argus_common.segindex import INDEX_SUFFIX, index_path, remove_index, write_index
from argus_recording.fencing import LIVE
from argus_recording.layout import list_segments, safe_path
from argus_recording.management import RecordingManagement
from argus_recording.tiering import api
from argus_recording.tiering.metrics import RECONCILED
from argus_recording.tiering.mover import remove_local

log = structlog.get_logger("argus.recording.tiering")

_SIDECAR = re.compile(r"^\d{10,16}" + re.escape(INDEX_SUFFIX) + "$")


def _local_cameras(root: Path) -> set[int]:
    try:
        return {int(e.name) for e in os.scandir(root) if e.is_dir() and e.name.isdigit()}
    except OSError:
        return set()


async def _store_cameras(store: ObjectStore, prefix: str) -> set[int]:
    found: set[int] = set()
    async for info in store.list(prefix):
        head = info.key[len(prefix) :].split("/", 1)[0]
        if head.isdigit():
            found.add(int(head))
    return found


async def reconcile(
    store: ObjectStore,
    mgmt: RecordingManagement,
    root: Path,
    prefix: str,
    durable: bool,
    grace_s: float,
) -> dict[str, int]:
    """One full pass; returns how many of each repair were made."""
    prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    counts = {
        "local_removed": 0, "deleted_objects": 0, "orphans": 0, "adopted": 0, "sidecars": 0
    }
    cameras = _local_cameras(root) | await _store_cameras(store, prefix)
    for camera_id in sorted(cameras):
        index = await mgmt.segment_index(camera_id)
        # Before the listing: a sidecar whose file is gone now has its object listed below
        # unless the object went too (the mover unlinks only after the upload is verified).
        stale = await asyncio.to_thread(
            _stale_sidecars, root, camera_id, time.time() - grace_s
        )
        objects = {
            info.key[len(prefix) :]: info async for info in store.list(f"{prefix}{camera_id}/")
        }
        on_disk = await asyncio.to_thread(list_segments, root, camera_id)
        # 1. Tiered rows with a local copy left: drop it once the object is checked.
        for relpath in sorted(index.tiered & on_disk):
            path = safe_path(root, relpath)
            info = objects.get(relpath)
            size = await asyncio.to_thread(os.path.getsize, path)
            if info is not None and info.size == size and relpath not in LIVE:
                if not await asyncio.to_thread(index_path(path).is_file):
                    await asyncio.to_thread(write_index, path, durable)
                await asyncio.to_thread(remove_local, path, durable)
                counts["local_removed"] += 1
        # 2. Rows marked deleted whose segment is on the store.
        gone: list[int] = []
        for item in index.deleted:
            if item.tier == "object" and item.object_key:
                await store.delete(item.object_key)
                await asyncio.to_thread(_drop_index, root, item.path)
                gone.append(item.id)
                counts["deleted_objects"] += 1
        if gone:
            await mgmt.confirm_purged(gone)
        known = index.paths | index.tiered | {i.path for i in index.deleted}
        now = time.time()
        for relpath, info in objects.items():
            # 3. Objects without a row, past the grace period.
            if relpath not in known and now - info.last_modified > grace_s:
                await store.delete(info.key)
                await asyncio.to_thread(_drop_index, root, relpath)
                counts["orphans"] += 1
        # 4. Local rows whose file is gone but whose object is there.
        adopt = sorted(p for p in index.paths - on_disk if p in objects)
        if adopt:
            ids = await _row_ids(mgmt, camera_id, adopt)
            entries = [(ids[p], objects[p].key) for p in adopt if p in ids]
            if entries:
                await api.mark_tiered(mgmt, entries)
                counts["adopted"] += len(entries)
        # 5. Sidecars with no segment: no file, no object, no live row, past the grace.
        live = index.paths | index.tiered
        for relpath in stale:
            if relpath not in objects and relpath not in live:
                if await asyncio.to_thread(_drop_index, root, relpath):
                    counts["sidecars"] += 1
    for kind, n in counts.items():
        if n:
            RECONCILED.labels(kind).inc(n)
    if any(counts.values()):
        log.info("tier_reconciled", **counts)
    return counts


def _drop_index(root: Path, relpath: str) -> bool:
    """Remove the fragment index of a segment whose object went (not of a local file);
    whether one went."""
    try:
        path = safe_path(root, relpath)
        return not path.exists() and remove_index(path)
    except (ValueError, OSError):
        return False


def _stale_sidecars(root: Path, camera_id: int, before: float) -> list[str]:
    """The segments (relpaths) of a camera with a sidecar last written before ``before``
    (epoch seconds) and no local file. Blocking."""
    found: list[str] = []
    for idx in (root / str(camera_id)).glob(f"*/*/*{INDEX_SUFFIX}"):
        if not _SIDECAR.match(idx.name):
            continue
        try:
            if idx.stat().st_mtime >= before or idx.with_suffix(".mp4").exists():
                continue
        except OSError:  # removed meanwhile
            continue
        found.append(idx.relative_to(root).with_suffix(".mp4").as_posix())
    return found


async def _row_ids(mgmt: RecordingManagement, camera_id: int, paths: list[str]) -> dict[str, int]:
    """Index ids of live local rows by path (from the tiering candidates of that camera)."""
    found: dict[str, int] = {}
    wanted = set(paths)
    cands = await api.candidates(mgmt, hours={str(camera_id): 0.0}, limit=5000)
    for item in cands.items:
        if item.path in wanted:
            found[item.path] = item.id
    return found


async def safe_reconcile(
    store: ObjectStore,
    mgmt: RecordingManagement,
    root: Path,
    prefix: str,
    durable: bool,
    grace_s: float,
) -> None:
    """:func:`reconcile`, a failure logged (it runs again on the next interval)."""
    try:
        await reconcile(store, mgmt, root, prefix, durable, grace_s)
    except ObjectStoreError as exc:
        log.warning("tier_reconcile_failed", error=str(exc))
