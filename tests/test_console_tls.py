"""The console over HTTPS (issue 16, finding 10): nginx started from the service table the
way ``make run`` and the image start it (the entrypoint renders the template). Its plain
HTTP port redirects to HTTPS; HTTPS serves the console with the self-signed certificate
the entrypoint made (fingerprint printed, no HSTS), or with a supplied one (HSTS); media
tickets in /hls and /vod query strings never reach the access log."""

from __future__ import annotations

import hashlib
import os
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from argus_testkit import stack as kit
from argus_testkit.process import Launcher
from argus_testkit.services import NGINX, StackConfig

assert NGINX  # Debian's nginx, as for the console's e2e tests (the kit requires it)


def _dist(tmp: Path) -> Path:
    dist = tmp / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>ARGUS console</title>")
    return dist


def _console(tmp: Path, **env: str) -> Iterator[tuple[StackConfig, Launcher]]:
    cfg = kit.test_config(tmp / "data", console_dist=_dist(tmp))
    with Launcher(tmp / "logs") as launcher:
        kit.start(launcher, cfg, "console", {**os.environ, **env})
        yield cfg, launcher


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[StackConfig, Launcher]]:
    yield from _console(tmp_path)


def _fingerprint(cert: Path) -> str:
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def test_http_redirects_to_https(console: tuple[StackConfig, Launcher]) -> None:
    cfg, _ = console
    r = httpx.post(f"{cfg.console_http_url}/api/v1/auth/login?x=1", timeout=5)
    assert r.status_code == 308
    assert r.headers["location"] == (
        f"https://127.0.0.1:{cfg.ports.console_tls}/api/v1/auth/login?x=1")
    assert httpx.get(f"{cfg.console_http_url}/live", timeout=5).status_code == 308
    # Health checks stay on plain HTTP.
    assert httpx.get(f"{cfg.console_http_url}/nginx-healthz", timeout=5).status_code == 200


def test_https_serves_the_console_with_the_generated_certificate(
    console: tuple[StackConfig, Launcher], tmp_path: Path,
) -> None:
    cfg, _ = console
    cert = cfg.console_cert
    assert cert.is_file() and (cert.parent / "console.key").stat().st_mode & 0o077 == 0
    # Plain verification against the generated certificate: its name is 127.0.0.1.
    with httpx.Client(verify=ssl.create_default_context(cafile=str(cert)), timeout=5) as c:
        r = c.get(f"{cfg.console_url}/live")
    assert r.status_code == 200 and "ARGUS console" in r.text
    assert r.http_version in ("HTTP/1.1", "HTTP/2")
    assert "strict-transport-security" not in r.headers  # self-signed: no HSTS
    assert r.headers["x-frame-options"] == "DENY"
    # Without trusting it, a client refuses it: this is TLS, not plain HTTP.
    with pytest.raises(httpx.ConnectError):
        httpx.get(cfg.console_url, timeout=5)
    # The fingerprint users compare with the browser's warning is printed.
    log = (tmp_path / "logs" / "console.log").read_text()
    assert f"SHA-256 fingerprint {_fingerprint(cert)}" in log


def test_supplied_certificate_gets_hsts_and_tickets_stay_out_of_the_log(
    tmp_path: Path,
) -> None:
    own = tmp_path / "own"
    own.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=vms.example.test",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(own / "k.pem"),
         "-out", str(own / "c.pem")], check=True, capture_output=True)
    env = {"ARGUS_TLS_CERT": str(own / "c.pem"), "ARGUS_TLS_KEY": str(own / "k.pem")}
    gen = _console(tmp_path, **env)
    cfg, _ = next(gen)
    try:
        ctx = ssl.create_default_context(cafile=str(own / "c.pem"))
        with httpx.Client(verify=ctx, timeout=5) as c:
            r = c.get(f"{cfg.console_url}/")
            assert r.status_code == 200
            assert r.headers["strict-transport-security"] == "max-age=31536000"
            assert not cfg.console_cert.exists()  # nothing generated
            # The streaming upstream is down (503), but the request is logged.
            c.get(f"{cfg.console_url}/hls/abc/index.m3u8?token=SECRET-TICKET-1")
            c.get(f"{cfg.console_url}/vod/1/files/x.mp4?token=SECRET-TICKET-2")
            c.get(f"{cfg.console_url}/api/v1/cameras?page=2")
            # /metrics is not proxied: the console's page, not the services' counters.
            metrics = c.get(f"{cfg.console_url}/metrics")
            assert "ARGUS console" in metrics.text and "# TYPE" not in metrics.text
    finally:
        gen.close()
    log = (cfg.data_dir / "console" / "access.log").read_text()
    assert "GET /hls/abc/index.m3u8 HTTP" in log and "GET /vod/1/files/x.mp4 HTTP" in log
    assert "SECRET-TICKET" not in log
    assert "GET /api/v1/cameras?page=2 HTTP" in log  # other queries are kept
