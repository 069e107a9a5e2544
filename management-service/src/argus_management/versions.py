"""Version counters in Redis that let every worker cache safely.

A writer bumps a counter after its change is committed; readers key their caches on the
counter's current value, read in the same Redis round trip as the token denylist check, so a
cached answer never outlives the change that makes it stale.
"""

from __future__ import annotations

import time

from argus_common.bus import RedisBus

AUTHZ = "version:authz"  # users, roles, grants, groups
CAMERAS = "version:cameras"  # camera rows (config, status)


async def bump(bus: RedisBus, *names: str) -> None:
    """Invalidate every cache keyed on ``names``."""
    pipe = bus.redis.pipeline(transaction=False)
    for name in names:
        pipe.incr(bus.key(name))
    await pipe.execute()


# Caches keyed on a version also carry this bucket: should a bump ever be lost (Redis down at
# the moment of a change), a stale entry still dies within a minute.
CACHE_BUCKET_S = 60


def cache_bucket() -> int:
    return int(time.monotonic() // CACHE_BUCKET_S)
