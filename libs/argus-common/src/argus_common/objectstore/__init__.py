"""S3-compatible object storage for recordings (tiering, playback, export).

One client (:class:`~argus_common.objectstore.client.ObjectStore`, on aiobotocore) for
any S3 endpoint (AWS S3, MinIO, Ceph RGW, SeaweedFS), configured by ``ARGUS_S3_*``
(:class:`~argus_common.objectstore.settings.ObjectStoreSettings`), and a size-bounded
read-through cache on local disk (:class:`~argus_common.objectstore.cache.ReadThroughCache`)
that turns an object into a local file for readers that need one (PyAV, the exporter).
"""

from argus_common.objectstore.cache import ReadThroughCache
from argus_common.objectstore.client import ObjectInfo, ObjectStore, ObjectStoreError
from argus_common.objectstore.segments import SegmentFiles
from argus_common.objectstore.settings import ObjectStoreSettings, object_key

__all__ = [
    "ObjectInfo",
    "ObjectStore",
    "ObjectStoreError",
    "ObjectStoreSettings",
    "ReadThroughCache",
    "SegmentFiles",
    "object_key",
]
