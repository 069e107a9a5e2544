"""``/api/v1/cameras/{id}/timeline``, ``/api/v1/cameras/{id}/record`` and
``/api/v1/camera-groups/{id}/timeline``."""

from __future__ import annotations

from pathlib import Path as PathType
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status

from argus_common.errors import NotFound, Unprocessable
from argus_management.deps import BusDep, EventStoredDep, SessionDep, SettingsDep
from argus_management.events.schemas import MAX_ID
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal
from argus_management.recordings import service
from argus_management.recordings.dependencies import ReadableCamera, TriggerableCamera, Window
from argus_management.recordings.schemas import (
    GroupTimelineOut,
    RecordOut,
    RecordRequest,
    TimelineOut,
)
from argus_management.recordings.timeline import group_camera_ids

router = APIRouter()
group_router = APIRouter()
MAX_GROUP_CAMERAS = 64


@router.get("/{camera_id}/timeline", response_model=TimelineOut)
async def get_timeline(session: SessionDep, target: ReadableCamera, window: Window,
                       settings: SettingsDep) -> TimelineOut:
    """Recorded ranges (gaps kept), events and the segments to play in ``[start, end]``,
    and ``growing``: what the recorder is still writing."""
    camera, _ = target
    return await service.timeline(session, camera.id, window,
                                  PathType(settings.recordings_root()))


@router.post("/{camera_id}/record", response_model=RecordOut, status_code=status.HTTP_202_ACCEPTED)
async def trigger_recording(
    request: Request, session: SessionDep, target: TriggerableCamera, body: RecordRequest,
    bus: BusDep, stored: EventStoredDep,
) -> RecordOut:
    """Record this camera now for ``duration_s`` seconds (with pre-roll): a ``manual``
    event is stored and announced; the camera's recorder does the rest."""
    camera, principal = target
    event = await service.trigger_recording(
        session, bus, stored, camera, actor_for(request, principal), body.duration_s,
    )
    assert event.ended_at is not None
    return RecordOut(
        event_id=event.id, camera_id=camera.id, started_at=event.started_at,
        ends_at=event.ended_at,
    )


@group_router.get("/{group_id}/timeline", response_model=GroupTimelineOut)
async def get_group_timeline(
    session: SessionDep, window: Window,
    principal: Annotated[Principal, Depends(require_permission("recordings:read"))],
    group_id: Annotated[int, Path(ge=1, le=MAX_ID)], settings: SettingsDep,
) -> GroupTimelineOut:
    """The summary timeline (``resolution_s`` required) of each camera of the group that
    the caller may see, in camera id order."""
    if window.resolution_s is None:
        raise Unprocessable("resolution_s is required for a group timeline")
    camera_ids = await group_camera_ids(session, group_id)
    if camera_ids is None:
        raise NotFound("camera group not found")
    visible = [c for c in camera_ids if principal.may_see_camera(c)][:MAX_GROUP_CAMERAS]
    return GroupTimelineOut(
        group_id=group_id, start=window.start, end=window.end,
        resolution_s=window.resolution_s,
        cameras=[await service.timeline(session, c, window, PathType(settings.recordings_root()))
                 for c in visible],
    )
