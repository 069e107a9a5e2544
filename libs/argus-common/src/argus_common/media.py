"""Media helpers shared by the services that pull cameras: URLs with credentials, demuxer
options per input kind (reconnect delays: ``argus_common.retry``).

Nothing here imports PyAV: the options are plain dicts handed to ``av.open``.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

# Schemes read as network streams; anything else (a path, file://) is a local file.
STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp",
                            "srt", "rtp"})


def with_userinfo(url: str, username: str | None, password: str | None) -> str:
    """``url`` with ``username:password@`` as its userinfo, both percent-encoded so that
    ``@``, ``:`` or ``/`` in a password cannot end the userinfo early (FFmpeg and our RTSP
    client decode them). Userinfo already in ``url`` is replaced (removed when there is no
    ``username``). The result holds a secret: never log it (``argus_common.logging.redact_url``)."""
    parts = urlsplit(url)
    hostport = parts.netloc.rpartition("@")[2]
    if not username:
        if hostport == parts.netloc:
            return url
        netloc = hostport
    else:
        userinfo = quote(username, safe="")
        if password:
            userinfo += ":" + quote(password, safe="")
        netloc = f"{userinfo}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def is_stream(url: str) -> bool:
    """Whether ``url`` is a network stream (as opposed to a local file)."""
    return urlsplit(url).scheme.lower() in STREAM_SCHEMES


def demuxer_options(url: str, read_timeout_s: float, *, low_delay: bool = True) -> dict[str, str]:
    """FFmpeg demuxer options for ``url``.

    RTSP goes over TCP (no loss, passes firewalls) with a socket timeout. With
    ``low_delay`` FFmpeg neither buffers nor probes an RTSP stream before the first
    packet, so frames are decoded as they arrive (their arrival time anchors wall-clock
    time). Files get no options.
    """
    scheme = urlsplit(url).scheme.lower()
    micros = str(int(read_timeout_s * 1_000_000))
    if scheme in ("rtsp", "rtsps"):
        options = {"rtsp_transport": "tcp", "timeout": micros}
    elif scheme in ("udp", "srt", "rtp", "tcp"):
        options = {"timeout": micros}
    elif scheme in STREAM_SCHEMES:
        # RTMP/HTTP: "timeout" would mean "listen" for RTMP; rw_timeout is the I/O timeout.
        options = {"rw_timeout": micros}
    else:
        return {}
    if low_delay and scheme in ("rtsp", "rtsps"):
        # The SDP carries the parameter sets; other inputs (MPEG-TS) need their probing.
        options.update(fflags="nobuffer", analyzeduration="0", probesize="32")
    return options

