"""Redis users of ``make run``'s private Redis: one ACL user per service, no default user.

Each service connects as itself (``REDIS_URL=redis://<service>:<password>@…``) and may use
only keys and channels under the stack's namespace, without the dangerous and admin commands
(``FLUSHALL``, ``FLUSHDB``, ``CONFIG``, ``ACL``, ``KEYS``, ``DEBUG``, ``SHUTDOWN``,
``MONITOR`` …). Passwords are random, kept in ``<data>/redis/passwords.json`` (0600); the
ACL file holds only their SHA-256.

Limit (docs/security.md): the services share one key namespace, so a service's user can
still write another service's keys under it (a compromised recorder could write the token
denylist); separating them needs each service's keys under a prefix of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from urllib.parse import quote

USERS = ("management", "recording", "streaming", "analysis")
ACL_FILE = "users.acl"
PASSWORDS_FILE = "passwords.json"


def user_rules(namespace: str) -> str:
    """What every service user may do: its namespace's keys and channels, no dangerous or
    admin commands."""
    return f"resetchannels ~{namespace}:* &{namespace}:* +@all -@dangerous -@admin"


def acl_text(namespace: str, passwords: dict[str, str]) -> str:
    """The ACL file: the default user off, one user per service (password hashes only)."""
    lines = ["user default off resetkeys resetchannels -@all"]
    for name in USERS:
        digest = hashlib.sha256(passwords[name].encode()).hexdigest()
        lines.append(f"user {name} on #{digest} {user_rules(namespace)}")
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)


def ensure_users(directory: Path, namespace: str) -> tuple[Path, dict[str, str]]:
    """The ACL file (rewritten each start: the namespace may change) and the passwords
    (generated once, kept); returns ``(acl path, {service: password})``."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    store = directory / PASSWORDS_FILE
    passwords: dict[str, str] = json.loads(store.read_text()) if store.exists() else {}
    if any(name not in passwords for name in USERS):
        passwords = {name: passwords.get(name) or secrets.token_urlsafe(32) for name in USERS}
        _write_private(store, json.dumps(passwords))
    acl = directory / ACL_FILE
    _write_private(acl, acl_text(namespace, passwords))
    return acl, passwords


def user_url(host: str, port: int, user: str, password: str, db: int = 0) -> str:
    """``redis://user:password@host:port/db``."""
    return f"redis://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{db}"
