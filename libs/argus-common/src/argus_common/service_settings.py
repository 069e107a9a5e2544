"""Settings every scaled-out media service (recording, analysis) has. Each service names
the per-instance ones with its own prefix (``RECORDING_BACKOFF_S``, ``ANALYSIS_BACKOFF_S``)
by redeclaring them with its alias and default; the shared ones carry no prefix."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from argus_common.retry import parse_backoff
from argus_common.settings import ArgusSettings


def default_instance_id() -> str:
    """Unique per process: two instances on one host must never share leases."""
    return f"{socket.gethostname()}-{os.getpid()}"[:64]


def _valid_backoff(value: str) -> str:
    parse_backoff(value)  # raises ValueError with the allowed range
    return value


# ``"1,2,5,10"``: reconnect delays in seconds, each in (0, 300], the last one repeating.
BackoffSpec = Annotated[str, AfterValidator(_valid_backoff)]
InstanceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class MediaServiceSettings(ArgusSettings):
    """The base of a media service's ``Settings``."""

    management_url: str = Field("http://127.0.0.1:8001", alias="MANAGEMENT_URL")
    recordings_dir: Path = Field(Path("./data/recordings"), alias="RECORDINGS_DIR")
    # Redeclared by each service with its prefixed alias and its default.
    instance_id: InstanceId = Field(default_factory=default_instance_id)
    backoff: BackoffSpec = "1,2,5,10"

    @property
    def backoff_steps(self) -> list[float]:
        """Reconnect delays in seconds; the last one repeats."""
        return parse_backoff(self.backoff)
