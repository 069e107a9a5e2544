"""Ports on 127.0.0.1: free ones for tests and benchmarks, and whether one listens.

A port is handed out from below the kernel's ephemeral range (``ip_local_port_range``,
32768-60999 by default), where no outgoing connection can take it between the moment it is
chosen and the moment a server binds it, and from a slice of its own for each
pytest-xdist worker (``PYTEST_XDIST_WORKER``), so two workers never hand out the same
port. Within a process the slice is walked from a random start in steps of :data:`_STRIDE`,
so a port just handed out is not handed out again soon, and the ports just above one
handed out stay free for a while: some programs take a block from a base port (the
simulator's ONVIF servers listen on ``--onvif-port`` + 0, 1, 2 …). Each candidate is checked
by binding it; the OS picks one (the old way) only if the whole slice is busy.
"""

from __future__ import annotations

import os
import random
import socket
import threading

_LOW, _HIGH = 12000, 32000  # below the default ephemeral range
_SLICES = 8  # xdist workers gw0..gw7 get a slice each; more workers share slices
_STRIDE = 37  # prime, so the walk visits every port of a slice before it repeats

_lock = threading.Lock()
_next: dict[int, int] = {}


def _slice() -> tuple[int, int]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) % _SLICES if worker.isdigit() else 0
    size = (_HIGH - _LOW) // _SLICES
    return _LOW + index * size, _LOW + (index + 1) * size


def _bindable(kind: int, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pick(kind: int) -> int:
    low, high = _slice()
    with _lock:
        port = _next.get(kind) or random.randrange(low, high)
        for _ in range(high - low):
            candidate, port = port, low + (port + _STRIDE - low) % (high - low)
            if _bindable(kind, candidate):
                _next[kind] = port
                return candidate
    with socket.socket(socket.AF_INET, kind) as s:  # the whole slice is busy
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    return _pick(socket.SOCK_STREAM)


def free_udp_port() -> int:
    """A UDP port that was free a moment ago on 127.0.0.1."""
    return _pick(socket.SOCK_DGRAM)


def port_open(port: int, host: str = "127.0.0.1", timeout_s: float = 0.3) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    with socket.socket() as s:
        s.settimeout(timeout_s)
        return s.connect_ex((host, port)) == 0
