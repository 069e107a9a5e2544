"""Segment files from either tier, as local paths, for readers that need a file.

``local`` segments are files under ``RECORDINGS_DIR``; ``object`` segments are fetched into
the read-through cache on first use. The object-store client starts on the first object
read, so a service without tiered recordings never opens a connection.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog

from argus_common.objectstore.cache import ReadThroughCache
from argus_common.objectstore.client import ObjectInfo, ObjectStore, ObjectStoreError
from argus_common.objectstore.settings import ObjectStoreSettings

log = structlog.get_logger("argus.objectstore")


class SegmentFiles:
    """Resolves an index row (path, tier, object key, size) to a readable local file."""

    def __init__(self, root: Path, settings: ObjectStoreSettings | None = None) -> None:
        self.root = root
        self.settings = settings if settings is not None else ObjectStoreSettings()
        self._store: ObjectStore | None = None
        self._cache: ReadThroughCache | None = None
        self._starting = asyncio.Lock()

    async def cache(self) -> ReadThroughCache:
        """The read-through cache (the client is started on first use)."""
        async with self._starting:
            if self._cache is None:
                if not self.settings.enabled:
                    raise ObjectStoreError("no object store configured (ARGUS_S3_BUCKET)")
                store = ObjectStore(self.settings)
                await store.start()
                self._store = store
                self._cache = ReadThroughCache(
                    store, self.settings.cache_dir, self.settings.cache_bytes
                )
            return self._cache

    async def local_path(
        self, path: Path, tier: str, object_key: str | None, size: int | None = None
    ) -> Path | None:
        """A local file of the segment, or None when neither tier has it. ``path`` is the
        checked local path of the segment (callers validate the relative path first)."""
        if tier != "object" or not object_key:
            return path if await asyncio.to_thread(path.is_file) else None
        try:
            cache = await self.cache()
            return await cache.path(object_key, size or None)
        except ObjectStoreError as exc:
            log.warning("object_read_failed", error=str(exc))
            # The recorder may not have removed the local copy yet.
            return path if await asyncio.to_thread(path.is_file) else None

    async def held(self, tier: str, object_key: str | None, size: int | None = None) -> Path | None:
        """The read-through cache's copy of a tiered segment, when it has one already."""
        if tier != "object" or not object_key or not self.settings.enabled:
            return None
        return await (await self.cache()).held(object_key, size or None)

    async def head(self, object_key: str) -> ObjectInfo | None:
        """The object's size and ETag (None: no such object)."""
        return await (await self.cache()).store.head(object_key)

    async def read_range(self, object_key: str, first: int, last: int) -> bytes:
        """Bytes ``first`` to ``last`` (inclusive) of the object: one ranged GET."""
        return await (await self.cache()).store.get_range(object_key, first, last)

    async def close(self) -> None:
        """Close the client (idempotent)."""
        if self._store is not None:
            await self._store.close()
            self._store = None
            self._cache = None
