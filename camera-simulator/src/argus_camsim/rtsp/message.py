"""RTSP 1.0 message parsing and formatting (RFC 2326), plus Transport and URL parsing."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import urlsplit

SERVER_NAME = "ARGUS-CamSim/0.1"
PUBLIC_METHODS = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
MAX_HEAD_BYTES = 16 * 1024

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}


@dataclass
class Request:
    """One RTSP request; header names are lower-cased."""

    method: str
    url: str
    version: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def cseq(self) -> str | None:
        """The CSeq header, echoed in the response."""
        return self.headers.get("cseq")


def parse_head(head: bytes) -> Request:
    """Parse the request line and headers (everything up to the blank line)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("request head is not UTF-8") from exc
    lines = text.split("\r\n")
    parts = lines[0].split()
    if len(parts) != 3:
        raise ValueError(f"bad request line {lines[0]!r}")
    method, url, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return Request(method=method.upper(), url=url, version=version, headers=headers)


def response(
    status: int,
    cseq: str | None,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> bytes:
    """A complete RTSP response."""
    lines = [f"RTSP/1.0 {status} {REASONS.get(status, 'Error')}"]
    if cseq is not None:
        lines.append(f"CSeq: {cseq}")
    lines.append(f"Server: {SERVER_NAME}")
    lines.append(f"Date: {formatdate(usegmt=True)}")
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


@dataclass(frozen=True)
class Target:
    """What a request URL points at: ``/camN/main|sub[/trackID=K]``."""

    camera: str
    variant: str
    track: int | None


def parse_target(url: str) -> Target | None:
    """Camera path, stream variant and track of a request URL (None if not ours)."""
    path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
    segments = [s for s in path.split("/") if s]
    if not segments or not segments[0].startswith("cam"):
        return None
    variant = "main"
    track: int | None = None
    for seg in segments[1:]:
        if seg in ("main", "sub", "replay"):  # replay: the edge recording (edge/replay.py)
            variant = seg
        elif seg.lower().startswith("trackid="):
            try:
                track = int(seg.split("=", 1)[1])
            except ValueError:
                return None
        else:
            return None
    return Target(camera=segments[0], variant=variant, track=track)


@dataclass(frozen=True)
class TransportSpec:
    """The transport a client asked for in SETUP."""

    tcp: bool
    interleaved: tuple[int, int] | None = None
    client_port: tuple[int, int] | None = None


def _pair(value: str) -> tuple[int, int]:
    first, _, second = value.partition("-")
    a = int(first)
    return a, int(second) if second else a + 1


def parse_transport(header: str) -> TransportSpec | None:
    """The first unicast RTP/AVP option of a Transport header that we support."""
    for option in header.split(","):
        fields = [f.strip() for f in option.split(";") if f.strip()]
        if not fields:
            continue
        proto = fields[0].upper()
        if proto not in ("RTP/AVP", "RTP/AVP/UDP", "RTP/AVP/TCP"):
            continue
        params: dict[str, str] = {}
        for f in fields[1:]:
            key, _, value = f.partition("=")
            params[key.lower()] = value
        if "multicast" in params:
            continue
        try:
            if proto == "RTP/AVP/TCP":
                inter = _pair(params["interleaved"]) if "interleaved" in params else None
                return TransportSpec(tcp=True, interleaved=inter)
            if "client_port" in params:
                return TransportSpec(tcp=False, client_port=_pair(params["client_port"]))
        except ValueError:
            continue
    return None
