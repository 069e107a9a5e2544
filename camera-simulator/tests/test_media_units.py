"""Unit tests of the media building blocks: H.264 packetization, RTP, auth, RTSP parsing."""

from __future__ import annotations

import base64
import struct

import pytest

from argus_camsim.audio import CODECS
from argus_camsim.faults import CommandError, parse_fault_flag
from argus_camsim.h264 import ParameterSets, packetize, split_annexb
from argus_camsim.rtp import MediaFrame, sender_report
from argus_camsim.rtsp.auth import REALM, RtspAuth, digest_response
from argus_camsim.rtsp.message import parse_head, parse_target, parse_transport
from argus_camsim.rtsp.sdp import build_sdp

SPS = bytes([0x67, 0x42, 0xC0, 0x1F, 0xDA, 0x01])
PPS = bytes([0x68, 0xCE, 0x3C, 0x80])


def test_split_annexb_handles_3_and_4_byte_start_codes_and_drops_aud() -> None:
    idr = bytes([0x65]) + bytes(range(1, 50))
    data = b"\x00\x00\x00\x01\x09\xf0" + b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS
    data += b"\x00\x00\x00\x01" + idr
    assert split_annexb(data) == [SPS, PPS, idr]


def _reassemble(payloads: list[bytes]) -> list[bytes]:
    nals: list[bytes] = []
    current = b""
    for p in payloads:
        if p[0] & 0x1F == 28:
            start, end = p[1] & 0x80, p[1] & 0x40
            if start:
                current = bytes([(p[0] & 0xE0) | (p[1] & 0x1F)])
            current += p[2:]
            if end:
                nals.append(current)
        else:
            nals.append(p)
    return nals


def test_packetize_uses_single_nal_and_fu_a() -> None:
    big = bytes([0x65]) + bytes(i % 251 for i in range(5000))
    payloads = packetize([SPS, PPS, big], max_payload=1400)
    assert payloads[0] == SPS and payloads[1] == PPS
    fragments = payloads[2:]
    assert len(fragments) == 4
    assert all(len(p) <= 1400 for p in fragments)
    assert fragments[0][1] & 0x80 and not fragments[0][1] & 0x40
    assert fragments[-1][1] & 0x40 and not fragments[-1][1] & 0x80
    assert _reassemble(payloads) == [SPS, PPS, big]


def test_media_frame_framing_sets_marker_on_last_packet_only() -> None:
    frame = MediaFrame(
        0,
        [b"a" * 10, b"b" * 20],
        rtp_ts=0x1_0000_0005,
        seq0=0xFFFF,
        ssrc=0xDEADBEEF,
        pt=96,
        keyframe=True,
        wall_ms=0,
    )
    data = frame.tcp(2)
    first_len = struct.unpack("!H", data[2:4])[0]
    assert data[0] == 0x24 and data[1] == 2 and first_len == 22
    first, second = data[4 : 4 + first_len], data[8 + first_len :]
    assert first[1] == 96 and second[1] == 96 | 0x80
    assert struct.unpack("!H", first[2:4])[0] == 0xFFFF
    assert struct.unpack("!H", second[2:4])[0] == 0  # sequence wraps
    assert struct.unpack("!I", first[4:8])[0] == 5  # timestamp is 32 bits
    assert frame.tcp(2) is data  # framed once per channel
    assert [d[12:] for d in frame.datagrams()] == [b"a" * 10, b"b" * 20]


def test_sender_report_maps_wall_clock() -> None:
    sr = sender_report(0x01020304, 1_000_500, 90_000, 10, 1000)
    assert len(sr) == 28 and sr[1] == 200
    ntp_sec, ntp_frac = struct.unpack("!II", sr[8:16])
    assert ntp_sec == 1000 + 2_208_988_800
    assert abs(ntp_frac / 2**32 - 0.5) < 1e-6


def test_sdp_carries_parameter_sets_and_profile() -> None:
    sdp = build_sdp(
        "127.0.0.1", "Camera 1 main", ParameterSets(SPS, PPS), 30, (320, 180), CODECS["aac"]
    )
    assert "packetization-mode=1" in sdp
    assert "profile-level-id=42c01f" in sdp
    sprop = f"{base64.b64encode(SPS).decode()},{base64.b64encode(PPS).decode()}"
    assert f"sprop-parameter-sets={sprop}" in sdp
    assert "MPEG4-GENERIC/16000/1" in sdp and "a=control:trackID=1" in sdp


