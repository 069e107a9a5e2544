"""The little of ONVIF a backfill needs: does the camera do Profile G, and where is its
recording's replay stream.

Plain SOAP 1.2 over httpx (the recorder has no zeep): GetServices on the device service,
FindRecordings + GetRecordingSearchResults on the search service, GetReplayUri on the
replay service, with a WS-Security UsernameToken digest when the camera has credentials.
The token's Created time is the camera's clock (GetSystemDateAndTime, which ONVIF answers
without credentials, read first): a camera whose clock is off refuses a token stamped with
ours.
Answers are read with anchored regular expressions over a size-capped body (no entity
expansion can happen); every failure is ``OnvifError``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from argus_recording.cameras import CameraConfig

NS_SEARCH = "http://www.onvif.org/ver10/search/wsdl"
NS_REPLAY = "http://www.onvif.org/ver10/replay/wsdl"
_MAX_BODY = 256 * 1024
_TAG = r"<(?:[A-Za-z_][\w.-]*:)?{name}\b[^>]*>([^<]*)</(?:[A-Za-z_][\w.-]*:)?{name}>"
_UTC = re.compile(
    r"<(?:[A-Za-z_][\w.-]*:)?UTCDateTime\b[^>]*>(.*?)</(?:[A-Za-z_][\w.-]*:)?UTCDateTime>", re.S
)
_UTC_FIELDS = ("Year", "Month", "Day", "Hour", "Minute", "Second")


class OnvifError(Exception):
    """The camera did not answer, or not as Profile G says."""


@dataclass(frozen=True)
class ProfileG:
    """Where a camera's recording can be replayed from."""

    recording: str
    replay_uri: str


def _envelope(
    body: str, username: str | None, password: str | None, clock_offset_s: float = 0.0
) -> str:
    header = ""
    if username:
        nonce = os.urandom(16)
        now = datetime.now(UTC) + timedelta(seconds=clock_offset_s)
        created = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        # WS-Security UsernameToken fixes SHA-1 (PasswordDigest); not our choice.
        digest = hashlib.sha1(  # noqa: S324
            nonce + created.encode() + (password or "").encode()
        ).digest()
        header = (
            '<s:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
            'oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/'
            'wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>'
            f"<wsse:Username>{_escape(username)}</wsse:Username>"
            '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-'
            f'username-token-profile-1.0#PasswordDigest">{base64.b64encode(digest).decode()}'
            "</wsse:Password>"
            f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
            f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
            "</s:Header>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><s:Envelope '
        'xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tt="http://www.onvif.org/ver10/schema">'
        f"{header}<s:Body>{body}</s:Body></s:Envelope>"
    )


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def values(xml: str, name: str) -> list[str]:
    """Text of every element called ``name`` (any prefix)."""
    return [m.strip() for m in re.findall(_TAG.format(name=re.escape(name)), xml)]


def camera_utc(xml: str) -> datetime | None:
    """The ``UTCDateTime`` of a GetSystemDateAndTime answer (None when it has none)."""
    found = _UTC.search(xml)
    if found is None:
        return None
    part = found.group(1)
    try:
        year, month, day, hour, minute, second = (
            int(values(part, name)[0]) for name in _UTC_FIELDS
        )
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (IndexError, ValueError):
        return None


class OnvifRecordings:
    """Profile G calls to one camera."""

    def __init__(self, camera: CameraConfig, timeout_s: float = 5.0) -> None:
        if not camera.onvif_host:
            raise OnvifError("the camera has no ONVIF address")
        host = camera.onvif_host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        self.base = f"http://{host}:{camera.onvif_port or 80}"
        self.camera = camera
        self.timeout_s = timeout_s
        self.clock_offset_s = 0.0  # the camera's clock minus ours

    async def _call(
        self, client: httpx.AsyncClient, url: str, body: str, *, signed: bool = True
    ) -> str:
        username = self.camera.username if signed else None
        try:
            resp = await client.post(
                url,
                content=_envelope(body, username, self.camera.password, self.clock_offset_s),
                headers={"Content-Type": "application/soap+xml; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            raise OnvifError(f"no answer from the camera: {type(exc).__name__}") from None
        if resp.status_code != 200 or len(resp.content) > _MAX_BODY:
            raise OnvifError(f"the camera answered {resp.status_code}")
        return resp.text

    def _own(self, xaddr: str) -> str:
        """A service address on the camera's own host (never somewhere else)."""
        parts = urlsplit(xaddr)
        if parts.scheme not in ("http", "https") or parts.hostname != urlsplit(self.base).hostname:
            raise OnvifError("the camera names a service on another host")
        return xaddr

    async def _read_clock(self, client: httpx.AsyncClient) -> None:
        """Sign with the camera's clock: a camera without the answer is taken to be right."""
        try:
            answer = await self._call(
                client,
                f"{self.base}/onvif/device_service",
                '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>',
                signed=False,
            )
        except OnvifError:
            return
        moment = camera_utc(answer)
        if moment is not None:
            self.clock_offset_s = (moment - datetime.now(UTC)).total_seconds()

    async def profile_g(self) -> ProfileG | None:
        """The recording to replay, or None when the camera has no Profile G."""
        async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as client:
            if self.camera.username:
                await self._read_clock(client)
            services = await self._call(
                client,
                f"{self.base}/onvif/device_service",
                '<GetServices xmlns="http://www.onvif.org/ver10/device/wsdl">'
                "<IncludeCapability>false</IncludeCapability></GetServices>",
            )
            xaddrs = dict(
                zip(values(services, "Namespace"), values(services, "XAddr"), strict=False)
            )
            search, replay = xaddrs.get(NS_SEARCH), xaddrs.get(NS_REPLAY)
            if not search or not replay:
                return None
            found = await self._call(
                client,
                self._own(search),
                f'<FindRecordings xmlns="{NS_SEARCH}"><Scope/><MaxMatches>10</MaxMatches>'
                "<KeepAliveTime>PT10S</KeepAliveTime></FindRecordings>",
            )
            token = next(iter(values(found, "SearchToken")), "")
            results = await self._call(
                client,
                self._own(search),
                f'<GetRecordingSearchResults xmlns="{NS_SEARCH}"><SearchToken>{_escape(token)}'
                "</SearchToken><MinResults>1</MinResults><WaitTime>PT5S</WaitTime>"
                "</GetRecordingSearchResults>",
            )
            recordings = values(results, "RecordingToken")
            if not recordings:
                return None
            uri = await self._call(
                client,
                self._own(replay),
                f'<GetReplayUri xmlns="{NS_REPLAY}"><StreamSetup><tt:Stream>RTP-Unicast'
                "</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport>"
                f"</StreamSetup><RecordingToken>{_escape(recordings[0])}</RecordingToken>"
                "</GetReplayUri>",
            )
        replay_uri = next(iter(values(uri, "Uri")), "")
        host = urlsplit(replay_uri).hostname
        if not replay_uri.startswith("rtsp://") or host not in (
            urlsplit(self.base).hostname,
            urlsplit(self.camera.stream_url).hostname,
        ):
            raise OnvifError("the replay URI is not on the camera")
        return ProfileG(recordings[0], replay_uri.replace("&amp;", "&"))
