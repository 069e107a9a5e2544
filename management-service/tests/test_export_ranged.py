"""Exports of tiered segments with a sidecar fetch only the fragments the range needs
(exports/ranged.py), against a real SeaweedFS, and write the same MP4 as the whole object
would (the runner's signed bundle too); without a sidecar, with a damaged or stale one, or
for a segment the range covers whole, the whole object is fetched as before."""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.events import utcnow
from argus_common.mp4index import Fragment, Mp4Index
from argus_common.objectstore import ObjectStore, ObjectStoreSettings, SegmentFiles
from argus_common.segindex import encode, index_path, read_sidecar, save_index, write_index
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.exports import ranged, service
from argus_management.exports.models import Export
from argus_management.exports.remux import SourceSegment, plan_export, write_plan
from argus_management.exports.runner import ExportRunner
from argus_management.exports.verify import verify_bundle
from argus_management.recordings.models import RecordingSegment
from argus_testkit.objectstore import LocalObjectStore

from factories.cameras import create_camera
from factories.exports import at_ms, stamps
from factories.media import write_segments

T0_MS = 1_795_000_000_000
CAMERA = 3


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalObjectStore]:
    with LocalObjectStore(tmp_path_factory.mktemp("s3"), bucket="argus-export-ranged") as s:
        yield s


class _GetBytes:
    """The bytes the client's GETs ask for (by their ``Range``), and the GETs."""

    def __init__(self, client: Any) -> None:
        self.bytes = 0
        self.gets = 0
        client.meta.events.register("before-parameter-build.s3.GetObject", self._get)

    def _get(self, params: dict[str, Any], **_: Any) -> None:
        self.gets += 1
        first, _dash, last = str(params.get("Range", "")).removeprefix("bytes=").partition("-")
        self.bytes += int(last) - int(first) + 1


def _reads() -> tuple[float, float]:
    """``argus_export_tier_reads_total`` so far: (ranged, whole)."""
    def read(path: str) -> float:
        return REGISTRY.get_sample_value("argus_export_tier_reads_total", {"path": path}) or 0.0
    return read("ranged"), read("whole")


def _mp4(segment: SourceSegment, t0: float, t1: float) -> bytes:
    out = io.BytesIO()
    write_plan(plan_export([segment], t0, t1), out)
    return out.getvalue()


async def _tiered(store: LocalObjectStore, tmp: Path, bframes: int, sidecar: str,
                  root: Path | None = None) -> tuple[SegmentFiles, Path, str, Path, int]:
    """A 20 s segment (10 fps, 1 s GOPs, audio) tiered as the mover leaves it, with its
    sidecar ``ok``, ``missing``, ``damaged`` or ``stale``; the reader, its local path, its
    key, a copy of the original and its size."""
    root = root or tmp / "rec"
    (written,) = write_segments(root, CAMERA, T0_MS, [20.0], bframes=bframes)
    path = root / written.relpath
    original = shutil.copyfile(path, tmp / "original.mp4")
    assert write_index(path) is not None
    key = f"t{bframes}-{sidecar}/{written.relpath}"
    conf = ObjectStoreSettings(**{**store.env(), "ARGUS_S3_CACHE_DIR": str(tmp / "cache")})
    async with ObjectStore(conf) as up:
        await up.put_file(path, key)
    path.unlink()
    if sidecar == "missing":
        index_path(path).unlink()
    elif sidecar == "damaged":
        data = bytearray(index_path(path).read_bytes())
        data[40] ^= 0x01
        index_path(path).write_bytes(bytes(data))
    elif sidecar == "stale":  # well-formed, but its times are not the object's
        found = read_sidecar(path)
        assert found is not None
        idx = found.index
        frags = [Fragment(f.offset, f.size, f.start + 1, f.duration) for f in idx.fragments]
        save_index(path, encode(Mp4Index(idx.init_size, idx.timescale, frags), found.file_size))
    return SegmentFiles(root, conf), path, key, original, written.bytes


@pytest.mark.parametrize(("bframes", "lo", "hi", "shown"), [
    (0, 7.45, 12.45, (7500, 12500)),  # from the middle: a hole after the first fragment
    (2, 7.45, 12.45, (7500, 12500)),
    (0, -3.0, 4.45, (0, 4500)),  # ends inside the segment: its first fragments only
])
async def test_five_seconds_from_the_middle_fetch_only_their_fragments(
    store: LocalObjectStore, tmp_path: Path, bframes: int, lo: float, hi: float,
    shown: tuple[int, int],
) -> None:
    files, path, key, original, size = await _tiered(store, tmp_path, bframes, "ok")
    start = T0_MS / 1000
    t0, t1 = start + lo, start + hi
    try:
        counted = _GetBytes((await files.cache()).store.client)
        reads = _reads()
        found = await ranged.source_segment(files, path, "object", key, start, t0, t1,
                                            tmp_path / "scratch")
        assert found is not None
        assert _reads() == (reads[0] + 1, reads[1])
        # init + first fragment + ~6 one-second fragments of 20: well under the object.
        assert 0 < counted.bytes < size / 2, (counted.bytes, size)
        assert (await files.cache()).usage() == 0  # nothing went through the cache
        new = _mp4(found, t0, t1)
    finally:
        await files.close()
    old = _mp4(SourceSegment(original, start), t0, t1)
    assert new == old
    frames, audio = stamps(new)
    # Played from the first frame at or after the start to the last one before the end.
    assert frames == list(range(T0_MS + shown[0], T0_MS + shown[1], 100))
    assert audio > 0


