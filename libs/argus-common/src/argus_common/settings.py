"""Settings base shared by every service (pydantic-settings)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - the known default refused outside development
DEV_INTERNAL_KEY = "dev-insecure-internal-key"


class ArgusSettings(BaseSettings):
    """Settings every service reads. Subclasses add their own with an env prefix.

    The shared variables (``SECRET_KEY``, ``INTERNAL_API_KEY``, ``REDIS_URL`` …) carry no
    prefix because every service must agree on them.
    """

    # Empty variables (as copied from .env.example) count as unset: the default applies.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    environment: Literal["development", "test", "production"] = Field(
        "development", alias="ARGUS_ENV"
    )
    secret_key: str = Field(DEV_SECRET, alias="SECRET_KEY", min_length=16)
    internal_api_key: str = Field(DEV_INTERNAL_KEY, alias="INTERNAL_API_KEY", min_length=16)
    redis_url: str = Field("redis://127.0.0.1:6379/0", alias="REDIS_URL")
    redis_namespace: str = Field("argus", alias="ARGUS_REDIS_NAMESPACE", pattern=r"^[a-z0-9_-]+$")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    jwt_issuer: str = Field("argus", alias="JWT_ISSUER")
    jwt_audience: str = Field("argus-api", alias="JWT_AUDIENCE")

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Self:
        if self.environment == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError("SECRET_KEY must be set to a random value of 32+ characters")
            if self.internal_api_key == DEV_INTERNAL_KEY or len(self.internal_api_key) < 32:
                raise ValueError("INTERNAL_API_KEY must be set to a random value of 32+ characters")
        return self
