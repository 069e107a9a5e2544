"""The one S3 client of ARGUS, on aiobotocore (asyncio, botocore's signing and retries).

Uploads are single PUTs carrying ``Content-MD5``: the store refuses a body that does not
match it. A file larger than ``ARGUS_S3_MULTIPART_BYTES`` goes up as a multipart upload
instead, each part with its own ``Content-MD5`` and only a few parts in memory at once; its
ETag is then the MD5 of the parts' MD5s and their count. :meth:`ObjectStore.put_file` then
reads the object's head back and checks the size and, where the ETag is the MD5 (a single
PUT without KMS encryption) or the multipart one, that too, before it reports success, so a
caller only ever points the index at an object known to be whole. (A SHA-256 as metadata
cost a second hash pass per body, a fifth of the upload throughput on the 2-core machine;
the MD5 the store checks already covers transfer damage.) Reads are ranged GETs, several at
once for a whole object (:meth:`ObjectStore.download`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from argus_common.objectstore.settings import ObjectStoreSettings

_READ = 1 << 20
_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART_ETAG = re.compile(r"^[0-9a-f]{32}-[0-9]+$")
_MIN_PART = 5 * 2**20  # S3's smallest part (all but the last)


class ObjectStoreError(Exception):
    """The store could not be reached or refused the request (never holds credentials)."""


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD or a listing says of one object."""

    key: str
    size: int
    etag: str
    sha256: str | None = None
    last_modified: float = 0.0


@dataclass(frozen=True)
class FileDigest:
    """Size, MD5 and SHA-256 of a local file."""

    size: int
    md5: bytes
    sha256: str | None = None


def digest_file(path: Path) -> FileDigest:
    """Hash a file once for both checksums (blocking: run in a thread)."""
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    size = 0
    with path.open("rb", buffering=0) as f:
        while chunk := f.read(_READ):
            md5.update(chunk)
            sha.update(chunk)
            size += len(chunk)
    return FileDigest(size, md5.digest(), sha.hexdigest())


def read_and_digest(path: Path) -> tuple[bytes, FileDigest]:
    """The file's bytes and their MD5, from one read (blocking: run in a thread)."""
    body = path.read_bytes()
    return body, FileDigest(len(body), hashlib.md5(body, usedforsecurity=False).digest())


def read_part(path: Path, offset: int, size: int) -> bytes:
    """``size`` bytes of ``path`` at ``offset`` (blocking: run in a thread)."""
    with path.open("rb", buffering=0) as f:
        f.seek(offset)
        return f.read(size)


def multipart_etag(part_md5s: list[bytes]) -> str:
    """The ETag S3 gives a multipart object: MD5 of the parts' MD5s, ``-`` their count."""
    joined = hashlib.md5(b"".join(part_md5s), usedforsecurity=False).hexdigest()
    return f"{joined}-{len(part_md5s)}"


def _error(exc: BaseException, what: str) -> ObjectStoreError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "?")
        return ObjectStoreError(f"{what}: the store answered {code}")
    return ObjectStoreError(f"{what}: {type(exc).__name__}")


