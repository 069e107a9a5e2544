"""The camera a PTZ request drives: permission, per-user rate limit, visibility, PTZ present.

The camera row is read in a short session of its own, so no database connection stays
checked out while the camera answers (up to its connect + read timeout).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from argus_common.errors import Conflict, NotFound, TooManyRequests
from argus_management.cameras.dependencies import CAMERA_ID
from argus_management.cameras.models import Camera
from argus_management.deps import StateDep
from argus_management.onvif.device import OnvifDevice
from argus_management.onvif.pool import CameraEndpoint, endpoint_of
from argus_management.ptz.runtime import PtzRuntime
from argus_management.rbac.dependencies import require_permission
from argus_management.rbac.principal import Principal

PERMISSION = "ptz:control"
PtzUser = Annotated[Principal, Depends(require_permission(PERMISSION))]


@dataclass(frozen=True)
class PtzContext:
    """Who drives which camera, and the means to do it."""

    principal: Principal
    camera_id: int
    endpoint: CameraEndpoint
    runtime: PtzRuntime

    @property
    def device(self) -> OnvifDevice:
        return self.runtime.pool.get(self.endpoint)


async def rate_limit(runtime: PtzRuntime, user_id: int, per_second: int) -> None:
    """At most ``per_second`` PTZ requests per user and second (a Redis counter per second,
    shared by every worker); 429 beyond."""
    bus = runtime.bus
    key = bus.key(f"ptz:rate:{user_id}:{int(time.time())}")
    pipe = bus.redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, 2)
    count, _ = await pipe.execute()
    if int(count) > per_second:
        raise TooManyRequests(
            f"too many PTZ requests: at most {per_second} per second",
            headers={"Retry-After": "1"},
        )


async def ptz_context(
    state: StateDep, principal: PtzUser, camera_id: Annotated[int, CAMERA_ID]
) -> PtzContext:
    runtime = state.ptz
    await rate_limit(runtime, principal.user_id, state.settings.ptz_rate_per_s)
    if not principal.may_see_camera(camera_id):
        raise NotFound("camera not found")
    async with state.sessionmaker() as session:
        camera = await session.get(Camera, camera_id)
    if camera is None:
        raise NotFound("camera not found")
    if not camera.has_ptz:
        raise Conflict("camera has no PTZ")
    return PtzContext(principal, camera.id, endpoint_of(camera, state.settings.secret_key),
                      runtime)


PtzDep = Annotated[PtzContext, Depends(ptz_context)]
