"""The recorder's durable outbox (argus_common.outbox): what it must tell Redis or
management, kept on disk until delivered. Channels: ``segments`` for ``argus:segments``,
``notices`` for events and index corrections posted to management; under
``<RECORDINGS_DIR>/.argus/outbox/<instance>/``. A segment whose record could not be written
(a full disk) is found again by reconcile after a crash."""

from __future__ import annotations

from pathlib import Path

from argus_common.outbox import Outbox as _Outbox
from argus_common.outbox import Record

__all__ = ["CHANNELS", "OUTBOX_DIR", "Outbox", "Record"]

OUTBOX_DIR = Path(".argus") / "outbox"
CHANNELS = ("segments", "notices")


class Outbox(_Outbox):
    """The outbox of one recorder instance (or one adopted from a recorder that is gone)."""

    channels = CHANNELS

    @classmethod
    def for_instance(cls, root: Path, instance_id: str, durable: bool = True) -> Outbox:
        return cls(root / OUTBOX_DIR / instance_id, durable)
