"""Bodies of the video-wall API (operators) and of the monitors' display API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from argus_management.layouts.schemas import MAX_ID as MAX_ID
from argus_management.layouts.schemas import CameraId, Name, TourOut

MAX_MONITORS = 64
# An alert kind (alerts/rules.py NAME_PATTERN) or "*" for every alert with a camera.
AlarmKind = Annotated[str, Field(pattern=r"^(\*|[a-z0-9_.-]{1,64})$")]


def _fits(kinds: list[str]) -> list[str]:
    if len(",".join(dict.fromkeys(kinds))) > 512:
        raise ValueError("alarm kinds are at most 512 characters together")
    return kinds


AlarmKinds = Annotated[list[AlarmKind], Field(max_length=16), AfterValidator(_fits)]


class WallCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name


class WallUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None


class MonitorCreate(BaseModel):
    """A monitor of a wall; ``alarm_kinds``: alerts of these kinds (``motion``,
    ``input``, ``object.zone`` …, ``*`` for any) push their camera to this monitor."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    position: Annotated[int, Field(strict=True, ge=0, le=999)] = 0
    alarm_kinds: AlarmKinds = Field(default_factory=list)


class MonitorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    position: Annotated[int, Field(strict=True, ge=0, le=999)] | None = None
    alarm_kinds: AlarmKinds | None = None


class ContentSource(BaseModel):
    """What was pushed: ``empty``, ``camera``, ``layout``, ``tour`` or ``alarm`` (an alert's
    camera), with the pushed object's id and name when it has them."""

    kind: Literal["empty", "camera", "layout", "tour", "alarm"]
    id: int | None = None
    name: str | None = None


class MonitorContent(BaseModel):
    """A monitor's content as a grid (a camera is a 1-cell grid, a tour a 1-cell tour)."""

    grid: int = 1
    cells: list[int | None] = Field(default_factory=lambda: list[int | None]([None]))
    tours: list[TourOut] = Field(default_factory=list)
    source: ContentSource = Field(default_factory=lambda: ContentSource(kind="empty"))


class PushIn(BaseModel):
    """``camera`` (``camera_id``), ``layout`` (``layout_id``: the layout as the pusher sees
    it now), ``tour`` (``cameras``, ``dwell_s``) or ``clear``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["camera", "layout", "tour", "clear"]
    camera_id: CameraId | None = None
    layout_id: Annotated[int, Field(strict=True, ge=1, le=MAX_ID)] | None = None
    cameras: Annotated[list[CameraId], Field(min_length=2, max_length=64)] | None = None
    dwell_s: Annotated[int, Field(strict=True, ge=3, le=3600)] = 10

    @model_validator(mode="after")
    def _fields_of_kind(self) -> PushIn:
        needed = {"camera": "camera_id", "layout": "layout_id", "tour": "cameras"}.get(self.kind)
        for name in ("camera_id", "layout_id", "cameras"):
            given = getattr(self, name) is not None
            if given != (name == needed):
                raise ValueError(
                    f"{name} is required for kind {self.kind}"
                    if not given
                    else f"{name} is not allowed for kind {self.kind}"
                )
        if self.cameras is not None and len(set(self.cameras)) != len(self.cameras):
            raise ValueError("a tour lists each camera once")
        return self


class MonitorOut(BaseModel):
    id: int
    wall_id: int
    name: str
    position: int
    alarm_kinds: list[str]
    has_credential: bool
    credential_created_at: datetime | None
    content: MonitorContent
    pushed_by: str | None
    pushed_at: datetime | None
    last_seen: datetime | None
    online: bool
    display_path: str


class WallOut(BaseModel):
    id: int
    name: str
    monitors: list[MonitorOut]
    created_at: datetime
    updated_at: datetime


class CredentialOut(BaseModel):
    """A new display credential: shown once, stored only as a hash."""

    wall_id: int
    monitor_id: int
    key: str
    display_url: str  # path with the key in the fragment (never sent to a server)


class DisplayLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wall_id: Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
    monitor_id: Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
    key: Annotated[str, Field(min_length=16, max_length=128)]


class DisplayToken(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 scheme name
    expires_in: int
    wall_id: int
    monitor_id: int


class DisplayCamera(BaseModel):
    """A pushed camera as a monitor sees it: no URL, account or address."""

    id: int
    name: str
    status: str
    has_sub_stream: bool


class DisplayState(BaseModel):
    wall_id: int
    monitor_id: int
    wall_name: str
    monitor_name: str
    content: MonitorContent
    cameras: list[DisplayCamera]
    pushed_at: datetime | None
