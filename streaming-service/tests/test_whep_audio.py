"""Audio pass-through: PCMU, PCMA and Opus cameras reach WebRTC viewers; AAC is dropped.

A second simulator runs one camera per audio codec (``--audio-codec camN:CODEC``); an
aiortc WHEP client that offers audio decodes what it receives.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from browser_support import chromium, open_player, poll
from streaming_support import HEIGHT, WIDTH, Camsim, World, _stop, start_camsim
from whep_client import whep_close, whep_connect

from argus_common.rtsp.frames import AccessUnit
from argus_streaming.live.queue import ViewerQueue
from argus_streaming.webrtc.tracks import RelayAudioTrack
from argus_testkit.tools import needs

# simulator camera -> codec; the expected rtpmap in the answer and the decoded sample rate
CODECS = {1: "pcmu", 2: "pcma", 3: "opus", 4: "aac"}
RTPMAP = {"pcmu": "PCMU/8000", "pcma": "PCMA/8000", "opus": "opus/48000/2"}
RATE = {"pcmu": 8000, "pcma": 8000, "opus": 48000}


@pytest.fixture(scope="module")
def audio_camsim() -> Iterator[Camsim]:
    flags = [f"--audio-codec=cam{n}:{codec}" for n, codec in CODECS.items()]
    sim = start_camsim(*flags, cameras=len(CODECS))
    try:
        yield sim
    finally:
        _stop(sim.proc)


@pytest.fixture(scope="module")
async def audio_cameras(world: World, audio_camsim: Camsim) -> dict[str, int]:
    return {codec: await world.add_camera(f"audio {codec} {uuid.uuid4().hex[:6]}",
                                          audio_camsim.url(n), connect_timeout_s=2.0,
                                          read_timeout_s=2.0)
            for n, codec in CODECS.items()}


def media_section(sdp: str, kind: str) -> list[str]:
    """The lines of the first ``m=<kind>`` section of an SDP."""
    out: list[str] = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            if out:
                break
            if line.startswith(f"m={kind} "):
                out.append(line)
        elif out:
            out.append(line)
    return out


def tone_frequency(frames: list[object]) -> tuple[float, int]:
    """Dominant frequency (Hz) of the first channel of decoded audio frames, and the rate."""
    rate = frames[0].sample_rate  # type: ignore[attr-defined]
    channels = len(frames[0].layout.channels)  # type: ignore[attr-defined]
    samples = np.concatenate([
        f.to_ndarray().reshape(-1, channels)[:, 0].astype(np.float64)  # type: ignore[attr-defined]
        for f in frames
    ])
    assert np.abs(samples).max() > 0, "only silence received"
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))]), rate


@pytest.mark.parametrize("codec", ["pcmu", "pcma", "opus"])
async def test_audio_passes_through_to_an_aiortc_viewer(
    world: World, client: httpx.AsyncClient, audio_cameras: dict[str, int], codec: str
) -> None:
    headers = world.auth()
    resp, viewer = await whep_connect(client, f"/whep/{audio_cameras[codec]}", headers,
                                      audio=True)
    assert resp.status_code == 201, resp.text
    assert viewer is not None
    try:
        audio = media_section(viewer.answer, "audio")
        assert audio and not audio[0].startswith("m=audio 0 "), viewer.answer
        assert "a=sendonly" in audio
        rtpmaps = [x.split(" ", 1)[1] for x in audio if x.startswith("a=rtpmap:")]
        assert rtpmaps == [RTPMAP[codec]], audio  # the camera's codec and nothing else
        video = await viewer.frames(10, timeout_s=15)
        assert {(f.width, f.height) for f in video} == {(WIDTH, HEIGHT)}  # type: ignore[attr-defined]
        # 20 ms per frame: 1.2 s of audio holds at least one 200 ms beep of 1 kHz.
        frames = await viewer.audio_frames(60, timeout_s=15)
        frequency, rate = tone_frequency(frames)
        assert rate == RATE[codec]
        assert abs(frequency - 1000) < 25, frequency
    finally:
        assert await whep_close(client, viewer, headers) == 200


async def test_aac_camera_gives_video_and_no_audio_track(
    world: World, client: httpx.AsyncClient, audio_cameras: dict[str, int]
) -> None:
    headers = world.auth()
    resp, viewer = await whep_connect(client, f"/whep/{audio_cameras['aac']}", headers,
                                      audio=True)
    assert resp.status_code == 201, resp.text
    assert viewer is not None
    try:
        assert len(await viewer.frames(15, timeout_s=15)) == 15
        audio = media_section(viewer.answer, "audio")
        assert "a=sendonly" not in audio and "a=sendrecv" not in audio, viewer.answer
        assert not viewer.audio_track.done()  # track events fire with the answer
        source = world.app.state.sources.sources[(audio_cameras["aac"], "main")]
        assert source.info is not None and source.info.audio_codec is None
    finally:
        assert await whep_close(client, viewer, headers) == 200


async def test_offer_without_audio_gets_video_only(
    world: World, client: httpx.AsyncClient, audio_cameras: dict[str, int]
) -> None:
    headers = world.auth()
    resp, viewer = await whep_connect(client, f"/whep/{audio_cameras['opus']}", headers)
    assert resp.status_code == 201, resp.text
    assert viewer is not None
    try:
        assert "m=audio" not in viewer.answer
        assert len(await viewer.frames(5, timeout_s=15)) == 5
    finally:
        assert await whep_close(client, viewer, headers) == 200


async def test_audio_timestamps_go_on_across_a_source_restart() -> None:
    """A reconnected pull counts from 0 again; the viewer's RTP clock must not go back."""
    queue = ViewerQueue(50, keyframe_sync=False)
    track = RelayAudioTrack(queue, 8000)
    # three packets, the pull restarts (0), then a jump of 5 s (a stalled camera)
    for pts in (96_000, 96_160, 96_320, 0, 160, 40_160, 40_320):
        queue.put(AccessUnit("audio", bytes(160), pts, True, 0, 8000))
    out = [(await track.recv()).pts for _ in range(7)]
    assert out == [0, 160, 320, 480, 640, 800, 960]
    track.stop()



@needs("chromium")
async def test_chromium_receives_passed_through_audio(
    world: World, audio_cameras: dict[str, int]
) -> None:
    """A real browser negotiates the camera's codec and receives its RTP (Opus, then PCMU)."""
    token = world.token(world.admin_id)
    async with chromium(mdns=True) as context:
        for codec, mime, clock in (("opus", "audio/opus", 48000), ("pcmu", "audio/PCMU", 8000)):
            page = await open_player(context, world.base_url)
            result = await page.evaluate(
                "([u, t]) => argus.whep(u, t, true, true)"
                ".then(r => ({...r, firstFrame: undefined}))",
                [f"/whep/{audio_cameras[codec]}", token])
            assert result["status"] == 201, result
            stats = await poll(page, "argus.audioStats()",
                                lambda s: s and s["packetsReceived"] > 25
                                and s["totalSamplesReceived"] > 0, 15)
            assert stats and stats["packetsReceived"] > 25, stats
            assert stats["mimeType"] == mime and stats["clockRate"] == clock, stats
            assert stats["totalSamplesReceived"] > 0, stats  # decoded, not only received
            video = await page.evaluate("argus.videoStats()")
            assert video and video["framesDecoded"] > 0, video
            status = await page.evaluate(
                "([l, t]) => fetch(l, {method: 'DELETE', headers: {Authorization: 'Bearer ' + t}})"
                ".then(r => r.status)", [result["location"], token])
            assert status == 200
            await page.close()
