"""The permissions and the built-in roles that hold them.

The migration seeds these; the code checks permission names, never role names, so a site may
edit role membership without code changes.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "cameras:read": "See cameras granted to the user and their live video",
    "cameras:write": "Add, edit and delete cameras",
    "ptz:control": "Drive PTZ cameras",
    "recordings:read": "Play recordings and see the timeline",
    "recordings:export": "Export recordings",
    "recordings:trigger": "Start a manual event recording",
    "recordings:hold": "Put recordings, events and exports on legal hold, and release them",
    "events:read": "See events and alerts",
    "events:ack": "Acknowledge alerts",
    "layouts:write": "Create and edit layouts",
    "rtmp:keys": "Manage own RTMP stream keys",
    "users:manage": "Manage users, roles and camera grants",
    "audit:read": "Read the audit log",
    "analysis:read": "Subscribe to analysis results",
    "walls:view": "See video walls and what their monitors show",
    "walls:control": "Push cameras, layouts and tours to wall monitors",
    "walls:manage": "Create walls and monitors, manage display credentials",
}

ROLES: dict[str, tuple[str, int, list[str]]] = {
    # name: (description, PTZ priority, permissions)
    "admin": ("Full control of the system", 100, list(PERMISSIONS)),
    "operator": (
        "Watches, drives PTZ, acknowledges alerts",
        50,
        [
            "cameras:read", "ptz:control", "recordings:read", "recordings:export",
            "recordings:trigger", "recordings:hold", "events:read", "events:ack",
            "layouts:write", "rtmp:keys", "analysis:read", "walls:view", "walls:control",
        ],
    ),
    "viewer": (
        "Watches live and recorded video",
        10,
        ["cameras:read", "recordings:read", "events:read", "layouts:write"],
    ),
}

# The permission that makes every camera visible, not only the granted ones.
ALL_CAMERAS_PERMISSION = "cameras:write"
