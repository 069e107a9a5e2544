"""aiortc/aioice internals: only ``webrtc/compat.py`` touches them, for the pinned versions."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import aiortc.rtcicetransport
import pytest
from private_names import check_package, check_source
from streaming_support import streaming_settings

import argus_streaming
from argus_streaming.main import create_app
from argus_streaming.webrtc import compat

ROOT = Path(__file__).resolve().parents[2]


def test_no_module_but_compat_touches_private_names() -> None:
    package = Path(argus_streaming.__file__).parent
    found = check_package(package, allowed={Path(compat.__file__).resolve()})
    assert not found, "\n".join(map(str, found))


def test_compat_itself_is_seen_by_the_checker() -> None:
    """The one allowed module does what the checker looks for (so the check can fail)."""
    found = check_source(Path(compat.__file__).read_text(encoding="utf-8"))
    assert len(found) > 10
    assert any("_tx_srtp" in v.what for v in found)


@pytest.mark.parametrize(("snippet", "expected"), [
    ("import aiortc.rtcicetransport", "internal module aiortc.rtcicetransport"),
    ("import aioice.ice as ice", "internal module aioice.ice"),
    ("from aioice.ice import StunProtocol", "StunProtocol from aioice.ice"),
    ("from aiortc.codecs import CODECS", "CODECS from aiortc.codecs"),
    ("from aiortc import clock", "clock from aiortc"),
    ("def protect(dtls):\n    return dtls._tx_srtp.protect", "private ._tx_srtp"),
    ("def pair(t):\n    return t.transport._connection._nominated", "private ._nominated"),
    ("def mid(s):\n    return s._RTCRtpSender__mid", "private ._RTCRtpSender__mid"),
    ("def mid(s):\n    return getattr(s, '_RTCRtpSender__mid')", "getattr of the private"),
    ("def get(s, n):\n    return getattr(s, '_P' + n)", "getattr with a computed"),
    ("import aiortc.rtcicetransport\nX = 1\naiortc.rtcicetransport.Connection = X",
     "replaces aiortc.rtcicetransport.Connection"),
    ("import aioice\nsetattr(aioice, 'Connection', None)", "setattr on the module aioice"),
    ("def swap(sender, cls):\n    sender.__class__ = cls", "assigns __class__"),
    ("from aiortc import RTCRtpSender\nclass S(RTCRtpSender):\n"
     "    async def _run_rtp(self, codec):\n        pass", "overrides the private _run_rtp"),
    ("from aioice import Connection\nclass C(Connection):\n"
     "    def add(self, p):\n        self._protocols.append(p)", "private self._protocols"),
    ("import aiortc\nclass S(aiortc.RTCRtpSender):\n"
     "    def ssrc(self):\n        return self._ssrc", "private self._ssrc"),
])
def test_the_checker_finds_a_violation(snippet: str, expected: str) -> None:
    found = check_source(snippet)
    assert any(expected in v.what for v in found), found


def test_the_checker_accepts_public_use() -> None:
    snippet = textwrap.dedent("""
        import aiortc
        from aiortc import RTCPeerConnection, RTCRtpSender
        from aiortc.contrib.media import MediaRelay
        from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

        class Track(MediaStreamTrack):
            kind = "video"

            def __init__(self, queue):
                super().__init__()
                self._queue = queue
                self._offset = None

            def _own_helper(self):
                return getattr(self._queue, "close", None)

        class Holder:
            def __init__(self, pc: RTCPeerConnection) -> None:
                self._pc = pc
                self._relay = MediaRelay()

        def state(sender: RTCRtpSender) -> str:
            return sender.transport.state
    """)
    assert check_source(snippet) == []


def test_written_for_is_what_uv_lock_pins() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    pinned = {p["name"]: p["version"] for p in lock["package"] if p["name"] in compat.WRITTEN_FOR}
    assert pinned == compat.WRITTEN_FOR
    compat.check_versions()  # and the environment is synced from that lock


def test_install_refuses_another_version(monkeypatch: pytest.MonkeyPatch) -> None:
    versions = {**compat.WRITTEN_FOR, "aiortc": "1.14.0"}
    monkeypatch.setattr(compat, "package_version", versions.__getitem__)
    before = aiortc.rtcicetransport.Connection  # type: ignore[attr-defined]
    with pytest.raises(compat.CompatError, match=r"aiortc 1\.14\.0 installed.*aiortc 1\.16\.0"):
        compat.install()
    assert aiortc.rtcicetransport.Connection is before  # type: ignore[attr-defined]


async def test_the_service_does_not_start_on_another_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    versions = {**compat.WRITTEN_FOR, "aioice": "0.10.1"}
    monkeypatch.setattr(compat, "package_version", versions.__getitem__)
    app = create_app(streaming_settings("http://127.0.0.1:9", tmp_path))
    with pytest.raises(compat.CompatError, match=r"aioice 0\.10\.1 installed"):
        async with app.router.lifespan_context(app):
            pass


# In a fresh interpreter: install() changes the process, and the session's service uses it.
_INSTALL_SCRIPT = """
import asyncio

import aioice
import aioice.ice
import aiortc.rtcicetransport as rtcice
from aiortc import RTCPeerConnection
from aiortc.codecs import CODECS

from argus_streaming.webrtc import compat
from argus_streaming.webrtc.codecs import install_h264_profiles
from argus_streaming.webrtc.ice import ice_port_range
from argus_streaming.webrtc.peer import restrict_ice_addresses
from argus_streaming.webrtc.sender import PassThroughSender

async def new_sender():
    return RTCPeerConnection().addTransceiver("video").sender

original = (rtcice.Connection, aioice.ice.get_host_addresses, list(CODECS["video"]))
refused = []
for attempt in (install_h264_profiles, lambda: restrict_ice_addresses(["127.0.0.1"]),
                lambda: ice_port_range((40000, 40001)).__enter__(),
                lambda: PassThroughSender.adopt(asyncio.run(new_sender()))):
    try:
        attempt()
    except compat.CompatError:
        refused.append(True)
assert refused == [True] * 4, refused
with ice_port_range(None):  # no range: aioice's behaviour, nothing to install
    pass

compat.install()
patched = rtcice.Connection
assert patched is not original[0] and issubclass(patched, aioice.Connection)
install_h264_profiles()
count = len(CODECS["video"])
assert count == len(original[2]) + 4
compat.install()
install_h264_profiles()
assert rtcice.Connection is patched and len(CODECS["video"]) == count  # twice = once

restrict_ice_addresses(["127.0.0.1", "::1"])
assert aioice.ice.get_host_addresses(True, False) == ["127.0.0.1"]
restrict_ice_addresses([])
assert aioice.ice.get_host_addresses is original[1]
restrict_ice_addresses(["127.0.0.1"])

compat.uninstall()
assert not compat.installed()
assert (rtcice.Connection, aioice.ice.get_host_addresses) == original[:2]
assert CODECS["video"] == original[2]
compat.uninstall()
compat.install()
assert rtcice.Connection is patched
print("compat-ok")
"""


def test_install_is_idempotent_required_and_reversible() -> None:
    result = subprocess.run([sys.executable, "-c", _INSTALL_SCRIPT], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "compat-ok"
