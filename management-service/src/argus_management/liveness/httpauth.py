"""Client side of HTTP-style authentication (Basic and Digest, RFC 7617 / RFC 2617), as
RTSP uses it: pick a challenge from ``WWW-Authenticate`` and build ``Authorization``."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: the scheme (lower case) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_challenge(value: str) -> Challenge:
    """``Digest realm="x", nonce="y", qop="auth"`` -> Challenge("digest", {...})."""
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        quoted, bare = match.group(2), match.group(3)
        params[match.group(1).lower()] = (
            quoted.replace('\\"', '"') if quoted is not None else bare
        )
    return Challenge(scheme.lower(), params)


def choose(challenges: list[Challenge]) -> Challenge | None:
    """The strongest challenge we can answer: Digest (MD5 / MD5-sess) before Basic."""
    for challenge in challenges:
        if challenge.scheme == "digest" and challenge.params.get("algorithm", "MD5").upper() in (
            "MD5", "MD5-SESS"
        ):
            return challenge
    for challenge in challenges:
        if challenge.scheme == "basic":
            return challenge
    return None


def _md5(text: str) -> str:
    # MD5 is what RFC 2617 Digest is defined with; nothing is stored with it.
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def basic_header(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def digest_header(
    challenge: Challenge, username: str, password: str, method: str, uri: str,
    *, cnonce: str | None = None, nc: int = 1,
) -> str:
    """The ``Authorization: Digest …`` answer to ``challenge`` for one request."""
    p = challenge.params
    realm, nonce = p.get("realm", ""), p.get("nonce", "")
    algorithm = p.get("algorithm", "MD5")
    qops = [q.strip() for q in p.get("qop", "").split(",") if q.strip()]
    qop = "auth" if "auth" in qops else None
    cnonce = cnonce or secrets.token_hex(8)
    nc_text = f"{nc:08x}"
    ha1 = _md5(f"{username}:{realm}:{password}")
    if algorithm.upper() == "MD5-SESS":
        ha1 = _md5(f"{ha1}:{nonce}:{cnonce}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        response = _md5(f"{ha1}:{nonce}:{nc_text}:{cnonce}:{qop}:{ha2}")
    else:
        response = _md5(f"{ha1}:{nonce}:{ha2}")
    parts = [
        f'username="{_quote(username)}"', f'realm="{_quote(realm)}"',
        f'nonce="{_quote(nonce)}"', f'uri="{_quote(uri)}"', f'response="{response}"',
        f"algorithm={algorithm}",
    ]
    if qop:
        parts += [f"qop={qop}", f"nc={nc_text}", f'cnonce="{cnonce}"']
    if "opaque" in p:
        parts.append(f'opaque="{_quote(p["opaque"])}"')
    return "Digest " + ", ".join(parts)


def authorization(
    challenge: Challenge, username: str, password: str, method: str, uri: str
) -> str:
    """``Authorization`` value answering ``challenge`` (Basic or Digest)."""
    if challenge.scheme == "basic":
        return basic_header(username, password)
    return digest_header(challenge, username, password, method, uri)
