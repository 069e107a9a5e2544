"""Floodable anonymous audit rows: at most one per (action, result, address) and minute;
repeated actions of a user on one target: at most one per (action, result, user, target).

Anyone can send refused logins, password-reset requests or refused RTMP publishes as fast
as the network allows; one row each would let a flood fill the log and bury what matters.
A few harmless actions of a signed-in user repeat by design (the camera form probes its
ONVIF camera each time it opens: ``camera.onvif_probe`` on a camera). For each key
(action, result, client address; or action, result, user, target) ``audit_throttle``
remembers the minute of the last row written and counts the events since that got no row:

- an event in a minute that has no row yet for its key is written at once, with
  ``summary.count`` = itself plus the events counted before it (``count`` is left out
  when it is 1, so a lone event reads exactly as before);
- an event in a minute that already has its row is only counted (the latest one is kept
  as a sample: its username, target and summary);
- :func:`flush_due`, every few seconds, writes one row for each key whose counted events
  belong to an earlier minute (that row is then the key's row of the current minute).

So a sustained flood from one address writes one row a minute, a short burst writes its
first row at once and one more with the count, and nothing is lost: the counts and the
row are written in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry, AuditThrottle
from argus_management.rbac.principal import Actor

log = structlog.get_logger("argus.audit.throttle")

# Refused or anonymous requests anyone can repeat at will.
_FLOODABLE_FAILURES = {"auth.login_failed", "auth.lockout", "auth.password_reset",
                       "rtmp.publish", "rtmp.unpublish"}
_FLOODABLE_ALWAYS = {"auth.password_reset_request"}
# (action, target type) a signed-in user repeats on one target by design.
_REPEATED = {("camera.onvif_probe", "camera")}
_BATCH = 500


def floodable(actor: Actor, action: str, result: str) -> bool:
    """Whether a row of an anonymous ``actor`` goes through the throttle."""
    if actor.user_id is not None:
        return False
    return action in _FLOODABLE_ALWAYS or (action in _FLOODABLE_FAILURES and result != "success")


def throttled(actor: Actor, action: str, result: str, target_type: str | None) -> bool:
    """Whether a row goes through the throttle: a floodable anonymous one, or a user's
    repeated action on a target."""
    if actor.user_id is not None:
        return (action, target_type) in _REPEATED
    return floodable(actor, action, result)


def minute(at: datetime) -> int:
    """Minutes since the epoch (the throttle's window)."""
    return int(at.timestamp() // 60)


def _key(row: AuditEntry) -> str:
    if row.user_id is not None:  # a user's repeated action: per user and target
        return f"{row.action}|{row.result}|u{row.user_id}|{row.target_type}:{row.target_id}"[:200]
    return f"{row.action}|{row.result}|{row.ip or '-'}"[:200]


def _sample(row: AuditEntry, at: datetime) -> dict[str, Any]:
    return {
        "user_id": row.user_id, "username": row.username, "user_agent": row.user_agent,
        "action": row.action, "result": row.result, "ip": row.ip,
        "target_type": row.target_type, "target_id": row.target_id,
        "summary": row.summary or {}, "at": at.isoformat(),
    }


def _with_count(summary: dict[str, Any], count: int, **extra: Any) -> dict[str, Any]:
    out = dict(summary)
    if count > 1:
        out["count"] = count
    out.update(extra)
    return out


async def _state(session: AsyncSession, key: str) -> tuple[int, int, dict[str, Any]]:
    """The key's (window, suppressed, first_at sample), its row locked to the end of the
    transaction (created when missing: the insert also takes SQLite's write lock)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(AuditThrottle).values(key=key, window=-1, suppressed=0, sample={})
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = (await session.execute(
        select(AuditThrottle.window, AuditThrottle.suppressed, AuditThrottle.sample)
        .where(AuditThrottle.key == key).with_for_update()
    )).one()
    return int(row[0]), int(row[1]), dict(row[2] or {})


async def count(session: AsyncSession, row: AuditEntry, now: datetime | None = None) -> None:
    """Write ``row`` if its key has no row this minute, else count it (see the module)."""
    from argus_management.audit.service import add_at_commit  # service imports this module

    at = now or datetime.now(UTC)
    window = minute(at)
    key = _key(row)
    last_window, suppressed, sample = await _state(session, key)
    if window > last_window:
        extra = {"first_at": sample["first_at"]} if suppressed and "first_at" in sample else {}
        row.summary = _with_count(row.summary or {}, suppressed + 1, **extra)
        row.ts = at
        add_at_commit(session, row)
        values: dict[str, Any] = {"window": window, "suppressed": 0, "sample": {}}
    else:
        new_sample = _sample(row, at)
        new_sample["first_at"] = sample.get("first_at", at.isoformat()) if suppressed else (
            at.isoformat())
        values = {"suppressed": suppressed + 1, "sample": new_sample}
    await session.execute(update(AuditThrottle).where(AuditThrottle.key == key).values(**values))


async def flush_due(maker: async_sessionmaker[AsyncSession], now: datetime | None = None) -> int:
    """Write one row per key whose counted events are from an earlier minute; forget keys
    idle for two minutes. Returns the number of rows written."""
    at = now or datetime.now(UTC)
    window = minute(at)
    async with maker() as session:
        query = (
            select(AuditThrottle)
            .where(AuditThrottle.suppressed > 0, AuditThrottle.window < window)
            .limit(_BATCH)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Another worker flushing at the same moment takes the other keys.
            query = query.with_for_update(skip_locked=True)
        due = list(await session.scalars(query))
        for state in due:
            sample = state.sample or {}
            actor = Actor(user_id=sample.get("user_id"), username=sample.get("username"),
                          ip=sample.get("ip"), user_agent=sample.get("user_agent"))
            summary = _with_count(sample.get("summary") or {}, state.suppressed,
                                  first_at=sample.get("first_at"), last_at=sample.get("at"))
            session.add(AuditEntry(
                ts=at, user_id=actor.user_id, username=actor.username, ip=actor.ip,
                user_agent=actor.user_agent, action=str(sample.get("action") or "unknown"),
                target_type=sample.get("target_type"), target_id=sample.get("target_id"),
                summary=summary, result=str(sample.get("result") or "failure"),
            ))
            state.window, state.suppressed, state.sample = window, 0, {}
        await session.execute(
            delete(AuditThrottle).where(AuditThrottle.suppressed == 0,
                                        AuditThrottle.window < window - 1)
        )
        await session.commit()
    if due:
        log.info("audit_throttle_flushed", rows=len(due))
    return len(due)
