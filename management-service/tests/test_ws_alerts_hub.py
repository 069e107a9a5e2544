"""The in-process alert hub: per-client visibility, one serialization, bounded queues."""

from __future__ import annotations

from argus_common.events import AlertMessage
from argus_management.alerts.hub import AlertHub
from argus_management.rbac.principal import Principal


def _principal(user_id: int, cameras: set[int], *, sees_all: bool = False) -> Principal:
    permissions = {"events:read"} | ({"cameras:write"} if sees_all else set())
    return Principal(
        user_id=user_id, username=f"u{user_id}", roles=("viewer",),
        permissions=frozenset(permissions), camera_ids=frozenset(cameras),
    )


def _raw(camera_id: int | None) -> str:
    return AlertMessage(
        type="alert.motion", kind="motion", title="Motion", camera_id=camera_id
    ).model_dump_json()


async def test_dispatch_follows_visibility_and_shares_one_string() -> None:
    hub = AlertHub()
    admin = hub.add(_principal(1, set(), sees_all=True))
    viewer_a = hub.add(_principal(2, {10}))
    viewer_ab = hub.add(_principal(3, {10, 20}))
    for camera_id, expected in [(10, 3), (20, 2), (None, 1), (30, 1)]:
        assert hub.dispatch(_raw(camera_id)) == expected
    assert len(admin.pending) == 4 and len(viewer_a.pending) == 1 and len(viewer_ab.pending) == 2
    # Serialized once: every client queue holds the very same string object.
    assert admin.pending[0] is viewer_a.pending[0] is viewer_ab.pending[0]
    assert viewer_a.wakeup.is_set()


async def test_regrant_changes_what_a_client_receives() -> None:
    hub = AlertHub()
    client = hub.add(_principal(2, {10}))
    assert hub.dispatch(_raw(20)) == 0
    client.update_principal(_principal(2, {10, 20}))
    assert hub.dispatch(_raw(20)) == 1


async def test_unreadable_messages_are_skipped() -> None:
    hub = AlertHub()
    client = hub.add(_principal(1, set(), sees_all=True))
    for raw in ["not json", "[1, 2]", '{"camera_id": "7"}', '{"camera_id": true}']:
        assert hub.dispatch(raw) == 0
    assert not client.pending


async def test_slow_client_is_disconnected_not_silently_starved() -> None:
    hub = AlertHub(max_queue=3)
    slow = hub.add(_principal(1, {10}))
    fast = hub.add(_principal(2, {10}))
    for _ in range(3):
        hub.dispatch(_raw(10))
    fast.pending.clear()
    hub.dispatch(_raw(10))
    assert slow.close_code == 1013 and len(slow.pending) == 3
    assert fast.close_code is None and len(fast.pending) == 1
    hub.remove(slow)
    hub.remove(slow)  # idempotent
    assert hub.clients == {fast}


async def test_a_frame_naming_a_permission_goes_to_its_holders() -> None:
    hub = AlertHub()
    holder = hub.add(
        Principal(
            user_id=5, username="op", roles=("operator",),
            permissions=frozenset({"events:read", "walls:view"}), camera_ids=frozenset(),
        )
    )  # fmt: skip
    admin = hub.add(_principal(1, set(), sees_all=True))
    viewer = hub.add(_principal(2, {10}))
    frame = '{"type": "wall.changed", "wall_id": 1, "monitor_id": 2, "permission": "walls:view"}'
    assert hub.dispatch(frame) == 1 and list(holder.pending) == [frame]
    assert not admin.pending and not viewer.pending
    # With a camera, the camera decides (the permission is ignored); a bad one is dropped.
    assert hub.dispatch('{"camera_id": 10, "permission": "walls:view"}') == 2
    assert hub.dispatch('{"type": "wall.changed", "permission": 7}') == 0
