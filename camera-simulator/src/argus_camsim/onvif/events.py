"""Events service (tev, ver10) with PullPoint subscriptions, and their WS-BaseNotification
subscription manager (Renew, Unsubscribe).

``CreatePullPointSubscription`` hands out ``/onvif/events/subscription/<id>``; clients post
``PullMessages``, ``Renew`` and ``Unsubscribe`` there. ``PullMessages`` waits (long poll) up
to its ``Timeout`` for the first event, as real cameras do, so an event reaches a waiting
client at once. Events come from the control API (``DeviceEvents``): motion, tampering and
digital inputs, as ONVIF's standard topics.
"""

from __future__ import annotations

from datetime import timedelta
from xml.etree.ElementTree import Element

from argus_camsim.device_events import TOPICS, DeviceEvent, Subscription
from argus_camsim.onvif.context import Handler, RequestContext
from argus_camsim.onvif.soap import (
    SoapFault,
    attr,
    child_text,
    invalid_arg,
    parse_duration,
    text,
    xml_datetime,
)

NS_TEV = "http://www.onvif.org/ver10/events/wsdl"
NS_WSNT = "http://docs.oasis-open.org/wsn/b-2"
NS_WSA = "http://www.w3.org/2005/08/addressing"
NS_TNS1 = "http://www.onvif.org/ver10/topics"
EVENTS_PATH = "/onvif/events_service"
SUBSCRIPTION_PREFIX = "/onvif/events/subscription/"
_DIALECT = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
_DECLS = f'xmlns:tev="{NS_TEV}" xmlns:wsnt="{NS_WSNT}" xmlns:wsa="{NS_WSA}" xmlns:tns1="{NS_TNS1}"'
_DEFAULT_TERMINATION_S = 60.0
_MAX_PULL_TIMEOUT_S = 30.0
_MAX_MESSAGES = 100


def _termination_s(ctx: RequestContext, raw: str | None) -> float:
    """Seconds from an AbsoluteOrRelativeTimeType (``PT60S`` or an xs:dateTime)."""
    if not raw:
        return _DEFAULT_TERMINATION_S
    if raw.startswith("P"):
        return parse_duration(raw)
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid_arg(f"{raw!r} is not a time") from exc
    if moment.tzinfo is None:
        raise invalid_arg(f"{raw!r} has no time zone")
    return (moment - ctx.device_time).total_seconds()


def _unacceptable(seconds: float) -> None:
    if seconds <= 0:
        raise SoapFault("Sender", ("ter:InvalidArgVal",), "Termination time is in the past")


def _times(ctx: RequestContext, sub: Subscription, prefix: str, end_first: bool = False) -> str:
    end = ctx.device_time + timedelta(seconds=max(0.0, sub.remaining_s()))
    current = f"<{prefix}:CurrentTime>{xml_datetime(ctx.device_time)}</{prefix}:CurrentTime>"
    termination = f"<{prefix}:TerminationTime>{xml_datetime(end)}</{prefix}:TerminationTime>"
    # RenewResponse orders them the other way round from the rest.
    return termination + current if end_first else current + termination


def _subscription(ctx: RequestContext) -> Subscription:
    sid = (
        ctx.path.removeprefix(SUBSCRIPTION_PREFIX)
        if ctx.path.startswith(SUBSCRIPTION_PREFIX)
        else ""
    )
    sub = ctx.camera.events.get(sid) if sid else None
    if sub is None:
        # wsrf-rw:ResourceUnknownFault: the subscription expired or the camera rebooted.
        raise SoapFault(
            "Sender", ("ter:InvalidArgVal", "ter:ResourceUnknown"), "No such subscription"
        )
    return sub


def create_pull_point_subscription(ctx: RequestContext, op: Element) -> str:
    """A new PullPoint subscription at its own address."""
    seconds = _termination_s(ctx, child_text(op, "InitialTerminationTime"))
    _unacceptable(seconds)
    sub = ctx.camera.events.subscribe(seconds)
    if sub is None:
        raise SoapFault("Receiver", ("ter:Action", "ter:MaxPullPoints"), "Too many subscriptions")
    address = ctx.url(f"{SUBSCRIPTION_PREFIX}{sub.sid}")
    return (
        f"<tev:CreatePullPointSubscriptionResponse {_DECLS}>"
        f"<tev:SubscriptionReference><wsa:Address>{text(address)}</wsa:Address>"
        "</tev:SubscriptionReference>"
        f"{_times(ctx, sub, 'wsnt')}</tev:CreatePullPointSubscriptionResponse>"
    )


