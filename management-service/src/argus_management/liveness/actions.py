"""What a camera status change does: alerts raised and resolved, in the checker's transaction.

- to ``offline``: ``camera.offline`` (warning; critical when the camera records
  continuously), unless one was raised for this camera within the alert window: a camera
  that keeps flapping raises one alert per window, not one per outage. Any open
  ``camera.online`` of that camera is resolved, so at most one of the pair is open.
- ``offline`` -> ``online``: the open ``camera.offline`` is resolved, and if there was one,
  ``camera.online`` (info) is raised to say so.
- ``unknown`` -> ``online``: a stale open ``camera.offline`` is resolved quietly; nothing
  is raised (the first sighting after start or creation is no news).

RTMP cameras are pushed by phones and encoders that stop whenever their owner does: their
status is kept, but they raise no alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.bus import RedisBus
from argus_management.alerts.rules import (
    CAMERA_OFFLINE,
    CAMERA_OFFLINE_RECORDING_SEVERITY,
    CAMERA_ONLINE,
)
from argus_management.alerts.service import raise_alert, resolve_alerts
from argus_management.liveness.metrics import ALERTS_SUPPRESSED
from argus_management.liveness.results import ProbeResult
from argus_management.liveness.state import Transition


@dataclass(frozen=True)
class CameraInfo:
    """The camera fields the alerts mention."""

    camera_id: int
    name: str
    kind: str
    recording_mode: str


class AlertWindow:
    """When each camera last raised ``camera.offline`` (monotonic seconds), to rate-limit."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._last: dict[int, float] = {}

    def allows(self, camera_id: int, now: float) -> bool:
        last = self._last.get(camera_id)
        return last is None or now - last >= self.window_s

    def note(self, camera_id: int, now: float) -> None:
        self._last[camera_id] = now

    def forget(self, keep: set[int]) -> None:
        """Drop cameras that no longer exist or are no longer checked."""
        for cid in [c for c in self._last if c not in keep]:
            del self._last[cid]


async def apply_transition(
    session: AsyncSession,
    bus: RedisBus,
    camera: CameraInfo,
    transition: Transition,
    result: ProbeResult,
    window: AlertWindow,
    now_mono: float,
    offline_since: datetime | None,
) -> bool:
    """Raise and resolve the alerts of one status change (see the module docstring).
    Returns whether a ``camera.offline`` was raised: the caller notes it in the window once
    the transaction has committed."""
    if camera.kind == "rtmp":
        return False
    cid = camera.camera_id
    if transition.new == "offline":
        await resolve_alerts(session, bus, kind=CAMERA_ONLINE.kind, camera_id=cid)
        if not window.allows(cid, now_mono):
            ALERTS_SUPPRESSED.inc()
            return False
        severity = (
            CAMERA_OFFLINE_RECORDING_SEVERITY
            if camera.recording_mode == "continuous" else CAMERA_OFFLINE.severity
        )
        reason = result.detail or result.outcome
        await raise_alert(
            session, bus, kind=CAMERA_OFFLINE.kind, severity=severity,
            title=f"{CAMERA_OFFLINE.title}: {camera.name}",
            detail=f"{camera.name} does not answer ({reason})",
            camera_id=cid,
            payload={"camera_name": camera.name, "reason": result.outcome,
                     "reason_detail": result.detail},
            dedupe_key="",
        )
        return True
    elif transition.new == "online":
        # Also from unknown: an offline alert left open from before (a restart, a status
        # reset) must not stay open, nor swallow the next outage's alert through dedupe.
        resolved = await resolve_alerts(session, bus, kind=CAMERA_OFFLINE.kind, camera_id=cid)
        if not resolved or transition.old != "offline":
            return False  # no alert was raised for this outage (rate-limited): stay quiet
        payload: dict[str, object] = {"camera_name": camera.name}
        if offline_since is not None:
            payload["offline_since"] = offline_since.isoformat()
        await raise_alert(
            session, bus, kind=CAMERA_ONLINE.kind, severity=CAMERA_ONLINE.severity,
            title=f"{CAMERA_ONLINE.title}: {camera.name}",
            detail=f"{camera.name} answers again",
            camera_id=cid, payload=payload, dedupe_key="",
        )
    return False
