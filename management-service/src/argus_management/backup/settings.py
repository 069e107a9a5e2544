"""``MANAGEMENT_BACKUP_*``: when backups run, how long they are kept, where they go."""

from __future__ import annotations

from datetime import time

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BackupSettings(BaseSettings):
    """Backup schedule and retention (the destination is the object store when
    ``ARGUS_S3_BUCKET`` is set, else ``dir``)."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    enabled: bool = Field(True, alias="MANAGEMENT_BACKUP_ENABLED")
    # The daily backup's time of day, UTC.
    at: time = Field(time(2, 0), alias="MANAGEMENT_BACKUP_AT")
    keep_days: float = Field(7.0, alias="MANAGEMENT_BACKUP_KEEP_DAYS", gt=0, le=3650)
    # Local destination (no object store) and the status files (last backup, last drill).
    dir: str = Field("", alias="MANAGEMENT_BACKUP_DIR")
    # PostgreSQL PITR: a pgBackRest configuration that reaches the repository; when set, the
    # newest base backup is sampled for the metrics with the WAL archive's progress (which
    # is sampled on every PostgreSQL site).
    pgbackrest_conf: str = Field("", alias="MANAGEMENT_PGBACKREST_CONF")
    # ... or the JSON of `pgbackrest info --output=json` that the backup side rewrites
    # (docker-compose.pitr.yml's db-backup service), for a management without pgBackRest.
    pgbackrest_info_file: str = Field("", alias="MANAGEMENT_PGBACKREST_INFO_FILE")
    pgbackrest_stanza: str = Field("argus", alias="MANAGEMENT_PGBACKREST_STANZA")
    pitr_sample_every_s: float = Field(60.0, alias="MANAGEMENT_PITR_SAMPLE_EVERY_S", ge=5)

    def backup_dir(self, data_dir: str) -> str:
        return self.dir or f"{data_dir.rstrip('/')}/backups"
