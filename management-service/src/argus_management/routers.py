"""Every router of the service, mounted in one place (order matters: ``/users/me`` before
``/users/{user_id}``)."""

from __future__ import annotations

from fastapi import FastAPI

from argus_management.alerts.router import router as alerts_router
from argus_management.alerts.ws import router as alerts_ws_router
from argus_management.analysis.internal_router import router as analysis_internal_router
from argus_management.analysis.router import router as analysis_router
from argus_management.analysis.router import snapshot_router as event_snapshot_router
from argus_management.analysis.ws import router as analysis_ws_router
from argus_management.audit.router import router as audit_router
from argus_management.auth.jwks import router as jwks_router
from argus_management.auth.me_router import router as me_router
from argus_management.auth.router import router as auth_router
from argus_management.cameras.router import router as cameras_router
from argus_management.events.router import router as events_router
from argus_management.exports.router import router as exports_router
from argus_management.guard_tours.router import router as guard_tours_router
from argus_management.health.router import router as health_router
from argus_management.holds.router import router as holds_router
from argus_management.internal.access_router import router as access_internal_router
from argus_management.internal.router import router as internal_router
from argus_management.layouts.router import router as layouts_router
from argus_management.objects.router import router as objects_router
from argus_management.offsite.router import router as offsite_router
from argus_management.onvif.router import router as onvif_router
from argus_management.ptz.router import router as ptz_router
from argus_management.recordings.internal_router import router as recordings_internal_router
from argus_management.recordings.router import group_router as group_timeline_router
from argus_management.recordings.router import router as recordings_router
from argus_management.recordings.tier_router import router as recordings_tier_router
from argus_management.rtmp.hooks_router import router as rtmp_hooks_router
from argus_management.rtmp.router import router as rtmp_keys_router
from argus_management.users.groups_router import router as groups_router
from argus_management.users.router import roles_router
from argus_management.users.router import router as users_router
from argus_management.walls.display import router as wall_display_router
from argus_management.walls.push import router as wall_display_ws_router
from argus_management.walls.router import router as walls_router

API = "/api/v1"


def include_routers(app: FastAPI) -> None:
    # Starlette tries routes in this order: the console's busiest routes come first.
    app.include_router(cameras_router, prefix=f"{API}/cameras", tags=["cameras"])
    app.include_router(health_router)
    app.include_router(auth_router, prefix=f"{API}/auth", tags=["auth"])
    app.include_router(jwks_router)
    app.include_router(me_router, prefix=f"{API}/users/me", tags=["users"])
    app.include_router(users_router, prefix=f"{API}/users", tags=["users"])
    app.include_router(roles_router, prefix=f"{API}/roles", tags=["users"])
    app.include_router(groups_router, prefix=f"{API}/camera-groups", tags=["users"])
    app.include_router(recordings_router, prefix=f"{API}/cameras", tags=["recordings"])
    app.include_router(onvif_router, prefix=f"{API}/cameras", tags=["onvif"])
    app.include_router(ptz_router, prefix=f"{API}/cameras", tags=["ptz"])
    app.include_router(guard_tours_router, prefix=f"{API}/guard-tours", tags=["ptz"])
    app.include_router(layouts_router, prefix=f"{API}/layouts", tags=["layouts"])
    app.include_router(events_router, prefix=f"{API}/events", tags=["events"])
    app.include_router(alerts_router, prefix=f"{API}/alerts", tags=["alerts"])
    app.include_router(audit_router, prefix=f"{API}/audit", tags=["audit"])
    app.include_router(internal_router, prefix="/internal", tags=["internal"])
    app.include_router(access_internal_router, prefix="/internal", tags=["internal"])
    app.include_router(recordings_internal_router, prefix="/internal", tags=["internal"])
    app.include_router(recordings_tier_router, prefix="/internal", tags=["internal"])
    app.include_router(rtmp_keys_router, prefix=f"{API}/rtmp/keys", tags=["rtmp"])
    app.include_router(rtmp_hooks_router, prefix="/internal/rtmp", tags=["internal"])
    app.include_router(alerts_ws_router)
    app.include_router(analysis_router, prefix=f"{API}/analysis", tags=["analysis"])
    app.include_router(event_snapshot_router, prefix=f"{API}/events", tags=["events"])
    app.include_router(analysis_internal_router, prefix="/internal", tags=["internal"])
    app.include_router(analysis_ws_router)
    app.include_router(exports_router, prefix=f"{API}/exports", tags=["exports"])
    app.include_router(holds_router, prefix=f"{API}/holds", tags=["holds"])
    app.include_router(offsite_router, prefix=f"{API}/offsite", tags=["offsite"])
    app.include_router(group_timeline_router, prefix=f"{API}/camera-groups",
                       tags=["recordings"])
    app.include_router(objects_router, prefix=API)  # /search, /review, /objects
    app.include_router(walls_router, prefix=f"{API}/walls", tags=["walls"])
    app.include_router(wall_display_router, prefix=f"{API}/wall-display", tags=["walls"])
    app.include_router(wall_display_ws_router)