@pytest.mark.parametrize("qop", [True, False])
def test_digest_accepts_answers_with_and_without_qop(qop: bool) -> None:
    auth = RtspAuth("digest", "user", "pw")
    challenge = auth.challenges()[0]
    nonce = challenge.split('nonce="')[1].split('"')[0]
    uri = "rtsp://127.0.0.1/cam1/main"
    if qop:
        resp = digest_response("user", "pw", "DESCRIBE", uri, nonce, "auth", "00000001", "ab")
        extra = ', qop=auth, nc=00000001, cnonce="ab"'
    else:
        resp = digest_response("user", "pw", "DESCRIBE", uri, nonce)
        extra = ""
    header = (
        f'Digest username="user", realm="{REALM}", nonce="{nonce}", uri="{uri}", '
        f'response="{resp}"{extra}'
    )
    assert auth.check("DESCRIBE", header)
    assert not auth.check("SETUP", header)  # method is part of the hash
    assert not auth.check("DESCRIBE", header.replace(nonce, "0" + nonce[1:]))
    wrong = digest_response("user", "nope", "DESCRIBE", uri, nonce)
    assert not auth.check("DESCRIBE", header.replace(resp, wrong))


def test_basic_and_both_modes() -> None:
    good = "Basic " + base64.b64encode(b"user:pw").decode()
    bad = "Basic " + base64.b64encode(b"user:pwx").decode()
    assert RtspAuth("basic", "user", "pw").check("DESCRIBE", good)
    assert not RtspAuth("basic", "user", "pw").check("DESCRIBE", bad)
    assert not RtspAuth("digest", "user", "pw").check("DESCRIBE", good)
    both = RtspAuth("both", "user", "pw")
    assert both.check("DESCRIBE", good)
    assert [c.split()[0] for c in both.challenges()] == ["Digest", "Basic"]
    assert RtspAuth("none").check("DESCRIBE", None)


def test_request_transport_and_target_parsing() -> None:
    req = parse_head(
        b"SETUP rtsp://h:1/cam2/sub/trackID=0 RTSP/1.0\r\nCSeq: 3\r\n"
        b"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"
    )
    assert req.method == "SETUP" and req.cseq == "3"
    target = parse_target(req.url)
    assert target is not None
    assert (target.camera, target.variant, target.track) == ("cam2", "sub", 0)
    assert parse_target("rtsp://h/cam1") is not None
    assert parse_target("rtsp://h/other/main") is None
    tcp = parse_transport(req.headers["transport"])
    assert tcp is not None and tcp.tcp and tcp.interleaved == (0, 1)
    udp = parse_transport("RTP/AVP;multicast,RTP/AVP;unicast;client_port=5000-5001")
    assert udp is not None and not udp.tcp and udp.client_port == (5000, 5001)
    assert parse_transport("RTP/AVP;multicast") is None
    with pytest.raises(ValueError):
        parse_head(b"GARBAGE\r\n")


def test_fault_flags() -> None:
    assert parse_fault_flag("cam2:stall") == ("cam2", {"stall": True})
    assert parse_fault_flag("cam1:corrupt=off") == ("cam1", {"corrupt": False})
    assert parse_fault_flag("cam3:offline_s=30") == ("cam3", {"offline_s": 30.0})
    assert parse_fault_flag("cam1:resolution=640x360") == ("cam1", {"resolution": "640x360"})
    for bad in ("stall", "cam1:explode", "cam1:offline_s=soon"):
        with pytest.raises(CommandError):
            parse_fault_flag(bad)


def test_environment_sets_flag_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from argus_camsim.cli import apply_env_defaults, build_parser, config_from_args

    monkeypatch.setenv("CAMSIM_CAMERAS", "3")
    monkeypatch.setenv("CAMSIM_MOTION", "true")
    monkeypatch.setenv("CAMSIM_RESOLUTION", "640x360")
    monkeypatch.setenv("CAMSIM_FAULT", "cam1:stall,cam2:corrupt")
    parser = build_parser()
    apply_env_defaults(parser)
    config = config_from_args(parser.parse_args(["--cameras", "5"]))
    assert config.cameras == 5  # the command line wins
    assert config.motion is True
    assert (config.width, config.height) == (640, 360)
    assert config.faults == ["cam1:stall", "cam2:corrupt"]
    assert config.main.gop_frames == 30 and config.main.bframes == 0
