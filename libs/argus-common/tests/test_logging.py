"""JSON logs: one object per line, stdlib records included, secrets redacted."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from argus_common.logging import bind, configure_logging, redact_url


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``configure_logging`` points every logger at this test's captured stdout, which is
    closed afterwards: later tests that log (the retry helper's) must not write there."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_structlog_and_stdlib_lines_are_json_with_context(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("unit-test")
    bind(camera_id=7)
    structlog.get_logger("t").info("hello", password="hunter2", url="rtsp://u:p@h/x")
    logging.getLogger("uvicorn.error").warning("from stdlib")
    lines = _lines(capsys.readouterr().out)
    first, second = lines[-2], lines[-1]
    assert first["event"] == "hello" and first["service"] == "unit-test"
    assert first["camera_id"] == 7
    assert first["password"] == "[redacted]" and first["url"] == "rtsp://h/x"
    assert second["event"] == "from stdlib" and second["level"] == "warning"
    assert second["service"] == "unit-test"
    structlog.contextvars.clear_contextvars()


def test_redact_url_strips_userinfo_everywhere() -> None:
    text = "a rtsp://admin:pw@10.0.0.1:554/s and http://x@y/ b"
    assert redact_url(text) == "a rtsp://10.0.0.1:554/s and http://y/ b"


def test_settings_refuse_default_secrets_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from argus_common.settings import ArgusSettings

    monkeypatch.setenv("ARGUS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "")  # empty counts as unset: the dev default applies
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        ArgusSettings(_env_file=None)
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("INTERNAL_API_KEY", "i" * 40)
    assert ArgusSettings(_env_file=None).environment == "production"
