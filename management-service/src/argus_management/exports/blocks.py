"""Reading an export's media in a thread of its own, ahead of the writer.

A plan's byte ranges are read in big blocks into a few reused buffers by one thread while
the caller checksums and writes the blocks before them, so the disk never waits on the CPU
(CRC-32, SHA-256, the copy into the page cache) nor the CPU on the disk: the copy costs
about max(read, checksums + write) instead of their sum. ``preadv`` releases the GIL; the
kernel is told that each file is read straight through and the next file is asked for when
one is opened.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

BLOCK = 8 * 1024 * 1024
# Buffers in all: two belong to the consumer (the block it writes and the one its sink may
# still be hashing, see ``remux.Sink``), the others are read ahead.
BUFFERS = 5
_HELD = 2
_OPEN_FILES = 4


def _prefetch(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    finally:
        os.close(fd)


class BlockReader:
    """Yields the bytes of ``ranges`` ((source index, offset, length), in order) as
    memoryviews of at most ``block`` bytes. A yielded view stays valid until the consumer
    has asked for the second view after it; iterate once, and ``close`` (or leave the
    ``with`` block) to stop the thread early."""

    def __init__(
        self,
        sources: Sequence[Path],
        ranges: Sequence[tuple[int, int, int]],
        block: int = BLOCK,
        buffers: int = BUFFERS,
    ) -> None:
        if buffers <= _HELD:
            raise ValueError("need more buffers than the consumer holds")
        self._sources = sources
        self._ranges = ranges
        self._block = block
        self._views = [memoryview(bytearray(block)) for _ in range(buffers)]
        self._free: queue.Queue[int] = queue.Queue()
        for index in range(buffers):
            self._free.put(index)
        self._ready: queue.Queue[tuple[int, int] | BaseException | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="export-read", daemon=True)
        self._started = False

    def __enter__(self) -> BlockReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[memoryview]:
        if self._started:
            raise RuntimeError("a BlockReader is iterated once")
        self._started = True
        self._thread.start()
        held: list[int] = []
        while True:
            item = self._ready.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            index, length = item
            held.append(index)
            if len(held) > _HELD:
                self._free.put(held.pop(0))
            yield self._views[index][:length]

    def close(self) -> None:
        """Stop the reading thread and wait for it."""
        self._stop.set()
        for _ in self._views:
            self._free.put(-1)  # wakes a reader waiting for a buffer
        if self._started:
            self._thread.join()

    def _run(self) -> None:
        try:
            self._read_all()
        except BaseException as exc:  # handed to the consumer, raised there
            self._ready.put(exc)
        else:
            self._ready.put(None)

    def _read_all(self) -> None:
        fds: dict[int, int] = {}
        try:
            for src, offset, length in self._ranges:
                fd = fds.get(src)
                if fd is None:
                    fd = fds[src] = os.open(self._sources[src], os.O_RDONLY | os.O_CLOEXEC)
                    # Straight through: the kernel may read ahead generously; the next file
                    # is asked for now, so the disk reads it while this one is copied.
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
                    if src + 1 < len(self._sources):
                        _prefetch(self._sources[src + 1])
                while length:
                    index = self._free.get()
                    if self._stop.is_set():
                        return
                    view = self._views[index]
                    got = os.preadv(fd, [view[: min(length, self._block)]], offset)
                    if got <= 0:
                        raise OSError(f"{self._sources[src].name} ended early")
                    self._ready.put((index, got))
                    offset += got
                    length -= got
                # Close files behind us: an hour is 60 files, a day 1,440.
                if len(fds) > _OPEN_FILES:
                    for key in sorted(fds)[:-2]:
                        os.close(fds.pop(key))
        finally:
            for fd in fds.values():
                os.close(fd)
