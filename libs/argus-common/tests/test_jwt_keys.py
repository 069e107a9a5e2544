"""Access tokens signed by management's Ed25519 key, verified elsewhere with public keys
only; a key rollover without downtime (old tokens verify while both keys are listed, and
are refused once the old key is removed); start-up refusals in production."""

from __future__ import annotations

from pathlib import Path

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from argus_common.errors import Unauthorized
from argus_common.jwt import JwtCodec
from argus_common.keys import (
    DEV_PRIVATE_KEY,
    KeyConfigError,
    KeySource,
    ensure_key_files,
    kid_of,
    parse_public_keys,
    private_pem,
    public_pem,
    signer_keys,
    verifier_keys,
)

ISS, AUD = "argus", "argus-api"


def _codec(keys: object) -> JwtCodec:
    return JwtCodec(keys, ISS, AUD)  # type: ignore[arg-type]


def test_verifier_accepts_management_tokens_and_cannot_mint(tmp_path: Path) -> None:
    private, public = ensure_key_files(tmp_path)
    assert private.stat().st_mode & 0o077 == 0  # the signing key is readable by its owner only
    management = _codec(signer_keys("production", KeySource(path=str(private)), KeySource()))
    streaming = _codec(verifier_keys("production", KeySource(path=str(public))))
    token = management.issue("7", "access", 60).token
    header = pyjwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] == management.keys.signing()[0]
    assert streaming.decode(token, "access")["sub"] == "7"
    with pytest.raises(RuntimeError, match="verify only"):
        streaming.issue("1", "access", 60)
    # Anything else signed by someone else is refused, whatever it claims.
    other = _codec(signer_keys("test", KeySource(inline=private_pem(
        Ed25519PrivateKey.generate())), KeySource()))
    with pytest.raises(Unauthorized):
        streaming.decode(other.issue("7", "access", 60).token, "access")
    hs = JwtCodec.hs256("a-shared-secret-0123456789abcdef", ISS, AUD)
    with pytest.raises(Unauthorized):
        streaming.decode(hs.issue("7", "access", 60).token, "access")


def test_key_rollover_without_downtime(tmp_path: Path) -> None:
    """next key listed -> verifiers get both -> management signs with next -> old removed."""
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    signing, accepted = tmp_path / "signing.pem", tmp_path / "public.pem"
    signing.write_text(private_pem(old))
    accepted.write_text(public_pem(old.public_key()))
    management = _codec(signer_keys("production", KeySource(path=str(signing)),
                                    KeySource(path=str(accepted)), recheck_s=0))
    streaming = _codec(verifier_keys("production", KeySource(path=str(accepted)), recheck_s=0))
    before = management.issue("1", "access", 600).token
    assert streaming.decode(before, "access")["sub"] == "1"  # now cached as well

    # 1. The next public key is added to the set every verifier reads (no restart).
    accepted.write_text(public_pem(old.public_key()) + "# next\n" + public_pem(new.public_key()))
    assert streaming.decode(before, "access")["sub"] == "1"
    # 2. management switches to the next private key: new tokens carry its kid.
    signing.write_text(private_pem(new))
    during = management.issue("2", "access", 600).token
    assert pyjwt.get_unverified_header(during)["kid"] == kid_of(new.public_key())
    for codec in (management, streaming):
        assert codec.decode(before, "access")["sub"] == "1"  # old tokens still verify
        assert codec.decode(during, "access")["sub"] == "2"
    # 3. Once the old tokens have expired, the old key is removed: anything it signed is
    # refused, also where its verification was cached.
    accepted.write_text(public_pem(new.public_key()))
    for codec in (management, streaming):
        with pytest.raises(Unauthorized):
            codec.decode(before, "access")
        assert codec.decode(during, "access")["sub"] == "2"


def test_a_broken_key_file_keeps_the_last_good_keys(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    accepted = tmp_path / "public.pem"
    accepted.write_text(public_pem(key.public_key()))
    keys = verifier_keys("production", KeySource(path=str(accepted)), recheck_s=0)
    accepted.write_text("-----BEGIN PUBLIC KEY-----\nhalf-writ")  # an editor mid-save
    keys.refresh()
    assert keys.kids == [kid_of(key.public_key())]


def test_production_refuses_missing_or_development_keys(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="ARGUS_JWT_PRIVATE_KEY"):
        signer_keys("production", KeySource(), KeySource())
    with pytest.raises(KeyConfigError, match="ARGUS_JWT_PUBLIC_KEYS"):
        verifier_keys("production", KeySource())
    dev_public = KeySource(inline=public_pem(DEV_PRIVATE_KEY.public_key()))
    with pytest.raises(KeyConfigError, match="development"):
        verifier_keys("production", dev_public)
    with pytest.raises(KeyConfigError, match="development"):
        signer_keys("production", KeySource(inline=private_pem(DEV_PRIVATE_KEY)), KeySource())
    # Development and tests run without configuration, on the known development key.
    dev = _codec(signer_keys("development", KeySource(), KeySource()))
    assert _codec(verifier_keys("test", KeySource())).decode(
        dev.issue("1", "access", 60).token, "access")["sub"] == "1"
    with pytest.raises(KeyConfigError, match="cannot read"):
        verifier_keys("test", KeySource(path=str(tmp_path / "missing.pem")))


def test_only_ed25519_keys_are_taken() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    from cryptography.hazmat.primitives import serialization

    ec_public = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(KeyConfigError, match="Ed25519"):
        parse_public_keys(ec_public)
    ec_private = ec_key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()
    with pytest.raises(KeyConfigError, match="Ed25519"):
        signer_keys("test", KeySource(inline=ec_private), KeySource())
    with pytest.raises(KeyConfigError, match="PRIVATE KEY block"):
        parse_public_keys(ec_private)
    # Inline keys from a one-line variable (Compose .env) with literal "\n".
    key = Ed25519PrivateKey.generate()
    one_line = public_pem(key.public_key()).replace("\n", "\\n")
    assert list(parse_public_keys(KeySource(inline=one_line).read())) == [
        kid_of(key.public_key())]
