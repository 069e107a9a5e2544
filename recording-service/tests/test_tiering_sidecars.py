"""The back-fill of missing fragment indexes (``tiering/sidecars.py``) against a real S3 store:
SeaweedFS (``weed server -s3``) on free ports, stopped by its process group at the end.

Segments are put on the store the way the mover uploads them, but without their sidecar (as
before the recorder wrote them): a pass makes each one, byte for byte what the indexer makes
of the object; a damaged object is skipped (and not tried again until it changes); a pass
killed with SIGKILL during a download leaves no sidecar, whole or partial, and the next pass
sweeps its temp file.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from recmedia import write_fragmented

from argus_common.mp4index import index_file
from argus_common.objectstore import ObjectStore, ObjectStoreSettings, object_key
from argus_common.segindex import encode, index_path, write_index
from argus_recording.layout import segment_relpath
from argus_recording.tiering.sidecars import TEMP_DIR, SidecarBackfill
from argus_testkit.objectstore import LocalObjectStore

pytestmark = pytest.mark.timeout(180)

CAMERA = 7
T0 = 1_765_000_000_000


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalObjectStore]:
    store = LocalObjectStore(tmp_path_factory.mktemp("sidecars") / "s3", bucket="argus-sidecars")
    try:
        store.start()
        yield store
    finally:
        store.stop()


def _settings(s3: LocalObjectStore, prefix: str, **extra: str) -> dict[str, str]:
    return {**s3.env(), "ARGUS_S3_PREFIX": prefix, **extra}


@pytest.fixture
async def store(s3: LocalObjectStore) -> AsyncIterator[tuple[ObjectStore, str]]:
    """A started client of the store and a prefix of this test's own."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    client = ObjectStore(ObjectStoreSettings(**_settings(s3, prefix)))  # type: ignore[arg-type]
    await client.start()
    await client.ensure_bucket()
    try:
        yield client, prefix
    finally:
        await client.close()


def _job(client: ObjectStore, prefix: str, root: Path, flag: list[bool] | None = None
         ) -> SidecarBackfill:
    """The job as the lease holder runs it (or while ``flag[0]`` is true)."""
    active = flag if flag is not None else [True]
    return SidecarBackfill(client, root, prefix, False, per_minute=6000, concurrency=2,
                           interval_s=3600.0, active=lambda: active[0])


def _metric(outcome: str) -> float:
    value = REGISTRY.get_sample_value("argus_recording_tier_sidecar_backfill_total",
                                      {"outcome": outcome})
    return float(value or 0.0)


async def _tier(client: ObjectStore, prefix: str, src: Path, n: int) -> str:
    """Upload ``src`` as segment ``n`` of the camera (the mover's key); its relpath."""
    rel = str(segment_relpath(CAMERA, T0 + n * 3000))
    await client.put_file(src, object_key(prefix, rel))
    return rel


def _expected(src: Path) -> bytes:
    return encode(index_file(src), src.stat().st_size)


async def test_missing_sidecars_are_made_as_the_indexer_makes_them(
    store: tuple[ObjectStore, str], tmp_path: Path
) -> None:
    client, prefix = store
    root, src = tmp_path / "recordings", tmp_path / "src"
    root.mkdir()
    src.mkdir()
    sources = []
    for n, count in enumerate((30, 45, 60, 20, 25)):
        sources.append(src / f"{n}.mp4")
        assert write_fragmented(sources[-1], count=count, gop=5) >= 4
    tiered = [await _tier(client, prefix, sources[n], n) for n in range(3)]
    # One tiered with its sidecar (the mover's), one whose local copy is still there.
    done = await _tier(client, prefix, sources[3], 3)
    (root / done).parent.mkdir(parents=True, exist_ok=True)
    (root / done).write_bytes(sources[3].read_bytes())
    assert write_index(root / done) is not None
    (root / done).unlink()
    before = index_path(root / done).stat().st_mtime_ns
    local = await _tier(client, prefix, sources[4], 4)
    (root / local).write_bytes(sources[4].read_bytes())

    holder = [False]
    job = _job(client, prefix, root, holder)
    assert await job.tick() is None  # not the tiering lease holder: nothing
    assert not any(index_path(root / rel).exists() for rel in tiered)

    made = _metric("made")
    holder[0] = True
    counts = await job.tick()
    assert counts is not None and counts["made"] == 3, counts
    for n, rel in enumerate(tiered):
        assert not (root / rel).exists()
        assert index_path(root / rel).read_bytes() == _expected(sources[n]), rel
    assert index_path(root / done).stat().st_mtime_ns == before
    assert not index_path(root / local).exists()  # the mover's or the reconcile's
    assert _metric("made") - made == 3
    assert list((root / TEMP_DIR).iterdir()) == []
    assert not list(root.rglob("*.tmp"))
    # Done: the next pass finds nothing missing.
    again = await job.run_pass()
    assert again["made"] == 0 and again["failed"] == 0, again


