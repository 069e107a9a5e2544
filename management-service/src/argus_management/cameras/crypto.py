"""Camera credentials at rest: Fernet with a key derived from SECRET_KEY (HKDF-SHA256)."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"argus-camera-credentials", info=b"fernet-v1"
    ).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret_key: str, plaintext: str) -> bytes:
    return _fernet(secret_key).encrypt(plaintext.encode("utf-8"))


def decrypt_secret(secret_key: str, token: bytes | None) -> str | None:
    """The plaintext, or None when absent or unreadable (e.g. SECRET_KEY was rotated)."""
    if not token:
        return None
    try:
        return _fernet(secret_key).decrypt(token).decode("utf-8")
    except InvalidToken:
        return None
