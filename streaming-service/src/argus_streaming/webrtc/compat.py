"""Every use of aiortc's and aioice's private internals, in one place.

streaming-service needs a few things neither library offers as API:

- its own RTP loop for live viewers (``webrtc/sender.py``): ``RtpLoopSender`` takes over
  ``RTCRtpSender._run_rtp``/``_retransmit`` and the sender's name-mangled state, the DTLS
  transport's SRTP session and the ICE pair aioice nominated;
- host candidates inside a UDP port range (``webrtc/ice.py``): aioice binds them to
  ephemeral ports, so ``install()`` points the name ``Connection`` in
  ``aiortc.rtcicetransport`` at a subclass that binds them with the socket binder set by
  ``host_sockets`` (outside that context it is aioice's class unchanged);
- host candidates on configured addresses only: ``set_host_addresses`` replaces aioice's
  address lookup;
- main and high profile H.264 in aiortc's codec table (``add_video_codecs``);
- helpers from modules outside aiortc's ``__all__`` (RTP packets, clock, SDP parsing),
  re-exported below so that nothing else imports them.

Every item depends on the exact versions in ``WRITTEN_FOR``: ``install()`` (called first in
the app's lifespan) refuses any other. To upgrade aiortc or aioice, read this module against
the new version, then update ``WRITTEN_FOR`` with ``uv.lock`` (a test keeps them equal).
No other module of argus_streaming may touch private names (``tests/test_compat.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Self

import aioice.ice
import aiortc.rtcicetransport
import structlog
from aioice import Candidate, Connection
from aioice.candidate import candidate_foundation, candidate_priority
from aioice.ice import StunProtocol, server_reflexive_candidate
from aioice.turn import UDP_SOCKET_BUFFER_SIZE
from aiortc import RTCRtpCodecParameters, RTCRtpSender
from aiortc.clock import current_ntp_time
from aiortc.codecs import CODECS
from aiortc.rtcrtpparameters import RTCRtcpFeedback
from aiortc.rtp import HeaderExtensionsMap, RtpPacket, wrap_rtx
from aiortc.sdp import candidate_from_sdp, parse_h264_profile_level_id
from aiortc.utils import random16, random32, uint16_add, uint32_add

__all__ = [
    "WRITTEN_FOR", "CompatError", "HeaderExtensionsMap", "HostBinder", "RTCRtcpFeedback",
    "RtpLoopSender", "RtpPacket", "add_video_codecs", "candidate_from_sdp", "check_versions",
    "current_ntp_time", "h264_profile", "host_sockets", "install", "installed",
    "package_version", "random16", "random32", "set_host_addresses", "uint16_add",
    "uint32_add", "uninstall", "video_codecs", "wrap_rtx",
]

log = structlog.get_logger("argus.streaming.compat")

# The versions this module was written and tested against (uv.lock pins the same).
WRITTEN_FOR = {"aiortc": "1.16.0", "aioice": "0.13.0"}

HostBinder = Callable[[str], socket.socket]
"""Binds a UDP socket for a host candidate on an address; raises ``OSError`` to skip the
address, anything else to fail the gathering."""


class CompatError(RuntimeError):
    """aiortc/aioice are not the versions this module patches, or it is not installed."""


def package_version(name: str) -> str:
    """The installed version of a distribution (replaced in tests)."""
    return importlib.metadata.version(name)


def check_versions() -> None:
    """Raise ``CompatError`` unless the installed aiortc and aioice are ``WRITTEN_FOR``."""
    wrong = {name: package_version(name) for name in WRITTEN_FOR}
    wrong = {name: have for name, have in wrong.items() if have != WRITTEN_FOR[name]}
    if wrong:
        found = ", ".join(f"{name} {have}" for name, have in sorted(wrong.items()))
        wanted = ", ".join(f"{name} {WRITTEN_FOR[name]}" for name in sorted(wrong))
        raise CompatError(
            f"{found} installed, but argus_streaming.webrtc.compat was written for {wanted} "
            "(as pinned in uv.lock). It patches private internals of these libraries: install "
            "the pinned versions (uv sync --frozen), or review compat.py against the new ones "
            "and update WRITTEN_FOR.")


@dataclass
class _Installed:
    """What ``install()`` replaced, to put back in ``uninstall()``."""

    connection: type[Connection]
    get_host_addresses: Callable[..., list[str]]
    added_codecs: list[RTCRtpCodecParameters] = field(default_factory=list)


_installed: _Installed | None = None


def install() -> None:
    """Check the versions and install the process-wide patches (again: no effect)."""
    global _installed
    check_versions()  # every time: cheap, and a refused version never goes unnoticed
    if _installed is not None:
        return
    _installed = _Installed(aiortc.rtcicetransport.Connection,  # type: ignore[attr-defined]
                            aioice.ice.get_host_addresses)
    # aiortc's RTCIceGatherer builds its connection from this name.
    aiortc.rtcicetransport.Connection = _BindingConnection  # type: ignore[attr-defined]


def uninstall() -> None:
    """Undo ``install()`` and what was patched since (codecs, host addresses)."""
    global _installed
    state, _installed = _installed, None
    if state is None:
        return
    aiortc.rtcicetransport.Connection = state.connection  # type: ignore[attr-defined]
    aioice.ice.get_host_addresses = state.get_host_addresses
    video = CODECS["video"]
    video[:] = [c for c in video if not any(c is added for added in state.added_codecs)]


def installed() -> bool:
    """Whether ``install()`` is in effect."""
    return _installed is not None


def _require_installed() -> _Installed:
    if _installed is None:
        raise CompatError("argus_streaming.webrtc.compat.install() was not called "
                          "(the app's lifespan calls it; tests without the app must too)")
    return _installed


# -- Codecs -------------------------------------------------------------------------------

def video_codecs() -> list[RTCRtpCodecParameters]:
    """aiortc's video codec table (a copy; ``add_video_codecs`` changes it)."""
    return list(CODECS["video"])


