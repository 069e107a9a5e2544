"""Settings base shared by every service (pydantic-settings)."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from argus_common.addresses import Network, parse_networks
from argus_common.keys import Ed25519Keys, KeySource, verifier_keys
from argus_common.service_keys import derive_service_key

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - the known default refused outside development
DEV_INTERNAL_KEY = "dev-insecure-internal-key"


class ArgusSettings(BaseSettings):
    """Settings every service reads. Subclasses add their own with an env prefix.

    The shared variables (``REDIS_URL``, ``ARGUS_JWT_PUBLIC_KEYS_FILE`` …) carry no prefix
    because every service must agree on them. ``SECRET_KEY`` and the master
    ``INTERNAL_API_KEY`` are management's alone; a media service names itself in
    ``service_name`` and calls management with its own ``ARGUS_SERVICE_KEY``.
    """

    # None: management (holds the master key); else the name in the service's credential.
    service_name: ClassVar[str | None] = None

    # Empty variables (as copied from .env.example) count as unset: the default applies.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    environment: Literal["development", "test", "production"] = Field(
        "development", alias="ARGUS_ENV"
    )
    secret_key: str = Field(DEV_SECRET, alias="SECRET_KEY", min_length=16)
    internal_api_key: str = Field(DEV_INTERNAL_KEY, alias="INTERNAL_API_KEY", min_length=16)
    # This service's credential for management's internal API (``<service>.<key>``,
    # argus_common.service_keys); required in production for media services.
    service_key: str = Field("", alias="ARGUS_SERVICE_KEY", max_length=128)
    # Public keys (PEM) of access tokens: a file (re-read when it changes) or the text.
    jwt_public_keys_file: str = Field("", alias="ARGUS_JWT_PUBLIC_KEYS_FILE")
    jwt_public_keys: str = Field("", alias="ARGUS_JWT_PUBLIC_KEYS")
    redis_url: str = Field("redis://127.0.0.1:6379/0", alias="REDIS_URL")
    # TLS to Redis: a rediss:// REDIS_URL is verified against this CA bundle (the system's
    # CAs when empty) and the URL's host name; a client certificate when Redis asks for one
    # (its tls-auth-clients). argus_common.bus.redis_client builds every service's client.
    redis_tls_ca_file: str = Field("", alias="REDIS_TLS_CA_FILE")
    redis_tls_cert_file: str = Field("", alias="REDIS_TLS_CERT_FILE")
    redis_tls_key_file: str = Field("", alias="REDIS_TLS_KEY_FILE")
    redis_namespace: str = Field("argus", alias="ARGUS_REDIS_NAMESPACE", pattern=r"^[a-z0-9_-]+$")
    # Where cameras may be (comma-separated CIDRs; empty: anywhere but the forbidden ranges
    # of argus_common.addresses). Management checks hosts against it when they are saved;
    # every service checks again, and pins, when it connects to a camera.
    camera_allowed_networks: str = Field("", alias="CAMERA_ALLOWED_NETWORKS")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    jwt_issuer: str = Field("argus", alias="JWT_ISSUER")
    jwt_audience: str = Field("argus-api", alias="JWT_AUDIENCE")

    @model_validator(mode="after")
    def _refuse_tls_files_without_tls(self) -> Self:
        tls_files = self.redis_tls_ca_file or self.redis_tls_cert_file or self.redis_tls_key_file
        if tls_files and not self.redis_url.lower().startswith("rediss://"):
            raise ValueError("REDIS_TLS_* files are set but REDIS_URL is not rediss:// "
                             "(the connection would not use TLS)")
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Self:
        if self.environment == "production" and self.service_name is not None:
            if not self.service_key:
                raise ValueError(f"ARGUS_SERVICE_KEY must be set ({self.service_name}'s "
                                 "credential: python -m argus_common.service_keys)")
        elif self.environment == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError("SECRET_KEY must be set to a random value of 32+ characters")
            if self.internal_api_key == DEV_INTERNAL_KEY or len(self.internal_api_key) < 32:
                raise ValueError("INTERNAL_API_KEY must be set to a random value of 32+ characters")
        return self

    @model_validator(mode="after")
    def _check_camera_networks(self) -> Self:
        try:
            parse_networks(self.camera_allowed_networks)
        except ValueError as exc:
            raise ValueError(f"CAMERA_ALLOWED_NETWORKS: {exc}") from None
        return self

    def camera_networks(self) -> list[Network] | None:
        """``CAMERA_ALLOWED_NETWORKS`` parsed (None: no restriction)."""
        return parse_networks(self.camera_allowed_networks) or None

    def service_credential(self) -> str:
        """What this service sends in ``X-Internal-Api-Key``: ``ARGUS_SERVICE_KEY``, or in
        development and tests, when that is unset, its credential derived from the master
        ``INTERNAL_API_KEY`` (production refuses to start without ``ARGUS_SERVICE_KEY``)."""
        if self.service_key:
            return self.service_key
        if self.service_name is None:
            raise RuntimeError("management has no service credential of its own")
        return derive_service_key(self.internal_api_key, self.service_name)

    def public_token_keys(self) -> Ed25519Keys:
        """The access-token public keys this service accepts (fails fast in production when
        none are configured)."""
        return verifier_keys(self.environment, KeySource(
            self.jwt_public_keys or None, self.jwt_public_keys_file or None))
