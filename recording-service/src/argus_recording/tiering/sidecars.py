"""Fragment indexes for segments tiered before the recorder wrote them, made in the background.

Since the mover writes each segment's sidecar (``<start-ms>.idx``, ``argus_common.segindex``)
before its upload, a VOD playlist over tiered footage needs no download; segments tiered
earlier have none, and streaming downloads each of them whole for a playlist. The holder of
the ``tiering`` lease makes the missing ones: after taking the lease, then once per
``RECORDING_TIER_RECONCILE_INTERVAL_S``, it lists the store (a prefix listing, 1,000 keys a
request, as the reconcile does) and, for each segment object with neither a local file nor
a sidecar, downloads it to a temp file under ``<recordings>/.argus-sidecar-tmp/`` (locked
while in use), indexes it with the one indexer (``mp4index.index_file``, as the mover) and
writes the sidecar where the mover would have (locally, beside where the segment was: that
is where streaming reads it), all or nothing (``segindex.save_index``: temp file, rename).

Bounds: at most ``RECORDING_TIER_SIDECARS_PER_MINUTE`` started a minute (0: off), at most
``RECORDING_TIER_CONCURRENCY`` at once, never two for one object; a download has a time
budget and three tries. An object the indexer refuses (damaged) is logged and skipped until
it changes (its ETag); a store that keeps failing ends the pass until the next one. Killed
at any point, the job leaves no sidecar half-written: at most a temp download, which the
next pass sweeps (nobody holds its lock any more), and a ``.idx.tmp`` no reader opens (the
next try replaces it, retention removes it). A sidecar written while its segment was purged
is removed again: by this job when the object is gone after the write, by
:meth:`Tiering.delete_objects` (and the reconcile) when the object goes after it.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import structlog

from argus_common.mp4index import Mp4Error, index_file
from argus_common.objectstore import ObjectInfo, ObjectStore, ObjectStoreError
from argus_common.retry import Backoff, retry
from argus_common.segindex import encode, index_path, remove_index, save_index
from argus_recording.layout import safe_path
from argus_recording.tiering.metrics import SIDECAR_BACKFILL

log = structlog.get_logger("argus.recording.tiering")

TEMP_DIR = ".argus-sidecar-tmp"
_MAX_SKIPPED = 10_000  # damaged objects remembered (key -> ETag), oldest forgotten first
_PAGE = 1000


def object_prefix(prefix: str) -> str:
    """The key prefix of segment objects (``""`` or ``"<prefix>/"``)."""
    return f"{prefix.strip('/')}/" if prefix.strip("/") else ""


def claim(copy: Path) -> int:
    """Create temp download ``copy`` and hold a lock on it while it is in use (its fd):
    the lock goes with the process, so the sweep tells a killed run's file by it."""
    fd = os.open(copy, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def release(copy: Path, fd: int) -> None:
    """Remove a temp download and drop its lock."""
    try:
        os.unlink(copy)
    except FileNotFoundError:
        pass
    finally:
        os.close(fd)


def sweep_temp(directory: Path) -> int:
    """Remove the temp downloads of killed runs (nobody holds their lock; another
    recorder's download in progress does); returns how many went. Blocking."""
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            fd = os.open(entry.path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(entry.path)
            removed += 1
        except OSError:  # held: in use
            continue
        finally:
            os.close(fd)
    return removed


def missing(root: Path, rel_infos: list[tuple[str, ObjectInfo]]) -> list[tuple[Path, ObjectInfo]]:
    """The segment objects with neither a local file (the mover's or the reconcile's to
    index) nor a sidecar. Blocking."""
    out: list[tuple[Path, ObjectInfo]] = []
    for rel, info in rel_infos:
        try:
            path = safe_path(root, rel)
        except ValueError:  # not a segment key (a probe, a foreign object)
            continue
        if not path.exists() and not index_path(path).exists():
            out.append((path, info))
    return out


def index_bytes(copy: Path, size: int) -> bytes:
    """The sidecar bytes of a downloaded segment: what the mover's ``write_index`` would
    write for the same file. ``Mp4Error``/``ValueError``: the object is damaged."""
    if copy.stat().st_size != size:
        raise Mp4Error("download is not the object's size")
    return encode(index_file(copy), size)


def place(path: Path, data: bytes, durable: bool) -> bool:
    """Write ``path``'s sidecar unless the segment or a sidecar appeared meanwhile (False);
    ``OSError`` when it cannot be written."""
    if path.exists() or index_path(path).exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    if save_index(path, data, durable) is None:
        raise OSError(f"cannot write {index_path(path).name}")
    return True


class SidecarBackfill:
    """The back-fill of one recorder; passes run only while ``active()`` (the lease holder,
    its store started)."""

    def __init__(
        self,
        store: ObjectStore,
        root: Path,
        prefix: str,
        durable: bool,
        *,
        per_minute: int,
        concurrency: int,
        interval_s: float,
        active: Callable[[], bool],
    ) -> None:
        self.store = store
        self.root = root
        self.prefix = object_prefix(prefix)
        self.durable = durable
        self.per_minute = per_minute
        self.concurrency = concurrency
        self.interval_s = interval_s
        self.active = active
        self.temp_dir = root / TEMP_DIR
        self._next_pass = 0.0
        self._next_start = 0.0
        self._in_flight: set[str] = set()
        self._skipped: OrderedDict[str, str] = OrderedDict()
        self._store_failing = False

    async def tick(self) -> dict[str, int] | None:
        """A pass when one is due and this recorder is active; its counts, else None."""
        if not self.active():
            self._next_pass = 0.0  # a new holder looks at once
            return None
        if self.per_minute <= 0 or time.monotonic() < self._next_pass:
            return None
        try:
            return await self.run_pass()
        finally:
            self._next_pass = time.monotonic() + self.interval_s

    async def run_pass(self) -> dict[str, int]:
        """One pass over the store; returns how many sidecars were made, skipped, failed."""
        counts = {"made": 0, "damaged": 0, "failed": 0, "gone": 0, "raced": 0, "busy": 0}
        await asyncio.to_thread(sweep_temp, self.temp_dir)
        self._store_failing = False
        gate = asyncio.Semaphore(self.concurrency)

        async def one(path: Path, info: ObjectInfo) -> None:
            try:
                counts[await self.make(path, info)] += 1
            finally:
                gate.release()

        async with asyncio.TaskGroup() as group:
            page: list[tuple[str, ObjectInfo]] = []
            async for info in self.store.list(self.prefix):
                page.append((info.key[len(self.prefix) :], info))
                if len(page) < _PAGE:
                    continue
                if not await self._start(group, gate, one, page):
                    break
                page = []
            else:
                await self._start(group, gate, one, page)
        if any(counts[k] for k in ("made", "damaged", "failed")):
            log.info("sidecar_backfill_pass", **counts)
        return counts

    async def _start(
        self,
        group: asyncio.TaskGroup,
        gate: asyncio.Semaphore,
        one: Callable[[Path, ObjectInfo], Coroutine[Any, Any, None]],
        page: list[tuple[str, ObjectInfo]],
    ) -> bool:
        """Start the page's missing sidecars, paced; False: stop the pass."""
        for path, info in await asyncio.to_thread(missing, self.root, page):
            if self._skipped.get(info.key) == info.etag or info.key in self._in_flight:
                continue
            await gate.acquire()
            if self._store_failing or not self.active():
                gate.release()
                return False
            await self._pace()
            group.create_task(one(path, info))
        return not self._store_failing

    async def _pace(self) -> None:
        """At most ``per_minute`` starts a minute, evenly spaced."""
        now = time.monotonic()
        start = max(now, self._next_start)
        self._next_start = start + 60.0 / self.per_minute
        if start > now:
            await asyncio.sleep(start - now)

    async def make(self, path: Path, info: ObjectInfo) -> str:
        """Download, index and write one sidecar; the outcome (``made``, ``damaged``,
        ``failed``, ``gone``, ``raced``, ``busy``). Never raises but ``CancelledError``."""
        if info.key in self._in_flight:
            return "busy"  # never two at once for one object
        self._in_flight.add(info.key)
        copy = self.temp_dir / f"{uuid.uuid4().hex}.mp4"
        fd: int | None = None
        try:
            await asyncio.to_thread(self.temp_dir.mkdir, parents=True, exist_ok=True)
            fd = await asyncio.to_thread(claim, copy)
            outcome = await self._make(path, info, copy)
        except OSError as exc:  # the temp directory: a disk problem, not the object's
            self._store_failing = True
            log.warning("sidecar_backfill_failed", error=type(exc).__name__)
            outcome = "failed"
        finally:
            if fd is not None:
                await asyncio.to_thread(release, copy, fd)
            self._in_flight.discard(info.key)
        if outcome in ("made", "damaged", "failed", "gone"):
            SIDECAR_BACKFILL.labels(outcome).inc()
        return outcome

    async def _make(self, path: Path, info: ObjectInfo, copy: Path) -> str:
        rel = info.key[len(self.prefix) :]
        try:
            async with asyncio.timeout(120.0 + info.size / 2**20):  # >= 1 MiB/s
                await retry(
                    lambda: self.store.download(info.key, copy, info.size),
                    attempts=3,
                    backoff=Backoff(1.0, 10.0),
                    retry_on=(ObjectStoreError,),
                    event="sidecar_download_retry",
                    log=log,
                )
                data = await asyncio.to_thread(index_bytes, copy, info.size)
                if not await asyncio.to_thread(place, path, data, self.durable):
                    return "raced"  # the mover or the reconcile wrote one meanwhile
                if await self.store.head(info.key) is None:
                    # Purged while we worked: its sidecar must not outlive it.
                    await asyncio.to_thread(remove_index, path)
                    return "gone"
        except (Mp4Error, ValueError) as exc:
            self._skip(info)
            log.warning("sidecar_backfill_damaged", key=rel, error=str(exc))
            return "damaged"
        except (ObjectStoreError, TimeoutError, OSError) as exc:
            return await self._failed(info, rel, exc)
        return "made"

    async def _failed(self, info: ObjectInfo, rel: str, exc: Exception) -> str:
        try:
            if await self.store.head(info.key) is None:
                return "gone"  # purged between the listing and the download
        except ObjectStoreError:
            pass
        self._store_failing = True  # the pass ends; the next one tries again
        log.warning("sidecar_backfill_failed", key=rel, error=type(exc).__name__)
        return "failed"

    def _skip(self, info: ObjectInfo) -> None:
        self._skipped[info.key] = info.etag
        self._skipped.move_to_end(info.key)
        while len(self._skipped) > _MAX_SKIPPED:
            self._skipped.popitem(last=False)
