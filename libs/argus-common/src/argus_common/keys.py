"""Signing keys of access tokens: management signs with an Ed25519 private key that only it
holds; every other service verifies with public keys only.

Keys are PEM: the private key (PKCS#8) from ``ARGUS_JWT_PRIVATE_KEY_FILE`` or
``ARGUS_JWT_PRIVATE_KEY``, the accepted public keys (one or more ``PUBLIC KEY`` blocks, one
after another) from ``ARGUS_JWT_PUBLIC_KEYS_FILE`` or ``ARGUS_JWT_PUBLIC_KEYS``. A token's
``kid`` header is the RFC 7638 thumbprint of its key, so nothing but the keys themselves has
to be configured, and a rollover is: add the next public key to every verifier's set, switch
management to the next private key, remove the old public key (docs/security.md). Files are
re-read when they change, so neither step needs a restart.

Without any key configured, development and test fall back to a fixed, publicly known
development key (as ``SECRET_KEY`` falls back to ``DEV_SECRET``); production refuses to start.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = structlog.get_logger("argus.keys")

ALG_EDDSA = "EdDSA"
ALG_HS256 = "HS256"
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.S)
# Known to everybody (it is in this file): development and tests only, refused in production.
DEV_PRIVATE_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"argus-dev-insecure-jwt-signing-key").digest()
)
SIGNING_KEY_FILE = "jwt-signing.pem"
PUBLIC_KEYS_FILE = "jwt-public.pem"


class KeyConfigError(ValueError):
    """A key that is missing, unreadable or of the wrong kind (a start-up error)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_public(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def kid_of(key: Ed25519PublicKey) -> str:
    """The key's id: its RFC 7638 JWK thumbprint (SHA-256, base64url)."""
    jwk = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": _b64(raw_public(key))},
                     separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(jwk.encode()).digest())


DEV_KID = kid_of(DEV_PRIVATE_KEY.public_key())


