"""RTSP client authentication: Basic and Digest (RFC 2617, MD5, qop=auth or none)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``(scheme, params)`` of one ``WWW-Authenticate`` value."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(rest)}
    return scheme.lower(), params


class Authenticator:
    """Builds ``Authorization`` headers after a 401 challenge, for every later request."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self._scheme: str | None = None
        self._params: dict[str, str] = {}
        self._nc = 0

    def challenge(self, headers: list[str]) -> bool:
        """Take the best challenge offered (Digest over Basic); False if none is usable."""
        parsed = [parse_challenge(h) for h in headers]
        for scheme in ("digest", "basic"):
            for s, params in parsed:
                if s == scheme:
                    self._scheme, self._params, self._nc = s, params, 0
                    return True
        return False

    def header(self, method: str, uri: str) -> str | None:
        """The ``Authorization`` value for a request, or None before any challenge."""
        if self._scheme == "basic":
            raw = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        if self._scheme != "digest":
            return None
        p = self._params
        realm, nonce = p.get("realm", ""), p.get("nonce", "")
        ha1 = _md5(f"{self.username}:{realm}:{self.password}")
        ha2 = _md5(f"{method}:{uri}")
        qop = "auth" if "auth" in p.get("qop", "").split(",") else None
        fields = [f'username="{self.username}"', f'realm="{realm}"', f'nonce="{nonce}"',
                  f'uri="{uri}"']
        if qop:
            self._nc += 1
            nc = f"{self._nc:08x}"
            cnonce = secrets.token_hex(8)
            response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
            fields += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            response = _md5(f"{ha1}:{nonce}:{ha2}")
        fields.append(f'response="{response}"')
        if "opaque" in p:
            fields.append(f'opaque="{p["opaque"]}"')
        if p.get("algorithm"):
            fields.append(f"algorithm={p['algorithm']}")
        return "Digest " + ", ".join(fields)
