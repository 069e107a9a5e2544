"""Property-based tests of what a camera (or anyone at its address) sends the RTSP client:
the byte stream of responses and ``$``-framed interleaved frames, WWW-Authenticate
challenges, SDP bodies, and the headers the client acts on (Content-Base, Session).

Properties: any input ends in a result or the module's own error, in bounded time; the
stream parser gives the same items however TCP cuts the stream; well-formed input comes
out exactly as it went in.
"""

from __future__ import annotations

import asyncio
import struct
from datetime import timedelta
from urllib.parse import urlsplit

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from argus_common.rtsp.auth import (
    Authenticator,
    Challenge,
    _quote,
    choose,
    digest_header,
    parse_challenge,
)
from argus_common.rtsp.client import RtspClient, split_credentials
from argus_common.rtsp.errors import RtspError
from argus_common.rtsp.protocol import MAX_HEAD, Response, RtspProtocol
from argus_common.rtsp.sdp import control_url, parse_sdp
from argus_testkit.fuzz import cpu_limit

FUZZ = settings(max_examples=200, deadline=timedelta(seconds=10), database=None,
                suppress_health_check=[HealthCheck.too_slow])


# -- the byte stream ------------------------------------------------------------------------

Item = tuple[str, object]

_token = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=":"),
                 min_size=1, max_size=12)
_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40).map(
    str.strip)
_reason = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


@st.composite
def frames(draw: st.DrawFn) -> tuple[int, bytes]:
    return draw(st.integers(0, 255)), draw(st.binary(max_size=300))


@st.composite
def responses(draw: st.DrawFn) -> tuple[int, str, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in draw(st.lists(st.tuples(_token, _value), max_size=5))
               if k.lower() != "content-length"]
    return draw(st.integers(100, 999)), draw(_reason), headers, draw(st.binary(max_size=200))


def encode_frame(channel: int, payload: bytes) -> bytes:
    return b"$" + bytes([channel]) + struct.pack("!H", len(payload)) + payload


