"""One PullPoint subscription to a camera's ONVIF events, and its messages as plain data.

``EventDevice`` is an ``OnvifDevice`` with the events calls: ``CreatePullPointSubscription``
at the device's events service, then ``PullMessages`` (a long poll: the camera answers as
soon as an event comes, or after ``Timeout``), ``Renew`` and ``Unsubscribe`` at the
subscription's own address. That address comes from the camera, so it is kept on the
camera's host like every service address (``confine_xaddrs``).

``parse`` turns notification messages into ``DeviceEvent`` (motion, tampering, digital
input; anything else is ignored): the topic names and data items vary between vendors, so
several spellings are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from lxml import etree

from argus_common.errors import BadGateway
from argus_management.onvif.device import OnvifDevice, confine_xaddrs

Kind = Literal["motion", "tamper", "input"]

_SUBSCRIPTION_KEY = "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"
_MAX_TEXT = 128
# (topic fragment, kind, data items holding the state), first match wins.
_TOPICS: tuple[tuple[str, Kind, tuple[str, ...]], ...] = (
    ("MotionDetector", "motion", ("IsMotion", "State", "Motion")),
    ("MotionAlarm", "motion", ("State", "IsMotion")),
    ("TamperDetector", "tamper", ("IsTamper", "State")),
    ("GlobalSceneChange", "tamper", ("State", "IsTamper")),
    ("DigitalInput", "input", ("LogicalState", "State", "Level")),
    ("Trigger/Relay", "input", ("LogicalState", "State")),
)
_TRUE = {"true", "1", "active", "on"}
_FALSE = {"false", "0", "inactive", "off"}


@dataclass(frozen=True)
class DeviceEvent:
    """One state change the camera reported."""

    kind: Kind
    state: bool
    topic: str
    source: str  # input token, video source token, or ""
    utc: datetime | None  # the camera's stamp (its clock may be wrong)
    initial: bool  # PropertyOperation "Initialized": the state at subscription time


def _items(holder: Any) -> dict[str, str]:
    """SimpleItem name -> value of a tt:Source / tt:Data (zeep object or lxml element)."""
    found: dict[str, str] = {}
    if holder is None:
        return found
    if isinstance(holder, etree._Element):
        for item in holder.iter("{*}SimpleItem"):
            found[str(item.get("Name", ""))[:_MAX_TEXT]] = str(item.get("Value", ""))[:_MAX_TEXT]
        return found
    for item in getattr(holder, "SimpleItem", None) or []:
        name, value = getattr(item, "Name", None), getattr(item, "Value", None)
        if name is not None:
            found[str(name)[:_MAX_TEXT]] = str(value)[:_MAX_TEXT]
    return found


def _message_parts(raw: Any) -> tuple[dict[str, str], dict[str, str], Any, str]:
    """(source items, data items, UtcTime, PropertyOperation) of a tt:Message."""
    if isinstance(raw, etree._Element):
        source = next(iter(raw.iter("{*}Source")), None)
        data = next(iter(raw.iter("{*}Data")), None)
        return (
            _items(source),
            _items(data),
            raw.get("UtcTime"),
            str(raw.get("PropertyOperation") or ""),
        )
    return (
        _items(getattr(raw, "Source", None)),
        _items(getattr(raw, "Data", None)),
        getattr(raw, "UtcTime", None),
        str(getattr(raw, "PropertyOperation", "") or ""),
    )


def _state(data: dict[str, str], names: tuple[str, ...]) -> bool | None:
    for name in names:
        value = data.get(name, "").strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    return None


def parse(notification: Any) -> DeviceEvent | None:
    """The event in one wsnt:NotificationMessage, or None (a topic we do not map, or a
    message without a readable state)."""
    topic_raw = getattr(getattr(notification, "Topic", None), "_value_1", None)
    topic = str(topic_raw or "").strip()[:_MAX_TEXT]
    match = next((t for t in _TOPICS if t[0] in topic), None)
    if match is None:
        return None
    _, kind, names = match
    message = getattr(getattr(notification, "Message", None), "_value_1", None)
    if message is None:
        return None
    source, data, utc, operation = _message_parts(message)
    state = _state(data, names)
    if state is None:
        return None
    token = (
        source.get("InputToken")
        or source.get("RelayToken")
        or source.get("VideoSourceConfigurationToken")
        or source.get("VideoSourceToken")
        or ""
    )
    return DeviceEvent(
        kind,
        state,
        topic,
        token,
        utc if isinstance(utc, datetime) else None,
        initial=operation == "Initialized",
    )


class EventDevice(OnvifDevice):
    """An ONVIF device with the PullPoint calls (one subscription at a time)."""

    _pull: Any = None
    _manager: Any = None

    async def subscribe(self, termination_s: int) -> None:
        """Create the PullPoint subscription (replacing a previous one)."""
        self._pull = self._manager = None
        svc = await self._service("events")
        params = {"InitialTerminationTime": f"PT{int(termination_s)}S"}
        raw = await self._call(
            "CreatePullPointSubscription",
            lambda: svc.CreatePullPointSubscription(params),
            self.call_timeout_s,
        )
        address = getattr(
            getattr(getattr(raw, "SubscriptionReference", None), "Address", None), "_value_1", None
        )
        confined = confine_xaddrs(
            {_SUBSCRIPTION_KEY: str(address or "")},
            self.host,
            allow_foreign=self.allow_foreign_xaddrs,
        )
        if _SUBSCRIPTION_KEY not in confined:
            raise BadGateway("camera gave an unusable subscription address")
        self._camera.xaddrs[_SUBSCRIPTION_KEY] = confined[_SUBSCRIPTION_KEY]
        async with self._service_lock:
            self._pull = await self._camera.create_pullpoint_service()
            self._manager = await self._camera.create_subscription_service("PullPointSubscription")

    @property
    def subscribed(self) -> bool:
        return self._pull is not None

    def reset(self) -> None:
        """Forget the subscription and connect afresh next time (after a failure)."""
        self._pull = self._manager = None
        self._connected = False

    async def pull(self, timeout_s: int, limit: int) -> list[Any]:
        """The notification messages the camera has, waiting up to ``timeout_s``."""
        pull = self._pull
        params = {"Timeout": f"PT{int(timeout_s)}S", "MessageLimit": limit}
        raw = await self._call(
            "PullMessages", lambda: pull.PullMessages(params), self.call_timeout_s + timeout_s
        )
        return list(getattr(raw, "NotificationMessage", None) or [])

    async def renew(self, termination_s: int) -> None:
        manager = self._manager
        params = {"TerminationTime": f"PT{int(termination_s)}S"}
        await self._call("Renew", lambda: manager.Renew(params), self.call_timeout_s)

    async def unsubscribe(self) -> None:
        """End the subscription (best effort: it also ends by itself)."""
        manager, self._pull, self._manager = self._manager, None, None
        if manager is not None:
            await self._call("Unsubscribe", manager.Unsubscribe, self.call_timeout_s)


__all__ = ["DeviceEvent", "EventDevice", "parse"]
