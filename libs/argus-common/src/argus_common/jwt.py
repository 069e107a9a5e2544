"""JWT issue and verification (HS256 only, algorithms always explicit).

Access and refresh tokens are told apart by the ``typ`` claim; issuer and audience are checked
on every decode, so a token minted for something else is refused.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from jose import JWTError, jwt

from argus_common.errors import Unauthorized

ALGORITHM = "HS256"
_VERIFIED_MAX = 10_000
TokenType = Literal["access", "refresh", "media", "reset"]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: int  # epoch seconds


class JwtCodec:
    """Issues and verifies the tokens of one deployment (shared ``SECRET_KEY``)."""

    def __init__(self, secret: str, issuer: str, audience: str) -> None:
        self._secret = secret
        self.issuer = issuer
        self.audience = audience
        # token -> verified claims. A signature check of the same string always gives the
        # same answer, so only the expiry needs checking again on a hit.
        self._verified: dict[tuple[str, str], dict[str, Any]] = {}

    def issue(
        self, subject: str, typ: TokenType, ttl_s: int, extra: dict[str, Any] | None = None
    ) -> IssuedToken:
        """A signed token for ``subject`` of type ``typ`` valid for ``ttl_s`` seconds."""
        now = int(time.time())
        jti = secrets.token_urlsafe(16)
        claims: dict[str, Any] = dict(extra or {})
        claims.update(
            sub=subject, typ=typ, iat=now, nbf=now, exp=now + ttl_s, jti=jti,
            iss=self.issuer, aud=self.audience,
        )
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token=token, jti=jti, expires_at=now + ttl_s)

    def decode(self, token: str, typ: TokenType) -> dict[str, Any]:
        """Verified claims of ``token``; raises ``Unauthorized`` for anything wrong with it."""
        if not token or len(token) > 4096:
            raise Unauthorized("invalid token")
        cached = self._verified.get((token, typ))
        if cached is not None:
            if cached["exp"] > time.time():
                return dict(cached)  # a copy: callers may not alter the cached claims
            del self._verified[(token, typ)]
        claims = self._verify(token, typ)
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()
        self._verified[(token, typ)] = claims
        return dict(claims)

    def _verify(self, token: str, typ: TokenType) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != ALGORITHM:
                raise Unauthorized("invalid token")
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require_exp": True, "require_sub": True, "require_jti": True},
            )
        except JWTError as exc:
            detail = "token expired" if "expired" in str(exc).lower() else "invalid token"
            raise Unauthorized(detail) from None
        if claims.get("typ") != typ:
            raise Unauthorized("invalid token type")
        # python-jose compares whole seconds; hold every path to the same exact instant.
        if float(claims["exp"]) <= time.time():
            raise Unauthorized("token expired")
        return claims
