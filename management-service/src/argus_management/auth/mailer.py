"""Outgoing mail: SMTP in production, a JSON-lines outbox file in development.

Mail bodies carry secrets (password-reset links): they go to the recipient or to the outbox
file, never to the log.
"""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
import ssl
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import structlog

from argus_management.config import Settings

log = structlog.get_logger("argus.mailer")

OUTBOX_NAME = "outbox.jsonl"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None:
        """Deliver ``mail``; raises on failure."""
        ...


class SmtpMailer:
    """Sends through an SMTP relay with STARTTLS (implicit TLS on port 465)."""

    def __init__(
        self, host: str, port: int, username: str | None, password: str | None, sender: str
    ) -> None:
        self.host = host
        self.port = port
        self._username = username
        self._password = password
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        """Deliver ``mail`` from a worker thread (smtplib blocks)."""
        await asyncio.to_thread(self._send_blocking, mail)

    def _send_blocking(self, mail: Mail) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg.set_content(mail.body)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.port == 465:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=15, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=15)
        with smtp:
            if self.port != 465:
                # Refuses to go on in clear text: the body holds a reset link.
                smtp.starttls(context=context)
            if self._username:
                smtp.login(self._username, self._password or "")
            smtp.send_message(msg)


class OutboxMailer:
    """Appends each mail as one JSON line to a file readable only by its owner."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, mail: Mail) -> None:
        """Append ``mail`` to the outbox file."""
        await asyncio.to_thread(self._append, mail)

    def _append(self, mail: Mail) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"ts": datetime.now(UTC).isoformat(), **asdict(mail)}) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line)


def mailer_for(settings: Settings) -> Mailer:
    """SMTP when ``MANAGEMENT_SMTP_HOST`` is set, else the development outbox file."""
    if settings.smtp_host:
        return SmtpMailer(
            settings.smtp_host, settings.smtp_port, settings.smtp_username,
            settings.smtp_password, settings.smtp_from,
        )
    return OutboxMailer(Path(settings.data_dir) / OUTBOX_NAME)


async def deliver(mailer: Mailer, mail: Mail) -> None:
    """Send ``mail`` after the response (a background task): failures are logged, without
    the body, and never reach the client, who must not learn whether an account exists."""
    try:
        await mailer.send(mail)
    except Exception as exc:
        log.error("mail_failed", mailer=type(mailer).__name__, error=type(exc).__name__)
