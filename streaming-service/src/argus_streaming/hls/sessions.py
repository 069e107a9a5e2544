"""Live HLS sessions: one per camera, shared by its viewers, stopped when unused.

A session's TTL (``expires_at``) is renewed by every access; a session nobody fetched media
from for ``idle_s`` is stopped too. Stopping ends the pump task, the writer thread, wakes
the requests waiting on its playlist and removes the session's directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from argus_common.errors import NotFound
from argus_streaming import metrics
from argus_streaming.auth.tickets import MediaTickets
from argus_streaming.config import Settings
from argus_streaming.hls.playlist import LivePlaylist
from argus_streaming.hls.segmenter import Event
from argus_streaming.hls.writer import HlsWriter
from argus_streaming.live.manager import SourceManager
from argus_streaming.live.queue import QueueClosed
from argus_streaming.live.source import CameraSource, Subscriber
from argus_streaming.tasks import spawn

log = structlog.get_logger("argus.streaming.hls")


@dataclass(eq=False)
class HlsSession:
    """One camera's live HLS output."""

    id: str
    camera_id: int
    directory: Path
    writer: HlsWriter
    playlist: LivePlaylist
    source: CameraSource
    subscriber: Subscriber
    expires_at: float  # epoch seconds
    owner: str = ""  # the user who started it: they (or an administrator) may stop it
    last_media: float = field(default_factory=time.monotonic)
    started: float = field(default_factory=time.monotonic)
    task: asyncio.Task[None] | None = None
    stopped: asyncio.Event = field(default_factory=asyncio.Event)


def _publisher(playlist: LivePlaylist) -> Callable[[Event], None]:
    """``playlist.publish`` made callable from the writer thread."""
    loop = asyncio.get_running_loop()

    def publish(event: Event) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: shutting down
            loop.call_soon_threadsafe(playlist.publish, event)

    return publish


class HlsManager:
    """Starts, shares, renews and sweeps HLS sessions."""

    def __init__(
        self, sources: SourceManager, settings: Settings, root: Path,
        tickets: MediaTickets | None = None,
    ) -> None:
        self.sources = sources
        # A stopped session's media tickets go with it.
        self.tickets = tickets
        self.settings = settings
        self.root = root
        self.ttl_s = settings.hls_session_ttl_s
        self.idle_s = settings.hls_idle_s
        self.sessions: dict[str, HlsSession] = {}
        self._by_camera: dict[int, str] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the sweeper that stops expired and idle sessions."""
        self._sweeper = asyncio.create_task(self._sweep(), name="hls-sweeper")

    async def open(self, camera_id: int, owner: str = "") -> HlsSession:
        """The camera's session, started if there is none (``owner`` starts it); renews
        its TTL."""
        lock = self._locks.setdefault(camera_id, asyncio.Lock())
        async with lock:
            sid = self._by_camera.get(camera_id)
            if sid is not None and sid in self.sessions:
                session = self.sessions[sid]
                self.touch(session, media=False)
                return session
            sub = self.sources.new_subscriber(camera_id, audio=False)
            src, _ = await self.sources.attach(camera_id, "main", sub, limit=False)
            sid = secrets.token_urlsafe(12)
            directory = self.root / sid
            cfg = self.settings
            playlist = LivePlaylist(cfg.hls_segment_s, cfg.hls_part_s, cfg.hls_list_size)
            writer = HlsWriter(directory, cfg.hls_segment_s, cfg.hls_part_s, cfg.hls_list_size,
                               _publisher(playlist), camera_id)
            writer.start()
            session = HlsSession(
                id=sid, camera_id=camera_id, directory=directory, writer=writer,
                playlist=playlist, source=src, subscriber=sub,
                expires_at=time.time() + self.ttl_s, owner=owner,
            )
            session.task = asyncio.create_task(self._pump(session), name=f"hls-{camera_id}")
            self.sessions[sid] = session
            self._by_camera[camera_id] = sid
            metrics.SESSIONS.labels("hls").inc()
            log.info("hls_started", camera_id=camera_id, session_id=sid[:6])
            return session

    def get(self, session_id: str) -> HlsSession:
        """A running session; 404 otherwise."""
        session = self.sessions.get(session_id)
        if session is None:
            raise NotFound("stream session not found")
        return session

    def touch(self, session: HlsSession, *, media: bool = True) -> None:
        """Renew the TTL (any access) and the idle clock (media access)."""
        session.expires_at = time.time() + self.ttl_s
        if media:
            session.last_media = time.monotonic()

    async def _pump(self, session: HlsSession) -> None:
        first = True
        try:
            while True:
                unit, replay = await session.subscriber.video.get()
                session.writer.feed(unit, replay)
                metrics.BYTES_SENT.labels("hls").inc(len(unit.data))
                if first:
                    first = False
                    metrics.TIME_TO_FIRST_FRAME.labels("hls").observe(
                        time.monotonic() - session.started)
        except QueueClosed:
            pass
        except Exception as exc:  # the source failed: the session ends with it
            log.info("hls_source_ended", camera_id=session.camera_id, reason=str(exc))
        if session.id in self.sessions:
            spawn(self.stop(session.id))

    async def stop(self, session_id: str) -> None:
        """Stop a session: its task, its writer thread, its directory."""
        session = self.sessions.pop(session_id, None)
        if session is None:
            return
        if self._by_camera.get(session.camera_id) == session_id:
            del self._by_camera[session.camera_id]
        metrics.SESSIONS.labels("hls").dec()
        if self.tickets is not None:
            self.tickets.drop(lambda t: t.session_id == session_id)
        session.playlist.close()
        session.source.detach(session.subscriber)
        session.subscriber.video.close()
        if session.task is not None and session.task is not asyncio.current_task():
            session.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await session.task
        await asyncio.to_thread(session.writer.close)
        await asyncio.to_thread(shutil.rmtree, session.directory, True)
        session.stopped.set()
        log.info("hls_stopped", camera_id=session.camera_id, session_id=session_id[:6])

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.settings.hls_sweep_s)
            now, mono = time.time(), time.monotonic()
            for sid, s in list(self.sessions.items()):
                if now > s.expires_at or mono - s.last_media > self.idle_s:
                    await self.stop(sid)

    async def wait_playlist(self, session: HlsSession, timeout_s: float) -> bool:
        """Wait until the first segment is listed (a new session has none for one part)."""
        playlist = session.playlist
        return await playlist.wait(lambda: playlist.ready, timeout_s) and (
            session.id in self.sessions)

    async def close(self) -> None:
        """Stop the sweeper and every session (shutdown)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for sid in list(self.sessions):
            await self.stop(sid)
