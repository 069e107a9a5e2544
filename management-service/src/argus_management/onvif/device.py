"""``OnvifDevice``: one camera's ONVIF device, media and PTZ services behind plain methods.

Built on onvif-zeep-async. Every method returns our dataclasses (``onvif/types.py``) and
raises only ARGUS errors (``onvif/errors.py``): a SOAP fault, a timeout or an auth failure
never reaches a router as anything else.

Time: cameras check the ``Created`` stamp of the WS-Security digest against their own clock
(the simulator within 300 s), so a camera whose clock is wrong refuses every request.
``connect`` reads ``GetSystemDateAndTime`` (allowed without credentials) and signs every later
request in the camera's time; ``time_offset_s`` tells by how much it was off.

Timeouts: the first contact (clock read and service list) must finish within the camera's
``connect_timeout_s``; each later call within ``connect_timeout_s + read_timeout_s``. The
library's own limits (30 s connect, 90 s read) are far longer, so ours are enforced around
each call with ``asyncio.timeout``.

An instance holds zeep clients and HTTP connection pools: build one per camera and keep it
(``onvif/pool.py``); ``close()`` releases it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from onvif import ONVIFCamera

from argus_common.errors import ArgusError, BadGateway, Conflict, GatewayTimeout
from argus_management.cameras.urls import (
    forbidden_reason,
    literal_address,
    url_host,
    with_host,
)
from argus_management.onvif import media2
from argus_management.onvif.errors import AUTH_FAILED, translate
from argus_management.onvif.parse import MAX_TEXT, media1_profile, text_of, uri_of, vector
from argus_management.onvif.types import (
    DeviceInfo,
    MediaProfile,
    PtzPreset,
    PtzStatus,
    PtzVector,
)

# zeep logs whole envelopes (WS-Security digests included) at DEBUG, and the onvif package
# logs every camera hiccup itself; we log the translated error once, where it is handled.
logging.getLogger("zeep").setLevel(logging.WARNING)
logging.getLogger("onvif").setLevel(logging.ERROR)

T = TypeVar("T")

_PROXY_VARS = ("http_proxy", "https_proxy")
_STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}


def _axes(pan: float | None, tilt: float | None, zoom: float | None) -> dict[str, Any]:
    """A tt:PTZVector / PTZSpeed: PanTilt when pan or tilt moves, Zoom when zoom does (a
    camera without zoom may refuse a Zoom element, even a zero one)."""
    vector: dict[str, Any] = {}
    if pan or tilt or not zoom:
        vector["PanTilt"] = {"x": pan or 0.0, "y": tilt or 0.0}
    if zoom:
        vector["Zoom"] = {"x": zoom}
    return vector


def confine_xaddrs(
    xaddrs: dict[str, str], host: str, *, allow_foreign: bool = False
) -> dict[str, str]:
    """The service addresses a device gave, kept on the device's own host.

    A device answers ``GetServices`` with a URL per service and every later call goes to
    those URLs: a hostile or misconfigured device could point them anywhere, and management
    would send signed requests there. An address on another host is moved onto ``host``
    (keeping its port and path, as NAT'd cameras need anyway) unless the administrator
    allows foreign addresses; even then, link-local and metadata addresses are dropped.
    """
    own = host.strip("[]").lower()
    confined: dict[str, str] = {}
    for namespace, url in xaddrs.items():
        target = url_host(url) if url else None
        if not url or target is None:
            continue
        literal = literal_address(target)
        if literal is not None and forbidden_reason(literal) is not None:
            continue
        if target == own or allow_foreign:
            confined[namespace] = url
        else:
            confined[namespace] = with_host(url, own)
    return confined


class OnvifDevice:
    """The ONVIF services of one camera at ``host:port``."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        *,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 3.0,
        adjust_time: bool = True,
        allow_foreign_xaddrs: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.allow_foreign_xaddrs = allow_foreign_xaddrs
        self.connect_timeout_s = connect_timeout_s
        self.call_timeout_s = connect_timeout_s + read_timeout_s
        self.time_offset_s = 0.0
        self.clock_read = adjust_time  # False once the camera would not tell its time
        # ONVIFCamera drops http(s)_proxy from os.environ, for the whole process; other
        # clients here (the webhook notifier) may rely on them, so they are put back.
        proxies = {k: os.environ[k] for k in _PROXY_VARS if k in os.environ}
        try:
            self._camera = ONVIFCamera(
                host, port, username or None, password or None,
                no_cache=True,  # WSDLs are bundled; the SQLite cache would only write files
                adjust_time=adjust_time,
            )
        finally:
            os.environ.update(proxies)
        self._connected = False
        self._connect_lock = asyncio.Lock()
        # One builder at a time: two requests building the same service at once would each
        # open a connection pool, and the library would keep (and close) only one.
        self._service_lock = asyncio.Lock()
        self._profiles: list[MediaProfile] | None = None
        # Why Media2 profiles could not be read (then Media1's are used), or None.
        self.media2_error: str | None = None

    async def _call(self, what: str, call: Callable[[], Awaitable[T]], budget_s: float) -> T:
        """Run one camera call within ``budget_s``, translating every failure."""
        try:
            async with asyncio.timeout(budget_s):
                return await call()
        except Exception as exc:
            error = translate(exc, what, budget_s)
            if error.detail == AUTH_FAILED:
                # The camera's clock may have jumped: read it again before the next call.
                self._connected = False
            raise error from exc

    async def connect(self) -> None:
        """Read the camera clock and its service addresses (once; again after auth failures)."""
        if self._connected:
            return
        async with self._connect_lock:
            if self._connected:
                return
            # Services built before (a reconnect after an auth failure) sign with the old
            # clock offset: rebuild them all with the new one.
            await self._drop_services()
            try:
                # Builds the zeep client (WSDL parsed once per process): no camera I/O, so it
                # is not charged to the camera's connect timeout.
                await self._camera.create_devicemgmt_service()
            except Exception as exc:
                raise translate(exc, "connect", self.connect_timeout_s) from exc
            try:
                await self._update_xaddrs()
            except ArgusError:
                # Cut short (a timeout can land between the library closing its device
                # service and building the next one): start from clean services next time.
                await self._drop_services()
                raise
            self._camera.xaddrs = confine_xaddrs(
                self._camera.xaddrs, self.host, allow_foreign=self.allow_foreign_xaddrs
            )
            diff = self._camera.dt_diff
            self.time_offset_s = 0.0 if diff is None else round(diff.total_seconds(), 3)
            self._profiles = None
            self.media2_error = None
            self._connected = True

    async def _update_xaddrs(self) -> None:
        """Clock and service list; a camera that will not tell its time (an optional
        operation) is asked again without it, and requests are signed in our time."""
        try:
            await self._call("connect", self._camera.update_xaddrs, self.connect_timeout_s)
        except (Conflict, BadGateway) as exc:
            if not self._camera.adjust_time or exc.detail == AUTH_FAILED:
                raise
            await self._drop_services()
            self._camera.adjust_time = self.clock_read = False
            await self._camera.create_devicemgmt_service()
            await self._call("connect", self._camera.update_xaddrs, self.connect_timeout_s)

    def service_namespaces(self) -> set[str]:
        """The namespaces of the services the device listed (after ``connect``)."""
        return set(self._camera.xaddrs)

    async def _drop_services(self) -> None:
        services = list(self._camera.services.values())
        self._camera.services.clear()
        for service in services:
            with contextlib.suppress(Exception):
                await service.close()

    async def _service(self, name: str) -> Any:
        await self.connect()
        async with self._service_lock:
            try:
                return await self._camera.create_onvif_service(name)
            except Exception as exc:
                raise translate(exc, f"the {name} service", self.call_timeout_s) from exc

    # -- device and media -----------------------------------------------------------------
    async def device_info(self) -> DeviceInfo:
        svc = await self._service("devicemgmt")
        raw = await self._call("GetDeviceInformation", svc.GetDeviceInformation,
                               self.call_timeout_s)
        return DeviceInfo(
            manufacturer=text_of(raw, "Manufacturer"), model=text_of(raw, "Model"),
            firmware_version=text_of(raw, "FirmwareVersion"),
            serial_number=text_of(raw, "SerialNumber"), hardware_id=text_of(raw, "HardwareId"),
        )

    async def _media2(self) -> Any | None:
        """The Media2 service when the device lists it and its profiles could be read."""
        await self.connect()
        xaddr = self._camera.xaddrs.get(media2.NS_MEDIA2)
        if not xaddr or self.media2_error is not None:
            return None
        async with self._service_lock:
            try:
                return await media2.service(self._camera, xaddr)
            except Exception as exc:
                raise translate(exc, "the media2 service", self.call_timeout_s) from exc

    async def _either(self, what: str, call2: Callable[[Any], Awaitable[T]],
                      call1: Callable[[Any], Awaitable[T]], *, remember: bool = False) -> T:
        """``call2`` on Media2 where offered, else (or when it fails for another reason
        than credentials or time) ``call1`` on Media1; ``remember`` keeps to Media1 after."""
        svc2 = await self._media2()
        if svc2 is not None:
            try:
                return await self._call(f"Media2 {what}", lambda: call2(svc2),
                                        self.call_timeout_s)
            except ArgusError as exc:
                if exc.detail == AUTH_FAILED or isinstance(exc, GatewayTimeout):
                    raise
                if remember:
                    self.media2_error = exc.detail
        svc = await self._service("media")
        return await self._call(what, lambda: call1(svc), self.call_timeout_s)

    async def profiles(self) -> list[MediaProfile]:
        """The media profiles, from Media2 where the device offers it (refreshed on every
        call; remembered for PTZ)."""
        svc2 = await self._media2()
        if svc2 is not None:
            raw2 = await self._either("GetProfiles", lambda s: s.GetProfiles({"Type": ["All"]}),
                                      lambda s: s.GetProfiles(), remember=True)
            parse = media2.profile if self.media2_error is None else media1_profile
            self._profiles = [parse(p) for p in raw2 or [] if getattr(p, "token", None)]
            return self._profiles
        svc = await self._service("media")
        raw = await self._call("GetProfiles", svc.GetProfiles, self.call_timeout_s)
        self._profiles = [media1_profile(p) for p in raw or [] if getattr(p, "token", None)]
        return self._profiles

    async def stream_uri(self, profile_token: str) -> str:
        """The RTSP URI of a profile, without any userinfo the camera put into it."""
        raw = await self._either(
            "GetStreamUri",
            lambda s: s.GetStreamUri({"Protocol": media2.STREAM_PROTOCOL,
                                      "ProfileToken": profile_token}),
            lambda s: s.GetStreamUri({"StreamSetup": _STREAM_SETUP,
                                      "ProfileToken": profile_token}),
        )
        return uri_of(raw, "stream", profile_token)

    async def snapshot_uri(self, profile_token: str) -> str:
        """The JPEG snapshot URI of a profile (optional: many cameras lack it)."""
        params = {"ProfileToken": profile_token}
        raw = await self._either("GetSnapshotUri", lambda s: s.GetSnapshotUri(params),
                                 lambda s: s.GetSnapshotUri(params))
        return uri_of(raw, "snapshot", profile_token)

    # -- PTZ --------------------------------------------------------------------------------
    async def ptz_profile_token(self) -> str:
        """The first profile with a PTZ configuration: the one PTZ commands address."""
        profiles = self._profiles if self._profiles is not None else await self.profiles()
        for profile in profiles:
            if profile.has_ptz:
                return profile.token
        raise Conflict("camera has no media profile with PTZ")

    async def _ptz(self) -> tuple[Any, str]:
        svc = await self._service("ptz")
        return svc, await self.ptz_profile_token()

    async def _ptz_call(self, operation: str, extra: dict[str, Any] | None = None) -> Any:
        svc, token = await self._ptz()
        params = {"ProfileToken": token, **(extra or {})}
        method = getattr(svc, operation)
        return await self._call(operation, lambda: method(params), self.call_timeout_s)

    async def continuous_move(self, pan: float, tilt: float, zoom: float, timeout_s: int) -> None:
        """Move at a velocity; the camera stops by itself after ``timeout_s`` at the latest."""
        await self._ptz_call("ContinuousMove", {
            "Velocity": _axes(pan, tilt, zoom), "Timeout": f"PT{int(timeout_s)}S",
        })

    async def relative_move(self, pan: float, tilt: float, zoom: float) -> None:
        await self._ptz_call("RelativeMove", {"Translation": _axes(pan, tilt, zoom)})

    async def absolute_move(
        self, pan: float | None, tilt: float | None, zoom: float | None
    ) -> None:
        """Go to a position; an axis left out keeps its current value."""
        if (pan is None) != (tilt is None):
            # PanTilt carries both coordinates: fill in the one not given.
            here = (await self.status()).position
            pan = here.pan if pan is None else pan
            tilt = here.tilt if tilt is None else tilt
        position: dict[str, Any] = {}
        if pan is not None and tilt is not None:
            position["PanTilt"] = {"x": pan, "y": tilt}
        if zoom is not None:
            position["Zoom"] = {"x": zoom}
        await self._ptz_call("AbsoluteMove", {"Position": position})

    async def stop(self) -> None:
        await self._ptz_call("Stop", {"PanTilt": True, "Zoom": True})

    async def status(self) -> PtzStatus:
        raw = await self._ptz_call("GetStatus")
        moves = getattr(raw, "MoveStatus", None)
        return PtzStatus(
            position=vector(getattr(raw, "Position", None)) or PtzVector(None, None, None),
            pan_tilt_moving=str(getattr(moves, "PanTilt", "") or "").upper() == "MOVING",
            zoom_moving=str(getattr(moves, "Zoom", "") or "").upper() == "MOVING",
        )

    async def presets(self) -> list[PtzPreset]:
        raw = await self._ptz_call("GetPresets")
        return [
            PtzPreset(
                token=str(getattr(p, "token", ""))[:MAX_TEXT], name=text_of(p, "Name"),
                position=vector(getattr(p, "PTZPosition", None)),
            )
            for p in raw or []
            if getattr(p, "token", None)
        ]

    async def set_preset(self, name: str) -> str:
        """Store the current position as a new preset; returns its token."""
        raw = await self._ptz_call("SetPreset", {"PresetName": name})
        token = getattr(raw, "PresetToken", raw)
        if not token:
            raise Conflict("camera did not return a preset token")
        return str(token)[:MAX_TEXT]

    async def remove_preset(self, token: str) -> None:
        await self._ptz_call("RemovePreset", {"PresetToken": token})

    async def goto_preset(self, token: str) -> None:
        await self._ptz_call("GotoPreset", {"PresetToken": token})

    async def goto_home(self) -> None:
        await self._ptz_call("GotoHomePosition")

    async def set_home(self) -> None:
        await self._ptz_call("SetHomePosition")

    async def close(self) -> None:
        """Close the HTTP sessions of every service built so far."""
        with contextlib.suppress(Exception):
            await self._camera.close()
