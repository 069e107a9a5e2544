"""The non-blocking file lock that makes one worker of several do a backup job."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import AsyncIterator
from pathlib import Path


@contextlib.asynccontextmanager
async def try_flock(path: Path) -> AsyncIterator[bool]:
    """Try to take an exclusive ``flock`` on ``path`` (created, with its folder) without
    waiting; yields whether this process got it. The lock is held until the block ends
    (the file is closed then), and is the kernel's: a process that dies lets it go."""
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    with await asyncio.to_thread(open, path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            got = False  # another worker holds it
        else:
            got = True
        yield got
