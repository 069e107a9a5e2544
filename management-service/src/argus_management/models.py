"""Imports every ORM model so the metadata is complete (Alembic, tests)."""

from argus_management.alerts.models import Alert
from argus_management.analysis.models import AnalysisResult
from argus_management.audit.models import AuditEntry
from argus_management.auth.models import PasswordResetToken, RefreshToken
from argus_management.cameras.models import Camera
from argus_management.db import Base
from argus_management.events.models import Event
from argus_management.exports.models import Export as Export
from argus_management.guard_tours.models import GuardTour as GuardTour
from argus_management.holds.models import Hold as Hold
from argus_management.layouts.models import Layout
from argus_management.objects.models import TrackedObject, TrackedObjectPlace
from argus_management.offsite.models import OffsiteCopy as OffsiteCopy
from argus_management.rbac.models import CameraGrant, CameraGroup, Permission, Role, User
from argus_management.recordings.models import RecordingSegment
from argus_management.rtmp.models import StreamKey
from argus_management.walls.models import VideoWall as VideoWall
from argus_management.walls.models import WallMonitor as WallMonitor

__all__ = [
    "Alert", "AnalysisResult", "AuditEntry", "Base", "Camera", "CameraGrant", "CameraGroup",
    "Event", "Layout", "PasswordResetToken", "Permission", "RecordingSegment", "RefreshToken",
    "Role", "StreamKey", "TrackedObject", "TrackedObjectPlace", "User",
]
