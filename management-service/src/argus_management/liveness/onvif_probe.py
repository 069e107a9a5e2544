"""ONVIF liveness probe: ``GetSystemDateAndTime``, which ONVIF devices answer without
authentication (clients need the device clock before they can sign WS-Security headers),
so it checks that the device is up without needing or exposing its credentials."""

from __future__ import annotations

import time

import httpx

from argus_management.liveness.results import ProbeResult

DEVICE_PATH = "/onvif/device_service"
_ACTION = "http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime"
ENVELOPE = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
    b"<s:Body>"
    b'<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'
    b"</s:Body></s:Envelope>"
)
HEADERS = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{_ACTION}"'}


def _refused(exc: BaseException) -> bool:
    """Whether a connect error was a refusal (httpx wraps the OSError a few levels deep)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def device_url(host: str, port: int | None) -> str:
    """The device service URL of an ONVIF camera (port 80 unless configured)."""
    bracketed = f"[{host}]" if ":" in host else host
    return f"http://{bracketed}:{port or 80}{DEVICE_PATH}"


async def probe_onvif(
    client: httpx.AsyncClient, host: str, port: int | None, *,
    connect_timeout: float = 5.0, read_timeout: float = 3.0,
) -> ProbeResult:
    """POST ``GetSystemDateAndTime`` to the device; never raises."""
    start = time.perf_counter()

    def done(outcome: str, detail: str = "", status: int | None = None) -> ProbeResult:
        return ProbeResult(
            outcome,  # type: ignore[arg-type]  # one of Outcome, by construction
            detail, status, time.perf_counter() - start,
        )

    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    try:
        response = await client.post(
            device_url(host, port), content=ENVELOPE, headers=HEADERS, timeout=timeout
        )
    except httpx.ConnectTimeout:
        return done("timeout", f"ONVIF: no connection within {connect_timeout:g} s")
    except httpx.TimeoutException:
        return done("timeout", f"ONVIF: no answer within {read_timeout:g} s")
    except httpx.ConnectError as exc:
        return done("refused" if _refused(exc) else "unreachable", "ONVIF: cannot connect")
    except httpx.HTTPError as exc:
        return done("unreachable", f"ONVIF: {type(exc).__name__}")
    if response.status_code == 200 and b"GetSystemDateAndTimeResponse" in response.content:
        return done("ok", "", 200)
    if response.status_code in (401, 403):
        # Allowed by the standard for devices that require auth everywhere: it answered.
        return done("ok", "ONVIF answered with an authentication demand", response.status_code)
    return done("error", f"ONVIF answered {response.status_code}", response.status_code)