def add_video_codecs(codecs: list[RTCRtpCodecParameters]) -> None:
    """Append ``codecs`` to aiortc's video codec table (removed again by ``uninstall``)."""
    state = _require_installed()
    CODECS["video"].extend(codecs)
    state.added_codecs.extend(codecs)


def h264_profile(profile_level_id: str) -> object:
    """The H.264 profile of a ``profile-level-id`` (what aiortc matches on), None if invalid."""
    try:
        return parse_h264_profile_level_id(profile_level_id)[0]
    except ValueError:
        return None


# -- ICE ----------------------------------------------------------------------------------

def set_host_addresses(addresses: list[str]) -> None:
    """Gather host candidates on ``addresses`` only (empty: aioice's own lookup, every
    interface but loopback). Process-wide: aioice has no option for it."""
    state = _require_installed()
    if not addresses:
        aioice.ice.get_host_addresses = state.get_host_addresses
        return
    wanted = list(addresses)

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in wanted if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = host_addresses


_BINDER: ContextVar[HostBinder | None] = ContextVar("argus_ice_binder", default=None)


@contextlib.contextmanager
def host_sockets(binder: HostBinder | None) -> Iterator[None]:
    """Inside this context, ICE gathering binds host candidates with ``binder`` (None:
    ephemeral ports, aioice's default)."""
    if binder is not None:
        _require_installed()
    token = _BINDER.set(binder)
    try:
        yield
    finally:
        _BINDER.reset(token)


class _BindingConnection(Connection):
    """aioice's ICE connection, with host sockets from the binder of ``host_sockets``."""

    async def get_component_candidates(
        self, component: int, addresses: list[str], timeout: int = 5  # noqa: ASYNC109 - aioice's signature
    ) -> list[Candidate]:
        binder = _BINDER.get()
        if binder is None or not addresses:
            return await super().get_component_candidates(component, addresses, timeout)
        loop = asyncio.get_running_loop()
        protocols: list[StunProtocol] = []
        try:
            for address in addresses:
                try:
                    sock = binder(address)
                except OSError as exc:  # as aioice does: skip an address it cannot bind
                    log.info("ice_bind_failed", address=address, error=str(exc))
                    continue
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_SOCKET_BUFFER_SIZE)
                _, protocol = await loop.create_datagram_endpoint(
                    lambda: StunProtocol(self), sock=sock)
                host, port = sock.getsockname()[:2]
                protocol.local_candidate = Candidate(
                    foundation=candidate_foundation("host", "udp", host),
                    component=component, transport="udp",
                    priority=candidate_priority(component, "host"),
                    host=host, port=port, type="host",
                )
                protocols.append(protocol)
        except BaseException:
            for protocol in protocols:
                protocol.transport.close()
            raise
        self._protocols += protocols
        candidates = [p.local_candidate for p in protocols]
        # Server-reflexive candidates of these sockets (IPv4, as aioice); aioice itself
        # still does TURN, which needs no host socket.
        stun = self.stun_server
        tasks = [
            asyncio.create_task(server_reflexive_candidate(p, stun)) for p in protocols
            if stun and ipaddress.ip_address(p.local_candidate.host).version == 4
        ]
        candidates += await super().get_component_candidates(component, [], timeout)
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            candidates += [t.result()[0] for t in done if t.exception() is None]
            for task in pending:
                task.cancel()
        return candidates


