"""Digest and Basic against RFC 2617 / RFC 7616 / RFC 7617 worked values, each recomputed
here by hand with hashlib from the RFC's formulas (the cross-check against the simulator's
server lives in camera-simulator/tests/test_rtsp_auth_interop.py)."""

from __future__ import annotations

import hashlib

from argus_common.rtsp.auth import (
    Authenticator,
    Challenge,
    basic_header,
    choose,
    digest_header,
    parse_challenge,
)


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# RFC 2617 section 3.5.
RFC2617 = 'Digest realm="testrealm@host.com", qop="auth,auth-int", ' \
          'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
# RFC 7616 section 3.9.1.
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


def test_rfc2617_md5_with_qop_auth() -> None:
    challenge = parse_challenge(RFC2617)
    header = digest_header(challenge, "Mufasa", "Circle Of Life", "GET", "/dir/index.html",
                           cnonce="0a4f113b", nc=1)
    params = parse_challenge(header).params
    ha1 = md5("Mufasa:testrealm@host.com:Circle Of Life")
    ha2 = md5("GET:/dir/index.html")
    by_hand = md5(f"{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:{ha2}")
    assert params["response"] == by_hand == "6629fae49393a05397450978507c4ef1"
    assert (params["qop"], params["nc"], params["cnonce"]) == ("auth", "00000001", "0a4f113b")
    assert params["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"
    # qop, nc and algorithm are tokens: never quoted (RFC 7616 3.4).
    assert "qop=auth," in header and "nc=00000001" in header and "algorithm=MD5" in header


def test_rfc7616_md5_and_sha256() -> None:
    for algorithm, h, expected in (
        ("MD5", md5, "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", sha256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ):
        challenge = Challenge("digest", {"realm": "http-auth@example.org", "qop": "auth, auth-int",
                                         "algorithm": algorithm, "nonce": RFC7616_NONCE})
        header = digest_header(challenge, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
                               cnonce=RFC7616_CNONCE)
        ha1 = h("Mufasa:http-auth@example.org:Circle of Life")
        ha2 = h("GET:/dir/index.html")
        by_hand = h(f"{ha1}:{RFC7616_NONCE}:00000001:{RFC7616_CNONCE}:auth:{ha2}")
        assert parse_challenge(header).params["response"] == by_hand == expected


def test_md5_sess_hashes_nonce_and_cnonce_into_ha1() -> None:
    challenge = parse_challenge('Digest realm="cam", nonce="n0nce", algorithm=MD5-sess, qop="auth"')
    header = digest_header(challenge, "admin", "pw", "DESCRIBE", "rtsp://h/s", cnonce="c1", nc=3)
    ha1 = md5(f"{md5('admin:cam:pw')}:n0nce:c1")
    ha2 = md5("DESCRIBE:rtsp://h/s")
    params = parse_challenge(header).params
    assert params["response"] == md5(f"{ha1}:n0nce:00000003:c1:auth:{ha2}")
    assert params["algorithm"] == "MD5-sess" and params["nc"] == "00000003"
    # Without qop, MD5-sess still sends its cnonce (the server needs it for H(A1)).
    bare = digest_header(parse_challenge('Digest realm="cam", nonce="n", algorithm=MD5-sess'),
                         "admin", "pw", "DESCRIBE", "rtsp://h/s", cnonce="c2")
    p = parse_challenge(bare).params
    assert p["cnonce"] == "c2" and "qop" not in p
    bare_ha1 = md5(f"{md5('admin:cam:pw')}:n:c2")
    assert p["response"] == md5(f"{bare_ha1}:n:{ha2}")


def test_no_qop_is_the_rfc2069_form() -> None:
    header = digest_header(parse_challenge('Digest realm="r", nonce="abc"'), "u", "p",
                           "DESCRIBE", "rtsp://h/x")
    p = parse_challenge(header).params
    assert p["response"] == md5(f"{md5('u:r:p')}:abc:{md5('DESCRIBE:rtsp://h/x')}")
    assert "nc" not in p and "cnonce" not in p


def test_quoting_round_trips() -> None:
    challenge = parse_challenge(r'Digest realm="a \"quoted\" realm", nonce="n\\1", opaque="o"')
    assert challenge.params["realm"] == 'a "quoted" realm' and challenge.params["nonce"] == "n\\1"
    header = digest_header(challenge, 'us"er', "pw", "DESCRIBE", "rtsp://h/x")
    p = parse_challenge(header).params
    assert (p["username"], p["realm"], p["nonce"]) == ('us"er', 'a "quoted" realm', "n\\1")
    assert r'username="us\"er"' in header
    user, realm = 'us"er', 'a "quoted" realm'
    # Hashes cover the unquoted values.
    ha1 = md5(f"{user}:{realm}:pw")
    assert p["response"] == md5(f"{ha1}:n\\1:{md5('DESCRIBE:rtsp://h/x')}")


def test_basic_rfc7617() -> None:
    assert basic_header("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_choose_prefers_the_strongest_digest() -> None:
    basic = parse_challenge('Basic realm="x"')
    md5c = parse_challenge('Digest realm="x", nonce="1"')
    sess = parse_challenge('Digest realm="x", nonce="1", algorithm=MD5-sess')
    sha = parse_challenge('Digest realm="x", nonce="1", algorithm=SHA-256')
    unknown = parse_challenge('Digest realm="x", nonce="1", algorithm=SHA-512-256')
    assert choose([basic, md5c]) is md5c
    assert choose([basic, md5c, sess, sha]) is sha
    assert choose([unknown, basic]) is basic
    assert choose([parse_challenge('Bearer realm="x"')]) is None


def test_authenticator_counts_and_keeps_one_cnonce() -> None:
    auth = Authenticator("u", "secret")
    assert auth.header("DESCRIBE", "rtsp://h/x") is None
    assert auth.challenge(['Basic realm="r"',
                           'Digest realm="r", nonce="abc", qop="auth", algorithm=MD5-sess'])
    first = parse_challenge(auth.header("SETUP", "rtsp://h/x/t0") or "").params
    second = parse_challenge(auth.header("PLAY", "rtsp://h/x") or "").params
    assert (first["nc"], second["nc"]) == ("00000001", "00000002")
    assert first["cnonce"] == second["cnonce"]
    ha1 = md5(f"{md5('u:r:secret')}:abc:{first['cnonce']}")
    assert second["response"] == md5(
        f"{ha1}:abc:00000002:{second['cnonce']}:auth:{md5('PLAY:rtsp://h/x')}")
    assert not auth.challenge(['Bearer realm="r"'])
