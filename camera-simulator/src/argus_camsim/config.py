"""Settings of a simulator run (filled from the command line)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROFILES = ("baseline", "main", "high")
AUTH_MODES = ("none", "basic", "digest", "both")
SOURCES = ("live", "loop")


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"WxH"`` into (width, height); both must be even and at least 16."""
    try:
        w_text, h_text = text.lower().split("x", 1)
        width, height = int(w_text), int(h_text)
    except ValueError as exc:
        raise ValueError(f"resolution must look like 1280x720, got {text!r}") from exc
    if width < 16 or height < 16 or width % 2 or height % 2 or width > 7680 or height > 4320:
        raise ValueError(f"resolution {text!r} must be even, between 16x16 and 7680x4320")
    return width, height


def auto_bitrate(width: int, height: int, fps: int) -> int:
    """A typical IP-camera bitrate for a picture size: about 4 Mbit/s at 1080p30."""
    return max(256_000, int(width * height * fps * 0.065))


@dataclass
class EncodeSettings:
    """How one stream (main or sub) of every camera is encoded."""

    fps: int = 30
    bitrate: int | None = None  # bits/s; None = auto from the picture size
    gop_s: float = 1.0
    profile: str = "main"
    bframes: int = 0

    def bitrate_for(self, width: int, height: int) -> int:
        """Bitrate to use at a given picture size."""
        return self.bitrate if self.bitrate else auto_bitrate(width, height, self.fps)

    @property
    def gop_frames(self) -> int:
        """Keyframe interval in frames."""
        return max(1, round(self.gop_s * self.fps))


def default_cache_dir() -> Path:
    """Where generated loop files are kept between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "argus-camsim"


@dataclass
class SimConfig:
    """Everything a simulator run needs to know."""

    cameras: int = 1
    host: str = "127.0.0.1"
    public_host: str | None = None
    rtsp_port: int = 8554
    onvif_port: int = 8100
    onvif: bool = True
    discovery: bool = False
    discovery_host: str | None = None  # None = the same as host
    discovery_port: int = 3702
    control_port: int = 8099
    auth: str = "none"
    username: str = "admin"
    password: str = "admin"  # noqa: S105 - documented default of a test device
    digest_qop: bool = True
    digest_algorithm: str = "MD5"  # "MD5-sess": a camera quirk some clients get wrong
    width: int = 1280
    height: int = 720
    sub_width: int = 640
    sub_height: int = 360
    main: EncodeSettings = field(default_factory=EncodeSettings)
    sub: EncodeSettings = field(default_factory=EncodeSettings)
    audio: bool = False  # every camera gets audio_codec
    audio_codec: str = "aac"
    camera_audio: dict[int, str] = field(default_factory=dict)  # index -> codec or "none"
    source: str = "live"
    loop_file: Path | None = None
    loop_file_sub: Path | None = None
    loop_seconds: float = 4.0
    cache_dir: Path = field(default_factory=default_cache_dir)
    motion: bool = False
    edge_minutes: float = 0.0  # >0: each camera keeps this much on its own storage
    objects: bool = False  # every camera starts with the demo's person and car
    session_timeout: float = 60.0
    linger_s: float = 10.0
    client_buffer_bytes: int | None = None  # per-client send backlog; None = ~1 s of video
    slow_drop_s: float = 10.0  # a client backed up this long is disconnected
    name_prefix: str = "Camera"
    faults: list[str] = field(default_factory=list)
    quirks: list[str] = field(default_factory=list)  # "cam2:slow" (onvif/quirks.py)
    log_level: str = "INFO"

    def audio_codec_of(self, index: int) -> str | None:
        """The audio codec of camera ``index`` (None: no audio; loop sources have none)."""
        codec = self.camera_audio.get(index, self.audio_codec if self.audio else "none")
        return None if codec == "none" or self.source != "live" else codec

    def advertised_host(self) -> str:
        """Host name to put into URLs handed out (RTSP URLs in /cameras)."""
        if self.public_host:
            return self.public_host
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
