"""The recorder-wide bandwidth budget shared by every running backfill.

Each backfill keeps its own camera's cap (``RECORDING_BACKFILL_LINK_MBPS x _SHARE``); when
many cameras come back at once (a switch reboot), the backfills together read no more than
``RECORDING_BACKFILL_TOTAL_MBPS`` from the network: one token bucket, charged by every
replay thread, tells a replay how long to stop reading once the recorder is over it.
"""

from __future__ import annotations

import threading
import time

BURST_S = 0.5  # of the budget: what may be read at once before the readers pause


class SharedBudget:
    """A thread-safe token bucket of ``bytes_per_s`` (0: no bound)."""

    def __init__(self, bytes_per_s: float, burst_s: float = BURST_S) -> None:
        self.bytes_per_s = bytes_per_s
        self.burst_s = burst_s
        self._free_at = 0.0  # when the bytes charged so far are paid for
        self._lock = threading.Lock()

    def take(self, nbytes: int, now: float | None = None) -> float:
        """Charge ``nbytes`` just read; the seconds the reader should now pause (0 while
        the recorder is within its budget)."""
        if self.bytes_per_s <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            self._free_at = max(self._free_at, now - self.burst_s) + nbytes / self.bytes_per_s
            return max(0.0, self._free_at - now)
