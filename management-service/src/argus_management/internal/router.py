"""Service-to-service API under ``/internal`` (``X-Internal-Api-Key``, scoped per service:
``rbac/service_scopes.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from argus_common.errors import NotFound
from argus_management.cameras import service as cameras
from argus_management.cameras.models import Camera
from argus_management.cameras.schemas import CameraInternal
from argus_management.deps import SessionDep, SettingsDep
from argus_management.internal.events_router import router as events_router
from argus_management.rbac.service_scopes import CAMERAS_CREDENTIALS, require_service_scope

router = APIRouter()
router.include_router(events_router)  # POST /internal/events (scope events:report)
# Decrypted camera passwords: only the services that pull cameras hold this scope.
_CREDENTIALS = [Depends(require_service_scope(CAMERAS_CREDENTIALS))]


@router.get("/cameras", response_model=list[CameraInternal], dependencies=_CREDENTIALS)
async def internal_cameras(settings: SettingsDep, session: SessionDep) -> list[CameraInternal]:
    """Every camera with its credentials, for the media services."""
    key = settings.secret_key
    return [cameras.to_internal(c, key) for c in await cameras.all_cameras(session)]


@router.get("/cameras/{camera_id}", response_model=CameraInternal, dependencies=_CREDENTIALS)
async def internal_camera(
    settings: SettingsDep, session: SessionDep,
    camera_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> CameraInternal:
    camera = await session.get(Camera, camera_id)
    if camera is None:
        raise NotFound("camera not found")
    return cameras.to_internal(camera, settings.secret_key)
