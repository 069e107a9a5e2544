"""RTSP authentication: none, Basic, Digest (RFC 2617, MD5 or MD5-sess) or both.

Digest challenges offer ``qop="auth"`` (configurable) and accept both answer forms: with
qop (``nc``/``cnonce``) and the RFC 2069 form without, which many RTSP clients still use.
Nonces are stateless (a timestamp signed with a per-process key), so a client may keep
using one for the life of its session, as RTSP clients do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field

REALM = "ARGUS-CamSim"
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


def _md5(text: str) -> str:
    # MD5 is what RFC 2617 Digest uses; it is the protocol's choice, not a password store.
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def parse_params(raw: str) -> dict[str, str]:
    """``key=value, key="quoted"`` pairs of an Authorization header, keys lower-cased."""
    params: dict[str, str] = {}
    for match in _PARAM.finditer(raw):
        quoted, bare = match.group(2), match.group(3)
        params[match.group(1).lower()] = quoted.replace('\\"', '"') if quoted is not None else bare
    return params


def digest_response(
    username: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str = "",
    cnonce: str = "",
    realm: str = REALM,
    algorithm: str = "MD5",
) -> str:
    """The Digest ``response`` value a client computes (also used by our test client)."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    if algorithm.upper() == "MD5-SESS":
        ha1 = _md5(f"{ha1}:{nonce}:{cnonce}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


@dataclass
class RtspAuth:
    """Credential check for every RTSP request except OPTIONS."""

    mode: str = "none"  # none | basic | digest | both
    username: str = "admin"
    password: str = field(default="admin", repr=False)
    offer_qop: bool = True
    algorithm: str = "MD5"  # or "MD5-sess": H(A1) also covers the nonce and cnonce
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(16), repr=False)

    @property
    def enabled(self) -> bool:
        """Whether requests need credentials at all."""
        return self.mode != "none"

    def _nonce(self) -> str:
        stamp = f"{int(time.time()):x}"
        sig = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        return f"{stamp}{sig}"

    def _nonce_valid(self, nonce: str) -> bool:
        stamp, sig = nonce[:-24], nonce[-24:]
        good = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        return bool(stamp) and hmac.compare_digest(sig, good)

    def challenges(self) -> list[str]:
        """``WWW-Authenticate`` values for a 401 (Digest first: clients prefer it)."""
        out: list[str] = []
        if self.mode in ("digest", "both"):
            qop = ', qop="auth"' if self.offer_qop else ""
            out.append(
                f'Digest realm="{REALM}", nonce="{self._nonce()}", '
                f'algorithm="{self.algorithm}"{qop}'
            )
        if self.mode in ("basic", "both"):
            out.append(f'Basic realm="{REALM}"')
        return out

    def check(self, method: str, header: str | None) -> bool:
        """Whether the Authorization header of a request is acceptable."""
        if not self.enabled:
            return True
        if not header:
            return False
        scheme, _, rest = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic" and self.mode in ("basic", "both"):
            return self._check_basic(rest.strip())
        if scheme == "digest" and self.mode in ("digest", "both"):
            return self._check_digest(method, parse_params(rest))
        return False

    def _check_basic(self, encoded: str) -> bool:
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.username) and hmac.compare_digest(
            password, self.password
        )

    def _check_digest(self, method: str, p: dict[str, str]) -> bool:
        needed = ("username", "realm", "nonce", "uri", "response")
        if any(k not in p for k in needed):
            return False
        if p["realm"] != REALM or not self._nonce_valid(p["nonce"]):
            return False
        if not hmac.compare_digest(p["username"], self.username):
            return False
        qop = p.get("qop") or None
        if qop not in (None, "auth"):
            return False
        if p.get("algorithm", "MD5").upper() != self.algorithm.upper():
            return False
        if self.algorithm.upper() == "MD5-SESS" and not p.get("cnonce"):
            return False
        expected = digest_response(
            self.username,
            self.password,
            method,
            p["uri"],
            p["nonce"],
            qop=qop,
            nc=p.get("nc", ""),
            cnonce=p.get("cnonce", ""),
            algorithm=self.algorithm,
        )
        return hmac.compare_digest(expected, p["response"].lower())
