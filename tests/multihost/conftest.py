"""The multi-host bed's tests (issue 23): root only, run by `make multihost-check`. Marked
``chaos`` too, so the root pytest options (``-m "not chaos"``) leave them out of `make test`.

One bed (12 cameras with edge storage over 3 recorder hosts) serves every test of the
session: starting it is most of the run time."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from multihost import Bed, bed

CAMERAS = 12
# The cameras' edge storage; 0 (ARGUS_MULTIHOST_EDGE_MINUTES=0) measures the loss without it.
EDGE_MINUTES = float(os.environ.get("ARGUS_MULTIHOST_EDGE_MINUTES", "3"))


@pytest.fixture(scope="session")
def mh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    """The bed, up for the whole session; everything stopped and removed after."""
    if os.geteuid() != 0:
        pytest.fail("the multi-host bed needs root (network namespaces): run as root")
    with bed(tmp_path_factory.mktemp("multihost"), CAMERAS, EDGE_MINUTES) as b:
        yield b
