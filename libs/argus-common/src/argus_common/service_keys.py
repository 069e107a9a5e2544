"""Per-service credentials for management's internal API (``X-Internal-Api-Key``).

Each calling service holds only its own credential, ``<service>.<key>`` where ``key`` is
``HMAC-SHA256(master, "argus-service:<service>")``; management holds the master
(``INTERNAL_API_KEY``) and checks a credential by deriving it again, so there is no table of
keys to keep in step, and a leaked recorder credential does not reveal the RTMP hook's. What
each service may call is management's scope table (``argus_management.rbac.service_scopes``).

Derive a credential for a deployment with ``python -m argus_common.service_keys <service>``
(reads the master from ``INTERNAL_API_KEY``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import sys

SERVICES = ("recording", "streaming", "analysis", "rtmp")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


def derive_service_key(master: str, service: str) -> str:
    """The credential of ``service`` under ``master``: ``<service>.<base64url HMAC>``."""
    if not _NAME.match(service):
        raise ValueError(f"invalid service name {service!r}")
    mac = hmac.new(master.encode(), f"argus-service:{service}".encode(), hashlib.sha256)
    return f"{service}.{base64.urlsafe_b64encode(mac.digest()).rstrip(b'=').decode()}"


def verify_service_key(master: str, credential: str) -> str | None:
    """The service a credential belongs to, or None when it is not one ``master`` made
    (compared in constant time)."""
    service, sep, _ = credential.partition(".")
    if not sep or len(credential) > 128 or not _NAME.match(service):
        return None
    expected = derive_service_key(master, service)
    return service if hmac.compare_digest(credential.encode(), expected.encode()) else None


def main(argv: list[str] | None = None) -> int:
    """Print the credential of each named service (master from ``INTERNAL_API_KEY``)."""
    names = (argv if argv is not None else sys.argv[1:]) or list(SERVICES)
    master = os.environ.get("INTERNAL_API_KEY", "")
    if len(master) < 32:
        print("set INTERNAL_API_KEY (32+ characters) to the deployment's master key",
              file=sys.stderr)
        return 2
    for name in names:
        print(f"{name}: {derive_service_key(master, name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
