"""Fixtures of the chaos suite: one stack per test (its own Redis, which the test may stop;
management on a scratch database of the session's PostgreSQL, or on a throwaway cluster of
its own for the PostgreSQL faults)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import ChaosStack

from argus_testkit import stack as kit
from argus_testkit.provision import Servers, provision


@pytest.fixture
def chaos_stack(tmp_path: Path) -> Iterator[ChaosStack]:
    db = kit.Database("argus_chaos").create(migrate=True)
    stack = ChaosStack(tmp_path, db.url, db)
    try:
        yield stack
    finally:
        stack.stop()
        db.drop()


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[Servers]:
    """A PostgreSQL cluster of the test's own (stopping it touches nobody else)."""
    servers = provision({"PATH": "/usr/local/bin:/usr/bin:/bin",
                         "ARGUS_TEST_REDIS_URL": "redis://unused:1/0"})
    try:
        yield servers
    finally:
        servers.stop()
