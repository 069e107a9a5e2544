"""TLS to PostgreSQL from ``DATABASE_URL`` (libpq's ``sslmode``, ``sslrootcert``, ``sslcert``,
``sslkey``; argus_common.tls builds the context). ``db.make_engine`` applies it, so the app,
the migrations and ``audit verify`` all connect the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL, make_url

from argus_common.tls import TlsError, client_context, tls_failure

# libpq's TLS parameters, read from DATABASE_URL's query (argus_common.tls): the driver
# gets an ssl.SSLContext built from them instead.
_TLS_PARAMS = ("sslmode", "sslrootcert", "sslcert", "sslkey")


def postgres_tls(url: str) -> tuple[URL, dict[str, Any]]:
    """``url`` without libpq's TLS parameters, and the driver's ``connect_args`` for them
    (``{"ssl": SSLContext}``; ``{"ssl": False}`` for ``sslmode=disable``; none given: the
    driver's default)."""
    parsed = make_url(url)
    query = dict(parsed.query)
    given = {k: query.pop(k) for k in _TLS_PARAMS if k in query}
    values = {k: v if isinstance(v, str) else v[-1] for k, v in given.items()}
    target = parsed.set(query=query)
    if not values:
        return target, {}
    mode = values.get("sslmode", "verify-full" if "sslrootcert" in values else "require")
    ctx = client_context(
        mode, values.get("sslrootcert"), values.get("sslcert"), values.get("sslkey")
    )
    return target, {"ssl": ctx if ctx is not None else False}


async def check_database_tls(url: str) -> None:
    """At start: raise :class:`TlsError` (one line) when PostgreSQL cannot be reached
    because of TLS (a certificate the CA did not sign or for another host, a server without
    TLS); any other failure is left to the usual paths (the database may not be up yet)."""
    if url.startswith("sqlite") or "ssl" not in url:
        return
    from argus_management.db import make_engine  # db imports this module

    engine = make_engine(url)
    try:
        async with engine.connect():
            pass
    except Exception as exc:
        reason = tls_failure(exc)
        if reason is not None:
            host = make_url(url).host or "?"
            raise TlsError(
                f"PostgreSQL TLS to {host}: {reason} (DATABASE_URL sslmode/sslrootcert)"
            ) from None
    finally:
        await engine.dispose()
