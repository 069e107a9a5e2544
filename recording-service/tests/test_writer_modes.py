"""Segments from packets, without a network: continuous cuts, parameter changes, events."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from recmedia import count_frames, encode_frames, write_source

from argus_recording.clock import MediaClock
from argus_recording.layout import DirMaker, segment_relpath
from argus_recording.modes import ContinuousRecorder, EventRecorder, WriterContext
from argus_recording.stamping import Stamper
from argus_recording.window import EventWindow
from argus_recording.writer import ClosedSegment, SegmentWriter

T0 = 1_795_383_000_000.0  # wall-clock ms of the first packet
FPS = 15


def _packets(path: Path) -> Iterator[tuple[av.container.InputContainer, av.Packet]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = float(stream.time_base)
        for index, packet in enumerate(container.demux(stream)):
            if not packet.size:
                continue
            if packet.dts is None:  # raw Annex B has no timestamps: FPS frames a second
                packet.dts = packet.pts = round(index / FPS / tb)
            yield container, packet


class Harness:
    """Feeds a file's packets through a Stamper into a recorder, as a worker would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        self.closed: list[ClosedSegment] = []
        self.failed: list[BaseException] = []

    def context(self, container: av.container.InputContainer, clock: MediaClock
                ) -> WriterContext:
        return WriterContext(
            camera_id=3, root=self.root, dirs=DirMaker(self.root, True), durable=True,
            video_in=container.streams.video[0], audio_in=None, clock=clock,
            on_closed=self.closed.append, on_failed=self._failed,
        )

    def _failed(self, writer: SegmentWriter, exc: BaseException) -> None:
        self.failed.append(exc)


def _feed(source: Path, harness: Harness, make: object, per_packet: object = None) -> None:
    stamper: Stamper | None = None
    recorder = None
    for container, packet in _packets(source):
        if stamper is None:
            stamper = Stamper(container.streams.video[0], None, 2000)
            recorder = make(harness.context(container, stamper.clock))  # type: ignore[operator]
        media_s = float(packet.dts * packet.time_base)
        item = stamper.stamp(packet, T0 + media_s * 1000 + 25)  # 25 ms network delay
        assert item is not None
        if per_packet is not None:
            per_packet(item)  # type: ignore[operator]
        recorder.on_packet(item)  # type: ignore[union-attr]
    recorder.stop()  # type: ignore[union-attr]


def test_continuous_segments_cut_at_keyframes_and_touch(tmp_path: Path) -> None:
    source = tmp_path / "src.mp4"
    write_source(source, count=100, gop=FPS, size=(64, 48))  # 6.67 s, keyframe each second
    harness = Harness(tmp_path / "rec")
    _feed(source, harness, lambda ctx: ContinuousRecorder(ctx, 2000))
    segs = harness.closed
    assert not harness.failed
    assert [round(s.duration_s, 3) for s in segs] == [2.0, 2.0, 2.0, 0.667]
    for a, b in itertools.pairwise(segs):
        assert a.end_ms == b.start_ms  # no gap, no overlap
    assert segs[0].start_ms == T0 + 25
    assert segs[0].relpath == segment_relpath(3, segs[0].start_ms)
    frames = [count_frames(harness.root / s.relpath) for s in segs]
    assert frames == [30, 30, 30, 10]
    assert all((s.codec, s.width, s.height, s.kind) == ("h264", 64, 48, "continuous")
               for s in segs)
    assert all(s.bytes == (harness.root / s.relpath).stat().st_size for s in segs)


def test_a_resolution_change_starts_a_new_segment(tmp_path: Path) -> None:
    raw = tmp_path / "cam.h264"
    small = encode_frames(64, 48, 20, gop=5)
    large = encode_frames(96, 64, 20, gop=5)
    raw.write_bytes(b"".join(bytes(p) for p in small + large))
    harness = Harness(tmp_path / "rec")
    _feed(raw, harness, lambda ctx: ContinuousRecorder(ctx, 60_000))
    sizes = [(s.width, s.height) for s in harness.closed]
    assert sizes == [(64, 48), (96, 64)]
    assert harness.closed[0].end_ms == harness.closed[1].start_ms
    files = [harness.root / s.relpath for s in harness.closed]
    assert [count_frames(f) for f in files] == [20, 20]
    with av.open(str(files[1])) as second:
        ctx = second.streams.video[0].codec_context
        assert (ctx.width, ctx.height) == (96, 64)


def test_event_clip_starts_with_pre_roll_and_merges_overlaps(tmp_path: Path) -> None:
    source = tmp_path / "src.mp4"
    write_source(source, count=15 * FPS, gop=FPS, size=(64, 48))  # 15 s
    harness = Harness(tmp_path / "rec")
    window = EventWindow(post_roll_ms=1000, max_ms=600_000)

    def events(item: object) -> None:
        wall = item.wall_ms  # type: ignore[attr-defined]
        if abs(wall - (T0 + 25 + 8000)) < 1:
            window.apply("manual", "a", wall - 500, wall + 1000)  # 7.5 s .. 9 s
        if abs(wall - (T0 + 25 + 8600)) < 40:
            window.apply("motion.start", "b", wall, None)  # overlaps, ends at 10 s
        if abs(wall - (T0 + 25 + 10_000)) < 1:
            window.apply("motion.end", "c", wall, None)

    _feed(source, harness,
          lambda ctx: EventRecorder(ctx, window, pre_roll_ms=3000, max_ms=600_000),
          per_packet=events)
    assert len(harness.closed) == 1, harness.closed  # one clip for both events
    clip = harness.closed[0]
    trigger = T0 + 25 + 7500
    assert clip.kind == "event"
    assert clip.start_ms <= trigger - 3000  # pre-roll from a keyframe before it
    assert clip.start_ms == T0 + 25 + 4000  # the latest keyframe that is early enough
    assert clip.end_ms == pytest.approx(T0 + 25 + 11_000, abs=70)  # end + post-roll
    assert count_frames(harness.root / clip.relpath) == round((clip.end_ms - clip.start_ms)
                                                               / 1000 * FPS)


def test_a_second_event_after_the_clip_never_repeats_video(tmp_path: Path) -> None:
    source = tmp_path / "src.mp4"
    write_source(source, count=14 * FPS, gop=FPS, size=(64, 48))
    harness = Harness(tmp_path / "rec")
    window = EventWindow(post_roll_ms=500, max_ms=600_000)

    def events(item: object) -> None:
        wall = item.wall_ms  # type: ignore[attr-defined]
        for at, key in ((3000, "a"), (7000, "b")):
            if abs(wall - (T0 + 25 + at)) < 1:
                window.apply("manual", key, wall, wall + 500)

    _feed(source, harness,
          lambda ctx: EventRecorder(ctx, window, pre_roll_ms=5000, max_ms=600_000),
          per_packet=events)
    first, second = harness.closed
    assert first.start_ms == T0 + 25  # all that was buffered
    assert second.start_ms >= first.end_ms  # pre-roll stops at the previous clip
