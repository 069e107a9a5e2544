"""Device management service (tds): identity, capabilities, service list, clock, scopes."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from argus_camsim.onvif import events, identity, media, media2, ptz_xml, quirks
from argus_camsim.onvif.context import (
    DEVICE_PATH,
    MEDIA_PATH,
    PTZ_PATH,
    Handler,
    RequestContext,
)
from argus_camsim.onvif.recording import profile_g_services
from argus_camsim.onvif.soap import (
    NS_TDS,
    NS_TPTZ,
    NS_TRT,
    SoapFault,
    child_text,
    local_name,
    parse_bool,
    text,
)

_KNOWN_CATEGORIES = {"All", "Analytics", "Device", "Events", "Imaging", "Media", "PTZ"}


def get_device_information(ctx: RequestContext, op: Element) -> str:
    """Manufacturer, model, firmware and serial from ``CameraInfo``."""
    cam = ctx.camera
    return (
        "<tds:GetDeviceInformationResponse>"
        f"<tds:Manufacturer>{text(cam.manufacturer)}</tds:Manufacturer>"
        f"<tds:Model>{text(cam.model)}</tds:Model>"
        f"<tds:FirmwareVersion>{text(cam.firmware)}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{text(identity.serial_number(cam))}</tds:SerialNumber>"
        f"<tds:HardwareId>{text(cam.model)}</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>"
    )


def get_system_date_and_time(ctx: RequestContext, op: Element) -> str:
    """The device clock in UTC; clients read it to correct their WS-Security timestamps."""
    now = ctx.device_time
    date_time = (
        f"<tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
        f"<tt:Second>{now.second}</tt:Second></tt:Time>"
        f"<tt:Date><tt:Year>{now.year}</tt:Year><tt:Month>{now.month}</tt:Month>"
        f"<tt:Day>{now.day}</tt:Day></tt:Date>"
    )
    return (
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>Manual</tt:DateTimeType>"
        "<tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
        f"<tt:UTCDateTime>{date_time}</tt:UTCDateTime>"
        f"<tt:LocalDateTime>{date_time}</tt:LocalDateTime>"
        "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


def get_scopes(ctx: RequestContext, op: Element) -> str:
    """The same scopes WS-Discovery announces."""
    items = "".join(
        "<tds:Scopes>"
        f"<tt:ScopeDef>{'Fixed' if scope.fixed else 'Configurable'}</tt:ScopeDef>"
        f"<tt:ScopeItem>{text(scope.uri)}</tt:ScopeItem>"
        "</tds:Scopes>"
        for scope in identity.scopes(ctx.camera)
    )
    return f"<tds:GetScopesResponse>{items}</tds:GetScopesResponse>"


def get_hostname(ctx: RequestContext, op: Element) -> str:
    """A hostname derived from the camera path (some clients show it)."""
    return (
        "<tds:GetHostnameResponse><tds:HostnameInformation>"
        "<tt:FromDHCP>false</tt:FromDHCP>"
        f"<tt:Name>argus-{text(ctx.camera.path)}</tt:Name>"
        "</tds:HostnameInformation></tds:GetHostnameResponse>"
    )


def _device_capabilities(ctx: RequestContext) -> str:
    return (
        f"<tt:Device><tt:XAddr>{text(ctx.url(DEVICE_PATH))}</tt:XAddr>"
        "<tt:Network><tt:IPFilter>false</tt:IPFilter>"
        "<tt:ZeroConfiguration>false</tt:ZeroConfiguration>"
        "<tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>"
        "<tt:System><tt:DiscoveryResolve>true</tt:DiscoveryResolve>"
        "<tt:DiscoveryBye>true</tt:DiscoveryBye>"
        "<tt:RemoteDiscovery>false</tt:RemoteDiscovery>"
        "<tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging>"
        "<tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>"
        "<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>0</tt:Minor>"
        "</tt:SupportedVersions></tt:System>"
        "<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2>"
        "<tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration>"
        "<tt:AccessPolicyConfig>false</tt:AccessPolicyConfig>"
        "<tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken>"
        "<tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken>"
        "</tt:Security></tt:Device>"
    )


def _media_capabilities(ctx: RequestContext) -> str:
    return (
        f"<tt:Media><tt:XAddr>{text(ctx.url(MEDIA_PATH))}</tt:XAddr>"
        "<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>"
        "<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
        "</tt:StreamingCapabilities></tt:Media>"
    )


def get_capabilities(ctx: RequestContext, op: Element) -> str:
    """Legacy capability exchange; lists the XAddrs of device, media and (if any) PTZ."""
    requested = {(el.text or "").strip() for el in op if local_name(el.tag) == "Category"} or {
        "All"
    }
    unknown = requested - _KNOWN_CATEGORIES
    if unknown:
        raise SoapFault("Sender", ("ter:InvalidArgVal",), f"Unknown category {unknown}")
    wants_all = "All" in requested
    unsupported = requested & {"Analytics", "Imaging"}
    has_ptz = ctx.camera.has_ptz and quirks.offers(ctx.camera, NS_TPTZ)
    has_events = quirks.offers(ctx.camera, events.NS_TEV)
    if not has_ptz and "PTZ" in requested:
        unsupported.add("PTZ")
    if not has_events and "Events" in requested:
        unsupported.add("Events")
    if unsupported and not wants_all:
        raise SoapFault(
            "Receiver",
            ("ter:ActionNotSupported", "ter:NoSuchService"),
            f"Service not available: {', '.join(sorted(unsupported))}",
        )
    parts = []
    # tt:Capabilities is an ordered sequence: Device, Events, Media, then PTZ.
    if wants_all or "Device" in requested:
        parts.append(_device_capabilities(ctx))
    if has_events and (wants_all or "Events" in requested):
        parts.append(
            f"<tt:Events><tt:XAddr>{text(ctx.url(events.EVENTS_PATH))}</tt:XAddr>"
            "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
            "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
            "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
            "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>"
        )
    if wants_all or "Media" in requested:
        parts.append(_media_capabilities(ctx))
    if has_ptz and (wants_all or "PTZ" in requested):
        parts.append(f"<tt:PTZ><tt:XAddr>{text(ctx.url(PTZ_PATH))}</tt:XAddr></tt:PTZ>")
    return (
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        f"{''.join(parts)}"
        "</tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


def service_capabilities_xml() -> str:
    """tds:Capabilities of the device service (also embedded in GetServices)."""
    return (
        "<tds:Capabilities>"
        '<tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" '
        'DynDNS="false"/>'
        '<tds:Security UsernameToken="true" HttpDigest="true" TLS1.2="false"/>'
        '<tds:System DiscoveryResolve="true" DiscoveryBye="true" RemoteDiscovery="false" '
        'SystemBackup="false" SystemLogging="false" FirmwareUpgrade="false"/>'
        "</tds:Capabilities>"
    )


def get_service_capabilities(ctx: RequestContext, op: Element) -> str:
    """Capabilities of the device management service itself."""
    return (
        "<tds:GetServiceCapabilitiesResponse>"
        f"{service_capabilities_xml()}"
        "</tds:GetServiceCapabilitiesResponse>"
    )


def get_services(ctx: RequestContext, op: Element) -> str:
    """Every service with its XAddr; onvif-zeep-async resolves service URLs from this."""
    include = parse_bool(child_text(op, "IncludeCapability"), default=False)
    services = [
        (NS_TDS, DEVICE_PATH, service_capabilities_xml()),
        (NS_TRT, MEDIA_PATH, media.service_capabilities_xml()),
    ]
    if quirks.offers(ctx.camera, media2.NS_TR2):
        services.append((media2.NS_TR2, media2.MEDIA2_PATH, media2.service_capabilities_xml()))
    if ctx.camera.has_ptz and quirks.offers(ctx.camera, NS_TPTZ):
        services.append((NS_TPTZ, PTZ_PATH, ptz_xml.service_capabilities_xml()))
    if quirks.offers(ctx.camera, events.NS_TEV):
        services.append((events.NS_TEV, events.EVENTS_PATH, events.service_capabilities_xml()))
    services += [(ns, path, "") for ns, path in profile_g_services(ctx)]  # Profile G
    items = []
    for namespace, path, capabilities in services:
        caps = f"<tds:Capabilities>{capabilities}</tds:Capabilities>" if include else ""
        items.append(
            "<tds:Service>"
            f"<tds:Namespace>{namespace}</tds:Namespace>"
            f"<tds:XAddr>{text(ctx.url(path))}</tds:XAddr>"
            f"{caps}"
            "<tds:Version><tt:Major>2</tt:Major><tt:Minor>0</tt:Minor></tds:Version>"
            "</tds:Service>"
        )
    return f"<tds:GetServicesResponse>{''.join(items)}</tds:GetServicesResponse>"


OPERATIONS: dict[str, Handler] = {
    "GetDeviceInformation": get_device_information,
    "GetSystemDateAndTime": get_system_date_and_time,
    "GetScopes": get_scopes,
    "GetHostname": get_hostname,
    "GetCapabilities": get_capabilities,
    "GetServiceCapabilities": get_service_capabilities,
    "GetServices": get_services,
}

# Operations ONVIF puts in the PRE_AUTH access class that we answer without credentials:
# a client needs the device clock before it can build a valid token.
UNAUTHENTICATED = {"GetSystemDateAndTime"}
