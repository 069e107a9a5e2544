"""Fixtures of the streaming-service tests (defined in ``streaming_support``)."""

from playback_support import store  # noqa: F401 - fixtures are found by name
from streaming_support import (  # noqa: F401 - fixtures are found by name
    camsim,
    client,
    database_url,
    management_url,
    redis_namespace,
    world,
)
