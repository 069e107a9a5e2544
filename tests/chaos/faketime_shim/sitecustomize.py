"""Loaded (``PYTHONPATH``) only by processes the clock-step test runs under libfaketime.

libfaketime 0.9.10's ``clock_nanosleep`` wrapper turns an absolute monotonic deadline into
a negative one when the monotonic clock is not faked (``FAKETIME_DONT_FAKE_MONOTONIC``,
libfaketime issue #426), and Python 3.11's ``time.sleep`` sleeps exactly that way, so every
``time.sleep`` in a faked process raised ``EINVAL``. This replaces ``time.sleep`` with a
``select`` timeout (a relative one, which libfaketime passes through unchanged when only
the offset is faked). Not a fake of anything ARGUS does: a workaround for the fault
injector's own bug, so the faked processes run their real code.
"""

from __future__ import annotations

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:  # bounded by the deadline
        select.select([], [], [], left)


time.sleep = _sleep
