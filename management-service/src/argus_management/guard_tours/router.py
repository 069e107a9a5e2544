"""PTZ guard tours under ``/api/v1/guard-tours``.

Reading needs ``ptz:control`` (operators see the tours of the cameras they may see, and
whether each runs or waits for them); creating, changing and deleting need
``cameras:write`` (administrators). The server runs enabled tours (``runner.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from argus_management.deps import BusDep, SessionDep
from argus_management.guard_tours import service as svc
from argus_management.guard_tours.models import GuardTour
from argus_management.guard_tours.schemas import (
    MAX_ID,
    GuardTourCreate,
    GuardTourOut,
    GuardTourUpdate,
)
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal

router = APIRouter()
Reader = Annotated[Principal, Depends(require_permission("ptz:control"))]
Writer = Annotated[Principal, Depends(require_permission("cameras:write"))]
TourId = Annotated[int, Path(ge=1, le=MAX_ID, description="guard tour id")]


async def _tour(session: SessionDep, principal: Reader, tour_id: TourId) -> GuardTour:
    return await svc.get_tour(session, principal, tour_id)


async def _writable(session: SessionDep, principal: Writer, tour_id: TourId) -> GuardTour:
    return await svc.get_tour(session, principal, tour_id)


@router.get("", response_model=list[GuardTourOut])
async def list_tours(session: SessionDep, bus: BusDep, principal: Reader) -> list[GuardTourOut]:
    """Every tour of the cameras the caller may see, with what the runner does now."""
    return await svc.describe(bus, await svc.list_tours(session, principal))


@router.post("", response_model=GuardTourOut, status_code=status.HTTP_201_CREATED)
async def create_tour(
    request: Request,
    session: SessionDep,
    bus: BusDep,
    principal: Writer,
    data: GuardTourCreate,
) -> GuardTourOut:
    """A tour of a PTZ camera's presets (at most one enabled per camera): the server goes
    to each preset in turn and stays ``dwell_s``, at the lowest PTZ priority."""
    tour = await svc.create_tour(session, data, actor_for(request, principal))
    return (await svc.describe(bus, [tour]))[0]


@router.get("/{tour_id}", response_model=GuardTourOut)
async def get_tour(bus: BusDep, tour: Annotated[GuardTour, Depends(_tour)]) -> GuardTourOut:
    return (await svc.describe(bus, [tour]))[0]


@router.patch("/{tour_id}", response_model=GuardTourOut)
async def update_tour(
    request: Request,
    session: SessionDep,
    bus: BusDep,
    principal: Writer,
    tour: Annotated[GuardTour, Depends(_writable)],
    data: GuardTourUpdate,
) -> GuardTourOut:
    """Rename, enable or disable, or replace the steps (the runner follows within a
    second)."""
    tour = await svc.update_tour(session, tour, data, actor_for(request, principal))
    return (await svc.describe(bus, [tour]))[0]


@router.delete("/{tour_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_tour(
    request: Request,
    session: SessionDep,
    principal: Writer,
    tour: Annotated[GuardTour, Depends(_writable)],
) -> Response:
    await svc.delete_tour(session, tour, actor_for(request, principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
