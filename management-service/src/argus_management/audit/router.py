"""The audit log under ``/api/v1/audit``: read-only, newest first (permission ``audit:read``).

There is deliberately no update or delete route; the database refuses both as well.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from argus_common.errors import Unprocessable
from argus_management.audit import queries
from argus_management.audit.schemas import AuditFilters, AuditOut
from argus_management.deps import SessionDep
from argus_management.pagination import Page, PageDep
from argus_management.rbac.dependencies import require_permission
from argus_management.rbac.principal import Principal

_read = require_permission("audit:read")
Auditor = Annotated[Principal, Depends(_read)]

router = APIRouter(dependencies=[Depends(_read)])

# Printable text only: PostgreSQL cannot compare against NUL, which would be a 500.
_TEXT = r"^[^\x00-\x1f\x7f]+$"


def audit_filters(
    user: Annotated[
        str | None, Query(max_length=64, pattern=_TEXT, description="user id or username")
    ] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=_TEXT)] = None,
    target_type: Annotated[str | None, Query(max_length=32, pattern=_TEXT)] = None,
    target_id: Annotated[str | None, Query(max_length=64, pattern=_TEXT)] = None,
    start: Annotated[
        datetime | None, Query(description="ISO-8601, inclusive; UTC when no offset is given")
    ] = None,
    end: Annotated[datetime | None, Query(description="ISO-8601, exclusive")] = None,
) -> AuditFilters:
    """The query's filters, checked for consistency."""
    filters = AuditFilters(
        user=user, action=action, target_type=target_type, target_id=target_id,
        start=start, end=end,
    )
    if start is not None and end is not None:
        try:
            reversed_range = start > end
        except TypeError:  # one with an offset, one without
            raise Unprocessable("start and end must both have a UTC offset or neither") from None
        if reversed_range:
            raise Unprocessable("start must not be after end")
    return filters


@router.get("", response_model=Page[AuditOut])
async def list_audit(
    session: SessionDep, _: Auditor, page: PageDep,
    filters: Annotated[AuditFilters, Depends(audit_filters)],
) -> Page[AuditOut]:
    """Audit entries matching the filters, newest first."""
    rows, total = await queries.list_entries(session, filters, page.limit, page.offset)
    return Page[AuditOut](
        items=[AuditOut.model_validate(r) for r in rows], total=total, limit=page.limit,
        offset=page.offset,
    )
