"""The RTP loop of a live viewer: shared packetization, one SRTP pass, batched sends.

aiortc's ``RTCRtpSender`` packetizes every frame anew for each viewer and sends each packet
through four coroutine layers and one ``sendto``. With 50 viewers of a 4 Mbit/s camera
(about 400 packets a second each) that is more than one core. Live viewers keep aiortc for
ICE, DTLS, RTCP (reports, NACK, PLI) and SDP; only the RTP loop is replaced:

- the payloads of an access unit are made once and shared (``AccessUnit.rtp_payloads``);
- per viewer and frame, one RTP header with the negotiated extensions is serialized and
  copied for each packet with its sequence number and marker bit patched in;
- the frame's SRTP packets leave in one UDP GSO ``sendmsg`` where the kernel allows it.

The loop plugs into aiortc through ``compat.RtpLoopSender``, which holds every use of the
sender's private state (the versions are pinned in ``uv.lock`` and checked at start);
``test_sender.py`` checks the packets a receiver gets from it.
"""

from __future__ import annotations

import asyncio
import struct
import traceback

import structlog
from aiortc import MediaStreamError, RTCRtpCodecParameters, RTCRtpSender

from argus_streaming.webrtc.compat import (
    RtpLoopSender,
    RtpPacket,
    current_ntp_time,
    random16,
    random32,
    uint16_add,
    uint32_add,
    wrap_rtx,
)
from argus_streaming.webrtc.tracks import RelayVideoTrack
from argus_streaming.webrtc.udp import DatagramOut

log = structlog.get_logger("argus.streaming.sender")
_HISTORY = 1024  # packets kept for NACK retransmission (about 2.5 s at 4 Mbit/s)


def playout_delay(max_ms: int) -> bytes:
    """The playout-delay header extension value: minimum 0, maximum ``max_ms`` (10 ms
    units, 12 bits each)."""
    return (min(max_ms // 10, 0xFFF)).to_bytes(3, "big")


def add_extension(header: bytes, ext_id: int, value: bytes) -> bytes:
    """``header`` (RTP, no CSRCs) with one more one-byte header extension element.

    Headers with two-byte extensions are returned unchanged.
    """
    if not header[0] & 0x10:
        elements = b""
    elif header[12:14] == b"\xbe\xde":
        words = struct.unpack_from("!H", header, 14)[0]
        block = header[16:16 + 4 * words]
        i = 0
        while i < len(block) and block[i]:  # a zero byte is padding
            i += 2 + (block[i] & 0x0F)
        elements = block[:i]
    else:
        return header
    elements += bytes([(ext_id << 4) | (len(value) - 1)]) + value
    elements += b"\x00" * (-len(elements) % 4)
    return (bytes([header[0] | 0x10]) + header[1:12] + b"\xbe\xde"
            + struct.pack("!H", len(elements) // 4) + elements)


class PassThroughSender(RtpLoopSender):
    """An ``RTCRtpSender`` for a ``RelayVideoTrack`` (see the module docstring)."""

    history: dict[int, bytes]  # plain RTP packets sent, by sequence number modulo _HISTORY
    extension: tuple[int, bytes] | None

    @classmethod
    def adopt(cls, sender: RTCRtpSender, extension: tuple[int, bytes] | None = None) -> None:
        """Turn a sender that ``addTransceiver`` made into a pass-through one.

        ``extension`` (id, value) is added to every packet: the playout-delay hint, which
        aiortc does not know.
        """
        own = cls.take_over(sender)
        own.history = {}
        own.extension = extension

    async def run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        """Send the track's access units until it ends, DTLS closes or the task is
        cancelled."""
        track = self.track
        out: DatagramOut | None = None
        try:
            if not isinstance(track, RelayVideoTrack):
                raise TypeError("PassThroughSender sends RelayVideoTrack only")
            dtls = self.transport
            payload_type = codec.payloadType or 0  # always set for a negotiated codec
            srtp_protect = None
            seq = random16()
            ts_origin = random32()
            ext_map = self.header_extensions
            mid = self.mid
            ssrc = self.rtp_ssrc
            history = self.history
            octets = packets = 0
            while True:
                unit, ts = await track.next_unit()
                if dtls.state != "connected":
                    raise ConnectionError("DTLS transport is not connected")
                if srtp_protect is None:
                    srtp_protect = self.srtp_protect()
                out = self._output(out)
                timestamp = uint32_add(ts_origin, ts)
                header = RtpPacket(payload_type=payload_type, sequence_number=0,
                                   timestamp=timestamp, ssrc=ssrc)
                header.extensions.abs_send_time = (current_ntp_time() >> 14) & 0xFFFFFF
                header.extensions.mid = mid
                template = header.serialize(ext_map)
                if self.extension is not None:
                    template = add_extension(template, *self.extension)
                payloads = unit.rtp_payloads()
                last = len(payloads) - 1
                datagrams = []
                for i, payload in enumerate(payloads):
                    h = bytearray(template)
                    if i == last:
                        h[1] |= 0x80
                    struct.pack_into("!H", h, 2, seq)
                    h += payload
                    plain = bytes(h)
                    history[seq % _HISTORY] = plain
                    datagrams.append(srtp_protect(plain))
                    octets += len(payload)
                    seq = uint16_add(seq, 1)
                out.send(datagrams)
                packets += len(payloads)
                self.record_sent(timestamp, octets, packets)
        except (asyncio.CancelledError, ConnectionError, MediaStreamError):
            pass
        except Exception:
            log.warning("rtp_sender_failed", error=traceback.format_exc(limit=5))
        finally:
            if out is not None:
                out.close()

    def _output(self, current: DatagramOut | None) -> DatagramOut:
        """The sender for the ICE pair in use (it may change while the session lives)."""
        route = self.nominated_route()
        if route is None:
            raise ConnectionError("no ICE pair is nominated")
        transport, addr = route
        if current is not None and current.transport is transport and current.addr == addr:
            return current
        if current is not None:
            current.close()
        return DatagramOut(transport, addr)

    async def retransmit(self, sequence_number: int) -> None:
        """Answer a NACK from the packets sent (over RTX when it was negotiated)."""
        plain = self.history.get(sequence_number % _HISTORY)
        if plain is None or struct.unpack_from("!H", plain, 2)[0] != sequence_number:
            return
        rtx_pt = self.rtx_payload_type
        if rtx_pt is None:
            return  # resending under the same sequence number is refused by SRTP anyway
        ext_map = self.header_extensions
        packet = wrap_rtx(RtpPacket.parse(plain, ext_map), payload_type=rtx_pt,
                          sequence_number=self.next_rtx_sequence_number(), ssrc=self.rtx_ssrc)
        await self.send_rtp(packet.serialize(ext_map))
