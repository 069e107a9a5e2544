"""Print the secrets Docker Compose needs, as .env lines: ``python scripts/compose_secrets.py
>> .env``. Variables already set in ./.env (or the file given) are left out, so running it
again adds only what is missing; the service credentials are derived from the master found
there.

- SECRET_KEY, INTERNAL_API_KEY (the master; management's alone)
- ARGUS_JWT_PRIVATE_KEY (management signs access tokens) and ARGUS_JWT_PUBLIC_KEYS
  (streaming verifies them), one-line PEM with "\\n"
- ARGUS_<SERVICE>_SERVICE_KEY for recording, streaming, analysis and the RTMP server
- REDIS_PASSWORD_<SERVICE>: each service's Redis ACL user
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from argus_common.keys import parse_private_key, private_pem, public_pem
from argus_common.service_keys import SERVICES, derive_service_key

REDIS_USERS = ("management", "recording", "streaming", "analysis")


def _existing(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#") and value.strip():
                out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def lines(existing: dict[str, str]) -> list[str]:
    """The missing ``NAME=value`` lines."""
    out: dict[str, str] = {}
    have = {**existing}
    for name in ("SECRET_KEY", "INTERNAL_API_KEY"):
        have.setdefault(name, out.setdefault(name, secrets.token_urlsafe(48)))
    if "ARGUS_JWT_PRIVATE_KEY" in have:
        key = parse_private_key(have["ARGUS_JWT_PRIVATE_KEY"].replace("\\n", "\n"))
    else:
        key = Ed25519PrivateKey.generate()
        out["ARGUS_JWT_PRIVATE_KEY"] = private_pem(key).strip().replace("\n", "\\n")
    if "ARGUS_JWT_PUBLIC_KEYS" not in have:
        out["ARGUS_JWT_PUBLIC_KEYS"] = public_pem(key.public_key()).strip().replace("\n", "\\n")
    for service in SERVICES:
        name = f"ARGUS_{service.upper()}_SERVICE_KEY"
        if name not in have:
            out[name] = derive_service_key(have["INTERNAL_API_KEY"], service)
    for user in REDIS_USERS:
        name = f"REDIS_PASSWORD_{user.upper()}"
        if name not in have:
            out[name] = secrets.token_urlsafe(32)
    return [f"{k}={v}" for k, v in out.items()]


def main(argv: list[str]) -> int:
    env_file = Path(argv[0]) if argv else Path(".env")
    print("\n".join(lines(_existing(env_file))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
