"""A small asyncio RTSP prober: one ``DESCRIBE`` (or ``OPTIONS``), answering a Basic or
Digest challenge with the camera's credentials.

It opens no media session, so a probe costs the camera one short TCP connection. Results:
200 -> ``ok``; 401/403 with our credentials (or none to give) -> ``auth_failed``; any other
status -> ``error``; connect/read timeouts -> ``timeout``; connection refused -> ``refused``;
reset, EOF or name resolution failure -> ``unreachable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from argus_management.liveness import httpauth
from argus_management.liveness.results import ProbeResult

USER_AGENT = "ARGUS-liveness/1"
MAX_HEAD_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
DEFAULT_PORT = 554


@dataclass
class _Response:
    status: int
    headers: dict[str, list[str]]

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


class _Failed(Exception):
    """A probe step failed; carries the result to return."""

    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:pass@`` (the request line must never carry credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


class _Connection:
    """One RTSP/TCP connection with a CSeq counter."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.cseq = reader, writer, 0

    async def request(
        self, method: str, url: str, headers: list[tuple[str, str]], read_timeout: float
    ) -> _Response:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", f"User-Agent: {USER_AGENT}"]
        lines += [f"{k}: {v}" for k, v in headers]
        try:
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
            async with asyncio.timeout(read_timeout):
                await self.writer.drain()
                return await self._read_response()
        except TimeoutError:
            raise _Failed("timeout", f"no answer to {method} within {read_timeout:g} s") from None
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise _Failed("unreachable", f"connection lost ({type(exc).__name__})") from None
        except asyncio.LimitOverrunError:
            raise _Failed("error", "answer head too long") from None

    async def _read_response(self) -> _Response:
        head = await self.reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEAD_BYTES:
            raise _Failed("error", "answer head too long")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("RTSP/") or not parts[1].isdigit():
            raise _Failed("error", "not an RTSP answer")
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers.setdefault(name.strip().lower(), []).append(value.strip())
        response = _Response(int(parts[1]), headers)
        length_text = response.header("content-length") or "0"
        length = int(length_text) if length_text.isdigit() else 0
        if length:
            # Read (and drop) the SDP so the connection is ready for the next request.
            await self.reader.readexactly(min(length, MAX_BODY_BYTES))
        return response

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await self.writer.wait_closed()


async def _connect(host: str, port: int, limit_s: float) -> _Connection:
    try:
        async with asyncio.timeout(limit_s):
            reader, writer = await asyncio.open_connection(
                host, port, limit=MAX_HEAD_BYTES + MAX_BODY_BYTES
            )
    except TimeoutError:
        raise _Failed("timeout", f"no connection within {limit_s:g} s") from None
    except ConnectionRefusedError:
        raise _Failed("refused", "connection refused") from None
    except socket.gaierror:
        raise _Failed("unreachable", "host name does not resolve") from None
    except OSError as exc:
        raise _Failed("unreachable", f"cannot connect ({exc.strerror or type(exc).__name__})"
                      ) from None
    return _Connection(reader, writer)


async def probe_rtsp(
    url: str,
    username: str | None = None,
    password: str | None = None,
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 3.0,
    method: str = "DESCRIBE",
) -> ProbeResult:
    """Probe the RTSP ``url`` (``rtsp://host[:port]/path``) with one request, answering an
    authentication challenge once. Never raises; the result's detail is safe to log."""
    start = time.perf_counter()

    def done(outcome: str, detail: str = "", status: int | None = None) -> ProbeResult:
        return ProbeResult(
            outcome,  # type: ignore[arg-type]  # one of Outcome, by construction
            detail, status, time.perf_counter() - start,
        )

    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORT
    except ValueError:
        return done("error", "malformed URL")
    if parts.scheme.lower() != "rtsp" or not parts.hostname:
        return done("unsupported", f"no probe for {parts.scheme or 'this'} URLs")
    target = strip_userinfo(url)
    headers = [("Accept", "application/sdp")] if method == "DESCRIBE" else []
    conn: _Connection | None = None
    try:
        conn = await _connect(parts.hostname, port, connect_timeout)
        response = await conn.request(method, target, headers, read_timeout)
        if response.status == 401:
            challenge = httpauth.choose(
                [httpauth.parse_challenge(v) for v in response.headers.get("www-authenticate", [])]
            )
            if username is None or password is None:
                return done("auth_failed", "credentials required", 401)
            if challenge is None:
                return done("auth_failed", "no supported authentication scheme", 401)
            if conn.reader.at_eof() or (response.header("connection") or "").lower() == "close":
                await conn.close()  # some cameras hang up after a 401
                conn = await _connect(parts.hostname, port, connect_timeout)
            auth = httpauth.authorization(challenge, username, password, method, target)
            response = await conn.request(
                method, target, [*headers, ("Authorization", auth)], read_timeout
            )
            if response.status in (401, 403):
                return done("auth_failed", f"credentials refused ({challenge.scheme})",
                            response.status)
        if response.status == 403:
            return done("auth_failed", "forbidden", 403)
        if 200 <= response.status < 300:
            return done("ok", "", response.status)
        return done("error", f"{method} answered {response.status}", response.status)
    except _Failed as failed:
        return done(failed.outcome, failed.detail)
    finally:
        if conn is not None:
            await conn.close()
