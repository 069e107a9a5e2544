"""Unit tests of the media helpers: H.264, RTP depacketizing, SDP rewrites, URLs, queues."""

from __future__ import annotations

import asyncio
import base64
import itertools

import pytest

from argus_common.h264 import (
    ParameterSetKeeper,
    has_b_slice,
    parameter_sets_from_sprop,
    split_annexb,
    to_annexb,
)
from argus_common.rtsp.auth import Authenticator
from argus_common.rtsp.client import split_credentials
from argus_common.rtsp.depay import H264Depacketizer, TimestampUnwrapper
from argus_common.rtsp.frames import AccessUnit
from argus_common.rtsp.sdp import SdpTrack, control_url, parse_sdp
from argus_streaming.cameras.urls import with_userinfo
from argus_streaming.live.queue import QueueClosed, ViewerQueue
from argus_streaming.live.rtp import audio_passthrough
from argus_streaming.webrtc.sdp import add_public_ip, strip_mdns_candidates

SPS = bytes.fromhex("6764000dacb202833f3c20000003002000000791")
PPS = bytes.fromhex("68ebc3cb22c0")
IDR = bytes([0x65, 0x88, 0x84, 0x00, 0x33])


def test_userinfo_is_percent_encoded_and_round_trips() -> None:
    url = with_userinfo("rtsp://cam.local:554/main", "ad@min", "p@ss:w/rd %")
    assert url == "rtsp://ad%40min:p%40ss%3Aw%2Frd%20%25@cam.local:554/main"
    assert split_credentials(url) == ("rtsp://cam.local:554/main", "ad@min", "p@ss:w/rd %")
    assert with_userinfo("rtsp://old:pw@h/x", None, None) == "rtsp://h/x"


def test_parameter_sets_are_put_before_idr() -> None:
    sprop = f"{base64.b64encode(SPS).decode()},{base64.b64encode(PPS).decode()}"
    sps, pps = parameter_sets_from_sprop(sprop)
    assert (sps, pps) == (SPS, PPS)
    keeper = ParameterSetKeeper(sps, pps)
    assert keeper.process([IDR]) == [SPS, PPS, IDR]
    assert keeper.process([bytes([0x41, 0x9A])]) == [bytes([0x41, 0x9A])]
    annexb = to_annexb(keeper.process([IDR]))
    assert split_annexb(annexb) == [SPS, PPS, IDR]
    assert split_annexb(b"\x00\x00\x01" + IDR + b"\x00\x00\x00\x01" + PPS) == [IDR, PPS]


def test_b_slices_are_detected() -> None:
    # first_mb_in_slice=0 ('1'), slice_type: P=0 ('1'), B=1 ('010'), I=7 ('0001000').
    p_slice = bytes([0x41, 0b11000000])
    b_slice = bytes([0x41, 0b10100000])
    i_slice = bytes([0x65, 0b10001000])
    assert not has_b_slice([p_slice, i_slice])
    assert has_b_slice([b_slice])


def test_depacketizer_fu_a_stap_a_and_loss() -> None:
    d = H264Depacketizer()
    nal = bytes([0x65]) + bytes(range(200))
    fu1 = bytes([0x7C, 0x85]) + nal[1:100]
    fu2 = bytes([0x7C, 0x45]) + nal[100:]
    assert d.push(1, 3000, False, fu1) is None
    assert d.push(2, 3000, True, fu2) == [nal]
    stap = bytes([0x78]) + len(SPS).to_bytes(2, "big") + SPS + len(PPS).to_bytes(2, "big") + PPS
    assert d.push(3, 6000, False, stap) is None
    assert d.push(4, 6000, True, IDR) == [SPS, PPS, IDR]
    # A lost packet drops the access unit it belonged to.
    assert d.push(5, 9000, False, fu1) is None
    assert d.push(7, 9000, True, fu2) is None
    assert d.lost == 1
    assert d.push(8, 12000, True, IDR) == [IDR]


def test_timestamp_unwrap() -> None:
    u = TimestampUnwrapper()
    assert u(0xFFFFF000) == 0
    assert u(0x00000F00) == 0x1F00
    assert u(0x00001F00) == 0x2F00


def test_sdp_parse_and_control() -> None:
    sdp = ("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
           "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0IA,aM4=\r\n"
           "a=control:trackID=0\r\nm=audio 0 RTP/AVP 8\r\na=control:trackID=1\r\n")
    video, audio = parse_sdp(sdp)
    assert (video.codec, video.clock, video.fmtp["packetization-mode"]) == ("h264", 90000, "1")
    assert (audio.codec, audio.clock) == ("pcma", 8000)
    assert control_url("rtsp://h/cam1/main", "trackID=0") == "rtsp://h/cam1/main/trackID=0"
    assert control_url("rtsp://h/x/", "rtsp://h/y") == "rtsp://h/y"
    assert audio_passthrough(audio)
    assert not audio_passthrough(SdpTrack("audio", 97, codec="mpeg4-generic"))


