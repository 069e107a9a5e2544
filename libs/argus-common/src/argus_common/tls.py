"""TLS to PostgreSQL and Redis, by configuration (issue 16, finding 10).

PostgreSQL: ``DATABASE_URL`` takes libpq's parameters (``?sslmode=verify-full&sslrootcert=
/run/secrets/db-ca.pem``, optionally ``sslcert``/``sslkey`` for a client certificate);
:func:`client_context` turns them into the ``ssl.SSLContext`` the driver is given. Redis:
a ``rediss://`` ``REDIS_URL`` with ``REDIS_TLS_CA_FILE`` (``argus_common.bus.redis_client``).

Modes (libpq's names): ``disable`` (plain TCP), ``require`` (encrypted, the server is not
verified: only against passive eavesdropping), ``verify-ca`` (the server's certificate must
chain to the CA), ``verify-full`` (and name the host connected to). A failed handshake is
reported by :func:`tls_failure` as one line that says what is wrong (certificate not
trusted, wrong host name, TLS refused) instead of a driver traceback.
"""

from __future__ import annotations

import ssl
from pathlib import Path

SSL_MODES = ("disable", "require", "verify-ca", "verify-full")


class TlsConfigError(ValueError):
    """A TLS setting that cannot be used; the message names the setting."""


class TlsError(RuntimeError):
    """A TLS connection to a backing server failed; the message is one line naming the
    server, the reason and the setting to look at."""


def _readable(path: str, what: str) -> str:
    if not Path(path).is_file():
        raise TlsConfigError(f"{what} {path!r} is not a readable file")
    return path


def client_context(
    mode: str,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
) -> ssl.SSLContext | None:
    """The client context for ``mode`` (None for ``disable``). ``ca_file``: the CA bundle
    the server's certificate must chain to (the system's CAs when None); ``cert_file`` /
    ``key_file``: a client certificate, for servers that require one."""
    if mode not in SSL_MODES:
        raise TlsConfigError(f"sslmode must be one of {', '.join(SSL_MODES)} (got {mode!r})")
    if mode == "disable":
        return None
    ctx = ssl.create_default_context(cafile=_readable(ca_file, "CA file") if ca_file else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if mode == "require":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif mode == "verify-ca":
        ctx.check_hostname = False
    if cert_file:
        ctx.load_cert_chain(
            _readable(cert_file, "client certificate"),
            _readable(key_file, "client key") if key_file else None,
        )
    return ctx


def tls_failure(exc: BaseException) -> str | None:
    """Why a connection failed, when TLS is the reason (None otherwise): the server's
    certificate is not trusted or names another host, or the handshake failed."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            reason = current.verify_message or current.reason or "unknown reason"
            return f"server certificate not accepted: certificate verify failed: {reason}"
        if isinstance(current, ssl.SSLError):
            return f"TLS handshake failed: {current.reason or current}"
        text = str(current)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return f"server certificate not accepted: {text.split('] ', 1)[-1]}"
        if "rejected SSL" in text:
            return "the server does not accept TLS connections"
        current = current.__cause__ or current.__context__
    return None
