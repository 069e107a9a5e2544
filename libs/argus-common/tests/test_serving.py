"""Serving a media service's HTTP side: a real uvicorn on 127.0.0.1, a port already taken,
and a real process stopped with SIGTERM (twice, quickly) or during its start-up."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from argus_common.service_http import create_service_app
from argus_common.serving import HttpServer, PortUnavailable, close_steps, serve

PROBLEMS: list[str] = ["cameras not loaded"]


async def _readiness() -> list[str]:
    return list(PROBLEMS)


def _app() -> FastAPI:
    return create_service_app("unit-service", _readiness, lambda: {"owned": [1, 2]})


async def test_http_server_answers_on_a_picked_port_and_stops() -> None:
    server = HttpServer(_app(), "127.0.0.1", 0)
    await server.start()
    try:
        assert server.port > 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            resp = await client.get("/readyz")
            assert resp.status_code == 503
            assert resp.json() == {"error": "Unavailable", "detail": "cameras not loaded"}
            assert (await client.get("/status")).json() == {"owned": [1, 2]}
            metrics = (await client.get("/metrics")).text
            assert 'argus_http_requests_total{' in metrics and 'service="unit-service"' in metrics
    finally:
        await server.stop()
    with socket.socket() as probe:  # nothing listens any more
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0


class _Service:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def start(self) -> None:
        self.calls.append("start")

    async def stop(self) -> None:
        self.calls.append("stop")


async def test_a_port_in_use_is_a_clear_error_and_exit_status_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortUnavailable):
            await HttpServer(_app(), "127.0.0.1", port).start()
        service = _Service()
        assert await serve(_app(), "127.0.0.1", port, service) == 1
        assert service.calls == []  # nothing started, nothing to stop


# A service whose stop takes a while (its workers finish their files) and whose start can be
# made to hang (a dependency that is down): what SIGTERM does to it is seen from outside.
_SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from argus_common.service_http import create_service_app
    from argus_common.serving import serve

    HANG = sys.argv[1] == "hang"

    class Service:
        async def start(self):
            if HANG:
                print("STARTING", flush=True)
                await asyncio.Event().wait()
            print("STARTED", flush=True)

        async def stop(self):
            print("STOP-BEGIN", flush=True)
            await asyncio.sleep(0.5)
            print("STOP-END", flush=True)

    async def ready():
        return []

    app = create_service_app("unit", ready, dict)
    sys.exit(asyncio.run(serve(app, "127.0.0.1", 0, Service())))
""")


async def _run(tmp_path: Path, mode: str) -> asyncio.subprocess.Process:
    script = tmp_path / "svc.py"
    script.write_text(_SCRIPT)
    return await asyncio.create_subprocess_exec(
        sys.executable, str(script), mode, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _line(proc: asyncio.subprocess.Process, marker: str) -> None:
    assert proc.stdout is not None
    async with asyncio.timeout(30):
        while True:
            line = (await proc.stdout.readline()).decode()
            assert line, f"process ended before {marker}"
            if line.startswith(marker):
                return


async def _finish(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    try:
        async with asyncio.timeout(30):
            out, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return int(proc.returncode or 0), out.decode()


async def test_two_quick_sigterms_give_one_clean_shutdown(tmp_path: Path) -> None:
    proc = await _run(tmp_path, "run")
    await _line(proc, "STARTED")
    proc.send_signal(signal.SIGTERM)
    await _line(proc, "STOP-BEGIN")
    proc.send_signal(signal.SIGTERM)  # while stopping: must not cut the shutdown short
    proc.send_signal(signal.SIGINT)
    status, rest = await _finish(proc)
    assert status == 0, rest
    assert rest.count("STOP-END") == 1 and "STOP-BEGIN" not in rest, rest
    assert "signal_ignored_already_stopping" in rest and "Traceback" not in rest, rest


async def test_sigterm_during_a_hanging_start_stops_cleanly(tmp_path: Path) -> None:
    proc = await _run(tmp_path, "hang")
    await _line(proc, "STARTING")
    proc.send_signal(signal.SIGTERM)
    status, rest = await _finish(proc)
    assert status == 0, rest
    assert "STOP-END" in rest and "STARTED" not in rest and "Traceback" not in rest, rest


class _Log:
    """Stands in for a structlog logger: records the warnings (structlog may cache loggers in
    an xdist worker, which ``capture_logs`` would then not see)."""

    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, object]]] = []

    def warning(self, event: str, **fields: object) -> None:
        self.warnings.append((event, fields))


async def test_close_steps_bounds_a_hanging_step_and_goes_on() -> None:
    """A close that never returns is cancelled after its bound and named; one that raises is
    named; the steps after both still run, in order."""
    ran: list[str] = []
    hung_cancelled = asyncio.Event()

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            hung_cancelled.set()
            raise

    async def fails() -> None:
        raise RuntimeError("peer gone")

    async def quick(name: str) -> None:
        ran.append(name)

    log = _Log()
    unfinished = await close_steps(
        [("first", lambda: quick("first")), ("hangs", hangs), ("fails", fails),
         ("last", lambda: quick("last"))],
        step_timeout_s=0.2, log=log)
    assert unfinished == ["hangs", "fails"]
    assert ran == ["first", "last"]
    assert hung_cancelled.is_set()
    assert [event for event, _ in log.warnings] == ["shutdown_step_timeout", "shutdown_step_failed"]
    assert log.warnings[0][1]["step"] == "hangs"
