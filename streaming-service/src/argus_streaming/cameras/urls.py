"""Camera stream URLs with credentials. The result is a secret: never log it."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit


def with_userinfo(url: str, username: str | None, password: str | None) -> str:
    """``url`` with ``username:password@`` percent-encoded into its authority.

    Any userinfo already in ``url`` is replaced. Characters such as ``@``, ``:`` or ``/`` in a
    password would otherwise end the userinfo early and send the rest as a host name.
    """
    parts = urlsplit(url)
    hostport = parts.netloc.rpartition("@")[2]
    if not username:
        netloc = hostport
    else:
        userinfo = quote(username, safe="")
        if password is not None:
            userinfo += ":" + quote(password, safe="")
        netloc = f"{userinfo}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
