"""Pre-serialized camera lists, keyed on what decides their content.

The key holds the cameras version (bumped after every committed camera change), the set of
cameras the user may see (from the principal, itself cached per authz version) and the page.
So a cached body is served only while nothing that shaped it has changed.
"""

from __future__ import annotations

from typing import Any

_MAX_ENTRIES = 2_000


def list_key(version: Any, principal_scope: Any, limit: int, offset: int) -> tuple[Any, ...]:
    return ("cameras", version, principal_scope, limit, offset)


def get(cache: dict[Any, bytes], key: tuple[Any, ...]) -> bytes | None:
    return cache.get(key)


def put(cache: dict[Any, bytes], key: tuple[Any, ...], body: bytes) -> None:
    if len(cache) >= _MAX_ENTRIES:
        cache.clear()  # old versions are never asked again; start over
    cache[key] = body
