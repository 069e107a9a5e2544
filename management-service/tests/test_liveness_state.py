"""The liveness state machine: hysteresis (offline after N failures, online after one
success) and the per-camera alert window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from argus_management.liveness.actions import AlertWindow
from argus_management.liveness.state import CameraLiveness, Transition, coerce_status

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _feed(state: CameraLiveness, results: str, offline_after: int = 2) -> list[str]:
    """Feed ``results`` ('+' success, '-' failure); the statuses after each check."""
    out = []
    for r in results:
        state.observe(r == "+", offline_after, NOW)
        out.append(state.status)
    return out


def test_one_failure_changes_nothing() -> None:
    state = CameraLiveness(1, "online")
    assert state.observe(False, 2, NOW) is None
    assert state.status == "online" and state.failures == 1


def test_offline_after_two_failures_and_online_after_one_success() -> None:
    state = CameraLiveness(1, "online")
    assert state.observe(False, 2, NOW) is None
    assert state.observe(False, 2, NOW) == Transition(1, "online", "offline")
    assert state.offline_since == NOW
    assert state.observe(False, 2, NOW) is None  # already offline: no repeat
    assert state.observe(True, 2, NOW) == Transition(1, "offline", "online")
    assert state.failures == 0 and state.offline_since is None


def test_flapping_faster_than_the_threshold_never_goes_offline() -> None:
    state = CameraLiveness(1, "online")
    assert set(_feed(state, "-+-+-+-+-+")) == {"online"}


def test_unknown_camera_goes_offline_after_threshold_or_online_at_once() -> None:
    assert _feed(CameraLiveness(1), "--") == ["unknown", "offline"]
    assert _feed(CameraLiveness(2), "+") == ["online"]


@pytest.mark.parametrize("threshold", [1, 3])
def test_threshold_is_configurable(threshold: int) -> None:
    statuses = _feed(CameraLiveness(1, "online"), "-" * threshold, threshold)
    assert statuses[-1] == "offline" and "offline" not in statuses[:-1]


def test_a_success_resets_the_failure_count() -> None:
    state = CameraLiveness(1, "online")
    assert _feed(state, "-+-+-") == ["online"] * 5
    assert _feed(state, "-") == ["offline"]


def test_coerce_status() -> None:
    assert [coerce_status(s) for s in ("online", "offline", "unknown", "weird", None)] == [
        "online", "offline", "unknown", "unknown", "unknown"
    ]


def test_alert_window_allows_one_alert_per_window() -> None:
    window = AlertWindow(60.0)
    assert window.allows(1, 100.0)
    window.note(1, 100.0)
    assert not window.allows(1, 159.0)
    assert window.allows(2, 120.0)  # per camera
    assert window.allows(1, 160.0)
    window.forget({2})
    assert window.allows(1, 101.0)
