"""WHEP (WebRTC-HTTP egress): ``POST /whep/{camera_id}`` with an SDP offer, ``DELETE`` to end.

Live by default; ``?start=<ISO-8601>`` plays recordings from that instant instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from argus_common.errors import ArgusError, PayloadTooLarge
from argus_streaming import audit
from argus_streaming.auth.caps import ensure_capacity
from argus_streaming.auth.dependencies import CurrentUser, check_camera
from argus_streaming.instants import utc_instant
from argus_streaming.playback.service import start_playback
from argus_streaming.responses import CAMERA_DOWN, MANAGEMENT_DOWN
from argus_streaming.webrtc.sessions import WhepManager

router = APIRouter()
CameraId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_SDP = 64 * 1024


class UnsupportedMediaType(ArgusError):
    status_code = 415


class MethodNotAllowed(ArgusError):
    status_code = 405


def _whep(request: Request) -> WhepManager:
    manager: WhepManager = request.app.state.whep
    return manager


async def _read_offer(request: Request) -> str:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/sdp":
        raise UnsupportedMediaType("the offer must be sent as application/sdp")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SDP:
            raise PayloadTooLarge("SDP offer too large")
    return body.decode("utf-8", "replace")


@router.post("/whep/{camera_id}", status_code=201, response_class=Response,
             responses={201: {"content": {"application/sdp": {}}}, **CAMERA_DOWN,
                        **MANAGEMENT_DOWN})
async def whep_offer(
    request: Request,
    camera_id: CameraId,
    user: CurrentUser,
    stream: Annotated[Literal["main", "sub"], Query()] = "main",
    start: Annotated[datetime | None, Query(description="play recordings from here")] = None,
    speed: Annotated[float, Query(ge=0.5, le=8.0)] = 1.0,
) -> Response:
    """Answer a WHEP offer: ``201`` with the SDP answer and the session's ``Location``."""
    offer = await _read_offer(request)
    await check_camera(request, user, camera_id)
    ensure_capacity(request, user.sub)
    manager = _whep(request)
    if start is None:
        session, answer = await manager.create_live(camera_id, stream, offer, user)
    else:
        start = utc_instant(start, "start")
        session, answer = await start_playback(request, user, camera_id, start, speed, offer)
    audit.whep_started(request, session, start, speed)
    return Response(
        answer, status_code=201, media_type="application/sdp",
        headers={"Location": f"/whep/sessions/{session.id}", "ETag": f'"{session.id[:16]}"'},
    )


@router.delete("/whep/sessions/{session_id}", status_code=200)
async def whep_delete(request: Request, session_id: str, user: CurrentUser) -> Response:
    """End a WHEP session."""
    manager = _whep(request)
    manager.get(session_id, user.sub)
    await manager.close(session_id)
    return Response(status_code=200)


@router.patch("/whep/sessions/{session_id}")
async def whep_patch(session_id: str, user: CurrentUser) -> Response:
    """Trickle ICE is not used: every offer and answer carries all its candidates."""
    raise MethodNotAllowed("trickle ICE is not supported; send a complete offer")
