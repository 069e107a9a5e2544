"""What a ``make run`` stack left behind, read from outside it: ``<data>/run/status.json``,
the processes carrying the stack's id, the ``make status`` table, and stopping what a
killed supervisor left running."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STACK_ID_ENV = "ARGUS_STACK_ID"  # in every service's environment: finds strays in /proc


def read_status(path: Path) -> dict[str, Any] | None:
    """``status.json`` as the supervisor last wrote it (None when there is none)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pid_alive(pid: int | None) -> bool:
    """Whether ``pid`` exists (and is not a zombie)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def stack_pids(stack_id: str) -> list[int]:
    """Processes whose environment carries ``ARGUS_STACK_ID=stack_id`` (any depth)."""
    marker = f"{STACK_ID_ENV}={stack_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0") and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def reap_stale(status_path: Path, say: Callable[[str], None]) -> None:
    """Stop what a previous supervisor of this data directory left running (it was killed
    outright and a service ignored its SIGTERM): found by its stack id, never by name."""
    old = read_status(status_path)
    if not old or pid_alive(old.get("supervisor_pid")):
        return
    pids = stack_pids(str(old.get("stack_id", "")))
    if not pids:
        return
    say(f"stopping {len(pids)} process(es) left by a previous run: {pids}")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)


def format_status(status: dict[str, Any] | None, now: float | None = None) -> str:
    """The table ``make status`` prints."""
    if status is None:
        return "no stack has run with this data directory"
    now = now or time.time()
    running = pid_alive(status.get("supervisor_pid"))
    head = (f"supervisor pid {status.get('supervisor_pid')}: "
            + ("running" + (" (stopping)" if status.get("stopping") else "") if running
               else "not running"))
    rows = [head, f"{'service':<18}{'pid':>8}  {'state':<10}{'restarts':>9}  uptime"]
    for s in status.get("services", []):
        alive = running and pid_alive(s.get("pid"))
        state = s["state"] if running else ("stopped" if not alive else "orphan?")
        started = s.get("started_at")
        uptime = _duration(now - started) if alive and started else "-"
        rows.append(f"{s['name']:<18}{s.get('pid') or '-':>8}  {state:<10}"
                    f"{s.get('restarts', 0):>9}  {uptime}")
    return "\n".join(rows)


def _duration(seconds: float) -> str:
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s" if m else f"{sec}s"
