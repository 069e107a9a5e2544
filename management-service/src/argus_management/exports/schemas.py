"""Bodies of the export API and the ``export.*`` frames of ``/ws/alerts``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from argus_management.events.schemas import RowId, UtcTime

ExportState = Literal["queued", "running", "done", "failed"]


class ExportCreate(BaseModel):
    """``POST /api/v1/exports``: cameras and a range, or events (each with its camera and
    its own range widened by ``pre_s``/``post_s``). ``reason`` is required: it goes into
    the signed manifest."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=1024)
    cameras: list[RowId] | None = Field(None, min_length=1, max_length=64)
    start: UtcTime | None = None
    end: UtcTime | None = None
    events: list[RowId] | None = Field(None, min_length=1, max_length=500)
    pre_s: float = Field(10.0, ge=0, le=600)
    post_s: float = Field(10.0, ge=0, le=600)

    @model_validator(mode="after")
    def _one_kind(self) -> ExportCreate:
        by_range = self.cameras is not None or self.start is not None or self.end is not None
        if by_range == (self.events is not None):
            raise ValueError("give either cameras with start and end, or events")
        if by_range:
            if not self.cameras or self.start is None or self.end is None:
                raise ValueError("cameras, start and end are all required")
            if self.end <= self.start:
                raise ValueError("end must come after start")
        return self


class ExportItemOut(BaseModel):
    camera_id: int
    start: datetime
    end: datetime
    event_id: int | None = None


class ExportFileOut(BaseModel):
    """One MP4 in the bundle, with what it really holds."""

    name: str
    camera_id: int
    sha256: str
    bytes: int
    start: datetime
    end: datetime
    frames: int
    audio: bool
    gaps: list[list[datetime]] = []


class ExportOut(BaseModel):
    id: int
    name: str
    reason: str
    state: ExportState
    progress: float
    bytes_done: int
    bytes_total: int
    error: str | None
    items: list[ExportItemOut]
    range_start: datetime
    range_end: datetime
    created_by: int | None
    created_by_name: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    file_bytes: int
    manifest_sha256: str | None
    files: list[ExportFileOut]
    expires_at: datetime | None
    held: bool = False


class ExportPage(BaseModel):
    items: list[ExportOut]
    total: int


class PublicKeyOut(BaseModel):
    """The site's export-signing public key: bundles verify against it."""

    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key_pem: str
    fingerprint: str = Field(description="SHA-256 of the raw 32-byte key, hex")


class VerifyOut(BaseModel):
    """``POST /api/v1/exports/verify``: the bundle checked against the site's key."""

    valid: bool
    reasons: list[str]
    fingerprint: str
    files_checked: int
    manifest: dict[str, Any] | None


class ExportFrame(BaseModel):
    """``export.progress`` / ``export.done`` / ``export.failed`` on ``argus:alerts``
    (``/ws/alerts`` forwards it to the users who see ``camera_id``)."""

    type: str
    export_id: int
    camera_id: int
    state: ExportState
    progress: float
    bytes_done: int
    bytes_total: int
    ts: datetime
    error: str | None = None
