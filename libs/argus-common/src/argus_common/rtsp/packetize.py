"""H.264 RTP packetization (RFC 6184, packetization-mode 1) for pass-through senders.

An access unit is packetized once and the payloads are shared by every viewer. Large NAL
units become FU-A fragments that all carry the same number of bytes but the last, so the
packets of a frame are equal in size and can leave in one UDP GSO send (``webrtc/udp.py``);
small NAL units (SPS, PPS, SEI) are aggregated into STAP-A packets.
"""

from __future__ import annotations

import struct

from argus_common.h264 import split_annexb

MAX_PAYLOAD = 1200  # RTP payload bytes: with headers, SRTP and UDP/IP it fits a 1280 MTU
_FU_A = 28
_STAP_A = 24


def _fu_a(nal: bytes, max_payload: int) -> list[bytes]:
    indicator = (nal[0] & 0xE0) | _FU_A
    kind = nal[0] & 0x1F
    body = memoryview(nal)[1:]
    chunk = max_payload - 2
    out = []
    for start in range(0, len(body), chunk):
        flags = 0x80 if start == 0 else 0
        if start + chunk >= len(body):
            flags |= 0x40
        out.append(bytes((indicator, flags | kind)) + body[start:start + chunk])
    return out


def _stap_a(nals: list[bytes]) -> bytes:
    nri = max(n[0] & 0x60 for n in nals)
    forbidden = max(n[0] & 0x80 for n in nals)
    parts = [bytes((forbidden | nri | _STAP_A,))]
    for n in nals:
        parts.append(struct.pack("!H", len(n)))
        parts.append(n)
    return b"".join(parts)


def packetize(nals: list[bytes], max_payload: int = MAX_PAYLOAD) -> list[bytes]:
    """RTP payloads of one access unit, in order (the last one carries the marker bit)."""
    out: list[bytes] = []
    group: list[bytes] = []
    size = 1  # the STAP-A header byte

    def flush() -> None:
        nonlocal group, size
        if len(group) == 1:
            out.append(group[0])  # a single NAL unit packet
        elif group:
            out.append(_stap_a(group))
        group, size = [], 1

    for nal in nals:
        if not nal:
            continue
        if len(nal) > max_payload:
            flush()
            out.extend(_fu_a(nal, max_payload))
            continue
        if size + 2 + len(nal) > max_payload:
            flush()
        group.append(nal)
        size += 2 + len(nal)
    flush()
    return out


def packetize_annexb(data: bytes, max_payload: int = MAX_PAYLOAD) -> list[bytes]:
    """RTP payloads of an Annex-B access unit."""
    return packetize(split_annexb(data), max_payload)
