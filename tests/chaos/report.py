"""Print the fault table from the rows the chaos tests wrote (``ARGUS_CHAOS_REPORT``).

    python tests/chaos/report.py chaos-report.jsonl [--markdown]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = ("fault", "what a user sees", "video lost (s)", "segments lost",
           "index rows missing", "time to resume (s)", "indexed after (s)", "alerts raised")


def rows(path: Path) -> list[list[str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        alerts = ", ".join(f"{k} x{v}" for k, v in sorted(r["alerts"].items())) or "none"
        fault = r["fault"] + (f" ({r['note']})" if r.get("note") else "")
        out.append([fault, r["user_sees"], f"{r['video_lost_s']:g}", str(r["segments_lost"]),
                    str(r["rows_missing"]), f"{r['resume_s']:g}", f"{r['indexed_after_s']:g}",
                    alerts])
    return out


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    path = Path(argv[0])
    if not path.exists():
        print(f"no results in {path}: no chaos test ran")
        return 1
    table = rows(path)
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    print(f"chaos results {first['date']} on {first['machine']}")
    if "--markdown" in argv:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|" + "---|" * len(COLUMNS))
        for row in table:
            print("| " + " | ".join(c.replace("|", "/") for c in row) + " |")
        return 0
    widths = [min(48, max(len(c), *(len(r[i]) for r in table))) for i, c in enumerate(COLUMNS)]
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    for row in table:
        print("  ".join(c[:w].ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
