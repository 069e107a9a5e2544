"""The multi-host bed's tests (issue 23): root only, run by `make multihost-check`. Marked
``chaos`` too, so the root pytest options (``-m "not chaos"``) leave them out of `make test`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
