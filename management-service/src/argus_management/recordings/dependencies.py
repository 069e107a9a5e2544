"""A camera the caller may act on for recordings: unknown and ungranted are both 404."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query
from pydantic import ValidationError

from argus_common.errors import NotFound, Unprocessable
from argus_management.cameras.dependencies import CAMERA_ID
from argus_management.cameras.models import Camera, DeletedCamera
from argus_management.deps import SessionDep
from argus_management.events.schemas import UtcTime
from argus_management.rbac.dependencies import require_permission
from argus_management.rbac.principal import Principal
from argus_management.recordings.schemas import TimelineWindow

# Who may still see the recordings of a deleted camera.
DELETED_CAMERA_PERMISSION = "cameras:write"


def camera_with(
    permission: str, *, deleted_ok: bool = False
) -> Callable[..., Awaitable[tuple[Camera, Principal]]]:
    """Dependency: the path's camera if the caller holds ``permission`` and may see it.

    With ``deleted_ok``, a deleted camera (its recordings outlive it) is given to callers
    holding ``cameras:write`` too, as a detached row carrying only its id and name: nobody
    else sees its recordings, and no new camera can inherit them (ids are never reused).
    """
    check = require_permission(permission)

    # ``principal`` as a default: string annotations cannot name the local ``check``.
    async def dependency(
        session: SessionDep,
        camera_id: Annotated[int, CAMERA_ID],
        principal: Principal = Depends(check),
    ) -> tuple[Camera, Principal]:
        camera = await session.get(Camera, camera_id)
        if camera is None and deleted_ok and principal.has(DELETED_CAMERA_PERMISSION):
            gone = await session.get(DeletedCamera, camera_id)
            if gone is not None:
                return Camera(id=gone.id, name=gone.name), principal
        if camera is None or not principal.may_see_camera(camera.id):
            raise NotFound("camera not found")
        return camera, principal

    return dependency


def timeline_window(
    start: Annotated[UtcTime, Query(description="ISO-8601; naive times are UTC")],
    end: Annotated[UtcTime, Query(description="after start, at most 7 days later (31 days "
                                              "with resolution_s)")],
    resolution_s: Annotated[float | None, Query(
        ge=1, le=86_400,
        description="summary at this resolution: ranges merged over shorter gaps, gaps "
                    "with causes, event counts per class, no segment list")] = None,
) -> TimelineWindow:
    """The window of a timeline request, checked as a whole (422 when invalid)."""
    try:
        return TimelineWindow(start=start, end=end, resolution_s=resolution_s)
    except ValidationError as exc:
        raise Unprocessable("; ".join(str(e["msg"]) for e in exc.errors())) from None


ReadableCamera = Annotated[
    tuple[Camera, Principal], Depends(camera_with("recordings:read", deleted_ok=True))
]
TriggerableCamera = Annotated[
    tuple[Camera, Principal], Depends(camera_with("recordings:trigger"))
]
Window = Annotated[TimelineWindow, Depends(timeline_window)]
