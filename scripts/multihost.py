"""The multi-host test bed on one machine (issue 23; run as root: `make multihost`).

Network namespaces joined by veth pairs to one bridge make a small LAN, 10.77.0.0/24:

- ``h1`` (10.77.0.1): PostgreSQL, Redis, management, a recorder and a streaming service;
- ``h2``, ``h3`` (10.77.0.2/3): a recorder and a streaming service each;
- ``cams`` (10.77.0.10): the camera simulator, with ONVIF and edge storage (Profile G: a
  recorder that takes a camera over backfills the takeover gap from it);
- the bridge itself (10.77.0.254, in the root namespace): where this script (or a test)
  watches from.

Services reach each other only over these addresses. The recorders share one recordings
directory (one filesystem: they fence with ``flock`` per camera) and spread the cameras by
leases in h1's Redis. Every process is started from the test kit's service table
(``argus_testkit.services``) prefixed with ``ip netns exec <ns>`` (which execs, so the PID is
the service's) and stopped by PID; every namespace, veth and the bridge are removed at the end,
also after an error.

The network is made in multihost_net.py, h1's PostgreSQL in multihost_pg.py, the services
per host in multihost_bed.py (:class:`Bed`, :func:`bed`); this module is the command line and
the names the tests import.

    .venv/bin/python scripts/multihost.py [--cameras 12] [--edge-minutes 3] [--seconds N]
        [--dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from multihost_bed import PORTS, RECORDER, SECRETS, Bed, bed
from multihost_net import CAMS, GATEWAY, HOSTS, Net
from multihost_pg import PG_PORT

__all__ = [
    "CAMS",
    "GATEWAY",
    "HOSTS",
    "PG_PORT",
    "PORTS",
    "RECORDER",
    "SECRETS",
    "Bed",
    "Net",
    "bed",
    "main",
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=12)
    ap.add_argument(
        "--edge-minutes", type=float, default=3.0, help="cameras' edge storage (0: none)"
    )
    ap.add_argument("--seconds", type=float, default=0, help="stop after this long (0: Ctrl-C)")
    ap.add_argument("--dir", type=Path, default=None, help="data directory (default: a temp dir)")
    args = ap.parse_args(argv)
    base = args.dir or Path(tempfile.mkdtemp(prefix="argus-multihost-"))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with bed(base, args.cameras, args.edge_minutes) as b:
            print(b.describe(), flush=True)
            deadline = time.monotonic() + args.seconds if args.seconds else None
            while deadline is None or time.monotonic() < deadline:
                time.sleep(1)
    except KeyboardInterrupt:
        print("stopping", flush=True)
    if args.dir is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
