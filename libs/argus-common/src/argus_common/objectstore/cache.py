"""A read-through cache of objects on local disk, bounded in bytes.

Readers that need a file (PyAV's demuxer, ``FileResponse`` with byte ranges, the exporter's
remuxer) ask for an object by key and get a local path: a hit is touched (its mtime is the
LRU clock), a miss is fetched with parallel ranged GETs into a temporary file and renamed
into place, once however many readers wait for it. After each fetch the oldest files go
until the cache is within ``max_bytes`` again (a file still open by a reader stays readable:
unlinking does not take it away from an open descriptor).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from argus_common.objectstore.client import ObjectStore, ObjectStoreError


class ReadThroughCache:
    """Local copies of objects of one store, in ``directory``."""

    def __init__(self, store: ObjectStore, directory: Path, max_bytes: int) -> None:
        self.store = store
        self.directory = directory
        self.max_bytes = max_bytes
        self._pending: dict[str, asyncio.Future[Path]] = {}
        self.hits = 0
        self.misses = 0

    def _name(self, key: str) -> Path:
        digest = hashlib.sha256(f"{self.store.bucket}/{key}".encode()).hexdigest()[:40]
        return self.directory / f"{digest}.mp4"

    async def held(self, key: str, size: int | None = None) -> Path | None:
        """The local copy of ``key`` when the cache has it already (nothing is fetched)."""
        dest = self._name(key)
        try:
            st = await asyncio.to_thread(dest.stat)
        except OSError:
            return None
        return dest if size is None or st.st_size == size else None

    async def path(self, key: str, size: int | None = None) -> Path:
        """A local file holding object ``key`` (``size`` bytes when known)."""
        dest = self._name(key)
        with contextlib.suppress(OSError):
            st = await asyncio.to_thread(dest.stat)
            if size is None or st.st_size == size:
                await asyncio.to_thread(os.utime, dest)
                self.hits += 1
                return dest
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            await self._fetch(key, dest, size)
        except BaseException as exc:
            error = exc if isinstance(exc, Exception) else ObjectStoreError("cancelled")
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        else:
            future.set_result(dest)
        finally:
            self._pending.pop(key, None)
        self.misses += 1
        return dest

    async def _fetch(self, key: str, dest: Path, size: int | None) -> None:
        await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
        if size is None:
            info = await self.store.head(key)
            if info is None:
                raise ObjectStoreError("no such object")
            size = info.size
        tmp = self.directory / f".{dest.name}.{secrets.token_hex(4)}.part"
        try:
            await self.store.download(key, tmp, size)
            await asyncio.to_thread(os.replace, tmp, dest)
        finally:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(tmp.unlink)
        await asyncio.to_thread(self._evict, dest)

    def _evict(self, keep: Path) -> None:
        """Remove the least recently used files until the cache fits (never ``keep``)."""
        files: list[tuple[float, int, Path]] = []
        for entry in os.scandir(self.directory):
            if entry.is_file() and entry.name.endswith(".mp4"):
                with contextlib.suppress(OSError):
                    st = entry.stat()
                    files.append((st.st_mtime, st.st_size, Path(entry.path)))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                return
            if path == keep:
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size

    def usage(self) -> int:
        """Bytes held now (blocking)."""
        try:
            return sum(e.stat().st_size for e in os.scandir(self.directory) if e.is_file())
        except OSError:
            return 0
