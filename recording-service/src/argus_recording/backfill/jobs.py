"""What the backfill of each camera still has to do, kept on disk.

``RECORDINGS_DIR/.argus/backfill/<camera_id>.json`` (written to a temporary file, fsynced,
renamed, directory fsynced): the end of the last live segment seen (``last_end``), the
live start up to which gaps have been planned (``planned_until``), and the pending ranges
(``jobs``, epoch ms, oldest first). A range shrinks as its segments are written, so a
backfill cut off by another outage, a restart or ``kill -9`` resumes where it stopped.

Recorders share the volume and a camera moves between them, so every change is a
read-modify-write of the file (under the camera's writer lock only its holder changes it):
a recorder taking a camera over continues the previous holder's ``last_end`` and pending
ranges, so the takeover gap becomes a job, even when the segments its reconcile announces
reach the planner before anything else has re-read the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argus_recording.layout import fsync_dir

MAX_JOBS = 1000  # per camera: a flapping link must not grow the file without bound


@dataclass
class CameraBackfill:
    """The persisted backfill state of one camera."""

    camera_id: int
    last_end: int | None = None
    planned_until: int = 0
    jobs: list[list[int]] = field(default_factory=list)
    unsupported: bool = False  # the camera has no Profile G (checked, gap kept)

    def to_json(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "last_end": self.last_end,
            "planned_until": self.planned_until,
            "jobs": self.jobs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CameraBackfill:
        jobs = [[int(a), int(b)] for a, b in data.get("jobs", []) if int(b) > int(a)]
        last = data.get("last_end")
        return cls(
            int(data["camera_id"]),
            int(last) if last is not None else None,
            int(data.get("planned_until") or 0),
            jobs[-MAX_JOBS:],
        )


class JobStore:
    """Every camera's ``CameraBackfill``; thread-safe (closer threads observe segments,
    backfill threads record progress, the loop plans)."""

    def __init__(self, directory: Path, durable: bool) -> None:
        self.directory = directory
        self.durable = durable
        self._lock = threading.Lock()
        self._cameras: dict[int, CameraBackfill] = {}
        self._loaded = False

    def load(self) -> None:
        """Read what a previous run left (unreadable files are set aside, not fatal)."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            for path in self.directory.glob("*.json"):
                try:
                    state = CameraBackfill.from_json(json.loads(path.read_text()))
                except (OSError, ValueError, KeyError, TypeError):
                    with contextlib.suppress(OSError):
                        path.rename(path.with_suffix(".bad"))
                    continue
                self._cameras[state.camera_id] = state
            self._loaded = True

    def reload(self, camera_id: int) -> None:
        """Read one camera's file again: another recorder may have held the camera since
        this one started (they share the volume; only the lock holder writes it)."""
        with self._lock:
            self._read(camera_id)

    def _read(self, camera_id: int) -> None:
        path = self.directory / f"{camera_id}.json"
        try:
            self._cameras[camera_id] = CameraBackfill.from_json(json.loads(path.read_text()))
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError):
            with contextlib.suppress(OSError):
                path.rename(path.with_suffix(".bad"))

    def drop_oldest(self, camera_id: int) -> list[int] | None:
        """Give up the camera's oldest pending range (persisted); returns it."""
        with self._lock:
            self._read(camera_id)
            state = self._get(camera_id)
            if not state.jobs:
                return None
            job = state.jobs.pop(0)
            self._write(state)
            return job

    def get(self, camera_id: int) -> CameraBackfill:
        with self._lock:
            return self._get(camera_id)

    def _get(self, camera_id: int) -> CameraBackfill:
        state = self._cameras.get(camera_id)
        if state is None:
            state = self._cameras[camera_id] = CameraBackfill(camera_id)
        return state

    def update(self, camera_id: int, change: Any) -> CameraBackfill:
        """Apply ``change(state)`` (returns whether it changed anything) to the state on
        disk (another recorder may have written it since) and persist."""
        with self._lock:
            self._read(camera_id)
            state = self._get(camera_id)
            if change(state):
                self._write(state)
            return CameraBackfill(
                state.camera_id,
                state.last_end,
                state.planned_until,
                [list(j) for j in state.jobs],
                state.unsupported,
            )

    def pending(self) -> dict[int, list[int]]:
        """The oldest pending range of every camera that has one."""
        with self._lock:
            return {c: list(s.jobs[0]) for c, s in self._cameras.items() if s.jobs}

    def _write(self, state: CameraBackfill) -> None:
        path = self.directory / f"{state.camera_id}.json"
        tmp = path.with_suffix(".tmp")
        data = json.dumps(state.to_json()).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
            if self.durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        if self.durable:
            fsync_dir(self.directory)


def subtract(
    lo: int, hi: int, covered: list[tuple[int, int]], min_ms: int
) -> list[tuple[int, int]]:
    """Parts of ``[lo, hi)`` no span of ``covered`` holds, each at least ``min_ms`` long."""
    out: list[tuple[int, int]] = []
    cursor = lo
    for a, b in sorted(covered):
        if b <= cursor:
            continue
        if a >= hi:
            break
        if a - cursor >= min_ms:
            out.append((cursor, min(a, hi)))
        cursor = max(cursor, b)
    if hi - cursor >= min_ms:
        out.append((cursor, hi))
    return out
