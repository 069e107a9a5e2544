"""SQLAlchemy's aiosqlite driver with one thread round trip per statement.

aiosqlite runs each SQLite connection in its own thread; every call made on it is queued to
that thread, and its result comes back through the event loop (a thread wake-up, a GIL
hand-over, the loop's self-pipe and one loop iteration, behind whatever else the loop has
ready). SQLAlchemy's adapter makes four such calls for a statement that returns rows
(create the cursor, execute, fetch all, close the cursor) and three for one that does not.
While a write transaction holds SQLite's single write lock, those round trips are what the
other writers wait for (issue 17: about 15 of them per audited write, docs/benchmarks.md).

The cursor below does the same work in one call run in the connection's thread: a fresh
``sqlite3`` cursor executes the statement, its rows, description, row count and last row id
are collected, and it is closed, all before the result is handed back. Rows are buffered as
the stock adapter buffers them (it fetches them all after ``execute``); server-side cursors
(``stream_results``) keep SQLAlchemy's own class. Statements on one connection still run
one at a time (the adapter's mutex and aiosqlite's single thread).

The connection's thread is reached through ``aiosqlite.Connection._execute``, the queue
SQLAlchemy's adapter itself uses for ``isolation_level``; aiosqlite is pinned in the lock
file, and ``tests/test_sqlite_driver.py`` covers what SQLAlchemy reads from a cursor.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_cursor as _StockCursor,
)
from sqlalchemy.util import EMPTY_DICT

try:  # SQLAlchemy 2.1; 2.0 names it await_only
    from sqlalchemy.util import await_
except ImportError:  # pragma: no cover
    from sqlalchemy.util import await_only as await_  # type: ignore[no-redef,unused-ignore]

# What one statement leaves behind: description, rowcount, lastrowid, rows.
_Outcome = tuple[Any, int, int | None, list[Any]]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """In the connection's thread: execute, fetch everything, close the cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement costs one round trip to the connection's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    # Nothing to close asynchronously: the sqlite3 cursor is closed in the thread.
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # Not the parent's __init__: it creates an aiosqlite cursor (a round trip).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._rows = collections.deque()
        self._soft_closed_memoized = EMPTY_DICT
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def nextset(self) -> None:
        raise NotImplementedError("SQLite has one result set per statement")

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._one_trip(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._one_trip(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _one_trip(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection._conn, operation, parameters, many
            )
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls: type[_StockCursor] = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite "DBAPI module" whose connections hand out :class:`OneTripCursor`."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    """For ``create_async_engine(..., module=one_trip_dbapi())`` on ``sqlite+aiosqlite``."""
    return OneTripDBAPI(aiosqlite, sqlite3)
