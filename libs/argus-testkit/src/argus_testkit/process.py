"""One process launcher for tests, benchmarks and ``make run``.

A :class:`Proc` is started in a process group of its own (so that a signal sent to the
caller's group never reaches it twice, and a stop reaches its workers too), writes stdout and
stderr to a log file of its own (nothing to drain, nothing lost when the caller dies), and,
when started from the main thread, gets ``PR_SET_PDEATHSIG`` so that a caller killed with
SIGKILL does not leave it running. Readiness is an HTTP URL answering 200, a TCP port
accepting connections, or an output line with a given prefix (:class:`Ready`); every wait is
bounded. :meth:`Proc.stop` sends SIGTERM to the group, then SIGKILL, bounded in time.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argus_testkit.ports import port_open
from argus_testkit.wait import WaitTimeout, http_ok

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Ready:
    """When a started process counts as ready: ``http`` answers 200, something accepts
    connections on ``tcp``, or the process printed a line starting with ``line``."""

    http: str | None = None
    tcp: int | None = None
    line: str | None = None
    host: str = "127.0.0.1"
    timeout_s: float = 60.0

    def describe(self) -> str:
        """``GET url``, ``tcp host:port`` or ``line 'prefix'`` (for messages)."""
        if self.http:
            return f"GET {self.http}"
        if self.tcp:
            return f"tcp {self.host}:{self.tcp}"
        return f"line {self.line!r}"


def _set_pdeathsig() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member changed user: still there
        return True
    return True


def signal_group(pgid: int, sig: int) -> None:
    """Send ``sig`` to process group ``pgid``; a group that is gone is not an error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class Proc:
    """A started process, its log file and how to stop it."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], log: Path, offset: int) -> None:
        self.name = name
        self.proc = popen
        self.log = log
        self._offset = offset  # where this run's output starts in the (appended) log file
        self.pgid = popen.pid  # start_new_session: the leader's pid is the group id
        self.started_at = time.time()
        self.ready_line: str | None = None

    @classmethod
    def start(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log: Path,
        cwd: Path | None = None,
        pdeathsig: bool | None = None,
    ) -> Proc:
        """Start ``argv`` in a new session with its output appended to ``log``.
        ``pdeathsig`` (default: when called from the main thread) makes the kernel send
        SIGTERM to the process when this thread dies; never from a worker thread, whose
        exit would stop the process."""
        if pdeathsig is None:
            pdeathsig = threading.current_thread() is threading.main_thread()
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            offset = out.tell()
            popen = subprocess.Popen(  # noqa: S603 - argv comes from the service table
                list(argv), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_set_pdeathsig if pdeathsig else None,
            )
        return cls(name, popen, log, offset)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    # -- output --------------------------------------------------------------------------

    def text(self) -> str:
        """Everything this run printed so far."""
        try:
            with self.log.open("rb") as f:
                f.seek(self._offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    @property
    def output(self) -> list[str]:
        """This run's output lines."""
        return self.text().splitlines()

    def tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines (failure messages)."""
        return "\n".join(self.output[-lines:])

    def json_lines(self) -> list[dict[str, Any]]:
        """The output lines that are JSON objects (structlog's lines)."""
        out = []
        for line in self.output:
            with contextlib.suppress(ValueError):
                value = json.loads(line)
                if isinstance(value, dict):
                    out.append(value)
        return out

    def find_line(self, prefix: str) -> str | None:
        """The rest of the first output line that starts with ``prefix``."""
        for line in self.output:
            if line.startswith(prefix):
                return line[len(prefix):]
        return None

    # -- readiness -----------------------------------------------------------------------

    def probe(self, ready: Ready) -> bool:
        """One readiness check (no waiting)."""
        if ready.http:
            return http_ok(ready.http)
        if ready.tcp:
            return port_open(ready.tcp, ready.host)
        if ready.line:
            found = self.find_line(ready.line)
            if found is not None:
                self.ready_line = found.strip()
                return True
        return False

    def wait_ready(self, ready: Ready, timeout_s: float | None = None,
                   interval_s: float = 0.1) -> str:
        """Wait (bounded) until ``ready`` holds; returns the rest of the ready line (or "").
        On a timeout or an early exit the process is stopped and ``RuntimeError`` raised
        with its output, so a half-started process is never left behind."""
        limit = ready.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + limit
        while True:
            if self.probe(ready):
                return self.ready_line or ""
            if not self.alive:
                raise RuntimeError(f"{self.name} exited with {self.returncode} before it was "
                                   f"ready:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise WaitTimeout(f"{self.name} not ready ({ready.describe()}) within "
                                  f"{limit:g} s:\n{self.tail()}")
            time.sleep(interval_s)

    # -- stopping ------------------------------------------------------------------------

    def send(self, sig: int) -> None:
        """Send ``sig`` to the process itself (not its group)."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self, timeout_s: float = 10.0) -> None:
        """SIGKILL the process (what ``kill -9`` does), reap it, then clean its group."""
        self.send(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout_s)
        self._clean_group(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM to the process group, SIGKILL after ``timeout_s``; returns the exit code.
        Safe to call any number of times."""
        if self.alive:
            signal_group(self.pgid, signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                signal_group(self.pgid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(5)
        self._clean_group(timeout_s)
        return self.proc.poll()

    def _clean_group(self, timeout_s: float) -> None:
        """Members of the group that outlived the leader (workers): SIGTERM, then SIGKILL."""
        if not _group_alive(self.pgid):
            return
        signal_group(self.pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _group_alive(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _group_alive(self.pgid):
            return
        signal_group(self.pgid, signal.SIGKILL)
        # Gone once reaped (their parent, or init for orphans): bounded wait for that.
        deadline = time.monotonic() + 5
        while _group_alive(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.02)


class Launcher:
    """The processes one test module or benchmark started, logs under ``log_dir``; stops
    them all (last started first) on :meth:`stop_all` or at the end of a ``with`` block."""

    def __init__(self, log_dir: Path, cwd: Path | None = None) -> None:
        self.log_dir = log_dir
        self.cwd = cwd
        self.procs: list[Proc] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        ready: Ready | None = None,
        timeout_s: float | None = None,
    ) -> Proc:
        """Start a process (log ``<log_dir>/<name>.log``) and wait until it is ready."""
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
        proc = Proc.start(name, argv, env=env, log=self.log_dir / f"{safe}.log", cwd=self.cwd)
        self.procs.append(proc)
        if ready is not None:
            proc.wait_ready(ready, timeout_s)
        return proc

    def get(self, name: str) -> Proc:
        """The process started as ``name`` (the latest one)."""
        return next(p for p in reversed(self.procs) if p.name == name)

    def logs(self, lines: int = 40) -> str:
        """The last lines of every process (failure messages)."""
        return "\n".join(f"--- {p.name} (pid {p.pid}) ---\n{p.tail(lines)}" for p in self.procs)

    def stop_all(self, timeout_s: float = 10.0) -> None:
        """Stop every process, the last started first."""
        for proc in reversed(self.procs):
            proc.stop(timeout_s)

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


@contextlib.contextmanager
def launched(log_dir: Path, cwd: Path | None = None) -> Iterator[Launcher]:
    """A :class:`Launcher` whose processes are stopped when the block ends."""
    launcher = Launcher(log_dir, cwd)
    try:
        yield launcher
    finally:
        launcher.stop_all()
