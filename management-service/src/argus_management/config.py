"""management-service settings (prefix ``MANAGEMENT_`` for its own, shared names unprefixed)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator

from argus_common.keys import Ed25519Keys, KeySource, signer_keys
from argus_common.proxies import parse_trusted
from argus_common.settings import ArgusSettings
from argus_management.alerts.rules import AlertRule


class Settings(ArgusSettings):
    """Settings of management-service; every field documented in ``.env.example``."""

    database_url: str = Field("sqlite+aiosqlite:///./data/argus.db", alias="DATABASE_URL")
    admin_username: str | None = Field(None, alias="ARGUS_ADMIN_USERNAME")
    admin_password: str | None = Field(None, alias="ARGUS_ADMIN_PASSWORD")
    allow_signup: bool = Field(False, alias="ARGUS_ALLOW_SIGNUP")
    data_dir: str = Field("./data", alias="ARGUS_DATA_DIR")
    # Reverse proxies whose X-Forwarded-For / X-Real-IP are believed (proxy.py): comma-
    # separated addresses or CIDRs; empty trusts none (the TCP peer is the client).
    trusted_proxies: str = Field("", alias="ARGUS_TRUSTED_PROXIES")
    # ONVIF service addresses (XAddrs) a device names on another host are followed only when
    # this is on (onvif/device.py); off: they are moved onto the device's own host.
    onvif_allow_foreign_xaddrs: bool = Field(False, alias="MANAGEMENT_ONVIF_ALLOW_FOREIGN_XADDRS")
    # ONVIF events (onvif/event_watch.py): a PullPoint subscription per ONVIF camera, held
    # by one process of all workers and replicas; the camera list is re-read this often.
    onvif_events: bool = Field(True, alias="MANAGEMENT_ONVIF_EVENTS")
    onvif_events_reconcile_s: float = Field(
        5.0, alias="MANAGEMENT_ONVIF_EVENTS_RECONCILE_S", gt=0, le=300
    )
    # PTZ guard tours (guard_tours/runner.py), run by one process; checked this often.
    guard_tours: bool = Field(True, alias="MANAGEMENT_GUARD_TOURS")
    guard_tour_tick_s: float = Field(1.0, alias="MANAGEMENT_GUARD_TOUR_TICK_S", gt=0, le=60)

    # The Ed25519 key access tokens are signed with (PEM; only management holds it): a file
    # (re-read when it changes: key rollover, docs/security.md) or the text.
    jwt_private_key_file: str = Field("", alias="ARGUS_JWT_PRIVATE_KEY_FILE")
    jwt_private_key: str = Field("", alias="ARGUS_JWT_PRIVATE_KEY")

    access_token_ttl_s: int = Field(15 * 60, alias="MANAGEMENT_ACCESS_TOKEN_TTL_S", ge=60)
    refresh_token_ttl_s: int = Field(7 * 24 * 3600, alias="MANAGEMENT_REFRESH_TOKEN_TTL_S")
    # Absolute session lifetime: no refresh extends a login (token family) beyond it.
    session_max_age_s: int = Field(12 * 3600, alias="MANAGEMENT_SESSION_MAX_AGE_S", ge=1)
    reset_token_ttl_s: int = Field(30 * 60, alias="MANAGEMENT_RESET_TOKEN_TTL_S")
    bcrypt_rounds: int = Field(12, alias="MANAGEMENT_BCRYPT_ROUNDS", ge=4, le=16)
    login_max_failures: int = Field(5, alias="MANAGEMENT_LOGIN_MAX_FAILURES", ge=1)
    login_window_s: int = Field(15 * 60, alias="MANAGEMENT_LOGIN_WINDOW_S", ge=1)
    # The longest delay; delays start at login_delay_base_s and double (auth/lockout.py).
    login_lockout_s: int = Field(15 * 60, alias="MANAGEMENT_LOGIN_LOCKOUT_S", ge=1)
    login_delay_base_s: int = Field(30, alias="MANAGEMENT_LOGIN_DELAY_BASE_S", ge=1)
    login_ip_max_failures: int = Field(50, alias="MANAGEMENT_LOGIN_IP_MAX_FAILURES", ge=1)
    smtp_host: str | None = Field(None, alias="MANAGEMENT_SMTP_HOST")
    smtp_port: int = Field(587, alias="MANAGEMENT_SMTP_PORT")
    smtp_username: str | None = Field(None, alias="MANAGEMENT_SMTP_USERNAME")
    smtp_password: str | None = Field(None, alias="MANAGEMENT_SMTP_PASSWORD")
    smtp_from: str = Field("argus@localhost", alias="MANAGEMENT_SMTP_FROM")
    public_url: str = Field("http://127.0.0.1:3000", alias="ARGUS_PUBLIC_URL")
    ws_ping_interval_s: float = Field(30.0, alias="MANAGEMENT_WS_PING_INTERVAL_S", gt=0)
    # WebSocket connections one user may hold at once, across /ws/* and every worker (wslimit.py).
    max_ws_per_user: int = Field(8, alias="MANAGEMENT_MAX_WS_PER_USER", ge=1, le=100_000)
    # Event type -> alert rule (null silences a default); see alerts/rules.py.
    alert_rules: dict[str, AlertRule | None] = Field(
        default_factory=dict, alias="MANAGEMENT_ALERT_RULES"
    )
    max_page_size: int = Field(500, alias="MANAGEMENT_MAX_PAGE_SIZE", ge=1)
    migrate_on_start: bool = Field(True, alias="MANAGEMENT_MIGRATE_ON_START")
    host: str = Field("127.0.0.1", alias="MANAGEMENT_HOST")
    port: int = Field(8001, alias="MANAGEMENT_PORT")
    workers: int = Field(1, alias="MANAGEMENT_WORKERS", ge=1)
    # PTZ (ptz/): lock TTL without renewal, per-user request rate, expiry sweep period.
    ptz_lock_ttl_s: float = Field(30.0, alias="MANAGEMENT_PTZ_LOCK_TTL_S", ge=0.2, le=3600)
    ptz_rate_per_s: int = Field(20, alias="MANAGEMENT_PTZ_RATE_PER_S", ge=1, le=10_000)
    ptz_sweep_s: float = Field(5.0, alias="MANAGEMENT_PTZ_SWEEP_S", gt=0, le=3600)
    # Camera liveness (liveness/): one process checks every camera each interval.
    liveness_enabled: bool = Field(True, alias="MANAGEMENT_LIVENESS_ENABLED")
    liveness_interval_s: float = Field(
        10.0, alias="MANAGEMENT_LIVENESS_INTERVAL_S", ge=0.2, le=3600
    )
    liveness_concurrency: int = Field(100, alias="MANAGEMENT_LIVENESS_CONCURRENCY", ge=1, le=2000)
    liveness_evidence_s: float = Field(60.0, alias="MANAGEMENT_LIVENESS_EVIDENCE_S", ge=0)
    liveness_offline_after: int = Field(2, alias="MANAGEMENT_LIVENESS_OFFLINE_AFTER", ge=1, le=50)
    liveness_alert_window_s: float = Field(
        300.0, alias="MANAGEMENT_LIVENESS_ALERT_WINDOW_S", ge=0
    )
    # Outbound webhook for alerts (notify/webhook.py); unset: none.
    webhook_url: str | None = Field(None, alias="MANAGEMENT_WEBHOOK_URL", pattern=r"^https?://")
    webhook_secret: str | None = Field(None, alias="MANAGEMENT_WEBHOOK_SECRET")
    webhook_queue_size: int = Field(1000, alias="MANAGEMENT_WEBHOOK_QUEUE_SIZE", ge=1)
    webhook_max_attempts: int = Field(5, alias="MANAGEMENT_WEBHOOK_MAX_ATTEMPTS", ge=1, le=20)
    webhook_timeout_s: float = Field(5.0, alias="MANAGEMENT_WEBHOOK_TIMEOUT_S", gt=0, le=60)
    # Analysis (analysis/): /ws/analysis sessions, snapshots, job uploads.
    analysis_max_sessions: int = Field(2, alias="ANALYSIS_MAX_SESSIONS", ge=0, le=1000)
    analysis_ws_ping_interval_s: float = Field(
        30.0, alias="ANALYSIS_WS_PING_INTERVAL_S", gt=0, le=3600
    )
    analysis_snapshot_max_bytes: int = Field(
        2 * 1024 * 1024, alias="ANALYSIS_SNAPSHOT_MAX_BYTES", ge=1024
    )
    analysis_upload_max_bytes: int = Field(
        512 * 1024 * 1024, alias="ANALYSIS_UPLOAD_MAX_BYTES", ge=1024
    )
    # Upload budget (analysis/uploads.py): per user, in total, and the disk kept free.
    upload_user_max_bytes: int = Field(
        2 * 1024**3, alias="MANAGEMENT_UPLOAD_USER_MAX_BYTES", ge=1024
    )
    upload_user_max_files: int = Field(5, alias="MANAGEMENT_UPLOAD_USER_MAX_FILES", ge=1)
    upload_total_max_bytes: int = Field(
        4 * 1024**3, alias="MANAGEMENT_UPLOAD_TOTAL_MAX_BYTES", ge=1024
    )
    upload_min_free_bytes: int = Field(
        2 * 1024**3, alias="MANAGEMENT_UPLOAD_MIN_FREE_BYTES", ge=0
    )
    upload_stale_hours: float = Field(24.0, alias="MANAGEMENT_UPLOAD_STALE_HOURS", gt=0)
    upload_janitor_interval_s: float = Field(
        600.0, alias="MANAGEMENT_UPLOAD_JANITOR_INTERVAL_S", ge=1
    )
    analysis_job_max_range_s: int = Field(
        24 * 3600, alias="ANALYSIS_JOB_MAX_RANGE_S", ge=1
    )
    # RTMP push (rtmp/; the same variables render nginx-rtmp/nginx.conf.template): where the
    # media services reach nginx-rtmp, the address phones are given, and the on_update period.
    rtmp_internal_host: str = Field(
        "127.0.0.1", alias="RTMP_INTERNAL_HOST", pattern=r"^[A-Za-z0-9.:_-]{1,253}$"
    )
    rtmp_port: int = Field(1935, alias="RTMP_PORT", ge=1, le=65535)
    rtmp_public_url: str = Field(
        "rtmp://127.0.0.1:1935", alias="RTMP_PUBLIC_URL", pattern=r"^rtmps?://[^\s?#@]+$"
    )
    rtmp_update_interval_s: int = Field(10, alias="RTMP_UPDATE_INTERVAL_S", ge=1, le=300)
    # Evidence exports (exports/): segments are read from RECORDINGS_DIR (empty: the data
    # dir's recordings/), bundles kept in ARGUS_DATA_DIR/exports for the retention days.
    recordings_dir: str = Field("", alias="RECORDINGS_DIR")
    export_signing_key_file: str = Field("", alias="MANAGEMENT_EXPORT_SIGNING_KEY_FILE")
    export_retention_days: int = Field(
        90, alias="MANAGEMENT_EXPORT_RETENTION_DAYS", ge=1, le=36500
    )
    export_concurrency: int = Field(2, alias="MANAGEMENT_EXPORT_CONCURRENCY", ge=1, le=16)
    export_max_range_s: int = Field(
        24 * 3600, alias="MANAGEMENT_EXPORT_MAX_RANGE_S", ge=60, le=31 * 86400
    )
    export_poll_s: float = Field(2.0, alias="MANAGEMENT_EXPORT_POLL_S", gt=0, le=60)
    # A running job whose heartbeat is older than this is taken over (its process died).
    export_stale_s: float = Field(30.0, alias="MANAGEMENT_EXPORT_STALE_S", ge=1, le=3600)

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        try:
            parse_trusted(value)
        except ValueError as exc:
            raise ValueError(f"ARGUS_TRUSTED_PROXIES: {exc}") from None
        return value

    def recordings_root(self) -> str:
        """Where recording-service writes segments (``RECORDINGS_DIR``)."""
        return self.recordings_dir or f"{self.data_dir.rstrip('/')}/recordings"

    def token_keys(self) -> Ed25519Keys:
        """The signing key and the accepted public keys (fails fast in production when no
        signing key is configured)."""
        return signer_keys(
            self.environment,
            KeySource(self.jwt_private_key or None, self.jwt_private_key_file or None),
            KeySource(self.jwt_public_keys or None, self.jwt_public_keys_file or None),
        )


@lru_cache
def get_settings() -> Settings:
    """Settings read once from the environment (and ``.env``)."""
    return Settings()
