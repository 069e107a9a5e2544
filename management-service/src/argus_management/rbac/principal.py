"""Who is making a request, and what they may do."""

from __future__ import annotations

from dataclasses import dataclass, field

from argus_management.rbac.permissions import ALL_CAMERAS_PERMISSION


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request, with roles and permissions resolved."""

    user_id: int
    username: str
    roles: tuple[str, ...]
    permissions: frozenset[str]
    ptz_priority: int = 0
    jti: str = ""
    token_exp: int = 0
    # Camera ids granted directly or through a group; ignored when sees_all_cameras.
    camera_ids: frozenset[int] = field(default_factory=frozenset)

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def sees_all_cameras(self) -> bool:
        return ALL_CAMERAS_PERMISSION in self.permissions

    def may_see_camera(self, camera_id: int | None) -> bool:
        if self.sees_all_cameras:
            return True
        return camera_id is not None and camera_id in self.camera_ids


@dataclass(frozen=True)
class Actor:
    """Who did something, for the audit log (a principal, or an anonymous client)."""

    user_id: int | None
    username: str | None
    ip: str | None
    user_agent: str | None
