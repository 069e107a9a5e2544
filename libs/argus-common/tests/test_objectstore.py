"""argus_common.objectstore against a real S3 store (SeaweedFS from the test kit): verified
uploads, ranged reads, the read-through cache's single fetch and size bound, errors."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from argus_common.objectstore import (
    ObjectStore,
    ObjectStoreError,
    ObjectStoreSettings,
    ReadThroughCache,
    SegmentFiles,
    object_key,
)
from argus_testkit.objectstore import LocalObjectStore

MIB = 2**20


@pytest.fixture(scope="module")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalObjectStore]:
    with LocalObjectStore(tmp_path_factory.mktemp("s3"), bucket="argus-common-test") as s:
        yield s


def _settings(store: LocalObjectStore, **extra: str) -> ObjectStoreSettings:
    return ObjectStoreSettings(**{**store.env(), "ARGUS_S3_PART_BYTES": str(MIB), **extra})


@pytest.fixture
async def client(local_store: LocalObjectStore) -> AsyncIterator[ObjectStore]:
    async with ObjectStore(_settings(local_store)) as store:
        yield store


async def test_put_file_is_verified_and_ranges_read_back(
    client: ObjectStore, tmp_path: Path
) -> None:
    data = os.urandom(3 * MIB + 123)
    path = tmp_path / "seg.mp4"
    path.write_bytes(data)
    info = await client.put_file(path, "1/2026-12-05/10/1.mp4")
    assert info.size == len(data)
    assert info.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert await client.get_range(info.key, 10, 19) == data[10:20]
    dest = tmp_path / "copy"
    await client.download(info.key, dest, len(data))  # 4 ranged GETs of 1 MiB
    assert dest.read_bytes() == data
    listed = [i.key async for i in client.list("1/")]
    assert listed == [info.key]
    await client.delete(info.key)
    await client.delete(info.key)  # a missing object is not an error
    assert await client.head(info.key) is None


async def test_errors_are_object_store_errors(client: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(ObjectStoreError):
        await client.put_file(tmp_path / "missing.mp4", "x.mp4")
    with pytest.raises(ObjectStoreError):
        await client.get_range("no/such/object.mp4", 0, 9)


async def test_wrong_secret_is_refused_without_leaking_it(
    local_store: LocalObjectStore, tmp_path: Path
) -> None:
    settings = ObjectStoreSettings(
        **{
            **local_store.env(),
            "ARGUS_S3_SECRET_ACCESS_KEY_FILE": "",
            "ARGUS_S3_SECRET_ACCESS_KEY": "wrong-secret-value",
        }
    )
    (tmp_path / "f").write_bytes(b"x")
    async with ObjectStore(settings) as store:
        with pytest.raises(ObjectStoreError) as caught:
            await store.put_file(tmp_path / "f", "f.mp4")
    assert "wrong-secret-value" not in str(caught.value)


async def test_cache_fetches_once_and_stays_within_its_bound(
    client: ObjectStore, tmp_path: Path
) -> None:
    bodies = {}
    for n in range(3):
        data = os.urandom(MIB + n)
        (tmp_path / f"{n}.mp4").write_bytes(data)
        await client.put_file(tmp_path / f"{n}.mp4", f"c/{n}.mp4")
        bodies[f"c/{n}.mp4"] = data
    cache = ReadThroughCache(client, tmp_path / "cache", max_bytes=int(2.5 * MIB))
    # Many readers of one object at once: one fetch.
    paths = await asyncio.gather(*(cache.path("c/0.mp4") for _ in range(5)))
    assert len(set(paths)) == 1 and paths[0].read_bytes() == bodies["c/0.mp4"]
    assert cache.misses == 1
    assert await cache.path("c/0.mp4") == paths[0] and cache.hits == 1
    os.utime(paths[0], (1, 1))  # the least recently used
    for key in ("c/1.mp4", "c/2.mp4"):
        assert (await cache.path(key)).read_bytes() == bodies[key]
    assert not paths[0].exists()  # evicted
    assert cache.usage() <= 2.5 * MIB
    assert not list((tmp_path / "cache").glob(".*.part"))
    with pytest.raises(ObjectStoreError):
        await cache.path("c/none.mp4")
    for key in bodies:
        await client.delete(key)


async def test_segment_files_read_either_tier(
    local_store: LocalObjectStore, client: ObjectStore, tmp_path: Path
) -> None:
    root = tmp_path / "recordings"
    local = root / "5/2026-12-05/10/1.mp4"
    local.parent.mkdir(parents=True)
    local.write_bytes(b"local")
    remote = tmp_path / "remote.mp4"
    remote.write_bytes(b"remote")
    key = object_key("site-a", "5/2026-12-05/10/2.mp4")
    assert key == "site-a/5/2026-12-05/10/2.mp4"
    await client.put_file(remote, key)
    files = SegmentFiles(root, _settings(local_store, ARGUS_S3_CACHE_DIR=str(tmp_path / "c")))
    try:
        assert await files.local_path(local, "local", None) == local
        got = await files.local_path(root / "5/2026-12-05/10/2.mp4", "object", key)
        assert got is not None and got.read_bytes() == b"remote"
        assert await files.local_path(root / "nope.mp4", "object", "no/such.mp4") is None
    finally:
        await files.close()
        await client.delete(key)


async def test_large_files_go_up_in_parts_and_are_verified(
    local_store: LocalObjectStore, tmp_path: Path
) -> None:
    """Above ARGUS_S3_MULTIPART_BYTES: parts of max(part size, 5 MiB), the multipart ETag
    checked; smaller files stay single PUTs (an MD5 ETag)."""
    settings = _settings(
        local_store, ARGUS_S3_PART_BYTES=str(5 * MIB), ARGUS_S3_MULTIPART_BYTES=str(5 * MIB)
    )
    data = os.urandom(12 * MIB + 77)  # parts of 5, 5 and 2 MiB + 77 B
    path = tmp_path / "big.mp4"
    path.write_bytes(data)
    small = tmp_path / "small.mp4"
    small.write_bytes(data[: 5 * MIB])
    async with ObjectStore(settings) as store:
        info = await store.put_file(path, "9/big.mp4")
        md5s = [
            hashlib.md5(data[o : o + 5 * MIB], usedforsecurity=False).digest()
            for o in range(0, len(data), 5 * MIB)
        ]
        joined = hashlib.md5(b"".join(md5s), usedforsecurity=False).hexdigest()
        assert (info.size, info.etag) == (len(data), f"{joined}-3")
        dest = tmp_path / "back"
        await store.download(info.key, dest, info.size)
        assert dest.read_bytes() == data
        single = await store.put_file(small, "9/small.mp4")
        assert single.etag == hashlib.md5(data[: 5 * MIB], usedforsecurity=False).hexdigest()
        # No upload is left open (a failed one would be aborted; this one completed).
        open_uploads = await store.client.list_multipart_uploads(Bucket=store.bucket)
        assert open_uploads.get("Uploads", []) == []


async def test_a_failed_multipart_upload_is_aborted(
    local_store: LocalObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part that cannot be read (a disk error, stood in for by failing the local read of
    the second part: the store is real) fails the upload, and the store keeps no parts."""
    from argus_common.objectstore import client as client_module

    settings = _settings(
        local_store, ARGUS_S3_PART_BYTES=str(5 * MIB), ARGUS_S3_MULTIPART_BYTES=str(5 * MIB)
    )
    path = tmp_path / "big.mp4"
    path.write_bytes(os.urandom(11 * MIB))
    real_read = client_module.read_part

    def failing_read(p: Path, offset: int, size: int) -> bytes:
        if offset > 0:
            raise OSError("I/O error")
        return real_read(p, offset, size)

    monkeypatch.setattr(client_module, "read_part", failing_read)
    async with ObjectStore(settings) as store:
        with pytest.raises(ObjectStoreError, match="cannot read"):
            await store.put_file(path, "9/broken.mp4")
        assert await store.head("9/broken.mp4") is None
        open_uploads = await store.client.list_multipart_uploads(Bucket=store.bucket)
        assert [u["Key"] for u in open_uploads.get("Uploads", [])] == []
