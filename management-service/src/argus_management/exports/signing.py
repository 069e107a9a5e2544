"""The site's export-signing key (Ed25519): from ``MANAGEMENT_EXPORT_SIGNING_KEY_FILE``, or
generated once in ``ARGUS_DATA_DIR/keys/export-signing.pem`` (0600) on first use."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from argus_management.exports.verify import fingerprint


@dataclass(frozen=True)
class SigningKey:
    """The private key, its public half in PEM and the public key's fingerprint."""

    private: Ed25519PrivateKey
    public_pem: str
    fingerprint: str

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def key_path(data_dir: str, configured: str) -> Path:
    return Path(configured) if configured else Path(data_dir) / "keys" / "export-signing.pem"


def _load(pem: bytes) -> Ed25519PrivateKey:
    key = load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the export signing key is not an Ed25519 private key")
    return key


def load_signing_key(data_dir: str, configured: str = "") -> SigningKey:
    """The key at the configured path; generated there first when it is the default path
    and does not exist yet (a configured file must exist)."""
    path = key_path(data_dir, configured)
    if not path.exists() and not configured:
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        # Written aside, then linked into place: two workers starting together keep one
        # key (the first link wins) and nobody ever reads a half-written file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    private = _load(path.read_bytes())
    public = private.public_key()
    return SigningKey(
        private=private,
        public_pem=public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode(),
        fingerprint=fingerprint(public),
    )