def _message(event: DeviceEvent) -> str:
    topic, data_name, source_name = TOPICS[event.topic]
    return (
        "<wsnt:NotificationMessage>"
        f"<wsnt:Topic Dialect={attr(_DIALECT)}>{text(topic)}</wsnt:Topic>"
        f'<wsnt:Message><tt:Message UtcTime="{xml_datetime(event.utc)}" '
        'PropertyOperation="Changed">'
        f"<tt:Source><tt:SimpleItem Name={attr(source_name)} Value={attr(event.source)}/>"
        "</tt:Source>"
        f"<tt:Data><tt:SimpleItem Name={attr(data_name)} "
        f'Value="{"true" if event.state else "false"}"/></tt:Data>'
        "</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
    )


async def pull_messages(ctx: RequestContext, op: Element) -> str:
    """Events queued for the subscription, waiting up to ``Timeout`` for the first."""
    sub = _subscription(ctx)
    timeout = min(parse_duration(child_text(op, "Timeout") or "PT0S"), _MAX_PULL_TIMEOUT_S)
    try:
        limit = int(child_text(op, "MessageLimit") or "1")
    except ValueError as exc:
        raise invalid_arg("MessageLimit is not an integer") from exc
    events = await ctx.camera.events.pull(sub.sid, timeout, max(1, min(limit, _MAX_MESSAGES)))
    if events is None:
        raise SoapFault(
            "Sender", ("ter:InvalidArgVal", "ter:ResourceUnknown"), "No such subscription"
        )
    messages = "".join(_message(e) for e in events)
    return (
        f"<tev:PullMessagesResponse {_DECLS}>{_times(ctx, sub, 'tev')}{messages}"
        "</tev:PullMessagesResponse>"
    )


def renew(ctx: RequestContext, op: Element) -> str:
    sub = _subscription(ctx)
    seconds = _termination_s(ctx, child_text(op, "TerminationTime"))
    _unacceptable(seconds)
    ctx.camera.events.renew(sub.sid, seconds)
    times = _times(ctx, sub, "wsnt", end_first=True)
    return f"<wsnt:RenewResponse {_DECLS}>{times}</wsnt:RenewResponse>"


def unsubscribe(ctx: RequestContext, op: Element) -> str:
    sub = _subscription(ctx)
    ctx.camera.events.unsubscribe(sub.sid)
    return f"<wsnt:UnsubscribeResponse {_DECLS}/>"


def set_synchronization_point(ctx: RequestContext, op: Element) -> str:
    _subscription(ctx)
    return f"<tev:SetSynchronizationPointResponse {_DECLS}/>"


def service_capabilities_xml() -> str:
    """tev:Capabilities (also embedded in GetServices)."""
    return (
        f'<tev:Capabilities {_DECLS} WSSubscriptionPolicySupport="false" '
        'WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" '
        f'MaxNotificationProducers="0" MaxPullPoints="16"/>'
    )


def get_service_capabilities(ctx: RequestContext, op: Element) -> str:
    return (
        f"<tev:GetServiceCapabilitiesResponse {_DECLS}>{service_capabilities_xml()}"
        "</tev:GetServiceCapabilitiesResponse>"
    )


def get_event_properties(ctx: RequestContext, op: Element) -> str:
    """The topics this camera raises (a minimal topic set)."""
    return (
        f"<tev:GetEventPropertiesResponse {_DECLS}>"
        "<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml"
        "</tev:TopicNamespaceLocation>"
        "<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>"
        '<wstop:TopicSet xmlns:wstop="http://docs.oasis-open.org/wsn/t-1"/>'
        f"<wsnt:TopicExpressionDialect>{_DIALECT}</wsnt:TopicExpressionDialect>"
        "<tev:MessageContentFilterDialect>"
        "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"
        "</tev:MessageContentFilterDialect>"
        "<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd"
        "</tev:MessageContentSchemaLocation>"
        "</tev:GetEventPropertiesResponse>"
    )


OPERATIONS: dict[str, Handler] = {
    "CreatePullPointSubscription": create_pull_point_subscription,
    "PullMessages": pull_messages,  # a long poll: the server awaits it
    "SetSynchronizationPoint": set_synchronization_point,
    "GetServiceCapabilities": get_service_capabilities,
    "GetEventProperties": get_event_properties,
}
# WS-BaseNotification's subscription manager, at the subscription's address.
SUBSCRIPTION_OPERATIONS: dict[str, Handler] = {
    "Renew": renew,
    "Unsubscribe": unsubscribe,
}
