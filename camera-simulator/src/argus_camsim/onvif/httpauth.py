"""HTTP Digest (RFC 7616, MD5, qop=auth) and Basic authentication.

Real cameras protect the snapshot URL with HTTP Digest, and some ONVIF clients use it
instead of WS-Security for SOAP calls; onvif-zeep-async fetches snapshots through
aiohttp's DigestAuthMiddleware, which answers the challenge produced here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections import OrderedDict

from argus_camsim.onvif.security import OnvifAuth

log = logging.getLogger(__name__)

REALM = "ARGUS-CamSim"
_NONCE_TTL_S = 300.0
_MAX_NONCES = 10_000
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


def _md5_hex(data: str) -> str:
    # MD5 is the algorithm every camera client supports for HTTP Digest; it is the
    # protocol's choice, not a storage hash.
    return hashlib.md5(data.encode(), usedforsecurity=False).hexdigest()


def parse_auth_params(raw: str) -> dict[str, str]:
    """Parse ``key=value, key="quoted value"`` pairs of an Authorization header."""
    params: dict[str, str] = {}
    for match in _PARAM.finditer(raw):
        key, quoted, bare = match.group(1), match.group(2), match.group(3)
        value = quoted.replace('\\"', '"') if quoted is not None else bare
        params[key.lower()] = value
    return params


class HttpAuthenticator:
    """Issues Digest challenges and checks Basic or Digest Authorization headers."""

    def __init__(self, auth: OnvifAuth) -> None:
        self._auth = auth
        self._nonces: OrderedDict[str, float] = OrderedDict()

    def challenge(self, stale: bool = False) -> str:
        """A fresh ``WWW-Authenticate`` value."""
        self._expire()
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = time.monotonic()
        stale_part = ", stale=true" if stale else ""
        return f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{nonce}"{stale_part}'

    def check(self, method: str, header: str | None) -> bool | None:
        """True if the header authenticates; False if wrong; None if the nonce is stale.

        A missing header is simply False.
        """
        if not header:
            return False
        scheme, _, rest = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            return self._check_basic(rest.strip())
        if scheme == "digest":
            return self._check_digest(method, parse_auth_params(rest))
        return False

    def _check_basic(self, encoded: str) -> bool:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return False
        user, sep, password = decoded.partition(":")
        if not sep:
            return False
        return self._credentials_match(user, password)

    def _credentials_match(self, user: str, password: str) -> bool:
        user_ok = hmac.compare_digest(user.encode(), self._auth.username.encode())
        pass_ok = hmac.compare_digest(password.encode(), self._auth.password.encode())
        return user_ok and pass_ok

    def _check_digest(self, method: str, p: dict[str, str]) -> bool | None:
        needed = ("username", "realm", "nonce", "uri", "response")
        if any(k not in p for k in needed):
            return False
        if p.get("algorithm", "MD5").upper() != "MD5" or p["realm"] != REALM:
            return False
        self._expire()
        if p["nonce"] not in self._nonces:
            return None  # expired or from a previous run: the client should retry
        if not hmac.compare_digest(p["username"].encode(), self._auth.username.encode()):
            log.info("http digest refused for user %r", p["username"])
            return False
        ha1 = _md5_hex(f"{p['username']}:{REALM}:{self._auth.password}")
        ha2 = _md5_hex(f"{method}:{p['uri']}")
        qop = p.get("qop")
        if qop == "auth":
            if "nc" not in p or "cnonce" not in p:
                return False
            expected = _md5_hex(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
        elif qop is None:
            expected = _md5_hex(f"{ha1}:{p['nonce']}:{ha2}")
        else:
            return False
        ok = hmac.compare_digest(expected.encode(), p["response"].lower().encode())
        if not ok:
            log.info("http digest refused for user %r", p["username"])
        return ok

    def _expire(self) -> None:
        horizon = time.monotonic() - _NONCE_TTL_S
        while self._nonces:
            nonce, issued = next(iter(self._nonces.items()))
            if issued >= horizon and len(self._nonces) < _MAX_NONCES:
                break
            del self._nonces[nonce]
