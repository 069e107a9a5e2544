"""Who gets which secret in a native stack (``make run``, test stacks).

The stack's shared environment holds ``SECRET_KEY`` and the master ``INTERNAL_API_KEY``;
:func:`service_secrets` says what each service of the table gets on top, so that only
management keeps them: management also gets the token signing key, the media services and
the RTMP server get their own scoped credential (``argus_common.service_keys``) and the
public keys, with the shared secrets blanked (an empty variable counts as unset).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from argus_common.keys import ensure_key_files
from argus_common.service_keys import SERVICES, derive_service_key

KEYS_DIR = "keys"
VERIFIERS = frozenset({"streaming"})  # services that check users' access tokens


def service_secrets(name: str, env: Mapping[str, str], data_dir: Path, *,
                    jwt_keys: bool = True) -> dict[str, str]:
    """The secret settings of service ``name``: with ``jwt_keys``, the ``ARGUS_JWT_*`` paths
    (keys generated in ``<data_dir>/keys`` on first use); for a media service or the RTMP
    server, its own credential derived from the stack's master (none without a master:
    a development service then derives its own from the default)."""
    if name == "management":
        if not jwt_keys:
            return {}
        private, public = ensure_key_files(data_dir / KEYS_DIR)
        return {"ARGUS_JWT_PRIVATE_KEY_FILE": str(private),
                "ARGUS_JWT_PUBLIC_KEYS_FILE": str(public)}
    master = env.get("INTERNAL_API_KEY", "")
    if name not in SERVICES or not master:
        return {}
    out = {"ARGUS_SERVICE_KEY": derive_service_key(master, name),
           "INTERNAL_API_KEY": "", "SECRET_KEY": ""}
    if jwt_keys and name in VERIFIERS:
        out["ARGUS_JWT_PUBLIC_KEYS_FILE"] = str(ensure_key_files(data_dir / KEYS_DIR)[1])
    return out