def jwk_of(key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as a JSON Web Key (RFC 8037 ``OKP``), named by its ``kid``."""
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw_public(key)), "kid": kid_of(key),
            "alg": ALG_EDDSA, "use": "sig"}


def private_pem(key: Ed25519PrivateKey) -> str:
    """PKCS#8 PEM of a private key (unencrypted: protect the file with its mode)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key: Ed25519PublicKey) -> str:
    """SubjectPublicKeyInfo PEM of a public key."""
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def parse_private_key(text: str) -> Ed25519PrivateKey:
    """The Ed25519 private key of a PEM text; ``KeyConfigError`` for anything else."""
    try:
        key = serialization.load_pem_private_key(text.strip().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigError(f"not a PEM private key: {type(exc).__name__}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyConfigError("the token signing key must be Ed25519")
    return key


def parse_public_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """Every ``PUBLIC KEY`` block of a PEM text, by ``kid``; other text is ignored
    (comments naming the keys are welcome). ``KeyConfigError`` for a block that is not Ed25519."""
    keys: dict[str, Ed25519PublicKey] = {}
    for match in _PEM_BLOCK.finditer(text):
        if match.group(1) != "PUBLIC KEY":
            raise KeyConfigError(f"a {match.group(1)} block among the public keys")
        try:
            key = serialization.load_pem_public_key(match.group(0).encode())
        except (ValueError, TypeError) as exc:
            raise KeyConfigError(f"not a PEM public key: {type(exc).__name__}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeyConfigError("token verification keys must be Ed25519")
        keys[kid_of(key)] = key
    return keys


@dataclass
class KeySource:
    """A PEM text from a variable (``inline``) or a file (``path``, re-read when changed)."""

    inline: str | None = None
    path: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.inline or self.path)

    def stamp(self) -> tuple[int, int] | None:
        """What changes when the file changes (mtime, size); None for inline text."""
        if not self.path:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return (-1, -1)
        return (st.st_mtime_ns, st.st_size)

    def read(self) -> str:
        if self.inline:
            # Variables cannot always hold newlines (Compose .env): accept literal "\n".
            return self.inline.replace("\\n", "\n")
        if not self.path:
            return ""
        try:
            return Path(self.path).read_text()
        except OSError as exc:
            raise KeyConfigError(f"cannot read key file {self.path}: {exc.strerror}") from None


class TokenKeys(Protocol):
    """The keys a :class:`argus_common.jwt.JwtCodec` signs and verifies with."""

    alg: str

    @property
    def generation(self) -> int:
        """Changes whenever the accepted keys change (cached verifications are redone)."""

    def signing(self) -> tuple[str | None, object]:
        """``(kid, key)`` to sign with; ``RuntimeError`` for a verify-only set."""

    def verifying(self, kid: str | None) -> object | None:
        """The key for a token's ``kid``, or None when it is not accepted."""

    def refresh(self) -> None:
        """Pick up changed keys (a rollover step), cheaply and rate-limited."""


class HmacKey:
    """One shared secret (HS256): tokens a service issues and verifies itself only."""

    alg = ALG_HS256
    generation = 0

    def __init__(self, secret: str) -> None:
        if len(secret) < 32:  # RFC 7518 3.2: at least the hash's size
            raise KeyConfigError("an HMAC token key needs 32+ characters")
        self._secret = secret

    def signing(self) -> tuple[str | None, object]:
        return None, self._secret

    def verifying(self, kid: str | None) -> object | None:
        return self._secret if kid is None else None

    def refresh(self) -> None:
        return None


class Ed25519Keys:
    """An Ed25519 key set: the private key (management only) and the accepted public keys.

    The private key's own public key is always accepted. Sources given as files are checked
    for changes at most every ``recheck_s`` seconds; a change that does not parse keeps the
    previous keys (an operator half-way through writing a file) and is logged.
    """

    alg = ALG_EDDSA

    def __init__(self, private: KeySource | None, public: KeySource | None, *,
                 recheck_s: float = 5.0, default_private: Ed25519PrivateKey | None = None,
                 default_public: Ed25519PublicKey | None = None) -> None:
        self._private_src = private if private and private.configured else None
        self._public_src = public if public and public.configured else None
        self._default_private = default_private
        self._default_public = default_public
        self._recheck_s = recheck_s
        self._checked = 0.0
        self._stamps: tuple[object, object] = (None, None)
        self._private: Ed25519PrivateKey | None = None
        self._kid: str | None = None
        self._public: dict[str, Ed25519PublicKey] = {}
        self.generation = 0
        self._load()  # raises at start-up: a bad key must stop the service, not every request

    def _stamps_now(self) -> tuple[object, object]:
        return (self._private_src.stamp() if self._private_src else None,
                self._public_src.stamp() if self._public_src else None)

    def _load(self) -> None:
        stamps = self._stamps_now()
        private = (parse_private_key(self._private_src.read()) if self._private_src
                   else self._default_private)
        public = parse_public_keys(self._public_src.read()) if self._public_src else {}
        if self._default_public is not None and not self._public_src:
            public[kid_of(self._default_public)] = self._default_public
        if private is not None:
            own = private.public_key()
            public[kid_of(own)] = own
        if not public:
            raise KeyConfigError("no token verification key configured")
        self._private = private
        self._kid = kid_of(private.public_key()) if private is not None else None
        self._public = public
        self._stamps = stamps
        self.generation += 1

    def refresh(self) -> None:
        """Re-read changed key files (at most every ``recheck_s`` seconds)."""
        now = time.monotonic()
        if now - self._checked < self._recheck_s:
            return
        self._checked = now
        if self._stamps_now() == self._stamps:
            return
        try:
            self._load()
        except KeyConfigError as exc:
            log.warning("jwt_keys_reload_failed", error=str(exc))
            return
        log.info("jwt_keys_reloaded", kids=sorted(self._public), signing=self._kid)

    @property
    def kids(self) -> list[str]:
        """The ids of the accepted keys."""
        return sorted(self._public)

    @property
    def signing_kid(self) -> str | None:
        return self._kid

    def jwks(self) -> list[dict[str, str]]:
        """Every accepted public key as a JWK (a JWKS's ``keys``), the signing key first:
        during a rollover both the old and the next key are listed."""
        self.refresh()
        return [jwk_of(self._public[kid])
                for kid in sorted(self._public, key=lambda k: (k != self._kid, k))]

    def signing(self) -> tuple[str | None, object]:
        self.refresh()
        if self._private is None:
            raise RuntimeError("this service holds no token signing key (verify only)")
        return self._kid, self._private

    def verifying(self, kid: str | None) -> object | None:
        self.refresh()
        return self._public.get(kid) if kid else None


def _in_production(environment: str) -> bool:
    return environment == "production"


def verifier_keys(environment: str, public: KeySource, recheck_s: float = 5.0) -> Ed25519Keys:
    """The public keys a verifying service (streaming) accepts; in production they must be
    configured and must not include the development key."""
    if not public.configured:
        if _in_production(environment):
            raise KeyConfigError(
                "ARGUS_JWT_PUBLIC_KEYS_FILE (or ARGUS_JWT_PUBLIC_KEYS) must be set")
        return Ed25519Keys(None, None, recheck_s=recheck_s,
                           default_public=DEV_PRIVATE_KEY.public_key())
    keys = Ed25519Keys(None, public, recheck_s=recheck_s)
    _refuse_dev_key(environment, keys)
    return keys


def signer_keys(environment: str, private: KeySource, public: KeySource,
                recheck_s: float = 5.0) -> Ed25519Keys:
    """Management's keys: its private key plus the accepted public keys; in production the
    private key must be configured and must not be the development key."""
    if not private.configured and _in_production(environment):
        raise KeyConfigError("ARGUS_JWT_PRIVATE_KEY_FILE (or ARGUS_JWT_PRIVATE_KEY) must be set")
    keys = Ed25519Keys(private, public, recheck_s=recheck_s,
                       default_private=None if private.configured else DEV_PRIVATE_KEY)
    _refuse_dev_key(environment, keys)
    return keys


def _refuse_dev_key(environment: str, keys: Ed25519Keys) -> None:
    if _in_production(environment) and DEV_KID in keys.kids:
        raise KeyConfigError("the development token key is not accepted in production")


def ensure_key_files(directory: Path) -> tuple[Path, Path]:
    """A signing key and its public key in ``directory`` (created on first use: ``make run``,
    test stacks); returns ``(private path, public path)``. The private file is 0600."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_path, public_path = directory / SIGNING_KEY_FILE, directory / PUBLIC_KEYS_FILE
    if not private_path.exists():
        key = Ed25519PrivateKey.generate()
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(private_pem(key))
        public_path.write_text(public_pem(key.public_key()))
    elif not public_path.exists():
        key = parse_private_key(private_path.read_text())
        public_path.write_text(public_pem(key.public_key()))
    return private_path, public_path


def development_keys() -> Ed25519Keys:
    """The development signing key (what management signs with in development and tests
    when no key is configured): for tests and benchmarks that mint tokens themselves."""
    return Ed25519Keys(None, None, default_private=DEV_PRIVATE_KEY)
