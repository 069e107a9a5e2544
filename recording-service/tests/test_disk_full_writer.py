"""A full disk in the middle of a fragment: the half-written fragment is cut off, nothing is
ever appended after a torn box, and the segment closes playable with every GOP written
before the failure."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import av
import pytest
from test_rtsp_ingest import T0, _encoded, _rtp_stream

from argus_recording import fragments
from argus_recording.fencing import LIVE
from argus_recording.fragments import FragmentContext, FragmentWriter
from argus_recording.layout import DirMaker
from argus_recording.modes import ContinuousRecorder
from argus_recording.mp4box import walk
from argus_recording.rtp_au import AuAssembler, VideoAU
from argus_recording.rtp_stamp import RtpStamper
from argus_recording.writer import ClosedSegment


def test_a_write_refused_mid_fragment_leaves_a_playable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    units: list[VideoAU] = []
    asm = AuAssembler(0, None, None, units.append, lambda a: None)
    for packet in _rtp_stream([(d, p) for d, p, _ in _encoded(60, gop=15, fps=15)]):
        asm(0, packet)
    closed: list[ClosedSegment] = []
    failed: list[BaseException] = []

    def on_failed(writer: FragmentWriter, exc: BaseException) -> None:
        failed.append(exc)

    stamper = RtpStamper(None, None, 0, 2000)
    ctx = FragmentContext(camera_id=3, root=tmp_path, dirs=DirMaker(tmp_path, False),
                          durable=False, audio=None, clock=stamper.clock,
                          on_closed=closed.append, on_failed=on_failed, run_later=lambda f: f())
    recorder = ContinuousRecorder(ctx, 60_000)
    calls = {"n": 0}
    real_writev = os.writev

    def writev(fd: int, buffers: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:  # the init segment, one fragment, then the disk is full
            data = b"".join(buffers)
            os.write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_writev(fd, buffers)

    monkeypatch.setattr(fragments.os, "writev", writev)
    refused = 0
    for unit in units:
        unit.recv_ms = T0 + unit.ts / 90 + 25
        try:
            recorder.on_packet(stamper.video(unit))
        except OSError:
            refused += 1
            break  # the RTSP session ends on a write error (rtsp_worker._fail)
    writer = recorder.writer
    assert refused == 1 and writer is not None
    relpath = writer.relpath  # type: ignore[attr-defined]
    assert relpath in LIVE
    recorder.stop()
    assert not failed and len(closed) == 1 and relpath not in LIVE
    path = tmp_path / relpath
    layout = walk(path)
    assert layout.clean and layout.fragments == 1, layout
    assert closed[0].bytes == path.stat().st_size
    # It ends where the dropped GOP began: the timeline shows the loss as a gap.
    assert closed[0].end_ms - closed[0].start_ms == 1000
    with av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 15  # the first GOP, whole