# -- The RTP sender -----------------------------------------------------------------------

_P = "_RTCRtpSender__"  # prefix of RTCRtpSender's name-mangled attributes


def _get(sender: RTCRtpSender, name: str) -> Any:
    return getattr(sender, _P + name)


def _set(sender: RTCRtpSender, name: str, value: Any) -> None:
    setattr(sender, _P + name, value)


class RtpLoopSender(RTCRtpSender):
    """An ``RTCRtpSender`` whose RTP loop a subclass provides (``run_rtp``, ``retransmit``);
    aiortc keeps ICE, DTLS, RTCP and the SDP side."""

    @classmethod
    def take_over(cls, sender: RTCRtpSender) -> Self:
        """Make ``sender`` (from ``addTransceiver``, not started yet) an instance of ``cls``."""
        _require_installed()
        sender.__class__ = cls
        assert isinstance(sender, cls)
        return sender

    async def run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        """Send the track until it ends or the task is cancelled (the subclass's loop)."""
        raise NotImplementedError

    async def retransmit(self, sequence_number: int) -> None:
        """Answer a NACK for ``sequence_number`` (default: not at all)."""

    # aiortc's private hooks, overridden: aiortc starts ``_run_rtp`` and waits on its events.
    async def _run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        _get(self, "rtp_started").set()
        try:
            await self.run_rtp(codec)
        finally:
            track = self.track
            if track is not None:
                track.stop()
            _set(self, "track", None)
            _get(self, "rtp_exited").set()

    async def _retransmit(self, sequence_number: int) -> None:
        await self.retransmit(sequence_number)

    @property
    def rtp_ssrc(self) -> int:
        """The SSRC of the media stream."""
        ssrc: int = self._ssrc
        return ssrc

    @property
    def rtx_ssrc(self) -> int:
        """The SSRC of the retransmission stream."""
        ssrc: int = self._rtx_ssrc
        return ssrc

    @property
    def mid(self) -> str | None:
        """The negotiated media id (for the MID header extension)."""
        mid: str | None = _get(self, "mid")
        return mid

    @property
    def header_extensions(self) -> HeaderExtensionsMap:
        """The negotiated RTP header extensions."""
        ext: HeaderExtensionsMap = _get(self, "rtp_header_extensions_map")
        return ext

    @property
    def rtx_payload_type(self) -> int | None:
        """The negotiated RTX payload type (None: no RTX)."""
        pt: int | None = _get(self, "rtx_payload_type")
        return pt

    def next_rtx_sequence_number(self) -> int:
        """The sequence number for the next RTX packet (then advanced)."""
        seq: int = _get(self, "rtx_sequence_number")
        _set(self, "rtx_sequence_number", uint16_add(seq, 1))
        return seq

    def record_sent(self, rtp_timestamp: int, octets: int, packets: int) -> None:
        """What RTCP sender reports and ``getStats()`` read: the last frame sent now, and
        the totals of payload octets and packets."""
        _set(self, "ntp_timestamp", current_ntp_time())
        _set(self, "rtp_timestamp", rtp_timestamp)
        _set(self, "octet_count", octets)
        _set(self, "packet_count", packets)

    def srtp_protect(self) -> Callable[[bytes], bytes]:
        """The DTLS transport's SRTP ``protect`` (once DTLS is connected)."""
        protect: Callable[[bytes], bytes] = self.transport._tx_srtp.protect
        return protect

    def nominated_route(self) -> tuple[Any, tuple[str, int]] | None:
        """The asyncio datagram transport and remote address of the ICE pair in use
        (component 1), None while none is nominated."""
        pair = self.transport.transport._connection._nominated.get(1)
        if pair is None:
            return None
        return pair.protocol.transport, pair.remote_addr

    async def send_rtp(self, data: bytes) -> None:
        """Protect and send one RTP packet through the DTLS transport."""
        await self.transport._send_rtp(data)
