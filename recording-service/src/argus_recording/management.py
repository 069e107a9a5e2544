"""The recorder's calls to management: the shared client plus the segment index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argus_common.management import ManagementClient
from argus_recording.cameras import CameraConfig


@dataclass(frozen=True)
class PurgeItem:
    """A segment to delete, already marked deleted in the index."""

    id: int
    camera_id: int
    path: str
    bytes: int
    kind: str
    tier: str = "local"  # "object": the segment is ``object_key`` on the object store
    object_key: str | None = None


@dataclass(frozen=True)
class SegmentIndex:
    """What the index holds for one camera (``tiered``: live rows on the object store)."""

    paths: frozenset[str]
    deleted: tuple[PurgeItem, ...]
    tiered: frozenset[str] = frozenset()


def _items(raw: list[dict[str, Any]]) -> list[PurgeItem]:
    return [
        PurgeItem(id=int(i["id"]), camera_id=int(i["camera_id"]), path=str(i["path"]),
                  bytes=int(i["bytes"]), kind=str(i["kind"]), tier=str(i.get("tier", "local")),
                  object_key=i.get("object_key"))
        for i in raw
    ]


class RecordingManagement(ManagementClient[CameraConfig]):
    """``ManagementClient`` with the recorder's calls; any failure is ``Unavailable`` or
    ``Refused`` (``argus_common.management``)."""

    def __init__(self, base_url: str, internal_key: str, timeout_s: float = 10.0) -> None:
        super().__init__(base_url, internal_key, CameraConfig, user_agent="argus-recording",
                         timeout=timeout_s)

    async def segment_index(self, camera_id: int) -> SegmentIndex:
        """The indexed paths of a camera and its rows marked deleted."""
        resp = await self.call("GET", "/internal/segments/index", params={"camera_id": camera_id})
        self.check(resp)
        body = resp.json()
        return SegmentIndex(paths=frozenset(body["paths"]), deleted=tuple(_items(body["deleted"])),
                            tiered=frozenset(body.get("tiered", ())))

    async def purge_candidates(self, **request: Any) -> list[PurgeItem]:
        """Segments to delete (``mode="age"`` or ``mode="space", bytes=N``), marked deleted."""
        resp = await self.call("POST", "/internal/segments/purge-candidates", json=request)
        self.check(resp)
        return _items(resp.json()["items"])

    async def confirm_purged(self, ids: list[int]) -> None:
        """The files of ``ids`` are gone: their rows may go."""
        for i in range(0, len(ids), 5000):
            resp = await self.call("POST", "/internal/segments/purged",
                                   json={"ids": ids[i : i + 5000]})
            self.check(resp)

    async def forget_missing(self, camera_id: int, paths: list[str]) -> None:
        """Indexed files that no longer exist leave the index."""
        for i in range(0, len(paths), 10_000):
            resp = await self.call("POST", "/internal/segments/missing",
                                   json={"camera_id": camera_id, "paths": paths[i : i + 10_000]})
            self.check(resp)
