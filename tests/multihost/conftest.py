"""The multi-host bed's tests (issue 23): root only, run by `make multihost-check`. Marked
``chaos`` too, so the root pytest options (``-m "not chaos"``) leave them out of `make test`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "multihost: a test in the network-namespace bed (scripts/multihost.py), "
        "run by `make multihost-check` (root; excluded from `make test`)",
    )
    config.addinivalue_line("markers", "chaos: excluded from `make test` (tests/chaos)")
