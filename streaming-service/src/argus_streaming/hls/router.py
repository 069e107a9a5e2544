"""Live HLS on demand: ``/v1/streams/start|stop``, ``GET /v1/streams``, ``GET /hls/...``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse

from argus_common.errors import NotFound
from argus_common.jwt import JwtCodec
from argus_streaming.auth.dependencies import CurrentUser, check_camera, media_claims
from argus_streaming.hls.schemas import StartRequest, StopRequest, StreamOut, StreamSummary
from argus_streaming.hls.sessions import HlsManager, HlsSession
from argus_streaming.hls.writer import PLAYLIST

router = APIRouter()
_SEGMENT = re.compile(r"^seg\d{1,9}\.ts$")
_PLAYLIST_WAIT_S = 6.0


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


def rewrite_playlist(text: str, token: str) -> str:
    """Carry the media token on every URI (players resolve them without the query)."""
    lines = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            line = f"{line}?token={token}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@router.get("/hls/{session_id}/{name}")
async def hls_file(
    request: Request,
    session_id: Annotated[str, Path(max_length=64)],
    name: Annotated[str, Path(max_length=64)],
    token: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    """A playlist or segment of a session; the URL's media token must name the session."""
    claims = media_claims(request, token)
    if claims.get("session_id") != session_id:
        raise NotFound("stream session not found")
    manager = _hls(request)
    session = manager.get(session_id)
    manager.touch(session)
    headers = {"Cache-Control": "no-cache"}
    if name == PLAYLIST:
        if not await manager.wait_playlist(session, _PLAYLIST_WAIT_S):
            raise NotFound("stream has no segment yet")
        try:
            text = session.writer.playlist.read_text()
        except OSError:
            raise NotFound("stream session ended") from None
        assert token is not None
        return Response(rewrite_playlist(text, token),
                         media_type="application/vnd.apple.mpegurl", headers=headers)
    if not _SEGMENT.match(name):
        raise NotFound("no such file")
    path = session.directory / name
    if not path.is_file():
        raise NotFound("segment no longer available")
    return FileResponse(path, media_type="video/mp2t", headers=headers)
