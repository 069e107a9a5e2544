"""Users, roles, camera grants and camera groups: request and response schemas.

Request models forbid unknown fields (a typo must not be silently ignored on an admin API)
and bound every string and list so no input reaches the database unchecked. No response
model has a password or password hash field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from argus_management.users.passwords import policy_error

MAX_ID = 2**31 - 1  # INTEGER primary keys: larger values would fail in the database
MAX_IDS = 1000  # grants or members set in one request

DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
IdList = Annotated[list[DbId], Field(max_length=MAX_IDS)]
Username = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,64}$")]
# No control characters: PostgreSQL cannot even compare a string holding NUL.
RoleName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[^\x00-\x1f\x7f]+$")]
Email = Annotated[EmailStr, Field(max_length=254)]
# Whitespace is stripped first (models set str_strip_whitespace), so blank names are refused.
GroupName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


def _check_password(value: str) -> str:
    # NUL bytes are refused here: bcrypt cannot hash them and would fail with a 500.
    if "\x00" in value:
        raise ValueError("password must not contain NUL characters")
    problem = policy_error(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# max_length bounds the work before the policy check; the policy's byte limit is lower.
Password = Annotated[str, Field(max_length=256), AfterValidator(_check_password)]


class UserCreate(BaseModel):
    """A new account created by an administrator."""

    model_config = ConfigDict(extra="forbid")

    username: Username
    email: Email | None = None
    password: Password
    roles: Annotated[list[RoleName], Field(max_length=16)] = Field(default_factory=list)


class UserUpdate(BaseModel):
    """Partial update: only the fields sent change; ``email: null`` clears the address."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    roles: Annotated[list[RoleName], Field(max_length=16)] | None = None
    is_active: bool | None = None
    password: Password | None = None


class UserOut(BaseModel):
    """A user as administrators see it."""

    id: int
    username: str
    email: str | None
    is_active: bool
    roles: list[str]
    created_at: datetime
    updated_at: datetime
    password_changed_at: datetime | None
    last_login_at: datetime | None


class RoleOut(BaseModel):
    id: int
    name: str
    description: str
    ptz_priority: int
    permissions: list[str]


class GrantsIn(BaseModel):
    """The complete set of cameras and groups a user may see (replaces the current set)."""

    model_config = ConfigDict(extra="forbid")

    camera_ids: IdList = Field(default_factory=list)
    group_ids: IdList = Field(default_factory=list)


class GrantsOut(BaseModel):
    user_id: int
    camera_ids: list[int]
    group_ids: list[int]
    # Direct grants plus the cameras of the granted groups: what the user sees.
    effective_camera_ids: list[int]
    # True when a permission already shows the user every camera.
    sees_all_cameras: bool


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: GroupName
    camera_ids: IdList = Field(default_factory=list)


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: GroupName | None = None


class GroupMembersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera_ids: IdList


class GroupOut(BaseModel):
    id: int
    name: str
    camera_ids: list[int]
