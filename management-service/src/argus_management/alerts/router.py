"""``/api/v1/alerts``: list and acknowledge the alerts of the cameras the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from argus_management.alerts import service
from argus_management.alerts.rules import NAME_PATTERN, Severity
from argus_management.alerts.schemas import AlertFilters, AlertOut, AlertState
from argus_management.deps import BusDep, SessionDep
from argus_management.events.schemas import MAX_ID
from argus_management.pagination import Page, PageDep
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal

router = APIRouter()

Reader = Annotated[Principal, Depends(require_permission("events:read"))]
Acker = Annotated[Principal, Depends(require_permission("events:ack"))]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]


def alert_filters(
    state: Annotated[AlertState | None, Query()] = None,
    kind: Annotated[str | None, Query(pattern=NAME_PATTERN, description="e.g. motion")] = None,
    camera_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    severity: Annotated[Severity | None, Query()] = None,
) -> AlertFilters:
    """The list filters (each already validated by its query parameter)."""
    return AlertFilters(state=state, kind=kind, camera_id=camera_id, severity=severity)


@router.get("", response_model=Page[AlertOut])
async def list_alerts(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    filters: Annotated[AlertFilters, Depends(alert_filters)],
) -> Page[AlertOut]:
    """Alerts of the cameras the caller may see, newest first."""
    rows, total = await service.list_alerts(session, principal, filters, page)
    return Page[AlertOut](
        items=[AlertOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{alert_id}", response_model=AlertOut)
async def get_alert(session: SessionDep, principal: Reader, alert_id: AlertId) -> AlertOut:
    """One alert; 404 when it does not exist or is not visible to the caller."""
    return AlertOut.model_validate(await service.get_alert(session, principal, alert_id))


@router.post("/{alert_id}/ack", response_model=AlertOut)
async def ack_alert(
    request: Request, bus: BusDep, session: SessionDep, principal: Acker, alert_id: AlertId
) -> AlertOut:
    """Acknowledge an open alert (audited); 409 if already acked or resolved."""
    alert = await service.ack_alert(
        session, bus, principal, actor_for(request, principal), alert_id
    )
    return AlertOut.model_validate(alert)
