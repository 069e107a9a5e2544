"""The supervisor of ``make run``: runs entries of the service table like a service manager.

- Each service starts once the services it comes ``after`` are ready, and counts as ready
  when its readiness check passes (bounded); hooks run once when their services are ready.
- A service that exits is restarted after a backoff (``argus_common.retry.Backoff``, reset
  after it stayed up ``stable_s``); one service's crash never stops another.
- Every service runs in a process group of its own with ``PR_SET_PDEATHSIG`` (the kernel
  sends it SIGTERM if the supervisor is killed outright). SIGTERM, SIGINT and SIGHUP only
  set a flag read by the event loop (no exception raised wherever the signal lands), so any
  number of signals in any order lead to one orderly stop: dependents first, SIGTERM to each
  group, SIGKILL after the service's stop timeout.
- Output goes to ``<data>/logs/<service>.log``; state (pid, state, restarts, start times) to
  ``<data>/run/status.json`` after every change, read by ``make status``
  (:mod:`argus_testkit.runstate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from argus_common.retry import Backoff
from argus_testkit.process import Proc, Ready, signal_group
from argus_testkit.runstate import STACK_ID_ENV
from argus_testkit.services import Service

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
POLL_S = 0.2


@dataclass
class Unit:
    """Run-time state of one service."""

    spec: Service
    backoff: Backoff
    proc: Proc | None = None
    state: str = "waiting"  # waiting, starting, ready, backoff, exited, failed, stopping, stopped
    restarts: int = 0
    ready_once: asyncio.Event = field(default_factory=asyncio.Event)
    last_exit: int | None = None
    ready_at: float | None = None

    def view(self) -> dict[str, Any]:
        """The unit as ``status.json`` keeps it."""
        p = self.proc
        return {"name": self.spec.name, "state": self.state, "restarts": self.restarts,
                "pid": p.pid if p else None, "pgid": p.pgid if p else None,
                "started_at": p.started_at if p else None, "ready_at": self.ready_at,
                "last_exit": self.last_exit, "log": str(p.log) if p else None}


@dataclass(frozen=True)
class Hook:
    """``run()`` (blocking; it runs in a thread) once every service in ``when`` is ready."""

    when: tuple[str, ...]
    run: Callable[[], None]
    name: str = "hook"


class Supervisor:
    """Supervise ``services`` (in table order) with ``env`` as their shared environment."""

    def __init__(self, services: Sequence[Service], env: Mapping[str, str], data_dir: Path,
                 hooks: Sequence[Hook] = (), out: TextIO | None = None,
                 cwd: Path | None = None) -> None:
        self.units = {s.name: Unit(s, Backoff(steps=s.restart.backoff)) for s in services}
        self.stack_id = uuid.uuid4().hex
        self.env = {**env, STACK_ID_ENV: self.stack_id}
        self.data_dir = data_dir
        self.logs = data_dir / "logs"
        self.status_path = data_dir / "run" / "status.json"
        self.hooks = list(hooks)
        self.cwd = cwd
        self._out = out
        self._stop: asyncio.Event | None = None
        self._signals: list[str] = []
        self.started_at = time.time()

    # -- output and state ----------------------------------------------------------------

    def say(self, text: str) -> None:
        """One line on the supervisor's own output."""
        line = f"{time.strftime('%H:%M:%S')} supervisor: {text}"
        if self._out is not None:
            print(line, file=self._out, flush=True)
        else:
            print(line, flush=True)

    def write_status(self) -> None:
        """Replace ``status.json`` atomically."""
        self.status_path.parent.mkdir(parents=True, exist_ok=True)
        body = {"supervisor_pid": os.getpid(), "stack_id": self.stack_id,
                "started_at": self.started_at,
                "stopping": bool(self._stop and self._stop.is_set()),
                "services": [u.view() for u in self.units.values()]}
        tmp = self.status_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=1))
        tmp.replace(self.status_path)

    def _set(self, unit: Unit, state: str) -> None:
        unit.state = state
        self.write_status()

    # -- signals -------------------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        """Ask for the orderly stop; idempotent (later calls are only noted)."""
        assert self._stop is not None
        self._signals.append(reason)
        if self._stop.is_set():
            self.say(f"{reason}: already stopping")
            return
        self.say(f"{reason}: stopping the stack")
        self._stop.set()

    # -- the run -------------------------------------------------------------------------

    async def run(self) -> int:
        """Supervise until a stop signal; then stop everything. Returns the exit status."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.request_stop, signal.Signals(sig).name)
        # Signals that arrived before the handlers were installed were blocked, not lost.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.write_status()
        tasks = [asyncio.create_task(self._supervise(u), name=u.spec.name)
                 for u in self.units.values()]
        tasks += [asyncio.create_task(self._hook(h)) for h in self.hooks]
        try:
            await self._stop.wait()
        finally:
            # Nothing below may be cut short: signals only set the (already set) flag.
            self._stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._stop_all()
            self.write_status()
            self.say("stopped")
        return 0

    async def _supervise(self, unit: Unit) -> None:
        spec = unit.spec
        deps = [self.units[d] for d in spec.after if d in self.units]
        if deps:
            self._set(unit, "waiting")
            await asyncio.gather(*(d.ready_once.wait() for d in deps))
        while True:
            try:
                self._start(unit)
            except OSError as exc:  # not installed, not executable: nothing to restart
                self.say(f"{spec.name} cannot start: {exc}")
                self._set(unit, "failed")
                return
            assert unit.proc is not None
            if await self._wait_ready(unit.proc, spec.ready):
                unit.ready_at = time.time()
                unit.ready_once.set()
                self._set(unit, "ready")
                self.say(f"{spec.name} ready (pid {unit.proc.pid})")
            elif unit.proc.alive:
                self.say(f"{spec.name} not ready within {spec.ready.timeout_s:g} s "
                         f"({spec.ready.describe()}); restarting it")
                await self._terminate(unit)
            code = await self._exited(unit.proc)
            await asyncio.to_thread(unit.proc.stop, 2.0)  # workers that outlived it
            unit.last_exit = code
            up = time.time() - unit.proc.started_at
            self.say(f"{spec.name} exited with {code} after {up:.1f} s; "
                     f"log {unit.proc.log}")
            policy = spec.restart.policy
            if policy == "never" or (policy == "on-failure" and code == 0):
                self._set(unit, "exited" if code == 0 else "failed")
                return
            if up >= spec.restart.stable_s:
                unit.backoff.reset()
            delay = unit.backoff.next()
            unit.restarts += 1
            self._set(unit, "backoff")
            self.say(f"{spec.name}: restart {unit.restarts} in {delay:g} s")
            await asyncio.sleep(delay)

    def _start(self, unit: Unit) -> None:
        spec = unit.spec
        for d in spec.dirs:
            Path(d).mkdir(parents=True, exist_ok=True)
            Path(d).chmod(0o755)  # nginx's workers run as nobody when started as root
        # Forked from the loop's (main) thread: PR_SET_PDEATHSIG follows this thread.
        unit.proc = Proc.start(spec.name, spec.argv, env={**self.env, **spec.env},
                               log=self.logs / f"{spec.name}.log", cwd=self.cwd,
                               pdeathsig=True)
        self._set(unit, "starting")
        self.say(f"{spec.name} started (pid {unit.proc.pid})")

    async def _wait_ready(self, proc: Proc, ready: Ready) -> bool:
        deadline = time.monotonic() + ready.timeout_s
        async with httpx.AsyncClient(timeout=1.0) as client:
            while proc.alive and time.monotonic() < deadline:
                if await _probe(client, proc, ready):
                    return True
                await asyncio.sleep(POLL_S)
        return False

    async def _exited(self, proc: Proc) -> int:
        """Wait for ``proc`` to exit: a pidfd readable when it does (Linux), else polling."""
        if proc.alive:
            try:
                fd = os.pidfd_open(proc.pid)
            except (AttributeError, OSError):  # no pidfd: a thread waits instead
                await asyncio.to_thread(proc.proc.wait)
            else:
                loop = asyncio.get_running_loop()
                done: asyncio.Future[None] = loop.create_future()

                def readable() -> None:
                    if not done.done():
                        done.set_result(None)

                loop.add_reader(fd, readable)
                try:
                    if proc.alive:
                        await done
                finally:
                    loop.remove_reader(fd)
                    os.close(fd)
        code = proc.proc.wait()
        return code

    async def _hook(self, hook: Hook) -> None:
        await asyncio.gather(*(self.units[n].ready_once.wait() for n in hook.when
                               if n in self.units))
        try:
            await asyncio.to_thread(hook.run)
        except Exception as exc:  # a failed hook is reported, the stack keeps running
            self.say(f"{hook.name} failed: {type(exc).__name__}: {exc}")

    # -- stopping ------------------------------------------------------------------------

    async def _terminate(self, unit: Unit) -> None:
        """SIGTERM the unit's group; SIGKILL after its stop timeout; reap it."""
        proc = unit.proc
        if proc is None:
            return
        if proc.alive:
            signal_group(proc.pgid, signal.SIGTERM)
            try:
                async with asyncio.timeout(unit.spec.stop_timeout_s):
                    await self._exited(proc)
            except TimeoutError:
                self.say(f"{unit.spec.name} ignored SIGTERM for "
                         f"{unit.spec.stop_timeout_s:g} s: SIGKILL")
                signal_group(proc.pgid, signal.SIGKILL)
                async with asyncio.timeout(10):
                    await self._exited(proc)
        await asyncio.to_thread(proc.stop, 2.0)  # anything left in its group

    async def _stop_all(self) -> None:
        """Stop every unit, dependents before what they depend on (each level at once)."""
        for level in reversed(_levels(self.units)):
            running = [u for u in level if u.proc is not None and u.proc.alive]
            for u in running:
                u.state = "stopping"
            if running:
                self.write_status()
                self.say("stopping " + ", ".join(u.spec.name for u in running))
            await asyncio.gather(*(self._terminate(u) for u in level), return_exceptions=True)
            for u in level:
                if u.proc is not None:
                    u.last_exit = u.proc.returncode
                u.state = "stopped"
            self.write_status()


def _levels(units: Mapping[str, Unit]) -> list[list[Unit]]:
    """Units grouped by depth in the ``after`` graph (level 0 depends on nothing here)."""
    depth: dict[str, int] = {}

    def d(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name not in depth:
            deps = [x for x in units[name].spec.after if x in units and x not in seen]
            depth[name] = 1 + max((d(x, seen | {name}) for x in deps), default=-1)
        return depth[name]

    levels: list[list[Unit]] = []
    for name, unit in units.items():
        k = d(name)
        while len(levels) <= k:
            levels.append([])
        levels[k].append(unit)
    return levels


async def _probe(client: httpx.AsyncClient, proc: Proc, ready: Ready) -> bool:
    if ready.http:
        try:
            return (await client.get(ready.http)).status_code == 200
        except httpx.HTTPError:
            return False
    if ready.tcp:
        try:
            async with asyncio.timeout(1):
                _, writer = await asyncio.open_connection(ready.host, ready.tcp)
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return proc.probe(ready)


def block_stop_signals() -> None:
    """Block the stop signals until :meth:`Supervisor.run` handles them (call first thing
    in ``main``) so that one arriving during start-up is not lost nor fatal."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
