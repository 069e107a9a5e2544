"""The recorder's calls to management: the shared client plus the segment index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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


@dataclass(frozen=True)
class Protected:
    """Per camera, protected ``(start_ms, end_ms)`` ranges, and kept segments' paths."""

    ranges: dict[int, list[tuple[int, int]]]
    kept_paths: frozenset[str]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Protected:
        ranges: dict[int, list[tuple[int, int]]] = {}
        for item in body.get("ranges", []):
            lo = datetime.fromisoformat(str(item["start"]).replace("Z", "+00:00"))
            hi = datetime.fromisoformat(str(item["end"]).replace("Z", "+00:00"))
            ranges.setdefault(int(item["camera_id"]), []).append(
                (int(lo.timestamp() * 1000), int(hi.timestamp() * 1000)))
        return cls(ranges, frozenset(str(p) for p in body.get("kept_paths", [])))

    def to_json(self) -> dict[str, Any]:
        return {"ranges": [{"camera_id": c, "start": _iso(lo), "end": _iso(hi)}
                           for c, spans in self.ranges.items() for lo, hi in spans],
                "kept_paths": sorted(self.kept_paths)}

    def covers(self, camera_id: int, relpath: str, start_ms: int, end_ms: int) -> bool:
        """Whether a file of ``camera_id`` spanning ``[start_ms, end_ms]`` is protected."""
        return relpath in self.kept_paths or any(
            start_ms <= hi and end_ms >= lo for lo, hi in self.ranges.get(camera_id, ()))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


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

    async def protected(self, pre_roll_s: float, post_roll_s: float) -> Protected:
        """What the local disk guard must not delete (kept events, legal holds, kept
        segments)."""
        resp = await self.call("GET", "/internal/segments/protected",
                               params={"pre_roll_s": pre_roll_s, "post_roll_s": post_roll_s})
        self.check(resp)
        return Protected.from_json(resp.json())

    async def forget_missing(self, camera_id: int, paths: list[str]) -> None:
        """Indexed files that no longer exist leave the index."""
        for i in range(0, len(paths), 10_000):
            resp = await self.call("POST", "/internal/segments/missing",
                                   json={"camera_id": camera_id, "paths": paths[i : i + 10_000]})
            self.check(resp)
