"""Live HLS on demand: ``/v1/streams/start|stop``, ``GET /v1/streams``, ``GET /hls/...``."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from argus_common.errors import BadRequest, NotFound
from argus_common.jwt import JwtCodec
from argus_streaming.auth.dependencies import CurrentUser, check_camera, media_claims
from argus_streaming.hls.schemas import StartRequest, StopRequest, StreamOut, StreamSummary
from argus_streaming.hls.sessions import HlsManager, HlsSession
from argus_streaming.hls.writer import PLAYLIST

router = APIRouter()
_FILE = re.compile(r"^(?:(i)(\d{1,9})\.mp4|([ps])(\d{1,9})\.m4s)$")
_PLAYLIST_WAIT_S = 6.0
_BLOCK_S = 3  # target durations a blocking request may wait


def _hls(request: Request) -> HlsManager:
    manager: HlsManager = request.app.state.hls
    return manager


def _stream_out(request: Request, session: HlsSession, user: str) -> StreamOut:
    codec: JwtCodec = request.app.state.jwt
    ttl = request.app.state.settings.media_token_ttl_s
    token = codec.issue(user, "media", ttl,
                        {"session_id": session.id, "camera_id": session.camera_id})
    return StreamOut(
        session_id=session.id, camera_id=session.camera_id,
        hls_url=f"/hls/{session.id}/{PLAYLIST}?token={token.token}",
        expires_at=datetime.fromtimestamp(session.expires_at, UTC),
    )


@router.post("/v1/streams/start", response_model=StreamOut)
async def start_stream(request: Request, body: StartRequest, user: CurrentUser) -> StreamOut:
    """Start (or join) the camera's live HLS session; returns a tokenised playlist URL."""
    await check_camera(request, user, body.camera_id)
    session = await _hls(request).open(body.camera_id)
    return _stream_out(request, session, user.sub)


@router.post("/v1/streams/stop", status_code=204)
async def stop_stream(request: Request, body: StopRequest, user: CurrentUser) -> Response:
    """Stop a camera's HLS session (for every viewer of it)."""
    manager = _hls(request)
    session = manager.get(body.session_id)
    await check_camera(request, user, session.camera_id)
    await manager.stop(session.id)
    return Response(status_code=204)


@router.get("/v1/streams", response_model=list[StreamSummary])
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
    claims = media_claims(request, token)
    if claims.get("session_id") != session_id:
        raise NotFound("stream session not found")
    manager = _hls(request)
    session = manager.get(session_id)
    manager.touch(session)
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
