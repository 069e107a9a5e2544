"""``ARGUS_S3_*``: where recordings are tiered to and read from (shared by every service)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_LAYOUT = r"^[A-Za-z0-9._/-]*$"
_BUCKET = r"^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$"


class ObjectStoreSettings(BaseSettings):
    """An S3 endpoint and bucket. Off when ``ARGUS_S3_BUCKET`` is empty.

    ``ARGUS_S3_ENDPOINT_URL`` empty means AWS S3 itself (the region's endpoint); the secret
    comes from ``ARGUS_S3_SECRET_ACCESS_KEY`` or, better, ``ARGUS_S3_SECRET_ACCESS_KEY_FILE``.
    """

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    endpoint_url: str = Field("", alias="ARGUS_S3_ENDPOINT_URL", max_length=2048)
    region: str = Field("us-east-1", alias="ARGUS_S3_REGION", pattern=r"^[a-z0-9-]{1,64}$")
    bucket: str = Field("", alias="ARGUS_S3_BUCKET", pattern=_BUCKET)
    prefix: str = Field("", alias="ARGUS_S3_PREFIX", max_length=256, pattern=_LAYOUT)
    access_key_id: str = Field("", alias="ARGUS_S3_ACCESS_KEY_ID", max_length=256)
    secret_access_key: str = Field("", alias="ARGUS_S3_SECRET_ACCESS_KEY", repr=False)
    secret_access_key_file: str = Field("", alias="ARGUS_S3_SECRET_ACCESS_KEY_FILE")
    path_style: bool = Field(True, alias="ARGUS_S3_PATH_STYLE")
    # Ranged GETs of this size, this many at once, fill the read-through cache.
    part_bytes: int = Field(8 * 2**20, alias="ARGUS_S3_PART_BYTES", ge=2**20, le=2**30)
    concurrency: int = Field(4, alias="ARGUS_S3_CONCURRENCY", ge=1, le=64)
    # Files larger than this are uploaded in parts (multipart upload, ``concurrency`` parts
    # at once, each of max(part_bytes, 5 MiB)); smaller ones in one PUT.
    multipart_bytes: int = Field(
        64 * 2**20, alias="ARGUS_S3_MULTIPART_BYTES", ge=5 * 2**20, le=5 * 2**30
    )
    timeout_s: float = Field(30.0, alias="ARGUS_S3_TIMEOUT_S", gt=0, le=600)
    # The read-through cache of objects being played or exported (local disk).
    cache_dir: Path = Field(Path("./data/s3-cache"), alias="ARGUS_S3_CACHE_DIR")
    cache_bytes: int = Field(2 * 2**30, alias="ARGUS_S3_CACHE_BYTES", ge=2**20)

    @property
    def enabled(self) -> bool:
        """Whether an object store is configured."""
        return bool(self.bucket)

    def secret(self) -> str:
        """The secret access key (from the file when one is named). Never log it."""
        if self.secret_access_key_file:
            return Path(self.secret_access_key_file).read_text().strip()
        return self.secret_access_key


def object_key(prefix: str, path: str) -> str:
    """The object key of a segment: the store's prefix, then the recording's own path
    (``<camera>/<day>/<hour>/<ms>.mp4``), so a listing per camera is a prefix listing."""
    return f"{prefix.strip('/')}/{path}" if prefix.strip("/") else path
