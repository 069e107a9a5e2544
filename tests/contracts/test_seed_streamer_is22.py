"""Seed: the streamer design (is22), "HLS sessions on demand": the session API of
streaming-service, asserted against the running service (default settings).

The seed's forms, and where ARGUS adds to them (docs/contracts.md, "Seed documents"):
- ``POST /v1/streams/start {"camera_id"}`` → ``200 {"session_id", "hls_url": "/hls/<id>/
  index.m3u8", "expires_at"}``; ARGUS adds ``camera_id`` and a media ticket to the URL
  (``?token=``), since a browser's HLS player cannot send a bearer header;
- ``POST /v1/streams/stop {"session_id"}`` → ``200 {"status": "stopped"}``;
- ``GET /v1/streams``; ``GET /hls/{session_id}/*``;
- one session per camera shared by its viewers, TTL 5 minutes renewed by access, stopped
  after 2 minutes without a viewer; an unknown camera is a 404.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from urllib.parse import urlsplit

import httpx
import pytest
from seedstack import SeedStack

from argus_streaming.config import Settings
from argus_testkit.factories import bearer
from argus_testkit.wait import wait_until

SEED_TTL_S = 300.0
SEED_IDLE_S = 120.0
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


@pytest.fixture(scope="module")
def api(streaming: SeedStack) -> httpx.Client:
    """A client of the running streaming-service."""
    return httpx.Client(base_url=streaming.streaming, timeout=20)


def _envelope(resp: httpx.Response, status: int, error: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["error"] == error and resp.json()["detail"]


def _fetch(api: httpx.Client, url: str) -> httpx.Response:
    """``url`` once it answers 200: a new session lists its first segment after about a
    second (the server holds the request up to 6 s, then says 404 'no segment yet')."""
    def ok() -> httpx.Response | None:
        resp = api.get(url)
        return resp if resp.status_code == 200 else None

    return wait_until(ok, 30, f"GET {urlsplit(url).path}", 0.2)


def test_start_answers_the_session_shape(streaming: SeedStack, api: httpx.Client) -> None:
    """is22 "HLS sessions on demand": ``POST /v1/streams/start {"camera_id"}`` → 200 with
    ``session_id``, ``hls_url`` (``/hls/<session_id>/index.m3u8``) and ``expires_at``
    (TTL 5 minutes)."""
    admin = streaming.admin_token()
    before = time.time()
    resp = api.post("/v1/streams/start", json={"camera_id": streaming.camera_id},
                    headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert {"session_id", "hls_url", "expires_at"} <= set(body)
    assert set(body) - {"session_id", "hls_url", "expires_at"} == {"camera_id"}  # ARGUS adds
    assert body["camera_id"] == streaming.camera_id
    url = urlsplit(body["hls_url"])
    assert url.path == f"/hls/{body['session_id']}/index.m3u8"
    assert re.fullmatch(r"token=[^&]+", url.query), "the media ticket (ARGUS)"
    expires = datetime.fromisoformat(body["expires_at"]).timestamp()
    assert before + SEED_TTL_S - 5 <= expires <= time.time() + SEED_TTL_S + 5


def test_one_session_per_camera_shared_by_its_viewers(streaming: SeedStack,
                                                      api: httpx.Client) -> None:
    """is22: one session per camera, shared by every viewer; ``GET /v1/streams`` lists the
    sessions of the cameras the caller may see."""
    camera = streaming.camera_id
    first = api.post("/v1/streams/start", json={"camera_id": camera},
                     headers=bearer(streaming.admin_token())).json()
    _, viewer = streaming.user("seed-viewer", ["viewer"], [camera])
    joined = api.post("/v1/streams/start", json={"camera_id": camera}, headers=bearer(viewer))
    assert joined.status_code == 200, joined.text
    assert joined.json()["session_id"] == first["session_id"]
    assert joined.json()["hls_url"] != first["hls_url"]  # each viewer's own media ticket
    listed = api.get("/v1/streams", headers=bearer(viewer))
    assert listed.status_code == 200, listed.text
    assert [(s["session_id"], s["camera_id"]) for s in listed.json()] == [
        (first["session_id"], camera)]
    assert set(listed.json()[0]) == {"session_id", "camera_id", "expires_at"}
    _, outsider = streaming.user("seed-outsider", ["viewer"], [])
    assert api.get("/v1/streams", headers=bearer(outsider)).json() == []


def test_hls_files_are_served_and_access_renews_the_ttl(streaming: SeedStack,
                                                        api: httpx.Client) -> None:
    """is22: ``GET /hls/{session_id}/*`` serves the playlist, init section and segments;
    every access renews the 5-minute TTL."""
    started = api.post("/v1/streams/start", json={"camera_id": streaming.camera_id},
                       headers=bearer(streaming.admin_token())).json()
    playlist = _fetch(api, started["hls_url"])
    assert playlist.headers["content-type"].startswith(PLAYLIST_TYPE)
    text = playlist.text
    assert text.startswith("#EXTM3U")
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text)
    segment = re.search(r"^#EXTINF:[\d.]+,\n(\S+)$", text, re.MULTILINE)
    assert init and segment, text
    base = started["hls_url"].rsplit("/", 1)[0]
    init_file = api.get(f"{base}/{init.group(1)}")
    assert init_file.status_code == 200 and init_file.headers["content-type"] == "video/mp4"
    assert init_file.content[4:8] == b"ftyp"
    media = api.get(f"{base}/{segment.group(1)}")
    assert media.status_code == 200 and media.content, media.text
    renewed = api.get("/v1/streams", headers=bearer(streaming.admin_token())).json()[0]
    # The playlist waited for a segment (about a second) after the start gave expires_at.
    assert renewed["expires_at"] > started["expires_at"]


def test_idle_and_ttl_defaults_are_the_seeds() -> None:
    """is22: TTL 5 minutes, a session without viewers stopped after 2 minutes. The running
    service shows its TTL in ``expires_at`` (above); the idle stop takes 2 minutes to
    observe, so its default is read here from the service's settings, the ones the test
    stack runs with (streaming-service/tests/test_hls_live.py watches the stop happen with
    short values)."""
    defaults = Settings(_env_file=None)
    assert defaults.hls_session_ttl_s == SEED_TTL_S
    assert defaults.hls_idle_s == SEED_IDLE_S


def test_unknown_camera_is_404(streaming: SeedStack, api: httpx.Client) -> None:
    """is22: starting a session of an unknown camera is a 404 (ARGUS: also one the caller
    is not granted, so that ids cannot be probed), in the error envelope."""
    admin = bearer(streaming.admin_token())
    _envelope(api.post("/v1/streams/start", json={"camera_id": 999_999}, headers=admin),
              404, "NotFound")
    _, outsider = streaming.user("seed-outsider", ["viewer"], [])
    _envelope(api.post("/v1/streams/start", json={"camera_id": streaming.camera_id},
                       headers=bearer(outsider)), 404, "NotFound")
    _envelope(api.post("/v1/streams/start", json={"camera_id": streaming.camera_id}),
              401, "Unauthorized")


def test_stop_answers_200_status_stopped(streaming: SeedStack, api: httpx.Client) -> None:
    """is22: ``POST /v1/streams/stop {"session_id"}`` → ``200 {"status": "stopped"}``
    (ARGUS answered 204 with no body before issue 25). A viewer who joined only leaves (the
    session goes on for the others); the one who started it stops it for everyone; then
    its files are gone (404) and an unknown session is a 404."""
    admin = bearer(streaming.admin_token())
    started = api.post("/v1/streams/start", json={"camera_id": streaming.camera_id},
                       headers=admin).json()
    sid = started["session_id"]
    _, viewer = streaming.user("seed-viewer", ["viewer"], [streaming.camera_id])
    api.post("/v1/streams/start", json={"camera_id": streaming.camera_id},
             headers=bearer(viewer))
    left = api.post("/v1/streams/stop", json={"session_id": sid}, headers=bearer(viewer))
    assert (left.status_code, left.json()) == (200, {"status": "stopped"})
    assert [s["session_id"] for s in api.get("/v1/streams", headers=admin).json()] == [sid]
    stopped = api.post("/v1/streams/stop", json={"session_id": sid}, headers=admin)
    assert (stopped.status_code, stopped.json()) == (200, {"status": "stopped"})
    assert stopped.headers["content-type"] == "application/json"
    assert api.get("/v1/streams", headers=admin).json() == []
    _envelope(api.get(started["hls_url"]), 404, "NotFound")
    _envelope(api.post("/v1/streams/stop", json={"session_id": sid}, headers=admin),
              404, "NotFound")
