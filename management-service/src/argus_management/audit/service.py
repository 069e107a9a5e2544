"""Writing the audit trail: in the caller's transaction, or detached for failures."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.audit.models import AuditEntry
from argus_management.rbac.principal import Actor

log = structlog.get_logger("argus.audit")

_SECRET_FIELDS = {"password", "new_password", "current_password", "token", "key", "secret"}


def clean_summary(summary: dict[str, Any] | None) -> dict[str, Any]:
    """Drop secrets from a change summary; secrets are recorded only as having changed."""
    out: dict[str, Any] = {}
    for key, value in (summary or {}).items():
        if key in _SECRET_FIELDS or key.endswith("_password") or key.endswith("_enc"):
            out[key] = "[changed]"
        else:
            out[key] = value
    return out


def _entry(
    actor: Actor, action: str, target_type: str | None, target_id: Any,
    summary: dict[str, Any] | None, result: str,
) -> AuditEntry:
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
    )


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
    session.add(_entry(actor, action, target_type, target_id, summary, result))
    await session.flush()


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
        session.add(_entry(actor, action, target_type, target_id, summary, result))
        await session.commit()