def encode_response(status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
                    length: str | None = None) -> bytes:
    lines = [f"RTSP/1.0 {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@st.composite
def wild_streams(draw: st.DrawFn) -> bytes:
    """Frames, responses with any Content-Length (negative, garbage, too large), bare
    requests and garbage, in any order."""
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["frame", "response", "garbage", "request", "head"]))
        if kind == "frame":
            parts.append(encode_frame(*draw(frames())))
        elif kind == "response":
            status, reason, headers, body = draw(responses())
            length = draw(st.one_of(st.none(), st.integers(-400, 400).map(str),
                                    st.sampled_from(["", "x", "1e3", " 7 ", "-0", "+3"])))
            parts.append(encode_response(status, reason, headers, body, length))
        elif kind == "request":
            parts.append(b"ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        elif kind == "head":
            parts.append(draw(st.sampled_from([b"$", b"$\x00", b"$\x00\x01", b"\r\n", b"\r\n\r\n",
                                               b"RTSP/1.0 ", b"RTSP/1.0 200 OK\r\n"])))
        else:
            parts.append(draw(st.binary(max_size=60)))
    return b"".join(parts)


_cuts = st.lists(st.floats(0, 1), max_size=8)


def positions(data: bytes, cuts: list[float]) -> list[int]:
    """Cut points in ``data`` from fractions of its length."""
    return sorted(int(c * len(data)) for c in cuts)


class Recorder:
    """An RtspProtocol fed by hand, its frames and responses collected. Both are bounded by
    what the input can hold (each item takes at least 4 bytes), so a parser that loops
    re-reading its input fails at once instead of eating the memory."""

    def __init__(self, size: int) -> None:
        self.frames: list[tuple[int, bytes]] = []
        self.limit = size // 4 + 1
        self.proto = RtspProtocol(self.on_rtp)
        self.proto.responses = asyncio.Queue(maxsize=self.limit)

    def on_rtp(self, channel: int, packet: bytes) -> None:
        # Each frame takes at least its 4-byte header: more means input read twice.
        assert len(self.frames) < self.limit, "more frames than the input holds"
        self.frames.append((channel, bytes(packet)))

    def feed(self, data: bytes, cuts: list[int]) -> None:
        with cpu_limit(1):
            start = 0
            for cut in [*cuts, len(data)]:
                if cut > start:
                    self.proto.data_received(data[start:cut])
                    start = cut

    def responses(self) -> list[tuple[int, str, dict[str, list[str]], bytes]]:
        out = []
        while not self.proto.responses.empty():
            r: Response = self.proto.responses.get_nowait()
            out.append((r.status, r.reason, r.headers, r.body))
        return out


def _run(fn: object) -> None:
    """RtspProtocol wants a running loop (it makes its futures in __init__)."""
    async def main() -> None:
        fn()  # type: ignore[operator]

    asyncio.run(main())


_NEGATIVE_LENGTH = encode_response(200, "OK", [], b"", "-40")  # pos jumps back to 0


@FUZZ
@given(wild_streams(), _cuts)
@example(_NEGATIVE_LENGTH, [])
@example(encode_frame(0, b"x") + encode_response(200, "OK", [], b"", "-60"), [0.5])
def test_any_stream_parses_the_same_however_it_is_cut(stream: bytes, cuts: list[float]) -> None:
    """Arbitrary bytes: no exception, bounded, and the frames and responses of the stream
    fed whole equal those of the stream fed in pieces."""
    def check() -> None:
        whole, pieces = Recorder(len(stream)), Recorder(len(stream))
        whole.feed(stream, [])
        pieces.feed(stream, positions(stream, cuts))
        assert pieces.frames == whole.frames
        assert pieces.responses() == whole.responses()
        assert bytes(pieces.proto.buffer) == bytes(whole.proto.buffer)
        assert len(whole.proto.buffer) <= len(stream)

    _run(check)


def test_negative_content_length_is_not_a_step_back() -> None:
    """Regression: ``Content-Length: -40`` made the parser jump back to the start of the
    response and queue it again forever (found by the property above)."""
    def check() -> None:
        rec = Recorder(len(_NEGATIVE_LENGTH) * 2)
        rec.feed(_NEGATIVE_LENGTH + encode_frame(0, b"rtp"), [])
        assert [(s, b) for s, _, _, b in rec.responses()] == [(200, b"")]
        assert rec.frames == [(0, b"rtp")]

    _run(check)


@FUZZ
@given(st.lists(st.one_of(frames().map(lambda f: ("frame", f)),
                          responses().map(lambda r: ("response", r))), max_size=12),
       _cuts)
def test_well_formed_streams_come_out_as_they_went_in(items: list[Item],
                                                      cuts: list[float]) -> None:
    """Frames and responses with a right Content-Length: exactly those, in order, whatever
    the chunking, and nothing left over."""
    stream = b"".join(encode_frame(*f) if k == "frame" else encode_response(*f)  # type: ignore[misc]
                      for k, f in items)

    def check() -> None:
        rec = Recorder(len(stream))
        rec.feed(stream, positions(stream, cuts))
        assert rec.frames == [f for k, f in items if k == "frame"]
        got = rec.responses()
        want = [r for k, r in items if k == "response"]
        assert len(got) == len(want)
        for (status, reason, headers, body), (w_status, w_reason, w_headers, w_body) in zip(
                got, want, strict=True):
            assert (status, reason.strip(), body) == (w_status, w_reason.strip(), w_body)
            for k, v in w_headers:
                assert v.strip() in headers[k.strip().lower()]
        assert not rec.proto.buffer

    _run(check)


def test_a_head_without_end_is_bounded() -> None:
    """Text that never ends its head is dropped past MAX_HEAD instead of growing."""
    def check() -> None:
        rec = Recorder(1)
        rec.feed(b"RTSP/1.0 200 OK\r\nX: " + b"a" * (MAX_HEAD + 10), [100, 5000])
        assert len(rec.proto.buffer) <= MAX_HEAD + 5000

    _run(check)


# -- WWW-Authenticate -----------------------------------------------------------------------

_latin1 = st.text(st.characters(min_codepoint=0, max_codepoint=0xFF), max_size=300)
_PARAMS = ["realm", "nonce", "qop", "algorithm", "opaque", "stale", "domain", "charset"]


@st.composite
def challenge_headers(draw: st.DrawFn) -> str:
    """Header values shaped like challenges, with odd quoting, spacing and values."""
    scheme = draw(st.sampled_from(["Digest", "Basic", "digest", "NTLM", "", "Bearer"]))
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.one_of(st.sampled_from(_PARAMS), _token))
        value = draw(st.one_of(
            st.sampled_from(["MD5", "md5-sess", "SHA-256", "SHA-256-sess", "SHA-512",
                             "auth", "auth,auth-int", "auth-int"]),
            _latin1.map(_quote), _latin1.map(lambda v: '"' + v), _token))
        sep = draw(st.sampled_from(["=", " = ", "="]))
        parts.append(f"{name}{sep}{value}")
    joiner = draw(st.sampled_from([", ", ",", " ", ",,"]))
    return f"{scheme} {joiner.join(parts)}"


