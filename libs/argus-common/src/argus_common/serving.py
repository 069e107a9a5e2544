"""Running a media service: its small HTTP app (``service_http``) beside its own loops, until
SIGINT or SIGTERM.

uvicorn's ``Server.serve()`` takes SIGINT/SIGTERM for itself while it runs and raises them
again when it has finished, which would cut a service's own shutdown short. ``HttpServer``
runs uvicorn inside our loop without its signal capture, on a socket bound beforehand (a
port in use is a clear error, port 0 picks a free one), and ``serve`` owns the signals: the
first one starts one clean shutdown, any later one is only logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Protocol

import structlog
import uvicorn
from starlette.types import ASGIApp

_log = structlog.get_logger("argus.serving")
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class PortUnavailable(OSError):
    """The HTTP port could not be bound (in use, or a bad address)."""


class Lifecycle(Protocol):
    """What ``serve`` runs beside the HTTP app."""

    async def start(self) -> None:
        """Start the service's loops (may wait for its dependencies)."""

    async def stop(self) -> None:
        """Finish cleanly; called once, also after a ``start`` that failed or was cut short."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling; ``ready`` is set once start-up has run."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the process's signals belong to ``serve``

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        except SystemExit:  # uvicorn's way of saying start-up failed
            self.should_exit = True
        finally:
            self.ready.set()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        detail = f"cannot listen on {host}:{port}: {exc.strerror}"
        raise PortUnavailable(exc.errno, detail) from None


class HttpServer:
    """``app`` served on ``host:port`` by uvicorn from inside the running loop."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.host = host
        self._port = port
        self._server = _Server(uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, lifespan="off",
        ))
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The port (once started, the one picked when ``port`` was 0)."""
        return self._port

    async def start(self) -> None:
        """Bind and start answering; raises ``PortUnavailable`` when the port is taken."""
        if self._task is not None:
            return
        self._socket = _bind(self.host, self._port)
        self._port = int(self._socket.getsockname()[1])
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name=f"http-{self.port}"
        )
        ready = asyncio.create_task(self._server.ready.wait())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if not self._server.started:
            await self.stop()
            raise PortUnavailable(f"HTTP server on {self.host}:{self._port} did not start")

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (uvicorn's graceful shutdown)."""
        task, self._task = self._task, None
        if task is not None:
            self._server.should_exit = True
            await asyncio.gather(task, return_exceptions=True)
        if self._socket is not None:
            self._socket.close()


CloseStep = tuple[str, Callable[[], Awaitable[object]]]


async def close_steps(
    steps: Sequence[CloseStep],
    *,
    step_timeout_s: float,
    log: structlog.typing.FilteringBoundLogger | None = None,
) -> list[str]:
    """Run a shutdown's close steps in order, each bounded by ``step_timeout_s``: a step that
    does not finish in time is cancelled, named in the log (``shutdown_step_timeout``) and
    left, and the next one runs; one that fails is logged (``shutdown_step_failed``) and the
    next one runs too. Returns the names of the steps that did not finish cleanly."""
    logger = log or _log
    unfinished: list[str] = []
    for name, close in steps:
        try:
            async with asyncio.timeout(step_timeout_s):
                await close()
        except TimeoutError:
            logger.warning("shutdown_step_timeout", step=name, timeout_s=step_timeout_s)
            unfinished.append(name)
        except Exception as exc:
            logger.warning("shutdown_step_failed", step=name, error=type(exc).__name__)
            unfinished.append(name)
    return unfinished


class _Signals:
    """SIGINT/SIGTERM set ``stop`` once; later ones are logged and otherwise ignored, so a
    second signal (a process manager and a shell both forwarding one) cannot interrupt the
    shutdown under way."""

    def __init__(self, log: structlog.typing.FilteringBoundLogger) -> None:
        self.stop = asyncio.Event()
        self.log = log
        self._loop = asyncio.get_running_loop()
        self._installed: list[signal.Signals] = []

    def _received(self, sig: signal.Signals) -> None:
        if self.stop.is_set():
            self.log.info("signal_ignored_already_stopping", signal=sig.name)
            return
        self.log.info("stopping", signal=sig.name)
        self.stop.set()

    def __enter__(self) -> _Signals:
        for sig in _SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self._loop.add_signal_handler(sig, self._received, sig)
                self._installed.append(sig)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig in self._installed:
            self._loop.remove_signal_handler(sig)


async def _start_unless_stopped(service: Lifecycle, stop: asyncio.Event) -> bool:
    """Run ``service.start()``; a signal during it cancels it. True when it completed."""
    starting = asyncio.create_task(service.start(), name="service-start")
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not starting.done():
        starting.cancel()
    await asyncio.gather(starting, stopped, return_exceptions=True)
    if starting.cancelled():
        return False
    exc = starting.exception()
    if exc is not None:
        raise exc
    return True


async def serve(
    app: ASGIApp,
    host: str,
    port: int,
    service: Lifecycle,
    *,
    log: structlog.typing.FilteringBoundLogger | None = None,
    **started: object,
) -> int:
    """Serve ``app`` on ``host:port`` and run ``service`` until SIGINT or SIGTERM, then stop
    both once, cleanly. Returns the process exit status: 0 after a clean stop, 1 when the
    port cannot be bound or ``service.start()`` failed. ``started`` goes into the
    ``started`` log line."""
    logger = log or _log
    http = HttpServer(app, host, port)
    with _Signals(logger) as signals:
        try:
            await http.start()
        except PortUnavailable as exc:
            logger.error("metrics_port_unavailable", host=host, port=port, detail=exc.strerror)
            return 1
        status = 0
        try:
            if await _start_unless_stopped(service, signals.stop):
                logger.info("started", http_port=http.port, **started)
                await signals.stop.wait()
        except Exception as exc:
            logger.error("start_failed", error=type(exc).__name__)
            status = 1
        finally:
            await service.stop()
            await http.stop()
            logger.info("stopped")
    return status
