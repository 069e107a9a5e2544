"""File inputs: MP4 and MPEG-TS clips through the decoder, the job runner's thread side
(range clipping, progress, results) and the ``argus-analysis analyse`` command."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from anaclips import make_clip

from argus_analysis.detect.base import DetectorConfig
from argus_analysis.detect.select import choose_device
from argus_analysis.filejob import JobFailed, JobInput, JobProgress, analyse_inputs
from argus_analysis.pipeline import AnalysisParams
from argus_analysis.source import DecoderOptions, SourceError, open_source
from argus_analysis.worker import Output
from argus_common.events import AnalysisJobRequest

PARAMS = AnalysisParams(DetectorConfig(), 3, 0.3, 640, "stride")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    return {
        "mp4": make_clip(root / "clip.mp4"),
        "ts": make_clip(root / "clip.ts", fmt="mpegts"),
    }


@pytest.mark.parametrize("kind", ["mp4", "ts"])
def test_decoder_reads_every_frame_with_one_thread(clips: dict[str, Path], kind: str) -> None:
    source = open_source(str(clips[kind]), live=False, decoder=DecoderOptions(threads=1))
    try:
        context = source.stream.codec_context
        assert context.thread_count == 1 and "SLICE" in str(context.thread_type)
        frames = list(source.frames())
    finally:
        source.close()
    assert len(frames) == 45
    assert frames[-1].media_s - frames[0].media_s == pytest.approx(44 / 15, abs=0.01)
    assert source.duration_s is not None and source.duration_s > 2.5


def test_unreadable_input_is_a_source_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(SourceError):
        open_source(str(bad), live=False)


def job(source: str = "upload") -> AnalysisJobRequest:
    return AnalysisJobRequest(job_id="a" * 32, camera_id=None, source=source)  # type: ignore[arg-type]


def test_job_thread_finds_the_motion_and_reports_progress(clips: dict[str, Path]) -> None:
    outputs: list[Output] = []
    progress = JobProgress()
    analyse_inputs(job(), [JobInput(path=clips["mp4"], base_wall=1000.0)],
                   choose_device("cpu"), PARAMS, DecoderOptions(threads=0), outputs.append,
                   progress, threading.Event())
    kinds = [o.transition.kind for o in outputs if o.transition is not None]
    assert kinds == ["start", "end"]
    start = next(o for o in outputs if o.transition and o.transition.kind == "start")
    assert start.job and start.session_id == "a" * 32
    assert 1000.9 <= start.transition.ts <= 1001.3  # type: ignore[union-attr]
    assert progress.frames == 45 and progress.events == 1 and progress.motion_frames >= 10
    assert progress.total_s == pytest.approx(3.0, abs=0.1)


def test_job_thread_analyses_only_the_range(clips: dict[str, Path]) -> None:
    outputs: list[Output] = []
    progress = JobProgress()
    recorded = JobInput(path=clips["ts"], base_wall=2000.0, lo=2000.0, hi=2000.9, span_s=3.0)
    analyse_inputs(job("recording"), [recorded], choose_device("cpu"), PARAMS,
                   DecoderOptions(threads=0), outputs.append, progress, threading.Event())
    walls = [o.analysis.wall for o in outputs if o.analysis is not None]
    assert walls and max(walls) <= 2000.9 and progress.events == 0
    assert progress.fraction() == pytest.approx(0.99)


def test_job_without_readable_frames_fails(tmp_path: Path) -> None:
    missing = JobInput(path=tmp_path / "gone.mp4", base_wall=0.0, span_s=1.0)
    with pytest.raises(JobFailed):
        analyse_inputs(job(), [missing], choose_device("cpu"), PARAMS, DecoderOptions(),
                       lambda _o: None, JobProgress(), threading.Event())


def test_analyse_command_prints_the_events(clips: dict[str, Path]) -> None:
    exe = Path(sys.executable).parent / "argus-analysis"
    result = subprocess.run(
        [str(exe), "analyse", str(clips["ts"]), "--end-quiet-s", "0.3"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line)["event"] for line in result.stdout.splitlines()]
    assert events == ["motion.start", "motion.end"]
    assert json.loads(result.stderr.strip().splitlines()[-1])["frames"] == 45
