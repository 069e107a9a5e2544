"""Which event types raise an alert, and what that alert looks like.

The defaults below can be extended or overridden per site with ``MANAGEMENT_ALERT_RULES``, a
JSON object mapping an event type to a rule (or to ``null`` to silence a default), e.g.
``{"motion.start": null, "person.detected": {"kind": "person", "title": "Person detected"}}``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "warning", "critical"]
NAME_PATTERN = r"^[a-z0-9_.-]{1,64}$"


class AlertRule(BaseModel):
    """The alert raised for one event type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(pattern=NAME_PATTERN)
    severity: Severity = "warning"
    title: str = Field(min_length=1, max_length=256)
    # One open alert per ongoing condition: while an alert of this kind is open (or acked)
    # for the same camera and the same value of this payload field ("": camera alone),
    # repeated events raise nothing new. None: every event raises an alert.
    dedupe_by: str | None = Field(None, pattern=r"^[a-z0-9_]{0,64}$")

    def dedupe_key(self, payload: dict[str, Any]) -> str | None:
        """The ``raise_alert`` dedupe key for an event with ``payload`` (None: no dedupe)."""
        if self.dedupe_by is None:
            return None
        return str(payload.get(self.dedupe_by, "")) if self.dedupe_by else ""


DEFAULT_ALERT_RULES: dict[str, AlertRule] = {
    "motion.start": AlertRule(kind="motion", severity="warning", title="Motion detected"),
    "rtmp.publish": AlertRule(
        kind="rtmp.received", severity="critical", title="RTMP stream received"
    ),
    # Object rules of ai-analysis-service (contract: its objects/ package). object.track (a
    # track's summary) and object.zone_leave are records, not alarms: no rule.
    "object.zone_enter": AlertRule(
        kind="object.zone", severity="warning", title="Object entered a zone"
    ),
    "object.line_cross": AlertRule(
        kind="object.line", severity="warning", title="Object crossed a line"
    ),
    "object.zone_dwell": AlertRule(
        kind="object.dwell", severity="warning", title="Object stayed in a zone"
    ),
    # The analyser re-arms a zone's count rule only once the count fell back: no dedupe.
    "object.zone_count": AlertRule(
        kind="object.count", severity="warning", title="Too many objects in a zone"
    ),
    # A camera's own events (ONVIF PullPoint, onvif/event_watch.py): one open alert per
    # ongoing condition, resolved by the end event.
    "tamper.start": AlertRule(
        kind="tamper", severity="critical", title="Camera tampering", dedupe_by=""
    ),
    "input.start": AlertRule(
        kind="input", severity="warning", title="Alarm input active", dedupe_by="input"
    ),
    # recording-service reports the recordings volume crossing its low-space threshold
    # (contract: docs/contracts.md); "disk.ok" resolves it.
    "disk.low": AlertRule(
        kind="disk.low", severity="critical", title="Recording disk space low",
        dedupe_by="recorder",
    ),
}

# Event types that end a condition: they resolve the open alerts raised by the rule of the
# paired event type, for the same camera and dedupe key.
RESOLVING_EVENTS: dict[str, str] = {
    "disk.ok": "disk.low", "tamper.end": "tamper.start", "input.end": "input.start",
}

# Alerts raised by management's own checks rather than by reported events (liveness/).
CAMERA_OFFLINE = AlertRule(
    kind="camera.offline", severity="warning", title="Camera offline", dedupe_by=""
)
# A camera that records continuously is losing footage while it is offline.
CAMERA_OFFLINE_RECORDING_SEVERITY: Severity = "critical"
CAMERA_ONLINE = AlertRule(
    kind="camera.online", severity="info", title="Camera back online", dedupe_by=""
)
RECORDER_DOWN = AlertRule(
    kind="recorder.down", severity="critical", title="Recorder stopped reporting",
    dedupe_by="instance",
)


def effective_rules(overrides: dict[str, AlertRule | None]) -> dict[str, AlertRule]:
    """The defaults with a site's overrides applied (``None`` removes a default)."""
    rules = dict(DEFAULT_ALERT_RULES)
    for event_type, rule in overrides.items():
        if rule is None:
            rules.pop(event_type, None)
        else:
            rules[event_type] = rule
    return rules
