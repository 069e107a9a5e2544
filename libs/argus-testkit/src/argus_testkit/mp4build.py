"""Fragmented MP4 files with every ``tfhd``/``trun`` layout ISO/IEC 14496-12 allows, and
what a reader must find in them, for the property tests of the MP4 readers
(``argus_common.mp4read``, the streaming service's VOD index).

:func:`files` is a hypothesis strategy of :class:`Built` files: tracks of either handler
in any order, version 0 or 1 headers, 32- or 64-bit box sizes, sample fields per sample,
from ``tfhd`` defaults or from ``trex``, data offsets explicit or implied, with or without
``tfdt``. The samples' bytes are zeros; their offsets in the file are known.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from argus_common.fmp4 import full_box

NON_SYNC = 0x00010000


def _box(kind: bytes, body: bytes, large: bool) -> bytes:
    if large:
        return struct.pack(">I4sQ", 1, kind, 16 + len(body)) + body
    return struct.pack(">I4s", 8 + len(body), kind) + body


@dataclass
class Sample:
    dts: int
    dur: int
    size: int
    offset: int
    cto: int
    sync: bool


@dataclass
class Fragment:
    """What the VOD index reads of a fragment: moof offset, moof+mdat size, the video
    track's tfdt (0 without one) and the sum of its sample durations."""

    offset: int
    size: int
    start: int
    duration: int


@dataclass
class Built:
    data: bytes
    init_size: int
    video_id: int | None  # the first video track's id
    timescales: dict[int, int]
    samples: dict[int, list[Sample]] = field(default_factory=dict)
    fragments: list[Fragment] = field(default_factory=list)


_u32 = st.integers(0, 0xFFFFFFFF)
_small = st.integers(0, 3000)


@st.composite
def _track(draw: st.DrawFn, track_id: int) -> tuple[int, bytes, int, bytes, bytes]:
    """``(id, handler, timescale, trak, trex)``."""
    handler = draw(st.sampled_from([b"vide", b"soun"]))
    timescale = draw(st.integers(1, 200_000))
    v = draw(st.integers(0, 1))
    times = struct.pack(">QQ", 0, 0) if v else struct.pack(">II", 0, 0)
    tkhd = full_box(b"tkhd", v, 3, times, struct.pack(">II", track_id, 0), bytes(8 if v else 4),
                    bytes(52), struct.pack(">II", 320 << 16, 240 << 16))
    mdhd = full_box(b"mdhd", v, 0, times, struct.pack(">I", timescale),
                    struct.pack(">Q" if v else ">I", 0), bytes(4))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, handler), bytes(12), b"x\0")
    entry = _box(b"avc1" if handler == b"vide" else b"mp4a", bytes(8), False)
    stbl = _box(b"stbl", full_box(b"stsd", 0, 0, struct.pack(">I", 1), entry), False)
    large = draw(st.booleans())
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + _box(
        b"minf", stbl, large), large), large)
    trex = full_box(b"trex", 0, 0, struct.pack(">IIIII", track_id, 1, draw(_small),
                                               draw(_small), draw(st.sampled_from(
                                                   [0, NON_SYNC]))))
    return track_id, handler, timescale, trak, trex


def _defaults(trex: bytes) -> tuple[int, int, int]:
    return struct.unpack_from(">III", trex, 20)


@st.composite
def files(draw: st.DrawFn, max_fragments: int = 4) -> Built:
    """A whole fragmented MP4 file and what is in it."""
    n = draw(st.integers(1, 3))
    tracks = [draw(_track(i + 1)) for i in range(n)]
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 0), bytes(80))
    moov = _box(b"moov", mvhd + b"".join(t[3] for t in tracks)
                + _box(b"mvex", b"".join(t[4] for t in tracks), False), draw(st.booleans()))
    data = _box(b"ftyp", b"isom" + bytes(4), False) + moov
    video = next((t[0] for t in tracks if t[1] == b"vide"), None)
    built = Built(b"", len(data), video, {t[0]: t[2] for t in tracks},
                  {t[0]: [] for t in tracks})
    clock = {t[0]: 0 for t in tracks}
    for seq in range(draw(st.integers(0, max_fragments))):
        data += _fragment(draw, built, tracks, clock, seq, len(data))
    built.data = data
    return built


