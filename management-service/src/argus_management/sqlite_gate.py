"""One writer at a time on SQLite, in arrival order, across every process of one database.

SQLite has one write lock per database. Left alone, a writer that finds it taken sleeps in
SQLite's busy handler and polls (after 1, 2, 5, 10 … then every 100 ms): the writer that
has waited longest sleeps longest and is the least likely to find the lock free when it
wakes, so with ten writers on two uvicorn workers the slowest writes took seconds although
each holds the lock for milliseconds (issue 17, docs/benchmarks.md). The gate queues the
writers instead of letting them poll:

- within a process, an ``asyncio.Lock`` (first come, first served, no thread, no sleep);
- across processes (the other workers, a CLI), ``flock`` on ``<database>-writer.lock``,
  taken by the one writer of each process that holds the first lock: at once when it is
  free and no other process waits for it (no thread: with one worker, every write), else
  waited for in a thread, which holds a shared ``flock`` on ``<database>-writer.wait``
  meanwhile so that the holder's process queues behind it; the kernel wakes it when the
  holder lets go.

A connection takes the gate just before its transaction's first write (``INSERT``,
``UPDATE``, ``DELETE``, ``REPLACE``, or a ``SAVEPOINT`` outside a transaction) and begins
that transaction with ``BEGIN IMMEDIATE`` (the sqlite3 module's implicit begin before a
write, in the write's own round trip to aiosqlite's thread; an explicit one before a
``SAVEPOINT``), so it holds SQLite's write lock from its first statement (never a read
snapshot upgraded too late); it gives the gate back when the
connection is returned to the pool, committed or rolled back. Reads never take it: in WAL
they run beside the writer. SQLite's busy timeout stays as the backstop for writers that
do not use the gate (the ``sqlite3`` shell); the gate waits no longer than that timeout
either, then fails like a locked database (503).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

try:  # SQLAlchemy 2.1 (the lock); 2.0 names it await_only
    from sqlalchemy.util import await_
except ImportError:  # pragma: no cover
    from sqlalchemy.util import await_only as await_  # type: ignore[no-redef,unused-ignore]

log = structlog.get_logger("argus.db")

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriteGate:
    """The writers' queue of one database in this process (see the module docstring)."""

    def __init__(self, lock_file: Path | None, timeout_s: float) -> None:
        self._lock_file = lock_file
        self._timeout_s = timeout_s
        self._local = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fd: int | None = None
        self._wait_fd: int | None = None  # "<database>-writer.wait": shared while waiting
        self.holder: Any = None  # the DBAPI connection that holds the gate
        self._holder_task: asyncio.Task[Any] | None = None

    async def acquire(self, holder: Any) -> None:
        """Wait for the gate (at most the timeout), then hold it for ``holder``.

        A task that holds the gate through one connection and asks for it through another
        (a detached write while its own transaction is open) would wait for itself: that
        fails at once instead of after the timeout."""
        task = asyncio.current_task()
        if task is not None and task is self._holder_task:
            log.error("sqlite_write_gate_reentered")
            raise sqlite3.OperationalError(
                "database is locked (this task's own open write transaction holds it)"
            )
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._local.acquire()
        except TimeoutError:
            raise _locked() from None
        self._loop = asyncio.get_running_loop()
        if self._lock_file is not None:
            try:
                if self._fd is None:
                    self._fd = _open(self._lock_file)
                if self._wait_fd is None:
                    self._wait_fd = _open(self._lock_file.with_suffix(".wait"))
            except BaseException:
                self._local.release()
                raise
            if not _take_if_free(self._fd, self._wait_fd):
                await self._flock(self._fd, self._wait_fd)
        self.holder = holder
        self._holder_task = task

    def release(self, holder: Any) -> None:
        """Give the gate back if ``holder`` holds it (idempotent)."""
        if holder is None or self.holder is not holder:
            return
        self.holder = None
        self._holder_task = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._release_local()

    def _release_local(self) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._loop is not None and running is not self._loop:
            # A pool event outside the loop (a connection collected by the GC).
            self._loop.call_soon_threadsafe(self._local.release)
        else:
            self._local.release()

    async def _flock(self, fd: int, wait_fd: int) -> None:
        """Hold ``flock`` on ``fd`` (this process holds the local lock), waiting for it in
        a thread: the kernel wakes it when the other process lets go."""
        waiting = asyncio.get_running_loop().run_in_executor(None, _wait_for, fd, wait_fd)
        try:
            async with asyncio.timeout(self._timeout_s):
                await asyncio.shield(waiting)
        except BaseException as exc:
            # The thread gets the lock in the end: let it go then, and only then open this
            # process's queue again (the process's writers share the fd).
            def _abandon(done: asyncio.Future[None]) -> None:
                if not done.cancelled() and done.exception() is None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                self._local.release()

            waiting.add_done_callback(_abandon)
            if isinstance(exc, TimeoutError):
                log.warning("sqlite_write_gate_timeout", timeout_s=self._timeout_s)
                raise _locked() from None
            raise


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def _take_if_free(fd: int, wait_fd: int) -> bool:
    """Take the lock at once, without a thread, if it is free and no other process waits
    for it (a waiter holds a shared lock on the wait file). Otherwise the caller waits in
    line: a process letting go must not take the lock straight back before the waiter the
    kernel just woke gets to run (that starved the other worker: p99 243 -> 499 ms)."""
    try:
        fcntl.flock(wait_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # someone waits
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        fcntl.flock(wait_fd, fcntl.LOCK_UN)


def _wait_for(fd: int, wait_fd: int) -> None:
    """In a thread: say so on the wait file, and wait for the lock."""
    fcntl.flock(wait_fd, fcntl.LOCK_SH)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    finally:
        fcntl.flock(wait_fd, fcntl.LOCK_UN)


def _locked() -> sqlite3.OperationalError:
    return sqlite3.OperationalError("database is locked (write gate)")


def _starts_writing(statement: str, in_transaction: bool) -> bool:
    word = statement.lstrip()[:9].upper()
    return word.startswith(_WRITES) or (word.startswith("SAVEPOINT") and not in_transaction)


def install_write_gate(engine: AsyncEngine, lock_file: Path | None, timeout_s: float) -> None:
    """Queue ``engine``'s writers through one :class:`WriteGate` (``lock_file``: None for a
    database no other process opens, such as ``:memory:``)."""
    gate = WriteGate(lock_file, timeout_s)
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _take_gate(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        dbapi_conn = conn.connection.dbapi_connection
        if dbapi_conn is None or gate.holder is dbapi_conn:
            return
        driver = conn.connection.driver_connection
        in_transaction = bool(driver is not None and driver.in_transaction)
        if not _starts_writing(statement, in_transaction):
            return
        # Runs in SQLAlchemy's greenlet on the event loop: await_ suspends this request
        # only, like any statement's round trip to aiosqlite's thread.
        await_(gate.acquire(dbapi_conn))
        # A DML statement begins the transaction itself: the sqlite3 module sends
        # BEGIN IMMEDIATE before it in the same round trip (isolation_level, set at
        # connect below). A SAVEPOINT does not, so it gets its own BEGIN IMMEDIATE first.
        if not in_transaction and not statement.lstrip()[:7].upper().startswith(_WRITES):
            begin = dbapi_conn.cursor()
            try:
                begin.execute("BEGIN IMMEDIATE")
            finally:
                begin.close()

    @event.listens_for(sync_engine, "connect")
    def _immediate(dbapi_conn: Any, _record: Any) -> None:
        # The sqlite3 module's implicit BEGIN before INSERT/UPDATE/DELETE/REPLACE is
        # BEGIN IMMEDIATE: one round trip to aiosqlite's thread less per write transaction.
        dbapi_conn.isolation_level = "IMMEDIATE"

    def _give_back(dbapi_conn: Any, *_: Any) -> None:
        gate.release(dbapi_conn)

    @event.listens_for(sync_engine, "reset")
    def _on_reset(dbapi_conn: Any, _record: Any, state: Any) -> None:
        # Committed or rolled back by its Connection already: nothing more will be written.
        # (Otherwise the pool rolls it back next, and checkin gives the gate back.)
        if state.transaction_was_reset:
            gate.release(dbapi_conn)

    for name in ("checkin", "invalidate", "detach", "close", "close_detached"):
        event.listen(sync_engine, name, _give_back)
