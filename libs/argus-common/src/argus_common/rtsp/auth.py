"""Client side of HTTP-style authentication as RTSP uses it: Basic (RFC 7617) and Digest
(RFC 2617 / RFC 7616: MD5, MD5-sess, SHA-256, SHA-256-sess; ``qop=auth`` or none).

The one implementation every ARGUS service uses. Parameters are parsed and written with
RFC 7616's quoting rules (``\\"`` and ``\\\\`` escapes inside quoted strings; ``algorithm``,
``qop`` and ``nc`` unquoted), which some cameras are strict about.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

# Names start only where a word starts and nothing is given back once matched (possessive
# quantifiers): a long header is parsed in linear time. With plain ``+``/``*`` every
# position inside a long word was a new start, quadratic: 16 KB of one word took 4 s.
_PARAM = re.compile(r'(?<![\w-])([\w-]++)\s*+=\s*+(?:"((?:[^"\\]|\\.)*+)"|([^,\s]*+))')
_ESCAPE = re.compile(r"\\(.)")


def _md5(data: bytes) -> str:
    # MD5 is what RFC 2617 Digest is defined with; nothing is stored with it.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_HASHES: dict[str, Callable[[bytes], str]] = {"MD5": _md5, "SHA-256": _sha256}
# The strongest first: when a camera offers several Digest challenges, take this order.
_PREFERENCE = ("SHA-256-SESS", "SHA-256", "MD5-SESS", "MD5")


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: the scheme (lower case) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def algorithm(self) -> str:
        """The Digest algorithm in upper case (``MD5`` when the camera names none)."""
        return (self.params.get("algorithm") or "MD5").upper()


def parse_challenge(value: str) -> Challenge:
    """``Digest realm="x", nonce="y", qop="auth"`` -> ``Challenge("digest", {...})``."""
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        quoted, bare = match.group(2), match.group(3)
        params[match.group(1).lower()] = (
            _ESCAPE.sub(r"\1", quoted) if quoted is not None else bare
        )
    return Challenge(scheme.lower(), params)


def choose(challenges: list[Challenge]) -> Challenge | None:
    """The strongest challenge we can answer: Digest (by algorithm) before Basic."""
    digests = [c for c in challenges if c.scheme == "digest" and c.algorithm in _PREFERENCE]
    if digests:
        return min(digests, key=lambda c: _PREFERENCE.index(c.algorithm))
    return next((c for c in challenges if c.scheme == "basic"), None)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def basic_header(username: str, password: str) -> str:
    """``Authorization`` value for Basic (RFC 7617, UTF-8 user-pass)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def digest_header(
    challenge: Challenge, username: str, password: str, method: str, uri: str,
    *, cnonce: str | None = None, nc: int = 1,
) -> str:
    """The ``Authorization: Digest …`` answer to ``challenge`` for one request.

    With a ``-sess`` algorithm, H(A1) also covers the server nonce and ``cnonce`` (RFC 2617
    3.2.2.2); a client keeps one ``cnonce`` per challenge so H(A1) stays the same.
    """
    p = challenge.params
    realm, nonce = p.get("realm", ""), p.get("nonce", "")
    algorithm = challenge.algorithm
    base = algorithm.removesuffix("-SESS")
    digest = _HASHES.get(base)
    if digest is None:
        raise ValueError(f"unsupported Digest algorithm {algorithm}")

    def h(text: str) -> str:
        return digest(text.encode("utf-8"))

    qops = [q.strip().lower() for q in p.get("qop", "").split(",") if q.strip()]
    qop = "auth" if "auth" in qops else None
    cnonce = cnonce or secrets.token_hex(8)
    nc_text = f"{nc:08x}"
    ha1 = h(f"{username}:{realm}:{password}")
    if algorithm.endswith("-SESS"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    if qop:
        response = h(f"{ha1}:{nonce}:{nc_text}:{cnonce}:{qop}:{ha2}")
    else:
        response = h(f"{ha1}:{nonce}:{ha2}")
    # Echo the camera's spelling of the algorithm: some compare it case-sensitively.
    algo_text = p.get("algorithm") or "MD5"
    parts = [
        f"username={_quote(username)}", f"realm={_quote(realm)}", f"nonce={_quote(nonce)}",
        f"uri={_quote(uri)}", f'response="{response}"', f"algorithm={algo_text}",
    ]
    if qop or algorithm.endswith("-SESS"):
        parts.append(f"cnonce={_quote(cnonce)}")
    if qop:
        parts += [f"qop={qop}", f"nc={nc_text}"]
    if "opaque" in p:
        parts.append(f"opaque={_quote(p['opaque'])}")
    return "Digest " + ", ".join(parts)


def authorization(
    challenge: Challenge, username: str, password: str, method: str, uri: str
) -> str:
    """``Authorization`` value answering ``challenge`` (Basic or Digest), one-shot."""
    if challenge.scheme == "basic":
        return basic_header(username, password)
    return digest_header(challenge, username, password, method, uri)


class Authenticator:
    """Builds ``Authorization`` headers after a 401 challenge, for every later request of a
    connection: the nonce count grows and one ``cnonce`` serves the whole challenge."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self.challenge_in_use: Challenge | None = None
        # Whether to answer with qop when offered (False: the RFC 2069 form, a test knob for
        # servers that must accept both).
        self.use_qop = True
        self._nc = 0
        self._cnonce = ""

    @property
    def scheme(self) -> str | None:
        """``"digest"``, ``"basic"`` or None before any usable challenge."""
        return self.challenge_in_use.scheme if self.challenge_in_use else None

    def challenge(self, headers: list[str]) -> bool:
        """Take the best challenge offered; False if none is usable."""
        chosen = choose([parse_challenge(h) for h in headers])
        if chosen is None:
            return False
        if not self.use_qop and "qop" in chosen.params:
            chosen = Challenge(chosen.scheme,
                               {k: v for k, v in chosen.params.items() if k != "qop"})
        self.challenge_in_use, self._nc, self._cnonce = chosen, 0, secrets.token_hex(8)
        return True

    def header(self, method: str, uri: str) -> str | None:
        """The ``Authorization`` value for a request, or None before any challenge."""
        chosen = self.challenge_in_use
        if chosen is None:
            return None
        if chosen.scheme == "basic":
            return basic_header(self.username, self.password)
        self._nc += 1
        return digest_header(chosen, self.username, self.password, method, uri,
                             cnonce=self._cnonce, nc=self._nc)
