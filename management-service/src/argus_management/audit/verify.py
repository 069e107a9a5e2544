"""Verify the audit log's hash chain: ``python -m argus_management.audit.verify``.

Walks the rows in id order and recomputes each hash. The first break is reported with the
row id and exit code 1:

- ``edited``: the row's content no longer matches its ``row_hash`` (and the next row still
  names the stored hash, so the row was changed in place);
- ``inserted``: the row does not belong to the chain (the next row links over it to the
  row before);
- ``deleted``: the row's ``prev_hash`` is not the hash of the row before it: rows between
  the two are gone (or the row before was rewritten together with its hash);
- ``truncated``: the last row is not the head recorded in ``audit_chain``, or fewer rows
  were walked than were appended.

Someone who can write to the database can rebuild the whole chain, so the head printed
by a successful run should be kept elsewhere (a ticket, the SIEM); ``--anchor ID:HASH``
then checks that row ``ID`` still has that hash.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from argus_management.audit.chain import GENESIS, row_hash
from argus_management.audit.models import AuditChain, AuditEntry
from argus_management.db import make_engine

_PAGE = 1000


@dataclass(frozen=True)
class Problem:
    """The first break found: its kind, the row it was found at, and what is known."""

    kind: str  # edited | inserted | deleted | truncated | anchor
    row_id: int | None
    detail: str


@dataclass(frozen=True)
class Report:
    """The outcome of a walk: rows checked, the head, and the first problem if any."""

    rows: int
    head_id: int | None
    head_hash: str
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def _rows(conn: AsyncConnection) -> AsyncIterator[Any]:
    """Every row by id (keyset pages, so a large log is not loaded at once)."""
    last = 0
    while True:
        page = (await conn.execute(
            select(AuditEntry.__table__).where(AuditEntry.id > last)
            .order_by(AuditEntry.id).limit(_PAGE)
        )).all()
        for row in page:
            yield row
        if len(page) < _PAGE:
            return
        last = page[-1].id


def _own_hash_ok(row: Any) -> bool:
    return row.row_hash is not None and row_hash(row, row.prev_hash) == row.row_hash


@dataclass(frozen=True)
class _Head:
    """The head recorded in ``audit_chain``, judged as if it were one more row."""

    prev_hash: str
    id: None = None
    row_hash: None = None


def _judge(before: Any | None, prev: Any | None, row: Any, nxt: Any | None) -> Problem | None:
    """Whether the chain breaks at ``row``, given the rows around it."""
    expected = prev.row_hash if prev is not None else GENESIS
    head = isinstance(row, _Head)
    linked = row.prev_hash == expected
    intact = head or _own_hash_ok(row)
    if linked and intact:
        return None
    if head:
        if prev is not None and row.prev_hash == (before.row_hash if before else GENESIS):
            return Problem("inserted", prev.id, f"row {prev.id} is not in the chain")
        last = prev.id if prev is not None else None
        return Problem("truncated", last, "the last row is not the recorded head: rows "
                       "were removed from the end")
    if not intact:
        # A row the next one skips over is not part of the chain: it was put in later.
        if nxt is not None and nxt.prev_hash == expected and nxt.prev_hash != row.row_hash:
            return Problem("inserted", row.id, f"row {row.id} is not in the chain")
        return Problem("edited", row.id, f"row {row.id} does not match its hash")
    # Consistent in itself but not linked to the row before.
    if prev is not None and row.prev_hash == (before.row_hash if before else GENESIS):
        # It links over ``prev`` to the row before that: ``prev`` was put in later.
        return Problem("inserted", prev.id, f"row {prev.id} is not in the chain")
    after = prev.id if prev is not None else "the start"
    return Problem("deleted", row.id, f"rows are missing between {after} and {row.id} "
                   "(or the row before was rewritten)")


async def verify_connection(conn: AsyncConnection, anchor: tuple[int, str] | None = None
                            ) -> Report:
    """Walk the chain on ``conn``; stops at the first problem."""
    recorded = (await conn.execute(select(AuditChain.head_hash, AuditChain.appends)
                                   .where(AuditChain.id == 1))).first()

    async def nodes() -> AsyncIterator[Any]:
        async for row in _rows(conn):
            yield row
        if recorded is not None:
            yield _Head(str(recorded[0]))

    before: Any | None = None
    prev: Any | None = None
    pending: Any | None = None
    count = 0
    anchor_ok = anchor is None
    problem: Problem | None = None

    def step(row: Any, nxt: Any | None) -> Problem | None:
        nonlocal anchor_ok
        found = _judge(before, prev, row, nxt)
        if found is None and anchor is not None and row.id == anchor[0]:
            anchor_ok = row.row_hash == anchor[1]
            if not anchor_ok:
                found = Problem("anchor", row.id, f"row {row.id} is not the anchored row")
        return found

    async for node in nodes():
        if pending is not None:
            problem = step(pending, node)
            if problem is not None:
                break
            if not isinstance(pending, _Head):
                count += 1
                before, prev = prev, pending
        pending = node
    if problem is None and pending is not None:
        problem = step(pending, None)
        if problem is None and not isinstance(pending, _Head):
            count += 1
            before, prev = prev, pending
    if problem is None and not anchor_ok:
        problem = Problem("anchor", anchor[0] if anchor else None, "the anchored row is gone")
    if problem is None and recorded is not None and int(recorded[1]) != count:
        problem = Problem("truncated", prev.id if prev is not None else None,
                          f"{int(recorded[1])} rows were appended, {count} are in the chain")
    head_hash = prev.row_hash if prev is not None else GENESIS
    return Report(count, prev.id if prev is not None else None, head_hash, problem)


async def verify(database_url: str, anchor: tuple[int, str] | None = None) -> Report:
    """Walk the chain of the database at ``database_url``."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # One snapshot: rows appended during the walk must not look like a break.
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            return await verify_connection(conn, anchor)
    finally:
        await engine.dispose()


def _anchor(text: str) -> tuple[int, str]:
    row_id, _, digest = text.partition(":")
    if not row_id.isdigit() or len(digest) != 64:
        raise argparse.ArgumentTypeError("expected ID:HASH (the head a previous run printed)")
    return int(row_id), digest.lower()


def main(argv: list[str] | None = None) -> int:
    """Command line: 0 when the chain is intact, 1 at the first break, 2 on bad usage."""
    parser = argparse.ArgumentParser(prog="argus-management audit verify",
                                     description="Check the audit log's hash chain.")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="default: DATABASE_URL, else the management settings")
    parser.add_argument("--anchor", type=_anchor, help="ID:HASH a previous run printed")
    args = parser.parse_args(argv)
    url = args.database_url
    if not url:
        from argus_management.config import get_settings

        url = get_settings().database_url
    report = asyncio.run(verify(url, args.anchor))
    if report.problem is not None:
        p = report.problem
        print(f"audit chain BROKEN: {p.kind} at row {p.row_id}: {p.detail} "
              f"({report.rows} rows verified before it)")
        return 1
    print(f"audit chain OK: {report.rows} rows; head {report.head_id}:{report.head_hash}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
