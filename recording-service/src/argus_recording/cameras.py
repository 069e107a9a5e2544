"""What the recorder knows of a camera (from management's internal API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

RECORDING_MODES = ("continuous", "events")


@dataclass(frozen=True)
class CameraConfig:
    """One camera as ``GET /internal/cameras`` describes it. The password never shows in
    ``repr`` and the stored URL never holds userinfo."""

    id: int
    name: str
    kind: str
    stream_url: str
    username: str | None
    password: str | None = field(repr=False)
    enabled: bool
    recording_mode: str
    retention_days: int
    connect_timeout_s: float
    read_timeout_s: float

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CameraConfig:
        """Build from an internal API item (unknown fields ignored)."""
        return cls(
            id=int(data["id"]),
            name=str(data.get("name", "")),
            kind=str(data.get("kind", "rtsp")),
            stream_url=str(data["stream_url"]),
            username=data.get("username") or None,
            password=data.get("password") or None,
            enabled=bool(data.get("enabled", True)),
            recording_mode=str(data.get("recording_mode", "continuous")),
            retention_days=int(data.get("retention_days", 30)),
            connect_timeout_s=float(data.get("connect_timeout_s", 5.0)),
            read_timeout_s=float(data.get("read_timeout_s", 3.0)),
        )

    @property
    def wants_recording(self) -> bool:
        """Enabled and in a recording mode (``off`` cameras are not recorded)."""
        return self.enabled and self.recording_mode in RECORDING_MODES

    @property
    def ingest_key(self) -> tuple[Any, ...]:
        """Everything whose change needs the camera's ingest restarted."""
        return (
            self.stream_url, self.username, self.password, self.recording_mode,
            self.connect_timeout_s, self.read_timeout_s,
        )

    def source_url(self) -> str:
        """The stream URL with the credentials as percent-encoded userinfo. Never log it
        (``argus_common.logging.redact_url``)."""
        return with_userinfo(self.stream_url, self.username, self.password)


def with_userinfo(url: str, username: str | None, password: str | None) -> str:
    """``url`` with ``username:password@`` inserted; both percent-encoded so that ``@``,
    ``:`` or ``/`` in a password cannot break the URL (FFmpeg decodes them)."""
    if not username:
        return url
    parts = urlsplit(url)
    hostport = parts.netloc.rpartition("@")[2]
    userinfo = quote(username, safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    return urlunsplit((parts.scheme, f"{userinfo}@{hostport}", parts.path, parts.query,
                       parts.fragment))
