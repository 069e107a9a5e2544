"""JWT issue and verification (algorithms always explicit, one per key set).

Access, refresh and reset tokens are signed by management alone with its Ed25519 key
(EdDSA, :mod:`argus_common.keys`); other services verify them with public keys and cannot
mint any. Media tokens are HS256 under a key streaming-service keeps to itself. Access and
refresh tokens are told apart by the ``typ`` claim; issuer and audience are checked on every
decode, so a token minted for something else is refused.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import jwt as pyjwt

from argus_common.errors import Unauthorized
from argus_common.keys import HmacKey, TokenKeys

_VERIFIED_MAX = 10_000
_MAX_TOKEN = 4096
TokenType = Literal["access", "refresh", "media", "reset"]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: int  # epoch seconds


class JwtCodec:
    """Issues (when ``keys`` hold a signing key) and verifies the tokens of one issuer."""

    def __init__(self, keys: TokenKeys, issuer: str, audience: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        # (token, typ) -> (verified claims, key generation). A signature check of the same
        # string gives the same answer while the accepted keys stay the same, so only the
        # expiry needs checking again on a hit; a key removed by a rollover is not honoured
        # from the cache.
        self._verified: dict[tuple[str, str], tuple[dict[str, Any], int]] = {}

    @classmethod
    def hs256(cls, secret: str, issuer: str, audience: str) -> JwtCodec:
        """A codec over one shared secret (a service's own tokens; tests)."""
        return cls(HmacKey(secret), issuer, audience)

    def issue(
        self, subject: str, typ: TokenType, ttl_s: int, extra: dict[str, Any] | None = None
    ) -> IssuedToken:
        """A signed token for ``subject`` of type ``typ`` valid for ``ttl_s`` seconds."""
        kid, key = self.keys.signing()
        now = int(time.time())
        jti = secrets.token_urlsafe(16)
        claims: dict[str, Any] = dict(extra or {})
        claims.update(
            sub=subject, typ=typ, iat=now, nbf=now, exp=now + ttl_s, jti=jti,
            iss=self.issuer, aud=self.audience,
        )
        headers = {"kid": kid} if kid else None
        token = pyjwt.encode(claims, key, algorithm=self.keys.alg, headers=headers)  # type: ignore[arg-type]
        return IssuedToken(token=token, jti=jti, expires_at=now + ttl_s)

    def decode(self, token: str, typ: TokenType) -> dict[str, Any]:
        """Verified claims of ``token``; raises ``Unauthorized`` for anything wrong with it."""
        if not token or len(token) > _MAX_TOKEN:
            raise Unauthorized("invalid token")
        cached = self._verified.get((token, typ))
        if cached is not None:
            claims, generation = cached
            if claims["exp"] > time.time() and generation == self._generation():
                return dict(claims)  # a copy: callers may not alter the cached claims
            del self._verified[(token, typ)]
        generation = self._generation()
        claims = self._verify(token, typ)
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()
        self._verified[(token, typ)] = (claims, generation)
        return dict(claims)

    def _generation(self) -> int:
        self.keys.refresh()
        return self.keys.generation

    def _verify(self, token: str, typ: TokenType) -> dict[str, Any]:
        try:
            header = pyjwt.get_unverified_header(token)
            if header.get("alg") != self.keys.alg:
                raise Unauthorized("invalid token")
            kid = header.get("kid")
            key = self.keys.verifying(kid if isinstance(kid, str) else None)
            if key is None:
                raise Unauthorized("invalid token")
            claims: dict[str, Any] = pyjwt.decode(
                token,
                key,  # type: ignore[arg-type]
                algorithms=[self.keys.alg],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "jti", "iat"]},
            )
        except pyjwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except pyjwt.PyJWTError:
            raise Unauthorized("invalid token") from None
        if claims.get("typ") != typ:
            raise Unauthorized("invalid token type")
        # Whole-second "exp": hold every path (cache or not) to the same exact instant.
        if float(claims["exp"]) <= time.time():
            raise Unauthorized("token expired")
        return claims
