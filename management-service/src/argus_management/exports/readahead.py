"""Reading segment headers ahead for an export's plan, and keeping the disk busy meanwhile.

An export must know every sample before it writes its first byte (the ``moov`` comes
first: faststart), so the plan is made before the copy. Made one file at a time from a
cold cache, it waited on each ``moof`` read (a few KB every MB, random reads) while the
disk had nothing else to do, and the copy could only start after it. Here the headers of
the next files are read by a few threads at once (the reads release the GIL; parsing stays
in order), and the first ``PREFETCH_BYTES`` of media are asked of the kernel
(``POSIX_FADV_WILLNEED``) as their files are reached, so the disk reads what the copy will
need first while the CPU parses. Measured with ``bench/export_bench.py``.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from argus_common.mp4read import Segment, read_segment

AHEAD = 4  # header reads in flight
PREFETCH_BYTES = 256 * 1024 * 1024


class _Timed(Protocol):
    @property
    def path(self) -> Path: ...

    @property
    def start(self) -> float: ...


def _willneed(path: Path, budget: int) -> int:
    """Ask the kernel to read up to ``budget`` bytes of ``path``; returns what was asked."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        size = min(os.fstat(fd).st_size, budget)
        os.posix_fadvise(fd, 0, size, os.POSIX_FADV_WILLNEED)
        return size
    except OSError:
        return 0
    finally:
        os.close(fd)


def parsed_segments(segments: Sequence[_Timed], t_end: float) -> Iterator[tuple[_Timed, Segment]]:
    """``(segment, parsed)`` in order for the segments starting before ``t_end``; a
    segment that cannot be read raises when it is reached, as ``read_segment`` would."""
    wanted = [s for s in segments if s.start < t_end]
    budget = PREFETCH_BYTES
    with ThreadPoolExecutor(AHEAD, thread_name_prefix="export-plan") as pool:
        queue: deque[tuple[_Timed, Future[Segment]]] = deque()
        index = 0
        try:
            while index < len(wanted) or queue:
                while index < len(wanted) and len(queue) < AHEAD:
                    seg = wanted[index]
                    queue.append((seg, pool.submit(read_segment, seg.path)))
                    index += 1
                seg, future = queue.popleft()
                parsed = future.result()
                if budget > 0:
                    budget -= _willneed(seg.path, budget)
                yield seg, parsed
        finally:
            for _seg, future in queue:
                future.cancel()
