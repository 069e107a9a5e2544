"""ONVIF connections go to checked addresses (issue 16, finding 6): DNS rebinding cannot move
them.

onvif-zeep-async builds an aiohttp ``TCPConnector`` per service, which resolves the camera's
name itself whenever it opens a connection. Here every such connector gets a resolver that
resolves the name through ``argus_common.addresses`` and answers only checked addresses
(no link-local, metadata, multicast or unspecified address; ``CAMERA_ALLOWED_NETWORKS``), so
the SOAP request goes to exactly the address that passed, while its URL and ``Host`` header
keep the name. The DNS cache is off: every new connection is checked again.

This is the one place that touches the library's internals (the connector class it
instantiates): :func:`install` refuses another version than the one it was written for.
"""

from __future__ import annotations

import importlib.metadata
import socket
from collections.abc import Callable
from typing import Any

import onvif.client
from aiohttp import TCPConnector
from aiohttp.abc import AbstractResolver, ResolveResult

from argus_common.addresses import AddressRefused, Network, check_host
from argus_management.onvif.errors import HostRefused

ONVIF_ZEEP_ASYNC = "4.3.0"  # the version whose ONVIFService builds ``TCPConnector(...)``

Networks = Callable[[], list[Network] | None]
_networks: Networks = lambda: None  # noqa: E731 - replaced by configure()


class CheckingResolver(AbstractResolver):
    """Resolves a camera's name once per connection to its checked address."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = await check_host(host, _networks())
        except AddressRefused as exc:
            # aiohttp reports an OSError from its resolver as a connection error.
            raise HostRefused(str(exc)) from None
        if not addresses:
            raise OSError(f"ONVIF host {host} does not resolve")
        return [
            ResolveResult(
                hostname=host,
                host=str(address),
                port=port,
                family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


class PinnedConnector(TCPConnector):
    """The connector the ONVIF library builds: checked addresses, no DNS cache."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["resolver"] = CheckingResolver()
        kwargs["use_dns_cache"] = False
        super().__init__(*args, **kwargs)


def install() -> None:
    """Make every connector the ONVIF library builds from now on a :class:`PinnedConnector`."""
    found = importlib.metadata.version("onvif-zeep-async")
    if found != ONVIF_ZEEP_ASYNC:
        raise RuntimeError(
            f"onvif-zeep-async {found}: argus_management.onvif.pinning was "
            f"written for {ONVIF_ZEEP_ASYNC}; check ONVIFService's connector"
        )
    onvif.client.TCPConnector = PinnedConnector


def configure(networks: Networks) -> None:
    """Where ONVIF hosts may be (``CAMERA_ALLOWED_NETWORKS``, read at each connection)."""
    global _networks
    _networks = networks