@FUZZ
@given(st.one_of(_latin1, challenge_headers(), st.text(max_size=200)))
@example('Digest realm="a\\')
@example('Digest nonce="\\"')
def test_any_challenge_parses(value: str) -> None:
    """Any header value gives a Challenge of str parameters."""
    with cpu_limit(2):
        challenge = parse_challenge(value)
    assert isinstance(challenge, Challenge)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in challenge.params.items())
    assert challenge.scheme == challenge.scheme.lower()


@settings(FUZZ, max_examples=30)
@given(st.text(st.characters(codec="latin-1"), min_size=1, max_size=6),
       st.sampled_from(["Digest ", "Digest realm=", 'Digest realm="', "Basic "]))
@example("a", "Digest ")
@example("a=", "Digest ")
def test_long_challenges_parse_in_linear_time(unit: str, prefix: str) -> None:
    """A camera may send a header as long as the head limit: parsing it is bounded
    (the parameter regex backtracked quadratically: 16 KB of one word took 4.4 s)."""
    value = prefix + unit * (MAX_HEAD // len(unit) // 2)
    with cpu_limit(2):
        parse_challenge(value)


@FUZZ
@given(st.lists(st.one_of(challenge_headers(), _latin1), max_size=4),
       st.text(st.characters(codec="latin-1"), max_size=30),
       st.text(st.characters(codec="latin-1"), max_size=30),
       st.sampled_from(["DESCRIBE", "SETUP", "PLAY", "GET_PARAMETER"]))
def test_any_challenges_get_an_answer_or_a_no(headers: list[str], user: str, password: str,
                                              method: str) -> None:
    """The Authenticator never raises on what a camera offers; when it answers, the
    answer parses back with our user name and the URI."""
    auth = Authenticator(user, password)
    with cpu_limit(2):
        usable = auth.challenge(headers)
        value = auth.header(method, "rtsp://cam/x")
    assert usable == (value is not None)
    if value is not None and auth.scheme == "digest":
        params = parse_challenge(value).params
        assert (params["username"], params["uri"]) == (user, "rtsp://cam/x")


@FUZZ
@given(st.dictionaries(st.sampled_from(["realm", "nonce", "opaque"]), _latin1),
       st.sampled_from(["MD5", "MD5-sess", "SHA-256", "sha-256-SESS"]),
       st.sampled_from(["", "auth", "auth,auth-int", "auth-int"]),
       st.text(st.characters(codec="latin-1"), max_size=40),
       st.text(st.characters(codec="latin-1", exclude_characters='"'), max_size=40))
def test_quoting_round_trips(params: dict[str, str], algorithm: str, qop: str, user: str,
                             uri: str) -> None:
    """Values quoted by us parse back unchanged: the challenge's, then our answer's."""
    header = "Digest " + ", ".join(
        [f"{k}={_quote(v)}" for k, v in params.items()] + [f"algorithm={algorithm}"]
        + ([f'qop="{qop}"'] if qop else []))
    challenge = parse_challenge(header)
    assert {k: challenge.params[k] for k in params} == params
    assert choose([challenge]) == challenge
    answer = parse_challenge(digest_header(challenge, user, "pw", "DESCRIBE", uri)).params
    assert (answer["username"], answer["uri"]) == (user, uri)
    assert answer.get("realm", "") == params.get("realm", "")
    assert answer.get("nonce", "") == params.get("nonce", "")
    if "opaque" in params:
        assert answer["opaque"] == params["opaque"]
    assert ("qop" in answer) == ("auth" in qop.split(","))


# -- SDP ------------------------------------------------------------------------------------

_sdp_line = st.one_of(
    st.sampled_from(["m=video 0 RTP/AVP 96", "m=audio 0 RTP/AVP 0", "m=", "m=video",
                     "m=video 0 RTP/AVP x", "a=rtpmap:96 H264/90000", "a=rtpmap:96",
                     "a=rtpmap:8 PCMA/8000/2", "a=rtpmap:97 opus/x/y", "a=fmtp:96",
                     "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0IAH+kCg/I=,aM4xsg==",
                     "a=control:trackID=1", "a=control:*", "a=control:rtsp://[::1/x",
                     "a=control://[x/y", "v=0", ""]),
    _latin1.map(lambda t: "a=" + t), _latin1.map(lambda t: "m=" + t), _latin1)


@FUZZ
@given(st.lists(_sdp_line, max_size=20), st.sampled_from(["\r\n", "\n", "\r"]))
def test_any_sdp_gives_tracks(lines: list[str], eol: str) -> None:
    """Any SDP body: a list of tracks with int payload types, clocks and channels."""
    with cpu_limit(2):
        tracks = parse_sdp(eol.join(lines))
    for t in tracks:
        assert isinstance(t.payload_type, int) and isinstance(t.clock, int)
        assert isinstance(t.channels, int)
        assert all(isinstance(v, str) for v in t.fmtp.values())


# -- headers the client acts on -------------------------------------------------------------

_url_text = st.one_of(
    st.sampled_from(["rtsp://cam/x/", "rtsp://[::1]:554/x", "rtsp://[::1/x", "rtsp://u:p@h/x",
                     "http://[x", "//[a/b", "rtsp://h:99999/x", "trackID=1", "*", ""]),
    _latin1.map(lambda t: "rtsp://" + t), _latin1)

SDP = ("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
       "a=control:{control}\r\nm=audio 0 RTP/AVP 0\r\na=control:{audio}\r\n")


class ScriptedClient(RtspClient):
    """The client with its wire replaced by a list of answers (nothing is connected)."""

    def __init__(self, answers: list[Response]) -> None:
        super().__init__("rtsp://cam.invalid/x", username="u", password="p",
                         want_audio=lambda t: True, keepalive=False)
        self.answers = answers
        self.sent: list[tuple[str, str]] = []

    async def _send(self, method: str, uri: str, headers: dict[str, str]) -> Response:
        self.sent.append((method, uri))
        auth = self._auth.header(method, uri) if self._auth else None
        if auth is not None:
            parse_challenge(auth)  # what we send must parse
        if not self.answers:
            raise RtspError("no more answers")
        return self.answers.pop(0)


def _answer(status: int, headers: dict[str, str], body: bytes = b"") -> Response:
    return Response(status, "X", {k: [v] for k, v in headers.items()}, body)


@FUZZ
@given(_url_text, _url_text, _url_text, st.lists(_latin1, max_size=3),
       st.sampled_from([200, 401, 403, 404, 454, 500]),
       st.one_of(_latin1, st.sampled_from(["abc;timeout=30", "abc;timeout=0", "x;timeout=nan",
                                           "x;timeout=inf", "x;timeout=-5", ";timeout=",
                                           "s;timeout=1e400"])))
@example("rtsp://[::1/x", "trackID=1", "", [], 200, "s")  # a bad Content-Base
@example("rtsp://cam/x/", "//[a/b", "", [], 200, "s")  # a bad a=control
def test_client_takes_any_answers_or_raises_rtsp_error(
        base: str, control: str, audio: str, challenges: list[str], status: int,
        session: str) -> None:
    """DESCRIBE and SETUP with anything in Content-Base, a=control, WWW-Authenticate and
    Session: tracks set up, or an RtspError (never a ValueError from URL parsing)."""
    body = SDP.format(control=control, audio=audio).encode("latin-1")
    answers = [
        _answer(401, {"www-authenticate": c}) for c in challenges[:1]
    ] + [
        _answer(status, {"content-base": base}, body),
        _answer(200, {"session": session}), _answer(200, {"session": session}),
    ]

    async def main() -> None:
        client = ScriptedClient(answers)
        try:
            tracks = await client.setup()
        except RtspError as exc:
            assert "p@" not in str(exc)
            return
        assert tracks and tracks[0].sdp.codec == "h264"
        assert client.session_timeout_s >= 1.0
        assert all("@" not in urlsplit(uri).netloc for _, uri in client.sent), client.sent

    with cpu_limit(2):
        asyncio.run(main())


@FUZZ
@given(_url_text, _url_text)
def test_control_url_is_a_string_or_value_error(base: str, control: str) -> None:
    """``control_url`` (pure URL joining) either joins or raises ValueError, which the
    client turns into RtspUnsupported."""
    try:
        joined = control_url(base, control)
    except ValueError:
        return
    assert isinstance(joined, str)


@FUZZ
@given(_url_text)
def test_split_credentials_is_a_split_or_value_error(url: str) -> None:
    """The URL without its userinfo, or ValueError (a malformed URL)."""
    try:
        clean, user, _ = split_credentials(url)
        netloc = urlsplit(clean).netloc
    except ValueError:
        return
    assert user is None or "@" not in netloc
