"""The hash chain of the audit log.

Every row is chained when it is flushed, whoever adds it (a service, a consumer, a test):
a ``before_flush`` listener takes the chain's lock, reads the head, and gives each new row
``prev_hash`` (the head) and ``row_hash`` = SHA-256 of the row's canonical serialization
(which includes ``prev_hash``); the last one becomes the head.

On PostgreSQL the head is then set by an ``UPDATE`` of ``audit_chain``; on SQLite by a
trigger of the connection's temp schema as each row is inserted (``CREATE TEMP TRIGGER``,
no migration; the lock statement checks that it is there): one statement, a round trip to
aiosqlite's thread, less per append while the database's write lock is held (issue 17).

The lock is the row lock of ``audit_chain`` (id 1), taken with an ``UPDATE``: on
PostgreSQL it is held to the end of the transaction, so appends from every request and
every worker process are serialized and the chain cannot fork; on SQLite the same
``UPDATE`` takes the database's single write lock before the head is read. The chain is
therefore in id order: the verifier walks rows by id.

``audit.service.record`` adds rows only at commit (see there), so the lock is held for
the commit and not for the rest of a request.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, UOWTransaction

from argus_management.audit.models import AuditEntry

GENESIS = "0" * 64  # prev_hash of the first row
FORMAT = 1  # version of the serialization below, hashed with every row

_LOCK = text("UPDATE audit_chain SET appends = appends + :n WHERE id = 1 RETURNING head_hash")
_CREATE = text(
    "INSERT INTO audit_chain (id, head_hash, appends) VALUES (1, :genesis, 0) "
    "ON CONFLICT (id) DO NOTHING"
)
_SET_HEAD = text("UPDATE audit_chain SET head_hash = :head WHERE id = 1")
# SQLite: the head follows each inserted row, set by a trigger of the connection's temp
# schema (no migration). The lock statement says whether the trigger is there: it is not on
# a new connection, nor after a rollback of the transaction that created it, nor once
# audit_log was dropped; it is then created, in the append's transaction.
_LOCK_SQLITE = text(
    "UPDATE audit_chain SET appends = appends + :n WHERE id = 1 RETURNING head_hash, "
    "(SELECT count(*) FROM sqlite_temp_master WHERE type = 'trigger'"
    " AND name = 'argus_audit_head')"
)
_SQLITE_HEAD_TRIGGER = text(
    "CREATE TEMP TRIGGER IF NOT EXISTS argus_audit_head AFTER INSERT ON main.audit_log "
    "BEGIN UPDATE audit_chain SET head_hash = NEW.row_hash WHERE id = 1; END"
)


def _plain(value: Any) -> Any:
    """``value`` as a JSON column gives it back: tuples are lists, and integral floats are
    ints (PostgreSQL's jsonb writes 1e20 back as an integer)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def normalize_summary(summary: dict[str, Any] | None) -> dict[str, Any]:
    """The summary as it will read back from the database (what the hash covers)."""
    plain = _plain(json.loads(json.dumps(summary or {}, default=str)))
    return plain if isinstance(plain, dict) else {}


def _ts(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(row: Any, prev_hash: str | None) -> bytes:
    """The bytes a row's hash covers: every field but ``id`` and ``row_hash``, with
    ``prev_hash``, as sorted compact ASCII JSON."""
    fields = {
        "v": FORMAT,
        "ts": _ts(row.ts),
        "user_id": row.user_id,
        "username": row.username,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "summary": _plain(row.summary or {}),
        "result": row.result,
        "dedupe_key": row.dedupe_key,
        "prev_hash": prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def row_hash(row: Any, prev_hash: str | None) -> str:
    """SHA-256 (hex) of ``canonical(row, prev_hash)``."""
    return hashlib.sha256(canonical(row, prev_hash)).hexdigest()


def lock_head(conn: Connection, appends: int) -> tuple[str, bool]:
    """Take the chain's lock (held to the end of the transaction) and return its head, and
    whether rows inserted now set the head themselves (SQLite's trigger); ``appends`` rows
    are counted as added."""
    sqlite = conn.dialect.name == "sqlite"
    lock = _LOCK_SQLITE if sqlite else _LOCK
    row = conn.execute(lock, {"n": appends}).first()
    if row is None:  # a fresh (or emptied) database: start the chain
        conn.execute(_CREATE, {"genesis": GENESIS})
        row = conn.execute(lock, {"n": appends}).one()
    if sqlite and not row[1]:
        conn.execute(_SQLITE_HEAD_TRIGGER)
    return str(row[0]), sqlite


def chain_entries(conn: Connection, entries: list[AuditEntry]) -> None:
    """Give ``entries`` (in insertion order) their place in the chain."""
    head, head_follows = lock_head(conn, len(entries))
    now = datetime.now(UTC)
    for entry in entries:
        if entry.ts is None:
            # Set here rather than by the database: the hash must cover the stored value.
            entry.ts = now
        entry.summary = normalize_summary(entry.summary)
        if entry.result is None:
            entry.result = "success"
        entry.prev_hash = head
        entry.row_hash = head = row_hash(entry, head)
    if not head_follows:
        conn.execute(_SET_HEAD, {"head": head})


@event.listens_for(Session, "before_flush")
def _chain_new_rows(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditEntry)]
    if not new:
        return
    new.sort(key=lambda obj: inspect(obj).insert_order or 0)
    chain_entries(session.connection(), new)
