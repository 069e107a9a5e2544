"""streaming-service settings (prefix ``STREAMING_`` for its own, shared names unprefixed)."""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from argus_common.settings import ArgusSettings


class Settings(ArgusSettings):
    """Settings of streaming-service; every field is documented in ``.env.example``."""

    service_name: ClassVar[str | None] = "streaming"  # its credential: ARGUS_SERVICE_KEY

    host: str = Field("127.0.0.1", alias="STREAMING_HOST")
    port: int = Field(8080, alias="STREAMING_PORT", ge=1, le=65535)
    management_url: str = Field("http://127.0.0.1:8001", alias="MANAGEMENT_URL")
    recordings_dir: str = Field("./data/recordings", alias="RECORDINGS_DIR")

    # Live sources: one RTSP pull per camera and stream, kept this long after the last viewer.
    source_linger_s: float = Field(30.0, alias="STREAMING_SOURCE_LINGER_S", ge=0)
    # Per-viewer queue of video access units; a full queue drops and resyncs at a keyframe.
    viewer_queue_frames: int = Field(30, alias="STREAMING_VIEWER_QUEUE_FRAMES", ge=2, le=600)
    # What a late viewer gets first: "gop" replays the cached GOP, "keyframe" waits for the
    # next one (see README: replay is faster to first frame, at no cost to latency).
    late_join: Literal["gop", "keyframe"] = Field("gop", alias="STREAMING_LATE_JOIN")
    max_viewers_per_camera: int = Field(100, alias="STREAMING_MAX_VIEWERS_PER_CAMERA", ge=1)
    # Ceiling on the connect timeout of a camera (the camera's own setting applies below it).
    rtsp_connect_timeout_s: float = Field(10.0, alias="STREAMING_RTSP_CONNECT_TIMEOUT_S", gt=0)

    # WebRTC / ICE. Host candidates only unless STUN/TURN are set.
    ice_addresses: str = Field("", alias="STREAMING_ICE_ADDRESSES",
                               description="comma-separated local IPs to offer; empty = all")
    stun_urls: str = Field("", alias="STREAMING_STUN_URLS")
    turn_url: str = Field("", alias="STREAMING_TURN_URL")
    turn_username: str = Field("", alias="STREAMING_TURN_USERNAME")
    turn_password: str = Field("", alias="STREAMING_TURN_PASSWORD")
    public_ip: str = Field("", alias="STREAMING_PUBLIC_IP")
    whep_connect_timeout_s: float = Field(20.0, alias="STREAMING_WHEP_CONNECT_TIMEOUT_S", gt=0)
    # Live video carries the playout-delay hint (minimum 0, maximum this, 10 ms steps) when
    # the browser offers it: 0 shows each frame once decoded; -1 sends no hint (the
    # browser's adaptive jitter buffer decides).
    playout_delay_max_ms: int = Field(0, alias="STREAMING_PLAYOUT_DELAY_MAX_MS", ge=-1,
                                      le=40950)
    # UDP ports of ICE host candidates, so Compose can publish them; both 0 = ephemeral ports.
    ice_port_min: int = Field(0, alias="STREAMING_ICE_PORT_MIN", ge=0, le=65535)
    ice_port_max: int = Field(0, alias="STREAMING_ICE_PORT_MAX", ge=0, le=65535)

    # HLS live sessions.
    hls_dir: str = Field("", alias="STREAMING_HLS_DIR", description="empty = a temp dir")
    hls_session_ttl_s: float = Field(300.0, alias="STREAMING_HLS_SESSION_TTL_S", gt=0)
    hls_idle_s: float = Field(120.0, alias="STREAMING_HLS_IDLE_S", gt=0)
    hls_segment_s: float = Field(1.0, alias="STREAMING_HLS_SEGMENT_S", gt=0)
    # LL-HLS partial segment target (PART-TARGET); PART-HOLD-BACK is three times it.
    hls_part_s: float = Field(0.2, alias="STREAMING_HLS_PART_S", ge=0.05, le=1.0)
    hls_list_size: int = Field(6, alias="STREAMING_HLS_LIST_SIZE", ge=2)
    hls_sweep_s: float = Field(5.0, alias="STREAMING_HLS_SWEEP_S", gt=0)
    # Media tickets (the ``token`` of HLS and VOD URLs): opaque, bound to the user's access
    # token and to one HLS session or VOD time range, dropped when unused this long (every
    # request renews it) and on revocation.
    media_token_ttl_s: int = Field(120, alias="STREAMING_MEDIA_TOKEN_TTL_S", ge=1, le=3600)

    # Browser origins allowed to call this service (the console); comma-separated.
    cors_origins: str = Field("http://127.0.0.1:3000,http://localhost:3000",
                              alias="STREAMING_CORS_ORIGINS")

    # WHEP (live and playback) sessions plus HLS and VOD tickets one user may hold (429
    # beyond): a viewer cannot take a camera's viewer limit or the ICE ports alone. A
    # 16-camera grid and a playback window fit.
    max_sessions_per_user: int = Field(20, alias="STREAMING_MAX_SESSIONS_PER_USER", ge=1)
    # Open sessions are re-checked with management on every ``argus:authz`` message and,
    # in case one was missed, this often.
    authz_recheck_s: float = Field(30.0, alias="STREAMING_AUTHZ_RECHECK_S", gt=0)

    # Reverse proxies (the console's nginx) whose X-Forwarded-For names the viewer: the
    # audit log records the viewer's address, not the proxy's. Empty trusts none.
    trusted_proxies: str = Field("", alias="ARGUS_TRUSTED_PROXIES")

    # Access checks against management are cached this long per (token, camera).
    access_cache_s: float = Field(5.0, alias="STREAMING_ACCESS_CACHE_S", ge=0)

    @model_validator(mode="after")
    def _check_ice_ports(self) -> Self:
        low, high = self.ice_port_min, self.ice_port_max
        if (low == 0) != (high == 0):
            raise ValueError("set both STREAMING_ICE_PORT_MIN and STREAMING_ICE_PORT_MAX "
                             "(a UDP port range for WebRTC), or neither")
        if low > high:
            raise ValueError(f"STREAMING_ICE_PORT_MIN ({low}) is above "
                             f"STREAMING_ICE_PORT_MAX ({high})")
        return self

    def ice_port_range(self) -> tuple[int, int] | None:
        """The UDP ports ICE host candidates bind to (None: ephemeral ports)."""
        return (self.ice_port_min, self.ice_port_max) if self.ice_port_min else None

    def ice_address_list(self) -> list[str]:
        """The local addresses ICE may use (empty: every interface but loopback)."""
        return [a.strip() for a in self.ice_addresses.split(",") if a.strip()]


@lru_cache
def get_settings() -> Settings:
    """Settings read once from the environment (and ``.env``)."""
    return Settings()
