"""ONVIF discovery and probe under ``/api/v1/cameras/onvif``, and a registered camera's
re-probe (``/api/v1/cameras/{id}/onvif/probe``) (admins: ``cameras:write``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from argus_management.cameras.dependencies import VisibleCamera
from argus_management.deps import SessionDep, SessionmakerDep, SettingsDep
from argus_management.onvif import service as svc
from argus_management.onvif.pool import endpoint_of
from argus_management.onvif.schemas import DiscoverOut, DiscoverRequest, ProbeOut, ProbeRequest
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal
from argus_management.responses import CAMERA_DOWN, NETWORK_DOWN

router = APIRouter()
Writer = Annotated[Principal, Depends(require_permission("cameras:write"))]


@router.post("/onvif/discover", response_model=DiscoverOut, responses=NETWORK_DOWN)
async def discover(
    settings: SettingsDep, session: SessionDep, principal: Writer, data: DiscoverRequest
) -> DiscoverOut:
    """WS-Discovery probe: multicast on the LAN (needs host networking under Docker), or
    unicast to ``target``. Lists each device with its XAddrs and whether it is added."""
    return await svc.discover(session, data, settings.camera_allowed_networks)


@router.post("/onvif/probe", response_model=ProbeOut, responses=CAMERA_DOWN)
async def probe(
    request: Request, session: SessionDep, principal: Writer, data: ProbeRequest,
    sessionmaker: SessionmakerDep, settings: SettingsDep,
) -> ProbeOut:
    """Connect to one ONVIF device: identity, profiles with stream URIs, PTZ and presets.
    Register it with ``POST /cameras`` naming ``onvif_profile`` (and ``onvif_sub_profile``)."""
    return await svc.probe(
        session, sessionmaker, actor_for(request, principal), data,
        settings.camera_allowed_networks,
        allow_foreign_xaddrs=settings.onvif_allow_foreign_xaddrs,
    )


@router.post("/{camera_id}/onvif/probe", response_model=ProbeOut, responses=CAMERA_DOWN)
async def probe_camera(
    request: Request, session: SessionDep, principal: Writer, camera: VisibleCamera,
    sessionmaker: SessionmakerDep, settings: SettingsDep,
) -> ProbeOut:
    """Probe a registered camera again with its stored ONVIF address and credentials (the
    console's camera form shows its ``warnings``; the credentials never leave the server).
    409 when the camera has no ``onvif_host``. Audited like ``/onvif/probe``, on the camera:
    one row a minute per user and camera, carrying the count of the probes since."""
    ep = endpoint_of(camera, settings.secret_key)
    data = ProbeRequest(
        host=ep.host, port=ep.port, username=ep.username, password=ep.password,
        # the probe's own bounds (0.5-60 s)
        connect_timeout_s=min(max(ep.connect_timeout_s, 0.5), 60.0),
        read_timeout_s=min(max(ep.read_timeout_s, 0.5), 60.0),
    )
    return await svc.probe(
        session, sessionmaker, actor_for(request, principal), data,
        settings.camera_allowed_networks,
        allow_foreign_xaddrs=settings.onvif_allow_foreign_xaddrs, camera_id=camera.id,
    )
