"""Camera REST API under ``/api/v1/cameras``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from argus_management.cameras import cache
from argus_management.cameras import service as svc
from argus_management.cameras.dependencies import CameraReader, VisibleCamera
from argus_management.cameras.schemas import CameraCreate, CameraOut, CameraUpdate, for_viewer
from argus_management.deps import BusDep, SessionDep, SettingsDep, StateDep
from argus_management.pagination import Page, PageDep
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal
from argus_management.responses import CAMERA_DOWN

router = APIRouter()
Reader = Annotated[Principal, Depends(require_permission("cameras:read"))]
Writer = Annotated[Principal, Depends(require_permission("cameras:write"))]


@router.get("", response_model=Page[CameraOut])
async def list_cameras(
    request: Request, principal: Reader, page: PageDep, state: StateDep
) -> Response:
    """Cameras the user may see (admins: all), paginated by id.

    The hottest route of the console: a cache hit touches neither the database nor a
    session (see cameras/cache.py for why a hit is never stale).
    """
    scope = "all" if principal.sees_all_cameras else principal.camera_ids
    key = cache.list_key(request.state.cameras_version, scope, page.limit, page.offset)
    store = state.caches.responses
    body = store.get(key)
    if body is None:

        async def build() -> bytes:
            async with state.sessionmaker() as session:
                rows, total = await svc.list_cameras(session, principal, page.limit, page.offset)
            shape = (lambda c: c) if principal.sees_all_cameras else for_viewer
            result = Page[CameraOut](
                items=[shape(svc.to_out(c)) for c in rows], total=total, limit=page.limit,
                offset=page.offset,
            )
            return result.model_dump_json().encode()

        body = await store.single_flight(key, build)
    return Response(body, media_type="application/json")


@router.post("", response_model=CameraOut, status_code=status.HTTP_201_CREATED,
             responses=CAMERA_DOWN)
async def create_camera(
    request: Request, session: SessionDep, principal: Writer, data: CameraCreate,
    state: StateDep,
) -> CameraOut:
    """Add a camera; credentials in the URL are moved to the encrypted password field."""
    s = state.settings
    camera = await svc.create_camera(
        session, state.bus, s.secret_key, s.camera_allowed_networks, data,
        actor_for(request, principal), fill_from_profile=state.fill_from_profile,
    )
    return svc.to_out(camera)


@router.get("/{camera_id}", response_model=CameraOut)
async def get_camera(camera: VisibleCamera, principal: CameraReader) -> CameraOut:
    """One camera (viewers: without its addresses and account, see ``for_viewer``)."""
    out = svc.to_out(camera)
    return out if principal.sees_all_cameras else for_viewer(out)


@router.patch("/{camera_id}", response_model=CameraOut)
async def update_camera(
    request: Request, session: SessionDep, principal: Writer, camera: VisibleCamera,
    data: CameraUpdate, settings: SettingsDep, bus: BusDep,
) -> CameraOut:
    camera = await svc.update_camera(
        session, bus, settings.secret_key, settings.camera_allowed_networks, camera, data,
        actor_for(request, principal),
    )
    return svc.to_out(camera)


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_camera(
    request: Request, bus: BusDep, session: SessionDep, principal: Writer, camera: VisibleCamera
) -> Response:
    await svc.delete_camera(session, bus, camera, actor_for(request, principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
