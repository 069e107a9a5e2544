"""A camera as management's internal API (``GET /internal/cameras``) describes it to the media
services. Each service adds what only it needs (``wants_recording``, motion settings) in a
small subclass; the fields and the URL handling are the same everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from argus_common.media import with_userinfo

DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 3.0


def _seconds(data: Mapping[str, Any], key: str, default: float) -> float:
    value = data.get(key)
    return float(value) if value else default


@dataclass(frozen=True)
class Camera:
    """One camera with its credentials. The password never shows in ``repr``, and the stored
    URLs never hold userinfo: ``source_url`` adds it for the one place that connects."""

    id: int
    name: str
    kind: str
    stream_url: str
    sub_stream_url: str | None
    username: str | None
    password: str | None = field(repr=False)
    enabled: bool
    recording_mode: str
    retention_days: int
    # The camera's motion-analysis settings as management stores them (ai-analysis-service
    # parses them); kept raw here so that other services do not depend on their schema.
    analysis: Mapping[str, Any] = field(repr=False)
    connect_timeout_s: float
    read_timeout_s: float
    has_ptz: bool = False
    # The camera's ONVIF device service, when it has one (Profile G replay: backfill).
    onvif_host: str | None = None
    onvif_port: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from an internal API item (unknown fields ignored, missing ones defaulted)."""
        analysis = data.get("analysis")
        return cls(
            id=int(data["id"]),
            name=str(data.get("name") or ""),
            kind=str(data.get("kind") or "rtsp"),
            stream_url=str(data["stream_url"]),
            sub_stream_url=data.get("sub_stream_url") or None,
            username=data.get("username") or None,
            password=data.get("password") or None,
            enabled=bool(data.get("enabled", True)),
            recording_mode=str(data.get("recording_mode") or "continuous"),
            retention_days=int(data.get("retention_days") or 30),
            analysis=dict(analysis) if isinstance(analysis, Mapping) else {},
            connect_timeout_s=_seconds(data, "connect_timeout_s", DEFAULT_CONNECT_TIMEOUT_S),
            read_timeout_s=_seconds(data, "read_timeout_s", DEFAULT_READ_TIMEOUT_S),
            has_ptz=bool(data.get("has_ptz", False)),
            onvif_host=data.get("onvif_host") or None,
            onvif_port=int(data["onvif_port"]) if data.get("onvif_port") else None,
        )

    def stream(self, prefer_sub: bool = False) -> str:
        """The URL pulled, without credentials: the sub-stream when asked for and there is
        one, the main stream otherwise."""
        if prefer_sub and self.sub_stream_url:
            return self.sub_stream_url
        return self.stream_url

    def source_url(self, prefer_sub: bool = False) -> str:
        """``stream(prefer_sub)`` with the credentials as percent-encoded userinfo. A secret:
        never log it (``argus_common.logging.redact_url``)."""
        return with_userinfo(self.stream(prefer_sub), self.username, self.password)

    def connection_key(self, prefer_sub: bool = False) -> tuple[Any, ...]:
        """Everything whose change needs the camera's connection restarted."""
        return (
            self.stream(prefer_sub), self.username, self.password,
            self.connect_timeout_s, self.read_timeout_s,
        )
