"""The public keys access tokens are verified with, as a JSON Web Key Set.

``GET /.well-known/jwks.json`` and ``GET /api/v1/auth/jwks``: unauthenticated (public keys
are not secrets) and cacheable for ``MAX_AGE_S``. Every accepted key is listed, so during a
rollover (docs/security.md) a verifier sees both the old and the next key; the signing key
comes first. Tokens name their key by ``kid`` (its RFC 7638 thumbprint).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from argus_common.keys import Ed25519Keys
from argus_management.deps import StateDep

router = APIRouter()

MAX_AGE_S = 300  # a verifier sees a key added for a rollover within 5 minutes


class Jwk(BaseModel):
    """One Ed25519 public key (RFC 8037)."""

    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class Jwks(BaseModel):
    keys: list[Jwk]


async def _jwks(response: Response, state: StateDep) -> Jwks:
    keys = state.jwt.keys
    listed = keys.jwks() if isinstance(keys, Ed25519Keys) else []
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_S}"
    return Jwks(keys=[Jwk(**k) for k in listed])


@router.get("/api/v1/auth/jwks", response_model=Jwks, tags=["auth"])
async def auth_jwks(response: Response, state: StateDep) -> Jwks:
    """The public keys that verify ARGUS access tokens (a JWKS; no authentication)."""
    return await _jwks(response, state)


@router.get("/.well-known/jwks.json", response_model=Jwks, include_in_schema=False)
async def well_known_jwks(response: Response, state: StateDep) -> Jwks:
    """The same key set at its well-known address."""
    return await _jwks(response, state)
