"""A wall monitor's display token (management ``walls/``) plays only the cameras pushed to
its monitor: the pushed camera over WHEP, not another; a push that takes the camera away
ends that video within seconds (``argus:authz`` and ``POST /internal/access`` with
``monitor_id``); a revoked display credential opens nothing."""

from __future__ import annotations

import uuid

import httpx
from streaming_support import World
from test_revocation import REVOKE_S, _admin, _ended, _subscribed
from whep_client import whep_connect


async def test_display_token_follows_what_is_pushed(
    world: World, client: httpx.AsyncClient
) -> None:
    await _subscribed(world)
    admin = await _admin(world)
    async with httpx.AsyncClient(base_url=world.management_url, timeout=10) as mgmt:
        r = await mgmt.post(
            "/api/v1/walls", headers=admin, json={"name": f"wall-{uuid.uuid4().hex[:8]}"}
        )
        assert r.status_code == 201, r.text
        wall = r.json()["id"]
        r = await mgmt.post(f"/api/v1/walls/{wall}/monitors", headers=admin, json={"name": "A"})
        monitor = r.json()["id"]
        base = f"/api/v1/walls/{wall}/monitors/{monitor}"
        key = (await mgmt.post(f"{base}/credential", headers=admin)).json()["key"]
        r = await mgmt.post(
            f"{base}/push", headers=admin, json={"kind": "camera", "camera_id": world.camera_id}
        )
        assert r.status_code == 200, r.text
        r = await mgmt.post(
            "/api/v1/wall-display/token", json={"wall_id": wall, "monitor_id": monitor, "key": key}
        )
        assert r.status_code == 200, r.text
        display = {"Authorization": f"Bearer {r.json()['access_token']}"}

        resp, viewer = await whep_connect(client, f"/whep/{world.camera_id}", display)
        assert resp.status_code == 201 and viewer is not None, resp.text
        try:
            assert len(await viewer.frames(5, timeout_s=15)) == 5
            resp, other = await whep_connect(client, f"/whep/{world.camera2_id}", display)
            assert other is None and resp.status_code == 404, resp.text

            # Another camera pushed: the first one's video ends.
            r = await mgmt.post(
                f"{base}/push",
                headers=admin,
                json={"kind": "camera", "camera_id": world.camera2_id},
            )
            assert r.status_code == 200, r.text
            assert await _ended(world, viewer, REVOKE_S) < REVOKE_S
        finally:
            await viewer.pc.close()

        # Revoked: nothing opens, not even the camera pushed now.
        assert (await mgmt.delete(f"{base}/credential", headers=admin)).status_code == 204
        resp, again = await whep_connect(client, f"/whep/{world.camera2_id}", display)
        assert again is None and resp.status_code in (401, 404), resp.text
