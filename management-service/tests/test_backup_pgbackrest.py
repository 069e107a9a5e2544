"""pgBackRest's configuration for WAL archiving and point-in-time recovery (the drill that
runs it end to end is tests/chaos/test_pitr_drill.py, ``make pitr-drill``)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from argus_common.objectstore import ObjectStoreSettings
from argus_management.backup.cli import main as backup_cli
from argus_management.backup.pgbackrest import PgBackRestError, Repo, render_conf


def _s3(**extra: str) -> ObjectStoreSettings:
    env = {
        "ARGUS_S3_ENDPOINT_URL": "http://127.0.0.1:8333",
        "ARGUS_S3_BUCKET": "argus-recordings",
        "ARGUS_S3_PREFIX": "site-a",
        "ARGUS_S3_ACCESS_KEY_ID": "argus",
        "ARGUS_S3_SECRET_ACCESS_KEY": "s3cret-value",
        **extra,
    }
    return ObjectStoreSettings.model_validate(env)


def test_repository_needs_https() -> None:
    with pytest.raises(PgBackRestError, match="https"):
        Repo.from_settings(_s3())
    repo = Repo.from_settings(_s3(), endpoint="https://store.example:8443", ca_file="/ca.crt")
    assert (repo.host, repo.port, repo.path) == (
        "store.example",
        8443,
        "/site-a/backups/pgbackrest",
    )


def test_conf_keeps_seven_days_and_names_the_server() -> None:
    repo = Repo.from_settings(_s3(ARGUS_S3_ENDPOINT_URL="https://s3.example"))
    text = render_conf(repo, "/var/lib/postgresql/15/main", keep_days=6.5, pg_port=5433)
    lines = set(text.splitlines())
    assert {
        "repo1-type=s3",
        "repo1-s3-endpoint=s3.example",
        "repo1-storage-port=443",
        "repo1-s3-uri-style=path",
        "repo1-retention-full-type=time",
        "repo1-retention-full=7",
        "[argus]",
        "pg1-path=/var/lib/postgresql/15/main",
        "pg1-port=5433",
    } <= lines


def test_cli_writes_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARGUS_S3_BUCKET", "argus-recordings")
    monkeypatch.setenv("ARGUS_S3_ACCESS_KEY_ID", "argus")
    monkeypatch.setenv("ARGUS_S3_SECRET_ACCESS_KEY", "s3cret-value")
    monkeypatch.setenv("ARGUS_S3_ENDPOINT_URL", "http://127.0.0.1:8333")
    out = tmp_path / "pgbackrest.conf"
    assert backup_cli(["pgbackrest-conf", "--out", str(out), "--pg-path", "/pg"]) == 2
    assert not out.exists()
    args = [
        "pgbackrest-conf",
        "--out",
        str(out),
        "--pg-path",
        "/pg",
        "--endpoint",
        "https://127.0.0.1:8334",
        "--no-verify-tls",
    ]
    assert backup_cli(args) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "repo1-storage-verify-tls=n" in out.read_text()
    printed = capsys.readouterr().out
    assert "archive-push %p" in printed
    assert "s3cret-value" not in printed
