"""An RTSP session: the tracks a client set up, and delivery of frames to it.

Delivery never waits. Over TCP a frame is written straight to the connection's transport;
when the client does not read and the transport's buffer passes ``max_buffer`` bytes, the
session skips frames until the next keyframe (the bounded per-client queue), and a client
that stays backed up for ``slow_drop_s`` seconds is disconnected. Over UDP packets are
sent as datagrams and never queue.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from argus_camsim.hub import StreamHub
from argus_camsim.rtp import MediaFrame, sender_report

log = logging.getLogger(__name__)
SR_INTERVAL_S = 5.0


class _RtcpIn(asyncio.DatagramProtocol):
    """Receives client RTCP over UDP; any packet counts as a keepalive."""

    def __init__(self, on_packet: Callable[[], None]) -> None:
        self._on_packet = on_packet

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        self._on_packet()


@dataclass
class UdpPair:
    """Server-side RTP/RTCP sockets of one UDP track and the client's address."""

    rtp: asyncio.DatagramTransport
    rtcp: asyncio.DatagramTransport
    server_port: int
    client_host: str
    client_ports: tuple[int, int]

    def close(self) -> None:
        """Close both sockets."""
        self.rtp.close()
        self.rtcp.close()


async def open_udp_pair(
    host: str, client_host: str, client_ports: tuple[int, int], on_rtcp: Callable[[], None]
) -> UdpPair:
    """Bind an even/odd port pair for RTP/RTCP (bounded number of attempts)."""
    loop = asyncio.get_running_loop()
    for _ in range(20):
        rtp, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=(host, 0))
        port = rtp.get_extra_info("sockname")[1]
        if port % 2 == 0 and port < 65535:
            try:
                rtcp, _ = await loop.create_datagram_endpoint(
                    lambda: _RtcpIn(on_rtcp), local_addr=(host, port + 1)
                )
            except OSError:
                rtp.close()
                continue
            return UdpPair(rtp, rtcp, port, client_host, client_ports)
        rtp.close()
    raise OSError("no free UDP port pair")


@dataclass
class TrackOut:
    """Where one track of a session goes, and what was sent (for sender reports)."""

    ssrc: int
    channel: int | None = None  # interleaved RTP channel; RTCP on channel + 1
    udp: UdpPair | None = None
    packets: int = 0
    octets: int = 0
    last_sr: float = field(default=-1e9)


class RtspSession:
    """State of one RTSP session and the hub subscriber that feeds it."""

    def __init__(
        self,
        sid: str,
        hub: StreamHub,
        transport: asyncio.WriteTransport,
        on_slow: Callable[[], None],
        max_buffer: int,
        slow_drop_s: float = 10.0,
    ) -> None:
        self.id = sid
        self.hub = hub
        self.transport = transport
        self.tracks: dict[int, TrackOut] = {}
        self.playing = False
        self.need_keyframe = True
        self.max_buffer = max_buffer
        self.slow_drop_s = slow_drop_s
        self._on_slow = on_slow
        self._backed_up_since: float | None = None
        self.skipped_frames = 0
        self.last_activity = time.monotonic()

    def touch(self) -> None:
        """Note client activity (request, RTCP) for the session timeout."""
        self.last_activity = time.monotonic()

    def recently_active(self, within_s: float) -> bool:
        """Whether the client showed a sign of life in the last ``within_s`` seconds."""
        return time.monotonic() - self.last_activity < within_s

    def play(self) -> None:
        """Start receiving frames from the next keyframe."""
        self.need_keyframe = True
        self.playing = True
        self.hub.subscribe(self)

    def pause(self) -> None:
        """Stop receiving frames."""
        self.playing = False
        self.hub.unsubscribe(self)

    def close(self) -> None:
        """Unsubscribe and release UDP sockets."""
        self.pause()
        for track in self.tracks.values():
            if track.udp is not None:
                track.udp.close()

    def resync(self) -> None:
        """Skip until the next keyframe (hub calls this after a stall)."""
        self.need_keyframe = True

    def deliver(self, frame: MediaFrame) -> None:
        """Send one frame to the client, or skip it; never blocks."""
        track = self.tracks.get(frame.track)
        if track is None:
            return
        if self.need_keyframe:
            if frame.track != 0 or not frame.keyframe:
                return
            self.need_keyframe = False
        now = time.monotonic()
        if track.udp is not None:
            self._send_udp(track, frame, now)
            return
        transport = self.transport
        if transport.is_closing() or track.channel is None:
            return
        if transport.get_write_buffer_size() > self.max_buffer:
            self._backed_up(now)
            return
        self._backed_up_since = None
        if now - track.last_sr >= SR_INTERVAL_S:
            track.last_sr = now
            sr = sender_report(track.ssrc, frame.wall_ms, frame.rtp_ts, track.packets, track.octets)
            transport.write(struct.pack("!BBH", 0x24, track.channel + 1, len(sr)) + sr)
        transport.write(frame.tcp(track.channel))
        track.packets += frame.packet_count
        track.octets += frame.nbytes

    def _send_udp(self, track: TrackOut, frame: MediaFrame, now: float) -> None:
        udp = track.udp
        assert udp is not None
        if now - track.last_sr >= SR_INTERVAL_S:
            track.last_sr = now
            sr = sender_report(track.ssrc, frame.wall_ms, frame.rtp_ts, track.packets, track.octets)
            udp.rtcp.sendto(sr, (udp.client_host, udp.client_ports[1]))
        addr = (udp.client_host, udp.client_ports[0])
        for packet in frame.datagrams():
            udp.rtp.sendto(packet, addr)
        track.packets += frame.packet_count
        track.octets += frame.nbytes

    def _backed_up(self, now: float) -> None:
        # The client reads slower than we send: drop frames, restart at a keyframe.
        self.need_keyframe = True
        self.skipped_frames += 1
        if self._backed_up_since is None:
            self._backed_up_since = now
            log.info(
                "client of %s/%s is slow, skipping frames", self.hub.camera.path, self.hub.variant
            )
        elif now - self._backed_up_since > self.slow_drop_s:
            log.warning(
                "dropping client of %s/%s: backed up for %.0f s",
                self.hub.camera.path,
                self.hub.variant,
                self.slow_drop_s,
            )
            self._on_slow()
