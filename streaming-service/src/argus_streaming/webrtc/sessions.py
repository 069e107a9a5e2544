"""WHEP sessions: one peer connection per viewer, live or playback."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack

from argus_common.errors import NotFound, Unprocessable
from argus_streaming import metrics
from argus_streaming.auth.dependencies import User
from argus_streaming.config import Settings
from argus_streaming.live.manager import SourceManager
from argus_streaming.live.source import CameraSource, Subscriber
from argus_streaming.tasks import spawn
from argus_streaming.webrtc.peer import answer_offer
from argus_streaming.webrtc.sdp import offer_has_audio, offer_has_h264
from argus_streaming.webrtc.tracks import RelayAudioTrack, RelayVideoTrack

log = structlog.get_logger("argus.streaming.whep")


@dataclass(eq=False)
class WhepSession:
    """One viewer's peer connection and what feeds it."""

    id: str
    kind: str  # "live" | "playback"
    camera_id: int
    stream: str
    user: str
    pc: RTCPeerConnection
    created: float = field(default_factory=time.monotonic)
    source: CameraSource | None = None
    subscriber: Subscriber | None = None
    tracks: list[MediaStreamTrack] = field(default_factory=list)
    cleanup: Callable[[], None] | None = None
    closed: bool = False
    # The access token that opened it (re-checked with management on authz changes).
    jti: str = ""
    fam: str | None = None


def _user(user: User | str) -> User:
    """A bare user id (tests, tools) stands for a token without an id or family."""
    return user if isinstance(user, User) else User(sub=user, jti="", token="")


class WhepManager:
    """Creates, tracks and ends WHEP sessions."""

    def __init__(self, sources: SourceManager, settings: Settings) -> None:
        self.sources = sources
        self.settings = settings
        self.sessions: dict[str, WhepSession] = {}

    def count(self, kind: str | None = None) -> int:
        """Open sessions (of one kind: "live" or "playback")."""
        return sum(1 for s in self.sessions.values() if kind is None or s.kind == kind)

    def count_user(self, user: str) -> int:
        """Open sessions of one user."""
        return sum(1 for s in self.sessions.values() if s.user == user)

    async def create_live(
        self, camera_id: int, stream: str, offer: str, user: User | str
    ) -> tuple[WhepSession, str]:
        """Attach a viewer to the camera's source and answer its offer."""
        if not offer_has_h264(offer):
            raise Unprocessable("the offer has no H.264 video section")
        started = time.monotonic()
        want_audio = offer_has_audio(offer)
        sub = self.sources.new_subscriber(camera_id, audio=want_audio)
        src, info = await self.sources.attach(camera_id, stream, sub)
        try:
            kind = "live"

            def first_frame() -> None:
                metrics.TIME_TO_FIRST_FRAME.labels("webrtc").observe(time.monotonic() - started)

            video = RelayVideoTrack(sub.video, on_first=first_frame)
            audio = None
            if sub.audio is not None and info.audio_codec and info.audio_clock:
                audio = RelayAudioTrack(sub.audio, info.audio_clock)
            pc, answer = await answer_offer(
                self.settings, offer, video, info.profile_level_id, audio, info.audio_codec
            )
        except BaseException:
            src.detach(sub)
            raise
        who = _user(user)
        session = WhepSession(
            id=secrets.token_urlsafe(18), kind=kind, camera_id=camera_id, stream=stream,
            user=who.sub, pc=pc, source=src, subscriber=sub,
            tracks=[t for t in (video, audio) if t is not None], jti=who.jti, fam=who.fam,
        )
        self._register(session)
        metrics.VIEWERS.labels(str(camera_id), stream).inc()
        return session, answer

    async def create_playback(
        self, camera_id: int, offer: str, user: User | str, video: MediaStreamTrack,
        cleanup: Callable[[], None],
    ) -> tuple[WhepSession, str]:
        """Answer an offer with a playback track (recorded segments)."""
        if not offer_has_h264(offer):
            raise Unprocessable("the offer has no H.264 video section")
        try:
            pc, answer = await answer_offer(self.settings, offer, video, None)
        except BaseException:
            cleanup()
            raise
        who = _user(user)
        session = WhepSession(
            id=secrets.token_urlsafe(18), kind="playback", camera_id=camera_id,
            stream="main", user=who.sub, pc=pc, tracks=[video], cleanup=cleanup,
            jti=who.jti, fam=who.fam,
        )
        self._register(session)
        return session, answer

    def _register(self, session: WhepSession) -> None:
        self.sessions[session.id] = session
        metrics.SESSIONS.labels(f"whep_{session.kind}").inc()
        pc = session.pc

        @pc.on("connectionstatechange")
        async def _changed() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.close(session.id)

        spawn(self._connect_watchdog(session))
        log.info("whep_session", camera_id=session.camera_id, kind=session.kind,
                 session_id=session.id[:8])

    async def _connect_watchdog(self, session: WhepSession) -> None:
        # Nobody ends a session whose browser never connected: do it here.
        await asyncio.sleep(self.settings.whep_connect_timeout_s)
        if not session.closed and session.pc.connectionState != "connected":
            log.info("whep_connect_timeout", camera_id=session.camera_id)
            await self.close(session.id)

    def get(self, session_id: str, user: str) -> WhepSession:
        """A session of ``user``; 404 for anything else."""
        session = self.sessions.get(session_id)
        if session is None or session.user != user:
            raise NotFound("session not found")
        return session

    async def close(self, session_id: str) -> None:
        """End a session: detach from its source, stop its tracks, close the connection."""
        session = self.sessions.pop(session_id, None)
        if session is None or session.closed:
            return
        session.closed = True
        metrics.SESSIONS.labels(f"whep_{session.kind}").dec()
        if session.source is not None and session.subscriber is not None:
            session.source.detach(session.subscriber)
            metrics.VIEWERS.labels(str(session.camera_id), session.stream).dec()
            metrics.VIEWER_FRAMES_DROPPED.observe(session.subscriber.video.dropped)
        for track in session.tracks:
            track.stop()
        if session.cleanup is not None:
            session.cleanup()
        with contextlib.suppress(Exception):
            await session.pc.close()

    async def close_all(self) -> None:
        """End every session (shutdown)."""
        await asyncio.gather(*(self.close(sid) for sid in list(self.sessions)),
                             return_exceptions=True)