def test_mdns_candidates_are_taken_out_of_the_offer() -> None:
    offer = ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
             "a=candidate:1 1 udp 2113937151 3f1e.local 54321 typ host\r\n"
             "a=candidate:2 1 udp 2113937151 192.0.2.7 54322 typ host\r\n"
             "a=end-of-candidates\r\n")
    clean = strip_mdns_candidates(offer)
    assert ".local" not in clean.sdp and "end-of-candidates" not in clean.sdp
    assert "192.0.2.7" in clean.sdp
    assert clean.mdns == [(0, "candidate:1 1 udp 2113937151 3f1e.local 54321 typ host")]
    answer = "a=candidate:9 1 udp 100 10.0.0.5 4000 typ host\r\n"
    assert "203.0.113.9 4000 typ host" in add_public_ip(answer, "203.0.113.9")


def test_digest_authorization() -> None:
    auth = Authenticator("admin", "secret")
    assert auth.header("DESCRIBE", "rtsp://h/x") is None
    assert auth.challenge(['Basic realm="r"', 'Digest realm="r", nonce="abc", qop="auth"'])
    value = auth.header("DESCRIBE", "rtsp://h/x")
    assert value is not None and value.startswith("Digest ") and 'nonce="abc"' in value
    assert "secret" not in value


def _unit(pts: int, key: bool = False) -> AccessUnit:
    return AccessUnit("video", b"x", pts, key, 0)


async def test_viewer_queue_drops_and_resyncs_at_keyframe() -> None:
    drops: list[int] = []
    q = ViewerQueue(3, on_drop=drops.append)
    q.put(_unit(0))  # waits for a keyframe
    assert len(q) == 0
    for i, key in enumerate([True, False, False, False, False, True, False]):
        q.put(_unit(i + 1, key))
    # Full at the 4th unit: everything dropped, then restarted at the next keyframe.
    assert [u.pts for u, _ in [await q.get(), await q.get()]] == [6, 7]
    assert q.dropped == sum(drops) >= 4
    q.close()
    with pytest.raises(QueueClosed):
        await asyncio.wait_for(q.get(), 1)


async def test_a_replayed_gop_longer_than_the_queue_is_kept() -> None:
    """A 4 s GOP is 120 frames: replayed to a late viewer with a 3-frame queue, it must not
    be thrown away by the next live frame (the viewer would wait a whole GOP)."""
    q = ViewerQueue(3)
    q.prefill([_unit(0, True)] + [_unit(i) for i in range(1, 10)])
    q.put(_unit(10))
    q.put(_unit(11))
    got = [await asyncio.wait_for(q.get(), 1) for _ in range(12)]
    assert [u.pts for u, _ in got] == list(range(12))
    assert [replayed for _, replayed in got] == [True] * 10 + [False] * 2
    assert q.dropped == 0
    # Live frames alone are bounded as before: the 4th one overflows and resyncs.
    q.prefill([_unit(20, True)] + [_unit(i) for i in range(21, 25)])
    for pts in range(25, 29):
        q.put(_unit(pts))
    assert len(q) == 0 and q.dropped == 9


async def test_playback_track_paces_at_speed() -> None:
    import time

    from argus_streaming.playback.reader import PlaybackUnit
    from argus_streaming.playback.track import PlaybackVideoTrack

    pre = [PlaybackUnit(b"\x00\x00\x00\x01\x65", i * 3000, i == 0, True, 0) for i in range(3)]
    live = [PlaybackUnit(b"\x00\x00\x00\x01\x41", (3 + i) * 3000, False, False, 0)
            for i in range(24)]
    track = PlaybackVideoTrack(iter(pre + live), speed=4.0)
    t0 = time.monotonic()
    packets = [await asyncio.wait_for(track.recv(), 5) for _ in range(27)]
    elapsed = time.monotonic() - t0
    pts = [p.pts for p in packets]
    assert pts[:3] == [0, 1, 2]  # pre-roll: decoded at once
    steps = {b - a for a, b in itertools.pairwise(pts[3:])}
    assert steps == {750}  # 30 fps at 4x: a quarter of the real spacing
    assert elapsed >= 23 * 3000 / 90000 / 4 * 0.9  # paced, not bursted
    track.stop()
