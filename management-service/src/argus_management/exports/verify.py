"""``argus-verify bundle.zip [--public-key key.pem]``: check an ARGUS evidence bundle.

Stands alone: the standard library and ``cryptography`` only, no server, no database, so
it can be handed to whoever receives a bundle. A bundle is valid when ``manifest.sig`` is
an Ed25519 signature of ``manifest.json`` by the key, every file the manifest lists is in
the zip with the SHA-256 it names, and the zip holds nothing else. Without
``--public-key`` the key inside the bundle is used: that proves the bundle is intact, not
who made it; compare the printed fingerprint with the one the site publishes
(``GET /api/v1/exports/public-key``, shown in the console).

Exit status: 0 valid, 1 invalid (the reason is printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
FORMAT = "argus-evidence-bundle/1"
_BLOCK = 1024 * 1024
_MAX_MANIFEST = 16 * 1024 * 1024


@dataclass
class Result:
    """The outcome: ``valid``, the reasons it is not, and what was checked."""

    valid: bool = False
    reasons: list[str] = field(default_factory=list)
    fingerprint: str = ""
    key_source: str = ""  # "given" | "bundle"
    manifest: dict[str, Any] = field(default_factory=dict)
    files_checked: int = 0


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in hex (what the site publishes)."""
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (ValueError for anything else)."""
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def _sha256(member: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while block := member.read(_BLOCK):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def verify_bundle(source: str | Path | IO[bytes], public_key: Ed25519PublicKey | None = None
                  ) -> Result:
    """Check the bundle at ``source`` (a path or a seekable binary file)."""
    result = Result()
    try:
        with zipfile.ZipFile(source) as zf:
            _verify_zip(zf, public_key, result)
    except zipfile.BadZipFile as exc:
        result.reasons.append(f"damaged zip: {exc}")
    except OSError as exc:
        result.reasons.append(f"cannot read the bundle: {exc}")
    result.valid = not result.reasons
    return result


def _verify_zip(zf: zipfile.ZipFile, public_key: Ed25519PublicKey | None, result: Result
                ) -> None:
    names = zf.namelist()
    if len(set(names)) != len(names):
        result.reasons.append("the zip holds two members with the same name")
        return
    for needed in (MANIFEST, SIGNATURE):
        if needed not in names:
            result.reasons.append(f"{needed} is missing")
    if result.reasons:
        return
    if zf.getinfo(MANIFEST).file_size > _MAX_MANIFEST:
        result.reasons.append("manifest.json is too large")
        return
    manifest_bytes = zf.read(MANIFEST)
    signature = zf.read(SIGNATURE)
    if public_key is None:
        if PUBLIC_KEY not in names:
            result.reasons.append("no public key given and none in the bundle")
            return
        try:
            public_key = load_public_key(zf.read(PUBLIC_KEY))
        except ValueError as exc:
            result.reasons.append(f"{PUBLIC_KEY}: {exc}")
            return
        result.key_source = "bundle"
    else:
        result.key_source = "given"
    result.fingerprint = fingerprint(public_key)
    try:
        public_key.verify(signature, manifest_bytes)
    except InvalidSignature:
        result.reasons.append("bad signature: manifest.sig does not sign manifest.json "
                              "with this key")
        return
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        result.reasons.append("manifest.json is not JSON")
        return
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        result.reasons.append(f"manifest.json is not an {FORMAT} manifest")
        return
    result.manifest = manifest
    listed = manifest.get("files")
    if not isinstance(listed, list):
        result.reasons.append("manifest.json lists no files")
        return
    seen = {MANIFEST, SIGNATURE, PUBLIC_KEY}
    for entry in listed:
        name = entry.get("name") if isinstance(entry, dict) else None
        want = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not isinstance(want, str):
            result.reasons.append("manifest.json has a malformed file entry")
            continue
        seen.add(name)
        if name not in names:
            result.reasons.append(f"{name}: listed in the manifest but missing")
            continue
        try:
            with zf.open(name) as member:
                got, size = _sha256(member)
        except zipfile.BadZipFile as exc:
            result.reasons.append(f"{name}: damaged in the zip ({exc})")
            continue
        if got != want.lower():
            result.reasons.append(f"{name}: SHA-256 mismatch (manifest {want}, file {got})")
        elif isinstance(entry.get("bytes"), int) and entry["bytes"] != size:
            result.reasons.append(f"{name}: size mismatch")
        result.files_checked += 1
    for name in names:
        if name not in seen:
            result.reasons.append(f"{name}: in the zip but not in the manifest")


def main(argv: list[str] | None = None) -> int:
    """The console script."""
    parser = argparse.ArgumentParser(
        prog="argus-verify", description="Verify an ARGUS evidence bundle (zip).")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--public-key", type=Path, default=None,
                        help="the site's export public key (PEM); default: the bundle's own")
    args = parser.parse_args(argv)
    key = None
    if args.public_key is not None:
        try:
            key = load_public_key(args.public_key.read_bytes())
        except (OSError, ValueError) as exc:
            print(f"argus-verify: cannot use {args.public_key}: {exc}", file=sys.stderr)
            return 2
    result = verify_bundle(args.bundle, key)
    if result.valid:
        m = result.manifest
        print(f"VALID: {args.bundle} ({result.files_checked} files, export "
              f"{m.get('export_id')} by {(m.get('exported_by') or {}).get('username')}, "
              f"created {m.get('created_at')})")
        print(f"signing key fingerprint: {result.fingerprint}")
        if result.key_source == "bundle":
            print("note: checked with the public key inside the bundle; compare the "
                  "fingerprint with the one the site publishes")
        return 0
    print(f"INVALID: {args.bundle}")
    for reason in result.reasons:
        print(f"  {reason}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
