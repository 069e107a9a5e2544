"""``/api/v1/cameras/{id}/timeline`` and ``/api/v1/cameras/{id}/record``."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from argus_management.deps import BusDep, EventStoredDep, SessionDep
from argus_management.rbac.dependencies import actor_for
from argus_management.recordings import service
from argus_management.recordings.dependencies import ReadableCamera, TriggerableCamera, Window
from argus_management.recordings.schemas import RecordOut, RecordRequest, TimelineOut

router = APIRouter()


@router.get("/{camera_id}/timeline", response_model=TimelineOut)
async def get_timeline(session: SessionDep, target: ReadableCamera, window: Window) -> TimelineOut:
    """Recorded ranges (gaps kept), events and the segments to play in ``[start, end]``."""
    camera, _ = target
    return await service.timeline(session, camera.id, window)


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
