"""A durable local outbox: what a service must deliver to Redis (or another service), kept
on disk until it has been delivered.

One directory per channel under the outbox's directory (the channels are the subclass's:
the recorder's ``segments`` and ``notices``, management's ``bus``); one small JSON file per
record, named by a sequence number, written to a temporary name, fsynced and renamed (then
the directory is fsynced), so a record is either whole or absent after a crash. A record is
removed only after its delivery succeeded; delivery is at-least-once and every receiver is
idempotent (segments are indexed by path, events by message id).

When a record cannot be written (a full disk) it is kept in memory instead and delivered
all the same; only a crash loses it then.

Each instance holds an ``flock`` on its directory. Instance ids change with every start by
default (host and pid), so an outbox whose lock is free belongs to a process that is gone:
``orphans`` lets a live one adopt it and deliver what it holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import structlog

log = structlog.get_logger("argus.outbox")

_SUFFIX = ".json"


def fsync_dir(path: Path) -> None:
    """Make the directory entries (new, renamed or removed files) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Record:
    """One pending record: its sequence number, where it lives, what it says."""

    seq: int
    channel: str
    data: dict[str, Any]
    path: Path | None  # None: kept in memory (it could not be written)


class Outbox:
    """The outbox of one instance (or one adopted from a process that is gone). Subclasses
    name their ``channels``."""

    channels: tuple[str, ...] = ()

    def __init__(self, directory: Path, durable: bool = True) -> None:
        self.directory = directory
        self.durable = durable
        self._mutex = threading.Lock()
        self._memory: dict[str, list[Record]] = {c: [] for c in self.channels}
        self._lock_fd = -1
        self._seq = 0

    def open(self) -> bool:
        """Create the directories and take the instance's lock; False when another live
        process holds it (then nothing here may be touched)."""
        for channel in self.channels:
            (self.directory / channel).mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        self._seq = max((seq for c in self.channels for seq, _ in self._names(c)), default=0)
        return True

    def close(self) -> None:
        """Let go of the lock (the records stay for the next start to deliver)."""
        fd, self._lock_fd = self._lock_fd, -1
        if fd >= 0:
            os.close(fd)

    def put(self, channel: str, data: dict[str, Any]) -> Record:
        """Write one record durably (blocking: call it off the event loop)."""
        with self._mutex:
            self._seq += 1
            seq = self._seq
        name = f"{seq:016d}{_SUFFIX}"
        folder = self.directory / channel
        tmp = folder / f".{name}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, separators=(",", ":"))
                if self.durable:
                    f.flush()
                    os.fsync(f.fileno())
            os.rename(tmp, folder / name)
            if self.durable:
                fsync_dir(folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            log.warning(
                "outbox_write_failed",
                channel=channel,
                error=type(exc).__name__,
                detail="kept in memory until delivered",
            )
            record = Record(seq, channel, data, None)
            with self._mutex:
                self._memory[channel].append(record)
            return record
        return Record(seq, channel, data, folder / name)

    def _names(self, channel: str) -> list[tuple[int, str]]:
        try:
            names = os.listdir(self.directory / channel)
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            if name.endswith(_SUFFIX) and not name.startswith("."):
                with contextlib.suppress(ValueError):
                    out.append((int(name[: -len(_SUFFIX)]), name))
        return sorted(out)

    def _on_disk(self, channel: str, limit: int) -> list[Record]:
        """The oldest ``limit`` records of ``channel`` on disk (only those are read)."""
        folder = self.directory / channel
        records = []
        for seq, name in self._names(channel)[:limit]:
            try:
                with open(folder / name, encoding="utf-8") as f:
                    data = json.load(f)
            except (ValueError, OSError):
                log.warning("outbox_record_unreadable", channel=channel, name=name)
                with contextlib.suppress(OSError):
                    os.rename(folder / name, folder / f".{name}.bad")
                continue
            if isinstance(data, dict):
                records.append(Record(seq, channel, data, folder / name))
        return records

    def pending(self, channel: str, limit: int = 500) -> list[Record]:
        """The oldest undelivered records of ``channel``, in order (blocking)."""
        with self._mutex:
            memory = list(self._memory[channel])
        return sorted([*self._on_disk(channel, limit), *memory], key=lambda r: r.seq)[:limit]

    def count(self) -> int:
        """Records waiting, all channels (blocking)."""
        total = 0
        for channel in self.channels:
            with contextlib.suppress(FileNotFoundError):
                total += sum(
                    1
                    for n in os.listdir(self.directory / channel)
                    if n.endswith(_SUFFIX) and not n.startswith(".")
                )
            with self._mutex:
                total += len(self._memory[channel])
        return total

    def done(self, record: Record) -> None:
        """The record was delivered: forget it (blocking)."""
        if record.path is None:
            with self._mutex:
                with contextlib.suppress(ValueError):
                    self._memory[record.channel].remove(record)
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(record.path)
        # No fsync: a removal lost in a crash only means one more (idempotent) delivery.

    def orphans(self) -> list[Self]:
        """Outboxes of other instances whose lock is free (their recorder is gone), each
        opened (locked) for this process to deliver."""
        parent = self.directory.parent
        found: list[Self] = []
        try:
            entries = list(os.scandir(parent))
        except FileNotFoundError:
            return found
        for entry in entries:
            if not entry.is_dir() or Path(entry.path) == self.directory:
                continue
            other = type(self)(Path(entry.path), self.durable)
            try:
                if other.open():
                    found.append(other)
            except OSError:
                continue
        return found

    def remove_if_empty(self) -> bool:
        """Remove an adopted outbox once everything in it is delivered."""
        if self.count():
            return False
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)
        return True
