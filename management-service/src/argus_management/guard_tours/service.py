"""Guard tours: create, change and delete (audited), list with their live status.

One enabled tour per camera: the runner could not serve two at once (both would want the
camera's single PTZ lock).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_common.errors import Conflict, NotFound, Unprocessable
from argus_management.audit import service as audit
from argus_management.cameras.models import Camera
from argus_management.guard_tours import state
from argus_management.guard_tours.models import GuardTour
from argus_management.guard_tours.schemas import (
    GuardTourCreate,
    GuardTourOut,
    GuardTourStatus,
    GuardTourUpdate,
    Step,
)
from argus_management.rbac.principal import Actor, Principal


def steps_of(tour: GuardTour) -> list[Step]:
    return [Step.model_validate(s) for s in (tour.schedule or {}).get("steps", [])]


async def describe(bus: RedisBus, tours: Sequence[GuardTour]) -> list[GuardTourOut]:
    live = await state.read(bus, [t.id for t in tours])
    out = []
    for tour in tours:
        status = live.get(tour.id) or GuardTourStatus(state="idle")
        if not tour.enabled:
            status = GuardTourStatus(state="disabled")
        out.append(
            GuardTourOut(
                id=tour.id,
                camera_id=tour.camera_id,
                name=tour.name,
                enabled=tour.enabled,
                steps=steps_of(tour),
                created_by=tour.created_by,
                created_at=tour.created_at,
                updated_at=tour.updated_at,
                status=status,
            )
        )
    return out


async def list_tours(session: AsyncSession, principal: Principal) -> Sequence[GuardTour]:
    query = select(GuardTour).order_by(GuardTour.id)
    if not principal.sees_all_cameras:
        query = query.where(GuardTour.camera_id.in_(list(principal.camera_ids)))
    return (await session.scalars(query)).all()


async def get_tour(session: AsyncSession, principal: Principal, tour_id: int) -> GuardTour:
    tour = await session.get(GuardTour, tour_id)
    if tour is None or not principal.may_see_camera(tour.camera_id):
        raise NotFound("guard tour not found")
    return tour


async def _check_camera(session: AsyncSession, camera_id: int) -> None:
    camera = await session.get(Camera, camera_id)
    if camera is None:
        raise NotFound("camera not found")
    if not camera.has_ptz or not camera.onvif_host:
        raise Conflict("camera has no PTZ")


async def _check_one_enabled(session: AsyncSession, camera_id: int, tour_id: int | None) -> None:
    query = select(GuardTour.name).where(
        GuardTour.camera_id == camera_id, GuardTour.enabled.is_(True)
    )
    if tour_id is not None:
        query = query.where(GuardTour.id != tour_id)
    other = await session.scalar(query)
    if other is not None:
        raise Conflict(f"guard tour {other!r} is already enabled on this camera")


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("this camera already has a guard tour with this name") from None


def _summary(tour: GuardTour) -> dict[str, object]:
    return {
        "name": tour.name,
        "camera_id": tour.camera_id,
        "enabled": tour.enabled,
        "steps": (tour.schedule or {}).get("steps", []),
    }


async def create_tour(session: AsyncSession, data: GuardTourCreate, actor: Actor) -> GuardTour:
    await _check_camera(session, data.camera_id)
    if data.enabled:
        await _check_one_enabled(session, data.camera_id, None)
    tour = GuardTour(
        camera_id=data.camera_id,
        name=data.name,
        enabled=data.enabled,
        schedule={"steps": [s.model_dump() for s in data.steps]},
        created_by=actor.user_id,
    )
    session.add(tour)
    await _flush(session)
    await audit.record(session, actor, "guard_tour.create", "guard_tour", tour.id, _summary(tour))
    return tour


async def update_tour(
    session: AsyncSession, tour: GuardTour, data: GuardTourUpdate, actor: Actor
) -> GuardTour:
    values = data.model_dump(exclude_unset=True)
    if any(values.get(k, "") is None for k in ("name", "enabled", "steps")):
        raise Unprocessable("name, enabled and steps may not be null")
    if values.get("enabled"):
        await _check_one_enabled(session, tour.camera_id, tour.id)
    if "name" in values:
        tour.name = values["name"]
    if "enabled" in values:
        tour.enabled = values["enabled"]
    if data.steps is not None:
        tour.schedule = {"steps": [s.model_dump() for s in data.steps]}
    await _flush(session)
    await audit.record(session, actor, "guard_tour.update", "guard_tour", tour.id, _summary(tour))
    return tour


async def delete_tour(session: AsyncSession, tour: GuardTour, actor: Actor) -> None:
    await audit.record(session, actor, "guard_tour.delete", "guard_tour", tour.id, _summary(tour))
    await session.delete(tour)
    await session.flush()