@pytest.mark.parametrize("case", ["missing", "damaged", "stale", "whole"])
async def test_the_whole_object_without_a_usable_sidecar_or_for_the_whole_segment(
    store: LocalObjectStore, tmp_path: Path, case: str
) -> None:
    files, path, key, original, size = await _tiered(
        store, tmp_path, 0, "ok" if case == "whole" else case)
    start = T0_MS / 1000
    t0, t1 = (start - 1, start + 30) if case == "whole" else (start + 7.45, start + 12.45)
    try:
        counted = _GetBytes((await files.cache()).store.client)
        reads = _reads()
        found = await ranged.source_segment(files, path, "object", key, start, t0, t1,
                                            tmp_path / "scratch")
        assert found is not None
        assert _reads() == (reads[0], reads[1] + 1)
        # A stale sidecar's fragments are fetched, fail the check, then the whole object.
        whole = counted.bytes - size
        assert whole > 0 if case == "stale" else whole == 0, (counted.bytes, size)
        new = _mp4(found, t0, t1)
    finally:
        await files.close()
    assert new == _mp4(SourceSegment(original, start), t0, t1)
    assert not any((tmp_path / "scratch").glob("*.mp4"))


async def test_the_runner_exports_five_seconds_of_a_tiered_segment_by_ranged_gets(
    store: LocalObjectStore, tmp_path: Path, app: FastAPI, settings: Settings,
    maker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The runner's bundle from the ranged path: a fraction of the object fetched, the same
    media, frames and audio as with the path off, and a manifest that verifies."""
    cam = await create_camera(maker, settings.secret_key, name="Tiered")
    files, path, key, _original, size = await _tiered(
        store, tmp_path, 0, "ok", Path(settings.recordings_root()) / f"t{cam.id}")
    async with maker() as s:
        s.add(RecordingSegment(
            camera_id=cam.id, path=str(path.relative_to(settings.recordings_root())),
            kind="continuous",
            started_at=at_ms(T0_MS), ended_at=at_ms(T0_MS + 20_000), duration_s=20.0,
            bytes=size, codec="h264", width=320, height=180, has_audio=True, kept=False,
            deleted_at=None, tier="object", object_key=key))
        await s.commit()
    runner = ExportRunner(settings, maker, app_state(app).bus)
    await runner.segment_files.close()
    # The recordings of this test, on this store (the app's settings have no store).
    runner.segment_files = files
    results = {}
    try:
        counted = _GetBytes((await files.cache()).store.client)
        for on in (True, False):
            monkeypatch.setattr(ranged, "RANGED_EXPORTS", on)
            before, reads = counted.bytes, _reads()
            async with maker() as s:
                export = Export(
                    name=f"tiered {on}", reason="ranged", range_start=at_ms(T0_MS + 7_450),
                    range_end=at_ms(T0_MS + 12_450), state="running", runner=runner.name,
                    attempts=1, heartbeat_at=utcnow(), items=[{
                        "camera_id": cam.id, "start": at_ms(T0_MS + 7_450).isoformat(),
                        "end": at_ms(T0_MS + 12_450).isoformat()}])
                s.add(export)
                await s.commit()
            await runner.execute(export.id)
            assert _reads() == ((reads[0] + 1, reads[1]) if on else (reads[0], reads[1] + 1))
            async with maker() as s:
                done = await s.get(Export, export.id)
            assert done is not None and done.state == "done", done.error if done else None
            bundle = service.bundle_path(settings, done).read_bytes()
            assert verify_bundle(io.BytesIO(bundle)).valid
            [info] = done.files
            with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
                mp4 = zf.read(info["name"])
            # The header names the export (its id): the media after it must be the same.
            head = int.from_bytes(mp4[:4], "big")  # ftyp, then moov, then mdat
            head += int.from_bytes(mp4[head:head + 4], "big")
            assert mp4[head + 4:head + 8] == b"mdat"
            media = mp4[head:]
            results[on] = (counted.bytes - before, media, info["frames"], stamps(mp4))
    finally:
        await files.close()
    assert 0 < results[True][0] < size / 2 and results[False][0] == size, results
    assert results[True][1:] == results[False][1:]
    frames, audio = results[True][3]
    assert frames == list(range(T0_MS + 7500, T0_MS + 12500, 100)) and audio > 0
    # The fetched parts went with the job.
    assert not list(service.exports_dir(settings).glob(".ranged-*"))
