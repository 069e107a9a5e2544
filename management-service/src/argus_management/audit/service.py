"""Writing the audit trail: in the caller's transaction, or detached for failures.

``record`` does not put the row into the session at once: it is added when the caller's
transaction commits (``before_commit`` below), so the chain's lock (``chain.py``) is held
for the commit only, never while a request goes on to do slow or locking work, and a
detached write later in the same request cannot wait on its own request's lock. A row
recorded inside a savepoint is added at once instead, to roll back with the savepoint.

Floodable anonymous rows (refused logins, password-reset requests, refused RTMP publishes)
go through ``throttle.py``: at most one row per (action, result, address) and minute; so do
a user's repeated probes of one camera (``camera.onvif_probe``), per (user, camera).
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from argus_management.audit import throttle
from argus_management.audit.models import AuditEntry
from argus_management.rbac.principal import Actor

log = structlog.get_logger("argus.audit")

_SECRET_FIELDS = {"password", "new_password", "current_password", "token", "key", "secret"}
_PENDING = "audit_pending"


def clean_summary(summary: dict[str, Any] | None) -> dict[str, Any]:
    """Drop secrets from a change summary; secrets are recorded only as having changed."""
    out: dict[str, Any] = {}
    for key, value in (summary or {}).items():
        if key in _SECRET_FIELDS or key.endswith("_password") or key.endswith("_enc"):
            out[key] = "[changed]"
        else:
            out[key] = value
    return out


def entry(
    actor: Actor, action: str, target_type: str | None, target_id: Any,
    summary: dict[str, Any] | None, result: str, **extra: Any,
) -> AuditEntry:
    """An unsaved row (``extra``: ``ts``, ``dedupe_key``)."""
    return AuditEntry(
        user_id=actor.user_id,
        username=actor.username,
        ip=actor.ip,
        user_agent=actor.user_agent,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        summary=clean_summary(summary),
        result=result,
        **extra,
    )


def add_at_commit(session: AsyncSession | Session, row: AuditEntry) -> None:
    """Add ``row`` to ``session`` when its transaction commits (at once in a savepoint)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if sync.in_nested_transaction():
        sync.add(row)
    else:
        sync.info.setdefault(_PENDING, []).append(row)


@event.listens_for(Session, "before_commit")
def _add_pending(session: Session) -> None:
    pending: list[AuditEntry] = session.info.pop(_PENDING, [])
    if pending:
        session.add_all(pending)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous: SessionTransaction) -> None:
    # Only a rollback of the whole transaction: pending rows never belong to a savepoint.
    if not previous.nested:
        session.info.pop(_PENDING, None)


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target_type: str | None = None,
    target_id: Any = None,
    summary: dict[str, Any] | None = None,
    result: str = "success",
) -> None:
    """Add an audit row to the caller's transaction: it commits or rolls back with the change."""
    # Begin the transaction now, so that a rollback before the commit drops the row.
    await session.connection()
    if throttle.throttled(actor, action, result, target_type):
        await throttle.count(session, entry(actor, action, target_type, target_id, summary,
                                            result))
        return
    add_at_commit(session, entry(actor, action, target_type, target_id, summary, result))


async def record_detached(
    maker: async_sessionmaker[AsyncSession],
    actor: Actor,
    action: str,
    target_type: str | None = None,
    target_id: Any = None,
    summary: dict[str, Any] | None = None,
    result: str = "failure",
) -> None:
    """Audit something whose request fails (its own transaction would roll back)."""
    async with maker() as session:
        await record(session, actor, action, target_type, target_id, summary, result)
        await session.commit()
