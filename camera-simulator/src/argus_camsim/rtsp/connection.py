"""One RTSP client connection: reads requests (and interleaved RTCP), answers them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from argus_camsim.camera import CameraRuntime
from argus_camsim.edge.replay import REPLAY, handle_replay
from argus_camsim.rtsp.message import (
    MAX_HEAD_BYTES,
    PUBLIC_METHODS,
    Request,
    Target,
    parse_head,
    parse_target,
    parse_transport,
    response,
)
from argus_camsim.rtsp.sdp import AUDIO_TRACK, VIDEO_TRACK, build_sdp
from argus_camsim.rtsp.session import RtspSession, TrackOut, open_udp_pair

if TYPE_CHECKING:
    from argus_camsim.rtsp.server import RtspServer

log = logging.getLogger(__name__)
PARAMS_WAIT_S = 5.0
Reply = tuple[bytes, Callable[[], None] | None]


class _Abort(Exception):
    """The connection was reset on purpose (camera offline)."""


class RtspConnection:
    """Serves one TCP connection until the client leaves or the session times out."""

    def __init__(
        self, server: RtspServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.transport = writer.transport
        self.sessions: dict[str, RtspSession] = {}
        self.cameras: set[CameraRuntime] = set()
        sock = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.local_ip: str = sock[0]
        self.peer_ip: str = peer[0]

    def abort(self) -> None:
        """Reset the connection now (drop / offline faults, slow client)."""
        self.transport.abort()

    async def run(self) -> None:
        """Read and answer requests until EOF, error, reset or session timeout."""
        try:
            while not self.transport.is_closing():
                request = await self._read_message()
                self._touch()
                if request is None:
                    continue
                data, after = await self.handle(request)
                self.writer.write(data)
                if after is not None:
                    after()
        except TimeoutError:
            log.info("RTSP connection from %s timed out", self.peer_ip)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        except _Abort:
            return
        except ValueError as exc:
            log.info("bad RTSP request from %s: %s", self.peer_ip, exc)
            with contextlib.suppress(Exception):
                self.writer.write(response(400, None))
        finally:
            self.close()

    async def _read_message(self) -> Request | None:
        """The next request, or None after an interleaved (RTCP) packet from the client."""
        timeout = self.server.session_timeout
        while True:
            try:
                async with asyncio.timeout(timeout):
                    first = await self.reader.readexactly(1)
                break
            except TimeoutError:
                # Silence on TCP is fine while a UDP session gets RTCP from its client.
                if not any(s.recently_active(timeout) for s in self.sessions.values()):
                    raise
        async with asyncio.timeout(timeout):
            if first == b"$":
                header = await self.reader.readexactly(3)
                await self.reader.readexactly(int.from_bytes(header[1:3], "big"))
                return None
            head = first + await self.reader.readuntil(b"\r\n\r\n")
            if len(head) > MAX_HEAD_BYTES:
                raise ValueError("request head too long")
            request = parse_head(head[:-4])
            length = int(request.headers.get("content-length", "0") or 0)
            if length:
                request.body = await self.reader.readexactly(min(length, 65536))
            return request

    def close(self) -> None:
        """Tear down every session of the connection and close it."""
        for session in self.sessions.values():
            session.close()
        self.sessions.clear()
        for cam in self.cameras:
            cam.connections.discard(self)
        if not self.transport.is_closing():
            self.transport.close()

    def _touch(self) -> None:
        for session in self.sessions.values():
            session.touch()

    async def handle(self, req: Request) -> Reply:
        """Answer one request; the optional callback runs after the reply is written."""
        if req.version != "RTSP/1.0":
            return response(505, req.cseq), None
        if req.method == "OPTIONS":
            return response(200, req.cseq, [("Public", PUBLIC_METHODS)]), None
        target = parse_target(req.url)
        cam = self.server.cameras.get(target.camera) if target else None
        if cam is not None:
            if cam.info.faults.offline():
                # An offline camera is unreachable: reset the connection.
                self.abort()
                raise _Abort
            self.cameras.add(cam)
            cam.connections.add(self)
            await cam.wait_unstalled()
        auth = self.server.auth
        if not auth.check(req.method, req.headers.get("authorization")):
            log.info("RTSP %s from %s: authentication failed", req.method, self.peer_ip)
            challenges = [("WWW-Authenticate", c) for c in auth.challenges()]
            return response(401, req.cseq, challenges), None
        if target is not None and cam is not None and target.variant == REPLAY:
            return await handle_replay(self, req, target, cam)
        if req.method in ("GET_PARAMETER", "SET_PARAMETER"):
            return response(200, req.cseq, self._session_header(req)), None
        if req.method in ("PLAY", "PAUSE", "TEARDOWN"):
            return self._session_method(req)
        if target is None or cam is None:
            return response(404, req.cseq), None
        if req.method == "DESCRIBE":
            return await self._describe(req, target, cam), None
        if req.method == "SETUP":
            return await self._setup(req, target, cam), None
        return response(501, req.cseq), None

    def _session_header(self, req: Request) -> list[tuple[str, str]]:
        sid = req.headers.get("session", "").split(";", 1)[0].strip()
        if sid in self.sessions:
            return [("Session", self._session_value(sid))]
        return []

    def _session_value(self, sid: str) -> str:
        return f"{sid};timeout={int(self.server.session_timeout)}"

    async def _describe(self, req: Request, target: Target, cam: CameraRuntime) -> bytes:
        hub = cam.hubs.get(target.variant)
        if hub is None:
            return response(404, req.cseq)
        params = await hub.wait_params(PARAMS_WAIT_S)
        if params is None:
            return response(503, req.cseq)
        title = f"{cam.info.name} {target.variant}"
        sdp = build_sdp(
            self.local_ip,
            title,
            params,
            self.server.fps_of(hub),
            (hub.width, hub.height),
            hub.audio,
        )
        base = req.url if req.url.endswith("/") else req.url + "/"
        headers = [("Content-Type", "application/sdp"), ("Content-Base", base)]
        return response(200, req.cseq, headers, sdp.encode())

    async def _setup(self, req: Request, target: Target, cam: CameraRuntime) -> bytes:
        hub = cam.hubs.get(target.variant)
        track = VIDEO_TRACK if target.track is None else target.track
        if hub is None or track not in (VIDEO_TRACK, AUDIO_TRACK):
            return response(404, req.cseq)
        if track == AUDIO_TRACK and not hub.with_audio:
            return response(404, req.cseq)
        spec = parse_transport(req.headers.get("transport", ""))
        if spec is None:
            return response(461, req.cseq)
        sid = req.headers.get("session", "").split(";", 1)[0].strip()
        session = self.sessions.get(sid) if sid else None
        if sid and session is None:
            return response(454, req.cseq)
        if session is not None and session.hub is not hub:
            return response(459, req.cseq)
        if session is None:
            sid = secrets.token_hex(8)
            session = RtspSession(
                sid,
                hub,
                self.transport,
                self.abort,
                self.server.max_buffer_of(hub),
                self.server.slow_drop_s,
            )
            self.sessions[sid] = session
        ssrc = hub.video_ssrc if track == VIDEO_TRACK else hub.audio_ssrc
        out = TrackOut(ssrc=ssrc)
        if spec.tcp:
            channels = spec.interleaved or (2 * track, 2 * track + 1)
            out.channel = channels[0]
            transport = f"RTP/AVP/TCP;unicast;interleaved={channels[0]}-{channels[1]}"
        else:
            assert spec.client_port is not None
            try:
                out.udp = await open_udp_pair(
                    self.local_ip, self.peer_ip, spec.client_port, session.touch
                )
            except OSError:
                return response(461, req.cseq)
            sp = out.udp.server_port
            cp = spec.client_port
            transport = f"RTP/AVP;unicast;client_port={cp[0]}-{cp[1]};server_port={sp}-{sp + 1}"
        old = session.tracks.get(track)
        if old is not None and old.udp is not None:
            old.udp.close()
        session.tracks[track] = out
        headers = [
            ("Transport", f"{transport};ssrc={ssrc:08X}"),
            ("Session", self._session_value(sid)),
        ]
        return response(200, req.cseq, headers)

    def _session_method(self, req: Request) -> Reply:
        sid = req.headers.get("session", "").split(";", 1)[0].strip()
        session = self.sessions.get(sid)
        if session is None:
            return response(454, req.cseq), None
        headers = [("Session", self._session_value(sid))]
        if req.method == "TEARDOWN":
            session.close()
            del self.sessions[sid]
            return response(200, req.cseq), None
        if req.method == "PAUSE":
            session.pause()
            return response(200, req.cseq, headers), None
        if not session.tracks:
            return response(455, req.cseq), None
        # Subscribe only after the reply is written, so no RTP precedes the 200 OK.
        return response(200, req.cseq, [*headers, ("Range", "npt=0.000-")]), session.play
