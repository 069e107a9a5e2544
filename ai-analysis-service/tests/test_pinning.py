"""The analysis worker hands FFmpeg the checked address of a camera's host (issue 16,
finding 6): FFmpeg resolves names itself, so the URL it gets carries the address that
passed the check, and a name rebound after the check cannot move the connection.

No DNS server can run here: the test name is known only to Python's in-process resolver
(``socket.getaddrinfo`` wrapped), which FFmpeg does not use. So a stream that decodes from
that name shows FFmpeg connected to the address our check resolved.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from anastack import CAM_PASSWORD, CAM_USER, start_simulator

from argus_analysis.source import DecoderOptions, SourceError, open_source
from argus_analysis.worker import pinned_source_url

NAME = "cam.pinned.test"


@pytest.fixture(scope="module")
def rtsp_port() -> Iterator[int]:
    proc, port, _ = start_simulator(1)
    yield port
    proc.stop()


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What ``NAME`` resolves to, in turn (the last one for ever after)."""
    real = socket.getaddrinfo
    queue: list[str] = []
    calls = [0]

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == NAME:
            address = queue[min(calls[0], len(queue) - 1)]
            calls[0] += 1
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return queue


USERINFO = f"{quote(CAM_USER, safe='')}:{quote(CAM_PASSWORD, safe='')}"


def _url(port: int) -> str:
    return f"rtsp://{USERINFO}@{NAME}:{port}/cam1/main"


def test_ffmpeg_gets_the_checked_address(rtsp_port: int, answers: list[str]) -> None:
    answers += ["127.0.0.1", "127.0.0.2"]
    pinned = pinned_source_url(_url(rtsp_port))
    assert pinned == f"rtsp://{USERINFO}@127.0.0.1:{rtsp_port}/cam1/main"
    source = open_source(
        pinned, connect_timeout_s=10, read_timeout_s=10, decoder=DecoderOptions(threads=1)
    )
    try:
        frame = next(iter(source.frames()))
    finally:
        source.close()
    assert frame is not None
    # FFmpeg itself cannot resolve the name: the picture came from the pinned address.
    with pytest.raises(SourceError):
        open_source(_url(rtsp_port), connect_timeout_s=5, read_timeout_s=5)


def test_a_name_rebound_to_a_forbidden_address_is_refused(answers: list[str]) -> None:
    answers.append("169.254.169.254")
    with pytest.raises(SourceError) as refused:
        pinned_source_url(_url(554))
    assert refused.value.reason == "refused" and "link-local" in refused.value.detail


def test_allowed_networks_apply(answers: list[str]) -> None:
    answers.append("127.0.0.1")
    with pytest.raises(SourceError, match="CAMERA_ALLOWED_NETWORKS"):
        pinned_source_url(_url(554), (ipaddress.ip_network("10.0.0.0/8"),))
    loopback = (ipaddress.ip_network("127.0.0.0/8"),)
    assert "@127.0.0.1:554/" in pinned_source_url(_url(554), loopback)


def test_files_and_literal_addresses_pass_unchanged() -> None:
    assert pinned_source_url("/recordings/cam1/a.mp4") == "/recordings/cam1/a.mp4"
    url = "rtsp://u:p@127.0.0.1:8554/cam1/main?x=1"
    assert pinned_source_url(url) == url
