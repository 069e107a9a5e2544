"""Where backups are kept: a bucket of the object store or a local directory."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from argus_common.objectstore import ObjectStore, ObjectStoreSettings, object_key
from argus_management.backup.names import parse_name

S3_FOLDER = "backups/management"


class BackupStore(Protocol):
    where: str

    async def put(self, path: Path, name: str) -> None: ...
    async def names(self) -> list[str]: ...
    async def fetch(self, name: str, dest: Path) -> None: ...
    async def delete(self, name: str) -> None: ...


class LocalBackups:
    """Backups as files in one directory (no object store configured)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.where = str(directory)

    async def put(self, path: Path, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(path.replace, self.directory / name)

    async def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir() if parse_name(p.name))

    async def fetch(self, name: str, dest: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, self.directory / name, dest)

    async def delete(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)


class S3Backups:
    """Backups as objects under ``<prefix>/backups/management/`` of the store's bucket."""

    def __init__(self, store: ObjectStore, prefix: str) -> None:
        self.store = store
        self.folder = object_key(prefix, S3_FOLDER)
        self.where = f"s3://{store.bucket}/{self.folder}/"

    def _key(self, name: str) -> str:
        return f"{self.folder}/{name}"

    async def put(self, path: Path, name: str) -> None:
        await self.store.ensure_bucket()
        await self.store.put_file(path, self._key(name))  # checks size and MD5
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def names(self) -> list[str]:
        found = []
        async for info in self.store.list(self.folder + "/"):
            name = info.key.rsplit("/", 1)[-1]
            if parse_name(name):
                found.append(name)
        return sorted(found)

    async def fetch(self, name: str, dest: Path) -> None:
        info = await self.store.head(self._key(name))
        if info is None:
            raise FileNotFoundError(name)
        await self.store.download(self._key(name), dest, info.size)

    async def delete(self, name: str) -> None:
        await self.store.delete(self._key(name))


@contextlib.asynccontextmanager
async def open_store(backup_dir: str) -> AsyncIterator[BackupStore]:
    """The object store when ``ARGUS_S3_BUCKET`` is set, else ``backup_dir``."""
    s3 = ObjectStoreSettings()
    if not s3.enabled:
        yield LocalBackups(Path(backup_dir))
        return
    async with ObjectStore(s3) as store:
        yield S3Backups(store, s3.prefix)
