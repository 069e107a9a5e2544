"""The loop source: a pre-encoded clip replayed with rewritten RTP timestamps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from camsim_rtsp import RtspClient


@pytest.fixture(scope="module")
def loop_sim(
    camsim_launcher: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, Path]]:
    cache = tmp_path_factory.mktemp("clips")
    sim = camsim_launcher(
        "--cameras",
        "3",
        "--source",
        "loop",
        "--cache-dir",
        str(cache),
        "--resolution",
        "320x180",
        "--sub-resolution",
        "160x90",
        "--loop-seconds",
        "1",
        "--gop",
        "0.5",
    )
    yield sim, cache
    sim.stop()


def test_generated_clips_are_cached(loop_sim: tuple[Any, Path]) -> None:
    _, cache = loop_sim
    names = sorted(p.name for p in cache.glob("*.h264"))
    assert len(names) == 2
    assert any("320x180" in n for n in names) and any("160x90" in n for n in names)


async def test_loop_runs_at_full_rate_with_continuous_timestamps(
    loop_sim: tuple[Any, Path],
) -> None:
    sim, _ = loop_sim
    async with RtspClient(sim.url(1)) as one, RtspClient(sim.url(2, "sub")) as two:
        await one.play()
        await two.play()
        stats = await one.count_frames(3.0, keep_timestamps=True)
        other = await two.count_frames(0.5)
    # Three passes over a one-second clip, and RTP time never jumps at the seam.
    assert stats.frames >= 70
    steps = set(np.diff(np.array(stats.timestamps, dtype=np.int64)) % (1 << 32))
    assert steps == {3000}
    assert other.frames >= 5


def test_loop_decodes_cleanly(
    loop_sim: tuple[Any, Path], pyav: Callable[..., list[av.VideoFrame]]
) -> None:
    sim, _ = loop_sim
    frames = pyav(sim.url(3), 75)
    assert len(frames) == 75
    assert {(f.width, f.height) for f in frames} == {(320, 180)}


def test_loop_resolution_change_switches_clip(
    loop_sim: tuple[Any, Path], pyav: Callable[..., list[av.VideoFrame]]
) -> None:
    sim, cache = loop_sim
    assert sim.post("/faults/cam3", {"resolution": "256x144"}).status_code == 200
    try:
        frames = pyav(sim.url(3), 0, until=lambda f: f.width == 256, max_frames=240)
        assert (frames[-1].width, frames[-1].height) == (256, 144)
    finally:
        sim.post("/faults/cam3", {"resolution": "320x180"})
    assert any("256x144" in p.name for p in cache.glob("*.h264"))


def make_mp4(path: Path, width: int, height: int, frames: int) -> None:
    """An MP4 (length-prefixed H.264, parameter sets only in avcC) made with PyAV."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": "15", "bf": "0"}
        for n in range(frames):
            rgb = np.full((height, width, 3), (n * 8) % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = n
            frame.time_base = Fraction(1, 15)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def test_loop_file_given_by_path(
    camsim_launcher: Callable[..., Any],
    tmp_path: Path,
    pyav: Callable[..., list[av.VideoFrame]],
) -> None:
    clip = tmp_path / "clip.mp4"
    make_mp4(clip, 192, 108, 30)
    sim = camsim_launcher(
        "--source",
        "loop",
        "--loop-file",
        str(clip),
        "--loop-file-sub",
        str(clip),
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    try:
        frames = pyav(sim.url(1), 40)
        assert {(f.width, f.height) for f in frames} == {(192, 108)}
        listing = sim.get("/cameras").json()[0]
        assert listing["resolution"]["main"] == "192x108"
    finally:
        sim.stop()
