"""Live HLS on demand: ``/v1/streams/start|stop``, ``GET /v1/streams``, ``GET /hls/...``."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from argus_common.errors import BadRequest, Forbidden, NotFound
from argus_streaming import audit
from argus_streaming.auth.caps import ensure_capacity, tickets
from argus_streaming.auth.dependencies import CurrentUser, User, check_camera, management
from argus_streaming.hls.schemas import (
    StartRequest,
    StopOut,
    StopRequest,
    StreamOut,
    StreamSummary,
)
from argus_streaming.hls.sessions import HlsManager, HlsSession
from argus_streaming.hls.writer import PLAYLIST
from argus_streaming.responses import CAMERA_DOWN, MANAGEMENT_DOWN

router = APIRouter()
_FILE = re.compile(r"^(?:(i)(\d{1,9})\.mp4|([ps])(\d{1,9})\.m4s)$")
_PLAYLIST_WAIT_S = 6.0
_BLOCK_S = 3  # target durations a blocking request may wait


def _hls(request: Request) -> HlsManager:
    manager: HlsManager = request.app.state.hls
    return manager


def _stream_out(request: Request, session: HlsSession, user: User) -> StreamOut:
    ticket = tickets(request).issue(
        "hls", user, session.camera_id, session_id=session.id,
        before_new=lambda: ensure_capacity(request, user.sub))
    audit.ticket_used(request, ticket)
    return StreamOut(
        session_id=session.id, camera_id=session.camera_id,
        hls_url=f"/hls/{session.id}/{PLAYLIST}?token={ticket.id}",
        expires_at=datetime.fromtimestamp(session.expires_at, UTC),
    )


def _holds_ticket(request: Request, user: User, camera_id: int) -> bool:
    return any(t.scope == "hls" and t.user.jti == user.jti and t.camera_id == camera_id
               for t in tickets(request).live())


@router.post("/v1/streams/start", response_model=StreamOut,
             responses={**CAMERA_DOWN, **MANAGEMENT_DOWN})
async def start_stream(request: Request, body: StartRequest, user: CurrentUser) -> StreamOut:
    """Start (or join) the camera's live HLS session; returns the playlist URL with a
    media ticket of this user for this session."""
    await check_camera(request, user, body.camera_id)
    if not _holds_ticket(request, user, body.camera_id):
        ensure_capacity(request, user.sub)  # before starting anything
    session = await _hls(request).open(body.camera_id, owner=user.sub)
    return _stream_out(request, session, user)


@router.post("/v1/streams/stop", response_model=StopOut, responses=MANAGEMENT_DOWN)
async def stop_stream(request: Request, body: StopRequest, user: CurrentUser) -> StopOut:
    """Leave a camera's HLS session (the caller's media tickets for it end); the session
    stops for everyone when its last viewer leaves, or when the user who started it or an
    administrator (sees every camera) stops it. Anyone else: 403.

    The answer is the streamer design's (is22) ``200 {"status": "stopped"}`` in both cases:
    the caller's stream stopped (a viewer leaving a shared session ends only their own)."""
    manager = _hls(request)
    session = manager.get(body.session_id)
    await check_camera(request, user, session.camera_id)
    if user.sub == session.owner or await management(request).sees_all_cameras(user.token):
        await manager.stop(session.id)
        return StopOut(status="stopped")
    registry = tickets(request)
    if not registry.drop(lambda t: t.session_id == session.id and t.user.sub == user.sub):
        raise Forbidden("only the viewer who started this stream or an administrator "
                        "can stop it")
    if not any(t.session_id == session.id for t in registry.live()):
        await manager.stop(session.id)
    return StopOut(status="stopped")


@router.get("/v1/streams", response_model=list[StreamSummary], responses=MANAGEMENT_DOWN)
async def list_streams(request: Request, user: CurrentUser) -> list[StreamSummary]:
    """HLS sessions of the cameras the user may see."""
    out = []
    for session in list(_hls(request).sessions.values()):
        try:
            await check_camera(request, user, session.camera_id)
        except NotFound:
            continue
        out.append(StreamSummary(
            session_id=session.id, camera_id=session.camera_id,
            expires_at=datetime.fromtimestamp(session.expires_at, UTC),
        ))
    return out


def _media_file(name: str) -> tuple[str, int] | None:
    """``(kind, number)`` of a session file name, or None."""
    match = _FILE.match(name)
    if match is None:
        return None
    if match.group(1):
        return "i", int(match.group(2))
    return match.group(3), int(match.group(4))


@router.get("/hls/{session_id}/{name}")
async def hls_file(
    request: Request,
    session_id: Annotated[str, Path(max_length=64)],
    name: Annotated[str, Path(max_length=64)],
    token: Annotated[str | None, Query(max_length=4096)] = None,
    msn: Annotated[int | None, Query(alias="_HLS_msn", ge=0, le=2**31)] = None,
    part: Annotated[int | None, Query(alias="_HLS_part", ge=0, le=2**31)] = None,
) -> Response:
    """A playlist, init section, part or segment of a session; the URL's media token must
    name the session. ``_HLS_msn``/``_HLS_part`` block the playlist until that segment or
    part is listed (bounded), and the preload-hinted part blocks until it is written."""
    manager = _hls(request)
    # An ended session is a 404 for everyone (its tickets went with it); then the ticket.
    session = manager.get(session_id)
    ticket = tickets(request).use(token, "hls")
    if ticket.session_id != session_id:
        raise NotFound("stream session not found")
    manager.touch(session)
    audit.ticket_used(request, ticket)
    if name == PLAYLIST:
        assert token is not None
        return await _playlist(manager, session, token, msn, part)
    parsed = _media_file(name)
    if parsed is None:
        raise NotFound("no such file")
    kind, number = parsed
    playlist = session.playlist
    if kind == "p" and number == playlist.next_part:
        # The preload hint: answer once the part exists (a part takes at most part_s).
        await playlist.wait(lambda: playlist.has_part(number), _BLOCK_S * playlist.target)
    try:
        data = await asyncio.to_thread((session.directory / name).read_bytes)
    except OSError:
        raise NotFound("segment not available") from None
    media_type = "video/mp4" if kind == "i" else "video/iso.segment"
    return Response(data, media_type=media_type, headers={"Cache-Control": "max-age=60"})


async def _playlist(manager: HlsManager, session: HlsSession, token: str,
                    msn: int | None, part: int | None) -> Response:
    playlist = session.playlist
    if part is not None and msn is None:
        raise BadRequest("_HLS_part needs _HLS_msn")
    if not await manager.wait_playlist(session, _PLAYLIST_WAIT_S):
        if session.id not in manager.sessions:
            raise NotFound("stream session ended")
        raise NotFound("stream has no segment yet")
    if msn is not None:
        # A request far past the live edge cannot be served in time (spec: 400).
        if msn > playlist.next_msn + 2:
            raise BadRequest("_HLS_msn is too far ahead of the live edge")
        # Blocking reload: bounded at three target durations, then the playlist as it is.
        await playlist.wait(lambda: playlist.has(msn, part), _BLOCK_S * playlist.target)
        if session.id not in manager.sessions:
            raise NotFound("stream session ended")
    return Response(playlist.render(f"?token={token}"),
                    media_type="application/vnd.apple.mpegurl",
                    headers={"Cache-Control": "no-cache"})
