"""Redis users of ``make run``'s private Redis: one ACL user per service, no default user.

Each service connects as itself (``REDIS_URL=redis://<service>:<password>@…``) and may use
only the keys and channels of the stack's namespace that it needs, without the dangerous and
admin commands (``FLUSHALL``, ``FLUSHDB``, ``CONFIG``, ``ACL``, ``KEYS``, ``DEBUG``,
``SHUTDOWN``, ``MONITOR`` …). The rules are ``redis-acl/users.rules``, the one list that
Compose's Redis (``redis-acl/start-redis.sh``) reads too. Passwords are random, kept in
``<data>/redis/passwords.json`` (0600); the ACL file holds only their SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from urllib.parse import quote, urlsplit

USERS = ("management", "recording", "streaming", "analysis")
ACL_FILE = "users.acl"
PASSWORDS_FILE = "passwords.json"
RULES_FILE = Path(__file__).resolve().parents[4] / "redis-acl" / "users.rules"


def rules_template(path: Path = RULES_FILE) -> dict[str, str]:
    """``redis-acl/users.rules``: service -> its rules with ``{ns}`` for the namespace."""
    rules: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            user, _, text = line.strip().partition(" ")
            rules[user] = text.strip()
    if set(rules) != set(USERS):
        raise ValueError(f"{path}: expected rules for {', '.join(USERS)}, got {sorted(rules)}")
    return rules


def user_rules(namespace: str, user: str) -> str:
    """What ``user`` may do in ``namespace``: the keys and channels its service uses, no
    dangerous or admin commands."""
    return rules_template()[user].replace("{ns}", namespace)


def acl_text(namespace: str, passwords: dict[str, str]) -> str:
    """The ACL file: the default user off, one user per service (password hashes only)."""
    lines = ["user default off resetkeys resetchannels -@all"]
    for name in USERS:
        digest = hashlib.sha256(passwords[name].encode()).hexdigest()
        lines.append(f"user {name} on #{digest} {user_rules(namespace, name)}")
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


# Test stacks (argus_testkit.stack.start) run each service as its ACL user on the session's
# Redis when this is "1": the services' own tests then show their user may do what they do.
ACL_ENV = "ARGUS_TEST_REDIS_ACL"


def scoped_url(admin_url: str, namespace: str, service: str) -> str:
    """A user ``<service>-<namespace>`` with ``service``'s rules for ``namespace``, created
    through ``admin_url`` (a user allowed ``ACL SETUSER``); its ``redis://`` URL."""
    from redis import Redis

    user, password = f"{service}-{namespace}", secrets.token_urlsafe(24)
    client = Redis.from_url(admin_url)
    try:
        client.execute_command(  # type: ignore[no-untyped-call]
            "ACL",
            "SETUSER",
            user,
            "reset",
            "on",
            f">{password}",
            *user_rules(namespace, service).split(),
        )
    finally:
        client.close()
    parts = urlsplit(admin_url)
    return user_url(
        parts.hostname or "127.0.0.1",
        parts.port or 6379,
        user,
        password,
        int(parts.path.lstrip("/") or 0),
    )


def as_service(name: str, env: dict[str, str], default_url: str) -> dict[str, str]:
    """``env`` for starting service ``name`` in a test stack: with ``ARGUS_TEST_REDIS_ACL=1``
    its ``REDIS_URL`` is a user with the service's rules (:func:`scoped_url`)."""
    if os.environ.get(ACL_ENV) != "1" or name not in USERS:
        return env
    url = scoped_url(env.get("REDIS_URL") or default_url,
                     env.get("ARGUS_REDIS_NAMESPACE", "argus"), name)
    return {**env, "REDIS_URL": url}


def user_url(host: str, port: int, user: str, password: str, db: int = 0) -> str:
    """``redis://user:password@host:port/db``."""
    return f"redis://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{db}"