async def test_a_damaged_object_is_skipped_until_it_changes(
    store: tuple[ObjectStore, str], tmp_path: Path
) -> None:
    client, prefix = store
    root = tmp_path / "recordings"
    root.mkdir()
    good = tmp_path / "good.mp4"
    write_fragmented(good, count=30, gop=5)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\0\0\0\x18ftypisom" + os.urandom(4096))
    ok_rel = await _tier(client, prefix, good, 0)
    bad_rel = await _tier(client, prefix, bad, 1)
    job = _job(client, prefix, root)
    damaged = _metric("damaged")

    first = await job.run_pass()
    assert first["made"] == 1 and first["damaged"] == 1 and first["failed"] == 0, first
    assert index_path(root / ok_rel).read_bytes() == _expected(good)
    assert not index_path(root / bad_rel).exists()
    assert _metric("damaged") - damaged == 1
    # Remembered: not downloaded again while it is the same object.
    second = await job.run_pass()
    assert second["damaged"] == 0 and second["made"] == 0, second
    # Replaced by a readable segment (another ETag): it gets its sidecar.
    await client.put_file(good, object_key(prefix, bad_rel))
    third = await job.run_pass()
    assert third["made"] == 1, third
    assert index_path(root / bad_rel).read_bytes() == _expected(good)
    assert list((root / TEMP_DIR).iterdir()) == []


CHILD = """
import asyncio, sys
from pathlib import Path
from argus_common.objectstore import ObjectStore, ObjectStoreSettings
from argus_recording.tiering.sidecars import SidecarBackfill

async def main() -> None:
    store = ObjectStore(ObjectStoreSettings())
    await store.start()
    job = SidecarBackfill(store, Path(sys.argv[1]), sys.argv[2], False, per_minute=6000,
                          concurrency=1, interval_s=3600.0, active=lambda: True)
    await job.run_pass()

asyncio.run(main())
"""


async def test_a_killed_pass_leaves_no_sidecar(
    s3: LocalObjectStore, store: tuple[ObjectStore, str], tmp_path: Path
) -> None:
    client, prefix = store
    root = tmp_path / "recordings"
    root.mkdir()
    seg = tmp_path / "seg.mp4"
    write_fragmented(seg, count=30, gop=5)
    big = tmp_path / "big.mp4"
    with open(big, "wb") as out:  # a segment padded with a large box: slow to download
        out.write(seg.read_bytes())
        out.write((8 + 48 * 2**20).to_bytes(4, "big") + b"free" + os.urandom(48 * 2**20))
    rel = await _tier(client, prefix, big, 0)
    env = {**os.environ, **_settings(s3, prefix, ARGUS_S3_PART_BYTES=str(2**20),
                                     ARGUS_S3_CONCURRENCY="1")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(root), prefix], env=env)
    temp = root / TEMP_DIR
    try:
        deadline = time.monotonic() + 60
        while not _downloading(temp):
            assert child.poll() is None, "the pass ended before it could be killed"
            assert time.monotonic() < deadline, "no download under way"
            await asyncio.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    assert not index_path(root / rel).exists()
    assert not list(root.rglob("*.idx*"))
    assert len(list(temp.iterdir())) == 1  # the killed download, no longer locked

    counts = await _job(client, prefix, root).run_pass()
    assert list(temp.iterdir()) == []  # swept, and the new download removed
    assert counts["made"] == 1, counts
    assert index_path(root / rel).read_bytes() == _expected(big)


def _downloading(temp: Path) -> bool:
    try:
        return any(e.stat().st_size > 0 for e in os.scandir(temp))
    except FileNotFoundError:
        return False