def _fragment(draw: st.DrawFn, built: Built, tracks: list[tuple[int, bytes, int, bytes, bytes]],
              clock: dict[int, int], seq: int, start: int) -> bytes:
    """One moof + mdat at ``start``; the moof is built twice (its size decides offsets)."""
    order = draw(st.permutations(tracks))
    plans = []
    for tid, _h, _ts, _trak, trex in order:
        d_dur, d_size, d_flags = _defaults(trex)
        tf = {bit: draw(st.booleans()) for bit in (0x01, 0x08, 0x10, 0x20)}
        tfhd_vals = (draw(_small), draw(_small), draw(st.sampled_from([0, NON_SYNC])))
        if tf[0x08]:
            d_dur = tfhd_vals[0]
        if tf[0x10]:
            d_size = tfhd_vals[1]
        if tf[0x20]:
            d_flags = tfhd_vals[2]
        tfdt = draw(st.one_of(st.none(), st.integers(0, 1 << 40)))
        tfdt_v = 1 if tfdt is None or tfdt >> 32 else draw(st.integers(0, 1))
        runs = []
        for _ in range(draw(st.integers(1, 3))):
            has = tuple(draw(st.booleans()) for _ in range(4))
            version = draw(st.integers(0, 1))  # 1: signed composition offsets
            count = draw(st.integers(0, 5))
            samples = [(draw(_small) if has[0] else d_dur, draw(_small) if has[1] else d_size,
                        draw(st.sampled_from([0, NON_SYNC])) if has[2] else d_flags,
                        draw(st.integers(-500 * version, 500)) if has[3] else 0)
                       for _ in range(count)]
            first = draw(st.one_of(st.none(), st.sampled_from([0, NON_SYNC])))
            runs.append((has, samples, first if not has[2] else None, version))
        plans.append((tid, tf, tfhd_vals, (tfdt, tfdt_v), runs, d_flags))
    large = draw(st.booleans())
    moof = _moof(plans, seq, start, 0, large)
    moof = _moof(plans, seq, start, len(moof), large)
    payload = 0
    video: tuple[int, int] | None = None
    for tid, _tf, _v, (tfdt, _tv), runs, _d_flags in plans:
        dts = clock[tid] if tfdt is None else tfdt
        first_dts = dts
        for _has, samples, first, _v2 in runs:
            for i, (dur, size, flags, cto) in enumerate(samples):
                if i == 0 and first is not None:
                    flags = first
                built.samples[tid].append(Sample(dts, dur, size, start + len(moof) + 8 + payload,
                                                 cto, not flags & NON_SYNC))
                dts += dur
                payload += size
        if any(samples for _h, samples, _f, _v in runs):
            clock[tid] = dts  # a traf without tfdt goes on from the track's last sample
        if tid == built.video_id:
            video = (0 if tfdt is None else tfdt, dts - first_dts)
    if video is not None:
        built.fragments.append(Fragment(start, len(moof) + 8 + payload, *video))
    return moof + struct.pack(">I4s", 8 + payload, b"mdat") + bytes(payload)


def _moof(plans: list[Any], seq: int, start: int, moof_size: int, large: bool) -> bytes:
    trafs = b""
    at = start + moof_size + 8  # where the next sample's bytes go
    for tid, tf, vals, (tfdt, tfdt_v), runs, _d_flags in plans:
        flags = 0 if tf[0x01] else 0x020000
        body = struct.pack(">I", tid)
        if tf[0x01]:
            flags |= 0x01
            body += struct.pack(">Q", start)  # the same base as default-base-is-moof
        for bit, value in zip((0x08, 0x10, 0x20), vals, strict=True):
            if tf[bit]:
                flags |= bit
                body += struct.pack(">I", value)
        boxes = full_box(b"tfhd", 0, flags, body)
        if tfdt is not None:
            boxes += full_box(b"tfdt", tfdt_v, 0, struct.pack(">Q" if tfdt_v else ">I", tfdt))
        for has, samples, first, version in runs:
            rflags = 0x01 | (0x04 if first is not None else 0)
            for bit, on in zip((0x100, 0x200, 0x400, 0x800), has, strict=True):
                rflags |= bit if on else 0
            head = struct.pack(">Ii", len(samples), at - start)
            if first is not None:
                head += struct.pack(">I", first)
            fmt = ">" + "".join(c for c, on in zip("IIIi", has, strict=True) if on)
            table = b"".join(struct.pack(fmt, *[v for v, on in zip(s, has, strict=True) if on])
                             for s in samples)
            boxes += full_box(b"trun", version, rflags, head, table)
            at += sum(s[1] for s in samples)
        trafs += _box(b"traf", boxes, False)
    return _box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", seq)) + trafs, large)
