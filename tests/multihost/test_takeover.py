"""12 cameras over 3 recorder hosts in the namespace bed (the session's bed, conftest.py).

- A failed host (link cut and recorder killed): its cameras are recorded by the others.
- A cut-off host (link cut, recorder alive): it rides out the loss of Redis, but its
  cameras send it nothing either, so it lets them go after ``RECORDING_SELF_FENCE_S`` (3 x
  the 6 s TTL here) and the others take them over; when its link returns it writes into
  none of them until the rebalance hands some back.

Either way the host comes back, the fair share comes back, and no camera is recorded twice
into one time range (overlaps in the index). The new owner backfills the takeover gap from
the camera's edge storage (ONVIF Profile G). Prints the takeover time, the video lost per
moved camera with live segments only and after the backfill, and the load average; only
bounded waits, no timing assertions."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mhtools import backfills_idle, covered, loss_report, rows, shares, wait_for
from multihost import HOSTS, Bed

pytestmark = [pytest.mark.multihost, pytest.mark.chaos, pytest.mark.timeout(600)]
ALL = list(HOSTS)


def _fair(b: Bed) -> int:
    return len(b.cameras) // len(ALL)


def _cycle(b: Bed, victim: str, kill: bool) -> dict[str, Any]:
    """Cut ``victim`` off (and kill its recorder when ``kill``), wait for the takeover,
    restore, wait for the rebalance; returns the figures."""
    cams = set(b.cameras.values())
    wait_for(lambda: covered(b, ALL, _fair(b)), 180, "12 cameras, a fair share each", b)
    # The last moves of the start-up rebalance stay out of the measured window (it starts
    # 5 s before the cut): they once showed up as loss on cameras that did not move.
    time.sleep(6)
    wait_for(lambda: covered(b, ALL, _fair(b)), 60, "a fair share each, settled", b)
    before = shares(b, ALL)
    moved = before[victim]
    print(f"\nshares before: { {h: sorted(s) for h, s in before.items()} }")
    recorder = b.procs[f"{victim}-recording"]

    t_cut = time.time()
    b.net.link(victim, up=False)
    if kill:
        recorder.kill()
    survivors = [h for h in ALL if h != victim]
    t_taken = wait_for(
        lambda: covered(b, survivors, 1), 90, f"{victim}'s cameras recorded by {survivors}", b
    )
    if not kill:
        assert recorder.alive, f"{victim}'s recorder exited while cut off"
    time.sleep(8)  # the new owners record a while

    shares_at_restore = shares(b, survivors)
    t_restore = time.time()
    b.net.link(victim, up=True)
    if kill:
        b.start_recorder(victim)
    t_back = wait_for(lambda: covered(b, ALL, _fair(b)), 120, "a fair share back on each host", b)
    after = shares(b, ALL)
    print(f"shares after: { {h: sorted(s) for h, s in after.items()} }")
    # Everything written so far indexed (the cut-off host's last segments arrive from its
    # outbox once its link is back), and the takeover gaps backfilled from the cameras.
    wait_for(
        lambda: all(r and r[-1].start > t_back + 2 for r in (rows(b, c) for c in cams)),
        90,
        "segments after the rebalance indexed",
        b,
    )
    wait_for(lambda: backfills_idle(b, ALL), 120, "the takeover gaps backfilled", b)
    # The takeover (cut to restore) and the rebalance (restore on) apart: cameras handed
    # back when the host returns lose a little again (see docs/scaling.md).
    taking = loss_report(b, cams, t_cut - 5, t_restore)
    handing = loss_report(b, cams, t_restore)
    handed = {c for h, s in after.items() for c in s if c not in shares_at_restore.get(h, set())}
    report = {
        "case": "killed" if kill else "cut_off",
        "victim": victim,
        "takeover_s": round(t_taken - t_cut, 1),
        "rebalance_s": round(t_back - t_restore, 1),
        "moved_cameras": sorted(moved),
        "takeover_lost_live_only_s": _pick(taking["lost_live_only_s"], moved),
        "takeover_lost_after_backfill_s": _pick(taking["lost_after_backfill_s"], moved),
        "handed_back_cameras": sorted(handed),
        "rebalance_lost_after_backfill_s": _pick(handing["lost_after_backfill_s"], handed),
        # Make-before-break handovers: 0 (the new owner starts where the old one ended).
        "rebalance_worst_seam_ms": _pick(handing["worst_seam_ms"], handed),
        "handed_over_make_before_break": _handovers(b, t_restore),
        "unmoved_lost_s": _pick(
            loss_report(b, cams, t_cut - 5)["lost_after_backfill_s"], cams - moved - handed
        ),
        "overlaps": {**taking["overlaps"], **handing["overlaps"]},
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print("multihost report:", json.dumps(report))
    out = os.environ.get("ARGUS_MULTIHOST_REPORT")
    if out:
        with Path(out).open("a") as f:
            f.write(json.dumps(report) + "\n")
    return report


def _handovers(b: Bed, since: float) -> list[int]:
    """Cameras taken make-before-break (a recorder's ``camera_taken`` with ``handover``)."""
    start = datetime.fromtimestamp(since, UTC).isoformat()[:19]
    found = []
    for host in ALL:
        for line in b.procs[f"{host}-recording"].output:
            if '"camera_taken"' not in line or '"handover": true' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if str(entry.get("timestamp", ""))[:19] >= start:
                found.append(int(entry["camera_id"]))
    return sorted(found)


def _pick(values: dict[str, float], cams: set[int]) -> dict[int, float]:
    return {c: values[str(c)] for c in sorted(cams)}


def test_failed_host_takeover_and_rebalance(mh: Bed) -> None:
    report = _cycle(mh, "h2", kill=True)
    assert not report["overlaps"], f"a camera recorded twice into one time range: {report}"


def test_cut_off_host_lets_its_cameras_go_and_comes_back_clean(mh: Bed) -> None:
    victim = "h3"
    log = mh.procs[f"{victim}-recording"]
    report = _cycle(mh, victim, kill=False)
    assert not report["overlaps"], f"a camera recorded twice into one time range: {report}"
    fenced = [line for line in log.output if '"self_fenced"' in line]
    assert fenced, f"{victim}'s recorder logged no self_fenced"
