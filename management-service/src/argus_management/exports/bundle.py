"""The evidence bundle: one zip with an MP4 per camera and range, the relevant audit
rows, ``manifest.json`` (what, when, who, why, the SHA-256 of every file) and
``manifest.sig``, a detached Ed25519 signature of the manifest by the site's key
(``public_key.pem`` rides along for convenience; ``verify.py`` says how far to trust it).

Runs in a worker thread. Each MP4 is written straight into its zip member (stored, not
compressed: video does not compress) while its SHA-256 is computed, so every media byte
is read once and written once, as a copy would.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from argus_management.exports.remux import (
    NothingRecorded,
    Plan,
    SourceSegment,
    plan_export,
    write_plan,
)
from argus_management.exports.signing import SigningKey
from argus_management.exports.verify import FORMAT, MANIFEST, PUBLIC_KEY, SIGNATURE

AUDIT_FILE = "audit.json"
WRITE_BEHIND = 32 * 1024 * 1024  # bytes between two writeback requests


@dataclass
class ItemSpec:
    """One camera and range to export, with the segments that cover it."""

    camera_id: int
    camera_name: str
    start: datetime
    end: datetime
    segments: list[SourceSegment]
    event_id: int | None = None


@dataclass
class BundleJob:
    export_id: int
    name: str
    reason: str
    exported_by: dict[str, Any]
    created_at: datetime
    argus_version: str
    items: list[ItemSpec]
    audit_rows: list[dict[str, Any]]
    key: SigningKey
    path: Path  # where the finished zip goes


@dataclass
class Progress:
    """Shared with the event loop: bytes done of the total, and a cancel flag."""

    done: int = 0
    total: int = 0
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass
class BundleResult:
    path: Path
    bytes: int
    manifest_sha256: str
    files: list[dict[str, Any]]


class _WriteBehind:
    """Starts the disk writing what the bundle has written so far, every ``every`` bytes.

    Left to itself the kernel keeps a bundle's pages dirty until the final ``fsync`` (or
    until a tenth of memory is dirty), so the disk first only reads, then only writes.
    ``POSIX_FADV_DONTNEED`` on the range written since the last call starts its writeback
    without waiting for it (pages still dirty stay cached), so writing overlaps reading,
    the final ``fsync`` has little left to do, and an export never piles up gigabytes of
    dirty pages that would throttle the recorders' writes. Measured with
    ``bench/export_bench.py``."""

    def __init__(self, f: BinaryIO, pool: ThreadPoolExecutor, every: int = WRITE_BEHIND) -> None:
        self.f = f
        self.pool = pool  # the call can wait for the disk's queue: not in the copy loop
        self.every = every
        self.start = f.tell()
        self.pending = 0
        self._busy: Future[None] | None = None

    def wrote(self, size: int) -> None:
        self.pending += size
        if self.pending < self.every or (self._busy is not None and not self._busy.done()):
            return
        if self._busy is not None:
            self._busy.result()  # raises what the call raised
        self.pending = 0
        end = self.f.tell()
        if end > self.start:
            self._busy = self.pool.submit(os.posix_fadvise, self.f.fileno(), self.start,
                                          end - self.start, os.POSIX_FADV_DONTNEED)
            self.start = end

    def wait(self) -> None:
        if self._busy is not None:
            self._busy.result()
            self._busy = None


class _HashingSink:
    """Writes to a zip member (which computes its CRC-32) while SHA-256 runs in another
    thread on the same block: both release the GIL, so the two checksums overlap instead
    of adding up. ``write_plan`` alternates two buffers, so the block being hashed is never
    overwritten before the next ``write`` waits for it."""

    def __init__(self, inner: Any, pool: ThreadPoolExecutor, behind: _WriteBehind) -> None:
        self.inner = inner
        self.pool = pool
        self.behind = behind
        self._digest = hashlib.sha256()
        self._pending: Future[None] | None = None
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        if self._pending is not None:
            self._pending.result()
        self._pending = self.pool.submit(self._digest.update, data)
        self.inner.write(data)
        self.size += len(data)
        self.behind.wrote(len(data))
        return len(data)

    def hexdigest(self) -> str:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        return self._digest.hexdigest()


def _iso(t: datetime | float) -> str:
    if isinstance(t, (int, float)):
        t = datetime.fromtimestamp(t, UTC)
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _file_name(index: int, item: ItemSpec) -> str:
    return f"{index:02d}_camera-{item.camera_id}_{item.start.astimezone(UTC):%Y%m%dT%H%M%SZ}.mp4"


def _zip_info(name: str, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.astimezone(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def plan_items(job: BundleJob) -> list[tuple[ItemSpec, Plan | None]]:
    """Plan every item (reads only the segments' headers); None: nothing recorded."""
    plans: list[tuple[ItemSpec, Plan | None]] = []
    for item in job.items:
        comment = f"ARGUS export {job.export_id}: camera {item.camera_id} ({item.camera_name})"
        try:
            plan = plan_export(item.segments, item.start.timestamp(), item.end.timestamp(),
                               comment=comment)
        except NothingRecorded:
            plan = None
        plans.append((item, plan))
    return plans


def build_bundle(job: BundleJob, progress: Progress) -> BundleResult:
    """Write the bundle to ``job.path`` (through ``<path>.partial``, fsynced, renamed)."""
    plans = plan_items(job)
    if all(plan is None for _item, plan in plans):
        raise NothingRecorded("nothing is recorded in the requested ranges")
    progress.total = sum(p.size for _i, p in plans if p is not None)
    partial = job.path.with_name(job.path.name + ".partial")
    job.path.parent.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    listed: list[dict[str, Any]] = []
    described: list[dict[str, Any]] = []
    base = 0
    try:
        # "w+b" is what ZipFile opens a path with; the file is ours for the write-behind.
        with partial.open("w+b") as out, \
                zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf, \
                ThreadPoolExecutor(1, thread_name_prefix="export-sha") as pool, \
                ThreadPoolExecutor(1, thread_name_prefix="export-writeback") as flusher:
            behind = _WriteBehind(out, flusher)
            for index, (item, plan) in enumerate(plans, start=1):
                entry: dict[str, Any] = {
                    "camera_id": item.camera_id, "camera_name": item.camera_name,
                    "requested": {"start": _iso(item.start), "end": _iso(item.end)},
                }
                if item.event_id is not None:
                    entry["event_id"] = item.event_id
                if plan is None:
                    entry["file"] = None
                    entry["note"] = "nothing recorded in this range"
                    described.append(entry)
                    continue
                name = _file_name(index, item)
                with zf.open(_zip_info(name, job.created_at), "w", force_zip64=True) as member:
                    sink = _HashingSink(member, pool, behind)

                    def report(done: int, base: int = base) -> None:
                        progress.done = base + done

                    write_plan(plan, sink, report, progress.cancel.is_set)
                    digest = sink.hexdigest()
                base += sink.size
                gaps = [[_iso(a), _iso(b)] for a, b in plan.gaps]
                entry.update({
                    "file": name,
                    "recorded": {"start": _iso(plan.start), "end": _iso(plan.end)},
                    "first_keyframe": _iso(plan.first_frame),
                    "frames": plan.frames, "audio_samples": plan.audio_samples,
                    "gaps": gaps,
                })
                described.append(entry)
                listed.append({"name": name, "sha256": digest, "bytes": sink.size})
                files.append({
                    "name": name, "camera_id": item.camera_id, "sha256": digest,
                    "bytes": sink.size, "start": _iso(plan.start), "end": _iso(plan.end),
                    "frames": plan.frames, "audio": plan.audio_samples > 0, "gaps": gaps,
                })
            audit = json.dumps(job.audit_rows, indent=1, sort_keys=True, default=str).encode()
            zf.writestr(_zip_info(AUDIT_FILE, job.created_at), audit)
            listed.append({"name": AUDIT_FILE, "sha256": hashlib.sha256(audit).hexdigest(),
                           "bytes": len(audit)})
            manifest = {
                "format": FORMAT,
                "export_id": job.export_id,
                "name": job.name,
                "reason": job.reason,
                "argus_version": job.argus_version,
                "exported_by": job.exported_by,
                "created_at": _iso(job.created_at),
                "range": {"start": _iso(min(i.start for i in job.items)),
                          "end": _iso(max(i.end for i in job.items))},
                "items": described,
                "files": listed,
                "audit_rows": len(job.audit_rows),
                "signing_key": {"algorithm": "Ed25519", "fingerprint": job.key.fingerprint},
            }
            manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
            zf.writestr(_zip_info(MANIFEST, job.created_at), manifest_bytes)
            zf.writestr(_zip_info(SIGNATURE, job.created_at), job.key.sign(manifest_bytes))
            zf.writestr(_zip_info(PUBLIC_KEY, job.created_at), job.key.public_pem.encode())
            behind.wait()
            zf.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, job.path)
        _fsync_dir(job.path.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BundleResult(path=job.path, bytes=job.path.stat().st_size,
                        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(), files=files)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