def _is_missing(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket")


_FAILURES = (BotoCoreError, ClientError, OSError, asyncio.TimeoutError)


class ObjectStore:
    """A client of one bucket. ``async with ObjectStore(settings) as store: ...``."""

    def __init__(self, settings: ObjectStoreSettings) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None

    async def __aenter__(self) -> ObjectStore:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Create the HTTP client (no request is made)."""
        s = self.settings
        config = Config(
            # Content-MD5 guards every body: no second SHA-256 pass to sign it, even
            # over plain HTTP (a loopback or in-cluster store).
            s3={
                "addressing_style": "path" if s.path_style else "auto",
                "payload_signing_enabled": False,
            },
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=min(s.timeout_s, 10.0),
            read_timeout=s.timeout_s,
            max_pool_connections=max(10, s.concurrency * 2),
            # Content-MD5 already protects each PUT: no extra CRC pass over the body.
            request_checksum_calculation="when_required",
        )
        secret = await asyncio.to_thread(s.secret)
        self._client = await self._stack.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=s.endpoint_url or None,
                region_name=s.region,
                aws_access_key_id=s.access_key_id or None,
                aws_secret_access_key=secret or None,
                config=config,
            )
        )

    async def close(self) -> None:
        """Close the HTTP client. Safe to call twice."""
        self._client = None
        await self._stack.aclose()

    @property
    def client(self) -> Any:
        if self._client is None:
            raise ObjectStoreError("object store client not started")
        return self._client

    async def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (an existing one is left as it is)."""
        try:
            await self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if not _is_missing(exc):
                raise _error(exc, "head bucket") from exc
        except _FAILURES as exc:
            raise _error(exc, "head bucket") from exc
        try:
            await self.client.create_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise _error(exc, "create bucket") from exc
        except _FAILURES as exc:
            raise _error(exc, "create bucket") from exc

    async def put_file(self, path: Path, key: str) -> ObjectInfo:
        """Upload ``path`` as ``key`` and check what the store holds: same size, and the
        same MD5 where the ETag is one (the store checked Content-MD5 already). Raises
        ``ObjectStoreError`` on any mismatch; an object that failed the check is left for
        the caller to retry (the next PUT of the same key replaces it)."""
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except OSError as exc:
            raise ObjectStoreError(f"upload: cannot read the file ({type(exc).__name__})") from exc
        if size > self.settings.multipart_bytes:
            return await self._put_multipart(path, key, size)
        try:
            body, digest = await asyncio.to_thread(read_and_digest, path)
        except OSError as exc:
            raise ObjectStoreError(f"upload: cannot read the file ({type(exc).__name__})") from exc
        try:
            await self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="video/mp4",
                ContentMD5=base64.b64encode(digest.md5).decode(),
            )
        except _FAILURES as exc:
            raise _error(exc, "upload") from exc
        info = await self.head(key)
        if info is None:
            raise ObjectStoreError("upload: the object is missing after the PUT")
        if info.size != digest.size:
            raise ObjectStoreError(f"upload: size {info.size} != {digest.size}")
        if _MD5_ETAG.match(info.etag) and info.etag != digest.md5.hex():
            raise ObjectStoreError("upload: checksum mismatch")
        return info

    async def _put_multipart(self, path: Path, key: str, size: int) -> ObjectInfo:
        """Upload ``path`` in parts, ``concurrency`` at once; checked like a single PUT (the
        size, and the multipart ETag where the store gives one). A failed upload is aborted
        (its parts deleted)."""
        part = max(self.settings.part_bytes, _MIN_PART)
        offsets = list(range(0, size, part))
        md5s: list[bytes] = [b""] * len(offsets)
        gate = asyncio.Semaphore(self.settings.concurrency)
        try:
            created = await self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType="video/mp4"
            )
        except _FAILURES as exc:
            raise _error(exc, "upload") from exc
        upload_id = created["UploadId"]

        async def one(i: int) -> dict[str, Any]:
            async with gate:
                try:
                    data = await asyncio.to_thread(read_part, path, offsets[i], part)
                except OSError as exc:
                    raise ObjectStoreError(
                        f"upload: cannot read the file ({type(exc).__name__})"
                    ) from exc
                if len(data) != min(part, size - offsets[i]):
                    raise ObjectStoreError("upload: the file changed during the upload")
                md5s[i] = hashlib.md5(data, usedforsecurity=False).digest()
                try:
                    resp = await self.client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=i + 1,
                        Body=data,
                        ContentMD5=base64.b64encode(md5s[i]).decode(),
                    )
                except _FAILURES as exc:
                    raise _error(exc, "upload part") from exc
                return {"PartNumber": i + 1, "ETag": resp["ETag"]}

        tasks = [asyncio.ensure_future(one(i)) for i in range(len(offsets))]
        try:
            parts = await asyncio.gather(*tasks)
            await self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": list(parts)},
            )
        except BaseException as exc:
            for task in tasks:  # no part may land after the abort
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(*_FAILURES):
                await self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id
                )
            if isinstance(exc, _FAILURES):
                raise _error(exc, "upload") from exc
            raise
        info = await self.head(key)
        if info is None:
            raise ObjectStoreError("upload: the object is missing after the upload")
        if info.size != size:
            raise ObjectStoreError(f"upload: size {info.size} != {size}")
        if _MULTIPART_ETAG.match(info.etag) and info.etag != multipart_etag(md5s):
            raise ObjectStoreError("upload: checksum mismatch")
        return info

    async def head(self, key: str) -> ObjectInfo | None:
        """The object's size and checksums, or None when there is no such object."""
        try:
            resp = await self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise _error(exc, "head") from exc
        except _FAILURES as exc:
            raise _error(exc, "head") from exc
        meta = resp.get("Metadata") or {}
        modified = resp.get("LastModified")
        return ObjectInfo(
            key=key,
            size=int(resp["ContentLength"]),
            etag=str(resp.get("ETag", "")).strip('"'),
            sha256=meta.get("sha256"),
            last_modified=modified.timestamp() if modified is not None else 0.0,
        )

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (inclusive) of the object."""
        try:
            resp = await self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}"
            )
            async with resp["Body"] as body:
                data: bytes = await body.read()
        except _FAILURES as exc:
            raise _error(exc, "ranged get") from exc
        return data

    async def download(self, key: str, dest: Path, size: int) -> None:
        """Write the whole object (``size`` bytes) to ``dest`` with ranged GETs, at most
        ``concurrency`` at once, each written at its offset."""
        part = self.settings.part_bytes
        gate = asyncio.Semaphore(self.settings.concurrency)
        fd = await asyncio.to_thread(os.open, dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:

            async def fetch(offset: int) -> None:
                async with gate:
                    data = await self.get_range(key, offset, min(offset + part, size) - 1)
                if len(data) != min(part, size - offset):
                    raise ObjectStoreError("ranged get: short read")
                await asyncio.to_thread(os.pwrite, fd, data, offset)

            await asyncio.gather(*(fetch(o) for o in range(0, size, part)))
        finally:
            await asyncio.to_thread(os.close, fd)

    async def delete(self, key: str) -> None:
        """Delete ``key`` (a missing object is not an error)."""
        try:
            await self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if not _is_missing(exc):
                raise _error(exc, "delete") from exc
        except _FAILURES as exc:
            raise _error(exc, "delete") from exc

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Every object under ``prefix``, page by page."""
        token: str | None = None
        while True:
            args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": 1000}
            if token:
                args["ContinuationToken"] = token
            try:
                resp = await self.client.list_objects_v2(**args)
            except _FAILURES as exc:
                raise _error(exc, "list") from exc
            for item in resp.get("Contents", []):
                modified = item.get("LastModified")
                yield ObjectInfo(
                    key=str(item["Key"]),
                    size=int(item["Size"]),
                    etag=str(item.get("ETag", "")).strip('"'),
                    last_modified=modified.timestamp() if modified is not None else 0.0,
                )
            if not resp.get("IsTruncated"):
                return
            token = resp.get("NextContinuationToken")
