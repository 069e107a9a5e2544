"""Write management's and streaming's OpenAPI schemas for the console's generated types.

Run from the repository root with the workspace venv:
    .venv/bin/python web-frontend/scripts/dump_openapi.py [--check]
``--check`` compares with the committed files and exits 1 when they differ (CI: a backend
change that alters the API must regenerate the console's types in the same commit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "src" / "api" / "generated"


def schemas() -> dict[str, dict[str, Any]]:
    """Both services' schemas, built from their app factories (no server started)."""
    from argus_management.main import create_app as management
    from argus_streaming.main import create_app as streaming

    return {"management": management().openapi(), "streaming": streaming().openapi()}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, schema in schemas().items():
        path = OUT / f"{name}.openapi.json"
        text = json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        sys.stderr.write(f"stale OpenAPI dumps: {', '.join(stale)}; run "
                         "`.venv/bin/python web-frontend/scripts/dump_openapi.py` and "
                         "`npm run gen:api` in web-frontend\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
