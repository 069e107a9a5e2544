"""What the runner is doing with each tour, in Redis (any worker answers the API)."""

from __future__ import annotations

from argus_common.bus import RedisBus
from argus_management.guard_tours.schemas import GuardTourStatus

# The runner rewrites a running tour's entry every tick; an entry older than this is stale
# (no runner holds the lease): the tour shows as idle.
STALE_S = 30


def _key(bus: RedisBus, tour_id: int) -> str:
    return bus.key(f"guard_tours:state:{tour_id}")


async def write(bus: RedisBus, tour_id: int, status: GuardTourStatus) -> None:
    await bus.redis.set(_key(bus, tour_id), status.model_dump_json(), ex=STALE_S)


async def forget(bus: RedisBus, tour_id: int) -> None:
    await bus.redis.delete(_key(bus, tour_id))


async def read(bus: RedisBus, tour_ids: list[int]) -> dict[int, GuardTourStatus]:
    """The last status of each tour the runner reported (absent: none)."""
    if not tour_ids:
        return {}
    raw = await bus.redis.mget([_key(bus, t) for t in tour_ids])
    found: dict[int, GuardTourStatus] = {}
    for tour_id, value in zip(tour_ids, raw, strict=True):
        if value is not None:
            found[tour_id] = GuardTourStatus.model_validate_json(value)
    return found
