"""Which event types raise an alert, and what that alert looks like.

The defaults below can be extended or overridden per site with ``MANAGEMENT_ALERT_RULES``, a
JSON object mapping an event type to a rule (or to ``null`` to silence a default), e.g.
``{"motion.start": null, "person.detected": {"kind": "person", "title": "Person detected"}}``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "warning", "critical"]
NAME_PATTERN = r"^[a-z0-9_.-]{1,64}$"


class AlertRule(BaseModel):
    """The alert raised for one event type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(pattern=NAME_PATTERN)
    severity: Severity = "warning"
    title: str = Field(min_length=1, max_length=256)


DEFAULT_ALERT_RULES: dict[str, AlertRule] = {
    "motion.start": AlertRule(kind="motion", severity="warning", title="Motion detected"),
    "rtmp.publish": AlertRule(
        kind="rtmp.received", severity="critical", title="RTMP stream received"
    ),
}


def effective_rules(overrides: dict[str, AlertRule | None]) -> dict[str, AlertRule]:
    """The defaults with a site's overrides applied (``None`` removes a default)."""
    rules = dict(DEFAULT_ALERT_RULES)
    for event_type, rule in overrides.items():
        if rule is None:
            rules.pop(event_type, None)
        else:
            rules[event_type] = rule
    return rules
