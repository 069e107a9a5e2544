"""Fragmented MP4 (ISO/IEC 14496-12) written by hand: an init section and fragments.

Enough for pass-through recording and live HLS: one H.264 video track (``avc1`` + ``avcC``)
and optionally one audio track (AAC as ``mp4a`` + ``esds``, or Opus as ``Opus`` + ``dOps``);
fragments are ``moof`` + ``mdat`` with one ``traf`` per track and one ``trun`` each (sample
duration, size, flags, and composition offsets when B-frames need them). Samples are never
copied into a fragment: :func:`fragment_header` returns the ``moof`` and the ``mdat``
header, and the caller hands the sample buffers to ``os.writev`` after them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from argus_common.h264 import HIGH_PROFILES, parse_sps

_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
# sample_flags (8.8.3.1): sync samples depend on nothing; others depend on earlier samples
# and are not sync samples. Audio samples are all sync samples.
SYNC = 0x02000000
NON_SYNC = 0x01010000


def box(kind: bytes, *payload: bytes) -> bytes:
    """An ISO BMFF box."""
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    """An ISO BMFF full box (version and flags before the payload)."""
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


@dataclass(frozen=True)
class VideoTrack:
    """An H.264 track: its parameter sets decide the sample entry and the picture size."""

    sps: bytes
    pps: bytes
    timescale: int = 90_000


@dataclass(frozen=True)
class AudioTrack:
    """An audio track. ``codec`` is ``aac`` (``config`` = AudioSpecificConfig) or ``opus``."""

    codec: str
    sample_rate: int
    channels: int
    config: bytes = b""


def avcc(sps: bytes, pps: bytes) -> bytes:
    """The ``avcC`` box (AVCDecoderConfigurationRecord, ISO/IEC 14496-15 5.3.3)."""
    body = struct.pack(">BBBBBB", 1, sps[1], sps[2], sps[3], 0xFF, 0xE1)
    body += struct.pack(">H", len(sps)) + sps + b"\x01" + struct.pack(">H", len(pps)) + pps
    if sps[1] in HIGH_PROFILES:
        info = parse_sps(sps)
        body += bytes([0xFC | info.chroma_format, 0xF8 | (info.bit_depth_luma - 8),
                       0xF8 | (info.bit_depth_chroma - 8), 0])
    return box(b"avcC", body)


def _descriptor(tag: int, body: bytes) -> bytes:
    # MPEG-4 descriptors (14496-1 8.3.3): a 4-byte size field is accepted by every reader.
    n = len(body)
    size = bytes([0x80 | (n >> 21) & 0x7F, 0x80 | (n >> 14) & 0x7F, 0x80 | (n >> 7) & 0x7F,
                  n & 0x7F])
    return bytes([tag]) + size + body


def _esds(config: bytes) -> bytes:
    dsi = _descriptor(0x05, config)
    # objectTypeIndication 0x40 (MPEG-4 audio), streamType 5 (audio) << 2 | 1 (reserved).
    dcd = _descriptor(0x04, struct.pack(">BBBHII", 0x40, 0x15, 0, 0, 0, 0) + dsi)
    es = _descriptor(0x03, struct.pack(">HB", 1, 0) + dcd + _descriptor(0x06, b"\x02"))
    return full_box(b"esds", 0, 0, es)


def _audio_entry(track: AudioTrack) -> bytes:
    head = (bytes(6) + struct.pack(">H", 1) + bytes(8)
            + struct.pack(">HHHHI", track.channels, 16, 0, 0, min(track.sample_rate, 0xFFFF) << 16))
    if track.codec == "aac":
        return box(b"mp4a", head, _esds(track.config))
    if track.codec == "opus":
        # dOps (Opus in ISOBMFF 4.3.2): version 0, channels, pre-skip unknown from RTP (0),
        # input rate, gain 0, mapping family 0.
        dops = box(b"dOps", struct.pack(">BBHIhB", 0, track.channels, 0, track.sample_rate,
                                        0, 0))
        return box(b"Opus", head, dops)
    raise ValueError(f"audio codec {track.codec} cannot go into MP4 here")


def _trak(track_id: int, timescale: int, handler: bytes, header: bytes, entry: bytes,
          size: tuple[int, int] = (0, 0)) -> bytes:
    w, h = size
    volume = 0x0100 if handler == b"soun" else 0
    tkhd = full_box(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, track_id, 0, 0), bytes(8),
                    struct.pack(">hhhH", 0, 0, volume, 0), _MATRIX,
                    struct.pack(">II", w << 16, h << 16))
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, 0x55C4, 0))
    name = b"ArgusVideo\0" if handler == b"vide" else b"ArgusAudio\0"
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, handler), bytes(12), name)
    stbl = box(b"stbl", full_box(b"stsd", 0, 0, struct.pack(">I", 1), entry),
               full_box(b"stts", 0, 0, bytes(4)), full_box(b"stsc", 0, 0, bytes(4)),
               full_box(b"stsz", 0, 0, bytes(8)), full_box(b"stco", 0, 0, bytes(4)))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    minf = box(b"minf", header, dinf, stbl)
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))


def _comment(text: str) -> bytes:
    """``udta``/``meta``/``ilst`` with a ``©cmt`` entry (FFmpeg reads it as ``comment``)."""
    data = full_box(b"data", 0, 1, bytes(4), text.encode())
    ilst = box(b"ilst", box(b"\xa9cmt", data))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, b"mdir"), b"appl", bytes(9))
    return box(b"udta", full_box(b"meta", 0, 0, hdlr, ilst))


def init_segment(video: VideoTrack, audio: AudioTrack | None = None, comment: str = "",
                 brands: Sequence[bytes] = (b"iso6", b"isom", b"mp41")) -> bytes:
    """``ftyp`` + ``moov``: video is track 1, audio (if any) track 2."""
    info = parse_sps(video.sps)
    ftyp = box(b"ftyp", brands[0], struct.pack(">I", 0), *brands)
    tracks = 2 if audio is not None else 1
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIIIIH", 0, 0, 1000, 0, 0x10000, 0x100),
                    bytes(10), _MATRIX, bytes(24), struct.pack(">I", tracks + 1))
    w, h = info.width, info.height
    avc1 = box(b"avc1", bytes(6), struct.pack(">H", 1), bytes(16),
               struct.pack(">HHIIIH", w, h, 0x480000, 0x480000, 0, 1), bytes(32),
               struct.pack(">Hh", 0x18, -1), avcc(video.sps, video.pps))
    traks = [_trak(1, video.timescale, b"vide", full_box(b"vmhd", 0, 1, bytes(8)), avc1,
                   (w, h))]
    trex = [full_box(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0))]
    if audio is not None:
        traks.append(_trak(2, audio.sample_rate, b"soun", full_box(b"smhd", 0, 0, bytes(4)),
                           _audio_entry(audio)))
        trex.append(full_box(b"trex", 0, 0, struct.pack(">IIIII", 2, 1, 0, 0, 0)))
    udta = _comment(comment) if comment else b""
    return ftyp + box(b"moov", mvhd, *traks, box(b"mvex", *trex), udta)


@dataclass(slots=True)
class Run:
    """The samples of one track in one fragment (their bytes travel separately)."""

    track_id: int
    base_time: int  # decode time of the first sample, in the track's timescale
    durations: list[int]
    sizes: list[int]
    flags: list[int]
    offsets: list[int] | None = None  # composition offsets (may be negative), B-frames only


def fragment_header(sequence: int, runs: Sequence[Run]) -> bytes:
    """The ``moof`` of a fragment and the header of its ``mdat``; the ``mdat`` payload is
    the samples of ``runs`` in order, written by the caller right after."""
    sizes = [sum(r.sizes) for r in runs]
    # traf = 8 + tfhd 16 + tfdt 20 + trun (20 + entries)
    trafs_len = [8 + 16 + 20 + 20 + len(r.durations) * (16 if r.offsets else 12) for r in runs]
    moof_size = 8 + 16 + sum(trafs_len)
    data_offset = moof_size + 8
    trafs = []
    for run, payload in zip(runs, sizes, strict=True):
        if run.offsets:
            fields = [v for e in zip(run.durations, run.sizes, run.flags, run.offsets,
                                     strict=True) for v in e]
            entries = struct.pack(">" + "IIIi" * len(run.durations), *fields)
            trun = full_box(b"trun", 1, 0x000F01, struct.pack(">Ii", len(run.durations),
                                                              data_offset), entries)
        else:
            fields = [v for e in zip(run.durations, run.sizes, run.flags, strict=True)
                      for v in e]
            entries = struct.pack(">" + "III" * len(run.durations), *fields)
            trun = full_box(b"trun", 0, 0x000701, struct.pack(">Ii", len(run.durations),
                                                              data_offset), entries)
        # tfhd: default-base-is-moof (data offsets count from the moof's first byte).
        tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", run.track_id))
        tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", run.base_time))
        trafs.append(box(b"traf", tfhd, tfdt, trun))
        data_offset += payload
    moof = box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)), *trafs)
    assert len(moof) == moof_size
    return moof + struct.pack(">I4s", 8 + sum(sizes), b"mdat")
