"""Fencing on the recordings volume: at most one writer per camera, whatever Redis says.

The Redis lease decides who *should* record a camera; this lock decides who *may write* its
files. A worker holds an exclusive ``flock`` on ``<RECORDINGS_DIR>/<camera_id>/.writer.lock``
for as long as it runs; a new owner (another recorder, or this one after a restart of the
worker) waits for the lock before it reconciles or writes anything. The kernel drops the
lock of a process that dies (``kill -9``) at once, so a takeover is not delayed; a recorder
that is merely cut off from Redis keeps its lock and keeps recording until it learns that
its lease is someone else's, and only then lets go. ``RECORDINGS_DIR`` must therefore be one
filesystem that every recorder sharing the cameras sees, with working locks (a local disk,
or NFSv4, where a dead client's locks go when its lease times out).

``flock`` locks belong to an open file description: two opens in one process exclude each
other like two processes do, which is what a worker restarted in place needs.

``LIVE`` lists the segment files this process has open for writing; start-up reconcile
skips them, so a salvage never truncates a file that is still being written.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import structlog

log = structlog.get_logger("argus.recording.fencing")

LOCK_NAME = ".writer.lock"
POLL_S = 0.25
_WAIT_LOG_S = 30.0


class LivePaths:
    """Relative paths of segment files open for writing in this process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] = set()

    def add(self, relpath: str) -> None:
        with self._lock:
            self._paths.add(relpath)

    def discard(self, relpath: str) -> None:
        with self._lock:
            self._paths.discard(relpath)

    def __contains__(self, relpath: object) -> bool:
        with self._lock:
            return relpath in self._paths

    def snapshot(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._paths)


LIVE = LivePaths()


class CameraLock:
    """The exclusive writer lock of one camera's directory."""

    def __init__(self, root: Path, camera_id: int, holder: str) -> None:
        self.camera_id = camera_id
        self.path = root / str(camera_id) / LOCK_NAME
        self.holder = holder
        self._fd = -1
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def try_acquire(self) -> bool:
        """Take the lock if free (never blocks); True when held now. A filesystem error
        (a full disk that cannot take the directory) counts as not acquired: try again."""
        with self._mutex:
            if self._fd >= 0:
                return True
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                log.warning("camera_lock_unavailable", camera_id=self.camera_id,
                            error=type(exc).__name__)
                return False
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        self._note_holder()
        return True

    def _note_holder(self) -> None:
        # Who holds it, for the log line of whoever waits (best effort: a full disk is fine).
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{self.holder} pid={os.getpid()}\n".encode(), 0)
        except OSError:
            pass

    def current_holder(self) -> str:
        """What the holder wrote into the lock file (for logs)."""
        try:
            return self.path.read_text(errors="replace").strip()[:200]
        except OSError:
            return "?"

    def release(self) -> None:
        """Let go (idempotent). Closing the descriptor drops the lock."""
        with self._mutex:
            fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def wait_blocking(self, stopped: Callable[[], bool]) -> bool:
        """Wait in a thread until the lock is ours (True) or ``stopped()`` (False)."""
        since = time.monotonic()
        logged = 0.0
        while not stopped():
            if self.try_acquire():
                self._waited(since)
                return True
            if time.monotonic() - logged >= _WAIT_LOG_S:
                logged = time.monotonic()
                log.warning("camera_lock_busy", camera_id=self.camera_id,
                            holder=self.current_holder())
            time.sleep(POLL_S)
        return False

    async def wait(self, stopped: Callable[[], bool] = lambda: False) -> bool:
        """Wait on the loop until the lock is ours (True) or ``stopped()`` (False);
        cancellable."""
        since = time.monotonic()
        logged = 0.0
        while not stopped():
            if self.try_acquire():  # open + non-blocking flock: never waits
                self._waited(since)
                return True
            if time.monotonic() - logged >= _WAIT_LOG_S:
                logged = time.monotonic()
                log.warning("camera_lock_busy", camera_id=self.camera_id,
                            holder=self.current_holder())
            await asyncio.sleep(POLL_S)
        return False

    def _waited(self, since: float) -> None:
        waited = time.monotonic() - since
        if waited >= POLL_S:
            log.info("camera_lock_acquired", camera_id=self.camera_id, waited_s=round(waited, 2))
