"""Reading the audit trail (writing lives in ``service.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_management.audit.models import AuditEntry
from argus_management.audit.schemas import AuditFilters

_MAX_ID = 2**31 - 1


def _conditions(f: AuditFilters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.user is not None:
        # A number may be an id or an all-digit username; match either.
        if f.user.isdigit() and int(f.user) <= _MAX_ID:
            conds.append(or_(AuditEntry.user_id == int(f.user), AuditEntry.username == f.user))
        else:
            conds.append(AuditEntry.username == f.user)
    if f.action is not None:
        conds.append(AuditEntry.action == f.action)
    if f.target_type is not None:
        conds.append(AuditEntry.target_type == f.target_type)
    if f.target_id is not None:
        conds.append(AuditEntry.target_id == f.target_id)
    if f.start is not None:
        conds.append(AuditEntry.ts >= f.start)
    if f.end is not None:
        conds.append(AuditEntry.ts < f.end)
    return conds


async def list_entries(
    session: AsyncSession, filters: AuditFilters, limit: int, offset: int
) -> tuple[Sequence[AuditEntry], int]:
    """Entries matching ``filters``, newest first, and how many match in all."""
    conds: list[Any] = _conditions(filters)
    total = await session.scalar(select(func.count()).select_from(AuditEntry).where(*conds)) or 0
    rows = await session.scalars(
        select(AuditEntry).where(*conds)
        .order_by(AuditEntry.ts.desc(), AuditEntry.id.desc())
        .limit(limit).offset(offset)
    )
    return rows.all(), total
