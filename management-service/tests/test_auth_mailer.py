"""The mailer: outbox file in development, SMTP with mandatory STARTTLS otherwise."""

from __future__ import annotations

import asyncio
import json
import smtplib
import stat
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_management.auth.mailer import Mail, OutboxMailer, SmtpMailer, mailer_for
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_management.rbac.models import User

from factories.users import create_user


async def test_outbox_appends_private_json_lines(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path / "sub" / "outbox.jsonl")
    await mailer.send(Mail("a@example.com", "one", "body 1"))
    await mailer.send(Mail("b@example.com", "two", "body 2"))
    lines = [json.loads(x) for x in mailer.path.read_text().splitlines()]
    assert [(x["to"], x["subject"], x["body"]) for x in lines] == [
        ("a@example.com", "one", "body 1"), ("b@example.com", "two", "body 2")
    ]
    assert stat.S_IMODE(mailer.path.stat().st_mode) == 0o600


def test_mailer_choice(settings: Settings) -> None:
    assert isinstance(mailer_for(settings), OutboxMailer)
    smtp = mailer_for(settings.model_copy(update={"smtp_host": "mail.example.com"}))
    assert isinstance(smtp, SmtpMailer) and smtp.host == "mail.example.com"


async def test_smtp_refuses_to_send_in_clear_text() -> None:
    """A relay without STARTTLS gets no MAIL FROM, let alone the reset link."""
    received: list[str] = []

    async def fake_relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 fake ESMTP\r\n")
        while line := await asyncio.wait_for(reader.readline(), 10):
            received.append(line.decode().strip())
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-fake\r\n250 SIZE 1000000\r\n")  # no STARTTLS offered
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(fake_relay, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        mailer = SmtpMailer("127.0.0.1", port, "user", "pw", "argus@example.com")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            await mailer.send(Mail("victim@example.com", "reset", "secret link"))
    finally:
        server.close()
        await server.wait_closed()
    assert received and received[0].upper().startswith("EHLO")
    assert not any(r.upper().startswith(("MAIL", "AUTH", "DATA")) for r in received)


async def test_mail_failure_does_not_change_the_answer(
    client: httpx.AsyncClient, app: FastAPI, maker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken:
        calls = 0

        async def send(self, mail: Mail) -> None:
            Broken.calls += 1
            raise OSError("relay down")

    monkeypatch.setattr(app_state(app), "mailer", Broken())
    user = await create_user(maker)
    async with maker() as s:
        await s.execute(update(User).where(User.id == user.id).values(email="x@example.com"))
        await s.commit()
    resp = await client.post("/api/v1/auth/password-reset", json={"username": user.username})
    assert resp.status_code == 202
    assert Broken.calls == 1
