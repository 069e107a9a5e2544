"""The shared RTSP client's Digest answers checked by the simulator's own server-side code
(argus_camsim.rtsp.auth), so the two implementations are tested against each other."""

from __future__ import annotations

import pytest

from argus_camsim.rtsp.auth import RtspAuth
from argus_common.rtsp.auth import Authenticator


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess"])
def test_the_simulator_accepts_our_answers(algorithm: str) -> None:
    server = RtspAuth("digest", "viewer", 'p@ss "w"', algorithm=algorithm)
    auth = Authenticator("viewer", 'p@ss "w"')
    assert auth.challenge(server.challenges())
    for method in ("DESCRIBE", "SETUP", "PLAY"):
        assert server.check(method, auth.header(method, "rtsp://127.0.0.1/cam1/main"))
    wrong = Authenticator("viewer", "nope")
    wrong.challenge(server.challenges())
    assert not server.check("DESCRIBE", wrong.header("DESCRIBE", "rtsp://127.0.0.1/cam1/main"))
