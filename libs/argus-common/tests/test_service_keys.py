"""Per-service credentials derived from management's master key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from argus_common.service_keys import derive_service_key, main, verify_service_key
from argus_common.settings import ArgusSettings

MASTER = "m" * 40


def test_credentials_name_their_service_and_cannot_be_altered() -> None:
    rec = derive_service_key(MASTER, "recording")
    assert rec.startswith("recording.") and verify_service_key(MASTER, rec) == "recording"
    assert rec != derive_service_key(MASTER, "rtmp")
    assert rec != derive_service_key("n" * 40, "recording")
    # The key part of one service does not open another service's name.
    _, key = rec.split(".", 1)
    for forged in (f"rtmp.{key}", f"recording.{key[:-1]}A", "recording", "", MASTER,
                   f"Recording.{key}", f"recording.{key}.x", "x" * 200):
        assert verify_service_key(MASTER, forged) is None, forged
    with pytest.raises(ValueError):
        derive_service_key(MASTER, "bad name")


class _Recorder(ArgusSettings):
    service_name = "recording"


def test_media_services_need_their_own_credential_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARGUS_ENV", "production")
    monkeypatch.delenv("ARGUS_SERVICE_KEY", raising=False)
    with pytest.raises(ValidationError, match="ARGUS_SERVICE_KEY"):
        _Recorder(_env_file=None)  # type: ignore[call-arg]
    own = derive_service_key(MASTER, "recording")
    monkeypatch.setenv("ARGUS_SERVICE_KEY", own)
    # Neither SECRET_KEY nor the master is needed (or wanted) by a media service.
    assert _Recorder(_env_file=None).service_credential() == own  # type: ignore[call-arg]
    # In development the credential is derived from the master when not given.
    monkeypatch.setenv("ARGUS_ENV", "development")
    monkeypatch.delenv("ARGUS_SERVICE_KEY")
    monkeypatch.setenv("INTERNAL_API_KEY", MASTER)
    assert _Recorder(_env_file=None).service_credential() == own  # type: ignore[call-arg]


def test_command_prints_credentials(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INTERNAL_API_KEY", MASTER)
    assert main(["rtmp"]) == 0
    assert capsys.readouterr().out.strip() == f"rtmp: {derive_service_key(MASTER, 'rtmp')}"
    monkeypatch.setenv("INTERNAL_API_KEY", "short")
    assert main(["rtmp"]) == 2
