"""One backup: dump, put it where backups are kept, delete those past retention, and note
the result in ``<backup dir>/status.json`` (read by the backup-age metric)."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from argus_management.backup.names import backup_name, parse_name
from argus_management.backup.postgres import dump_postgres, is_postgres
from argus_management.backup.sqlite import backup_sqlite, sqlite_path
from argus_management.backup.store import BackupStore, open_store

log = structlog.get_logger("argus.backup")
STATUS_FILE = "status.json"


@dataclass
class BackupResult:
    name: str
    where: str
    bytes: int
    seconds: float
    taken_at: float  # unix time of the backup point
    pruned: list[str]


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def dump(database_url: str, dest: Path) -> str:
    """Write a backup of the database to ``dest``; its kind (blocking)."""
    path = sqlite_path(database_url)
    if path is not None:
        backup_sqlite(path, dest)
        return "sqlite"
    if is_postgres(database_url):
        dump_postgres(database_url, dest)
        return "pgdump"
    raise RuntimeError("no backup method for this DATABASE_URL")


async def prune(store: BackupStore, keep_days: float, now: datetime) -> list[str]:
    """Delete backups older than ``keep_days``; the newest one is always kept."""
    names = await store.names()
    cutoff = now - timedelta(days=keep_days)
    gone = []
    for name in names[:-1]:
        parsed = parse_name(name)
        if parsed is not None and parsed[0] < cutoff:
            await store.delete(name)
            gone.append(name)
    return gone


async def run_backup(database_url: str, backup_dir: str, keep_days: float) -> BackupResult:
    """Back up the database now; raises on failure (the status file keeps the last good)."""
    started = time.monotonic()
    now = datetime.now(UTC)
    work = Path(backup_dir)
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work, prefix=".work-") as tmp:
        dest = Path(tmp) / "backup"
        kind = await asyncio.to_thread(dump, database_url, dest)
        name = backup_name(now, kind)
        size = dest.stat().st_size
        async with open_store(backup_dir) as store:
            await store.put(dest, name)
            pruned = await prune(store, keep_days, now)
            where = store.where
    result = BackupResult(name, where, size, time.monotonic() - started, now.timestamp(), pruned)
    write_json(work / STATUS_FILE, asdict(result))
    log.info(
        "backup_done",
        name=name,
        where=where,
        bytes=size,
        seconds=round(result.seconds, 3),
        pruned=len(pruned),
    )
    return result
