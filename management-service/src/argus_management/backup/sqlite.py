"""SQLite: an online copy with SQLite's backup API (writers go on while it runs)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# One step: the copy is one read transaction. In WAL mode writers go on meanwhile; copying
# in several steps would restart from the first page after every write of another process,
# and might never end on a busy database.
_PAGES = -1


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a ``sqlite+aiosqlite:///path`` URL (None for other URLs)."""
    if not database_url.startswith("sqlite") or ":///" not in database_url:
        return None
    path = database_url.split(":///", 1)[1].split("?", 1)[0]
    return None if not path or path == ":memory:" else Path(path)


def backup_sqlite(source: Path, dest: Path) -> None:
    """Copy the database ``source`` to ``dest`` (a consistent snapshot; blocking)."""
    if not source.exists():
        raise FileNotFoundError(f"no SQLite database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst, pages=_PAGES)
            if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise RuntimeError("the backup copy failed its integrity check")
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    finally:
        src.close()


def restore_sqlite(backup: Path, dest: Path) -> None:
    """Restore ``backup`` as the database file ``dest`` (again through the backup API)."""
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
