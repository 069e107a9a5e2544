"""Camera lookup with access check: an ungranted camera is a 404, like a missing one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from argus_common.errors import NotFound
from argus_management.cameras.models import Camera
from argus_management.deps import SessionDep
from argus_management.rbac.dependencies import require_permission
from argus_management.rbac.principal import Principal

CAMERA_ID = Path(ge=1, le=2**31 - 1, description="camera id")
# One dependency object, so a route that also wants the principal gets the same (cached)
# answer instead of a second token check.
_reader = require_permission("cameras:read")
CameraReader = Annotated[Principal, Depends(_reader)]


async def _visible_camera(
    session: SessionDep,
    principal: CameraReader,
    camera_id: Annotated[int, CAMERA_ID],
) -> Camera:
    camera = await session.get(Camera, camera_id)
    if camera is None or not principal.may_see_camera(camera.id):
        raise NotFound("camera not found")
    return camera


VisibleCamera = Annotated[Camera, Depends(_visible_camera)]
