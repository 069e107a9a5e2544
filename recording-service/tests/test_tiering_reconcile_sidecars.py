"""The tiering reconcile removes fragment indexes left with no segment, against a real S3
store: SeaweedFS (``weed server -s3``) on free ports, stopped by its process group at the end.

Such a sidecar is what a back-fill (``tiering/sidecars.py``) leaves when the recorder dies
between writing it and its check while the segment is purged: no local file, no object, no
row. A reconcile pass removes it once it is older than the grace period, and keeps every
other sidecar: one whose object is on the store (with or without a row), a fresh one (an
upload may be on its way), one whose local file is still there, one with a live row.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from recmedia import write_fragmented

from argus_common.objectstore import ObjectStore, ObjectStoreSettings, object_key
from argus_common.segindex import index_path, write_index
from argus_recording.layout import segment_relpath
from argus_recording.management import SegmentIndex
from argus_recording.tiering.reconcile import reconcile
from argus_testkit.objectstore import LocalObjectStore

pytestmark = pytest.mark.timeout(180)

CAMERA = 7
T0 = 1_765_000_000_000
GRACE_S = 3600.0


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalObjectStore]:
    store = LocalObjectStore(tmp_path_factory.mktemp("reconcile") / "s3",
                             bucket="argus-reconcile")
    try:
        store.start()
        yield store
    finally:
        store.stop()


@pytest.fixture
async def store(s3: LocalObjectStore) -> AsyncIterator[tuple[ObjectStore, str]]:
    """A started client of the store and a prefix of this test's own."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    env = {**s3.env(), "ARGUS_S3_PREFIX": prefix}
    client = ObjectStore(ObjectStoreSettings(**env))
    await client.start()
    await client.ensure_bucket()
    try:
        yield client, prefix
    finally:
        await client.close()


class Index:
    """Management's segment index for the reconcile: ``tiered`` rows, nothing else."""

    def __init__(self, tiered: set[str]) -> None:
        self.tiered = tiered

    async def segment_index(self, camera_id: int) -> SegmentIndex:
        assert camera_id == CAMERA
        return SegmentIndex(paths=frozenset(), deleted=(), tiered=frozenset(self.tiered))

    async def confirm_purged(self, ids: list[int]) -> None:
        raise AssertionError(f"nothing is marked deleted: {ids}")


def _sidecar(root: Path, src: Path, n: int, age_s: float, keep_file: bool = False) -> str:
    """Segment ``n`` indexed where the mover would, its sidecar last written ``age_s`` ago,
    its local file removed unless ``keep_file``; its relpath."""
    rel = segment_relpath(CAMERA, T0 + n * 3000)
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(src.read_bytes())
    idx = write_index(path)
    assert idx is not None
    then = time.time() - age_s
    os.utime(idx, (then, then))
    if not keep_file:
        path.unlink()
    return rel


async def test_reconcile_removes_old_sidecars_with_no_segment_only(
    store: tuple[ObjectStore, str], tmp_path: Path
) -> None:
    client, prefix = store
    root = tmp_path / "recordings"
    root.mkdir()
    src = tmp_path / "seg.mp4"
    assert write_fragmented(src, count=30, gop=5) >= 4
    old = 2 * GRACE_S
    orphan = _sidecar(root, src, 0, old)  # purged under a back-fill: nothing else left
    tiered = _sidecar(root, src, 1, old)  # a tiered segment, its row and object there
    unindexed = _sidecar(root, src, 2, old)  # object there, no row (yet): not ours to judge
    fresh = _sidecar(root, src, 3, 5.0)  # no object listed yet: an upload may be on its way
    local = _sidecar(root, src, 4, old, keep_file=True)  # the mover's, before its upload
    elsewhere = _sidecar(root, src, 5, old)  # a live tiered row, its object not listed here
    for rel in (tiered, unindexed):
        await client.put_file(src, object_key(prefix, rel))
    mgmt = Index({tiered, elsewhere})

    counts = await reconcile(client, mgmt, root, prefix, False, GRACE_S)  # type: ignore[arg-type]

    assert not index_path(root / orphan).exists()
    assert counts.get("sidecars") == 1, counts
    for rel in (tiered, unindexed, fresh, local, elsewhere):
        assert index_path(root / rel).is_file(), rel
    assert (root / local).is_file()
    # Nothing else was repaired, and the objects are untouched.
    assert {k: v for k, v in counts.items() if v and k != "sidecars"} == {}, counts
    listed = {i.key async for i in client.list(f"{prefix}/")}
    assert listed == {object_key(prefix, tiered), object_key(prefix, unindexed)}

    # The fresh one, once past the grace period with still no object, goes too.
    then = time.time() - old
    os.utime(index_path(root / fresh), (then, then))
    again = await reconcile(client, mgmt, root, prefix, False, GRACE_S)  # type: ignore[arg-type]
    assert not index_path(root / fresh).exists()
    assert again.get("sidecars") == 1, again
    for rel in (tiered, unindexed, local, elsewhere):
        assert index_path(root / rel).is_file(), rel
