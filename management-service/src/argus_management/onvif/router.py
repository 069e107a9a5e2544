"""ONVIF discovery and probe under ``/api/v1/cameras/onvif`` (admins: ``cameras:write``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from argus_management.deps import SessionDep, SessionmakerDep, SettingsDep
from argus_management.onvif import service as svc
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
