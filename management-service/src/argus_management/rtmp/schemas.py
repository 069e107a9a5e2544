"""Bodies of the stream-key API and what the nginx-rtmp hooks send."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, field_validator

from argus_common.errors import BadRequest
from argus_common.events import utcnow
from argus_management.events.schemas import UtcTime

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Secrets are secrets.token_urlsafe(24): 32 characters of the URL-safe alphabet.
KEY_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")
KeyState = Literal["active", "expired", "revoked"]


class KeyCreate(BaseModel):
    """``POST /api/v1/rtmp/keys``: a name for the stream (it is the path phones publish to)
    and, optionally, when the key stops working."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="stream name: [A-Za-z0-9_-]{1,64}")
    expires_at: UtcTime | None = None

    @field_validator("expires_at")
    @classmethod
    def _in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= utcnow():
            raise ValueError("expires_at must be in the future")
        return value


class KeyOut(BaseModel):
    """A stream key as listed: never its secret."""

    id: int
    name: str
    user_id: int
    username: str | None
    state: KeyState
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    camera_id: int | None
    publish_url: str = Field(description="where to push, without the key")


class KeyCreated(KeyOut):
    """The answer to a creation: the only time the secret is shown."""

    key: str = Field(description="the secret; shown once, stored only as a hash")
    publish_url_with_key: str = Field(description="publish_url with ?key=…, for the phone")


# -- hooks ------------------------------------------------------------------------------
MAX_HOOK_BODY = 16 * 1024
# Fields nginx-rtmp itself sends. The publisher's URL arguments are appended to the same
# form, so "?name=x" from a phone could shadow nginx's own field: a repeated field refuses.
_OWN_FIELDS = ("app", "name", "clientid", "addr", "call", "flashver", "key")


@dataclass(frozen=True)
class HookForm:
    """One nginx-rtmp notification (``on_publish``, ``on_update``, ``on_publish_done``).

    ``name`` is checked against the name pattern only by the caller (so a refusal can be
    logged with its reason); ``key`` is a secret: it has no repr and is never logged.
    """

    app: str
    name: str
    client_id: str
    addr: str | None
    call: str
    flashver: str
    key: str | None = None

    def __repr__(self) -> str:
        return f"HookForm(call={self.call!r}, app={self.app!r}, client_id={self.client_id!r})"

    @property
    def valid_name(self) -> bool:
        """Whether ``name`` is one a key can have (``[A-Za-z0-9_-]{1,64}``)."""
        return NAME_RE.fullmatch(self.name) is not None


def parse_hook_form(body: bytes) -> HookForm:
    """Parse an ``application/x-www-form-urlencoded`` notification; 400 on anything odd."""
    if len(body) > MAX_HOOK_BODY:
        raise BadRequest("notification too large")
    try:
        pairs = parse_qsl(
            body.decode("utf-8", "strict"), keep_blank_values=True, max_num_fields=64,
            strict_parsing=False,
        )
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("notification is not a readable form") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in _OWN_FIELDS and name in fields:
            raise BadRequest(f"field {name!r} given more than once")
        fields.setdefault(name, value)
    client_id = fields.get("clientid", "")
    if not client_id.isdigit() or len(client_id) > 20:
        raise BadRequest("clientid missing or not a number")
    key = fields.get("key") or None
    if key is not None and KEY_RE.fullmatch(key) is None:
        key = ""  # present but malformed: refused like a wrong key, never echoed
    return HookForm(
        app=fields.get("app", "")[:64],
        name=fields.get("name", "")[:256],
        client_id=client_id,
        addr=_address(fields.get("addr", "")),
        call=fields.get("call", "")[:32],
        flashver=_printable(fields.get("flashver", ""))[:256],  # the client's own string
        key=key,
    )


def _printable(value: str) -> str:
    """Without control characters (a NUL would not even fit a PostgreSQL text column)."""
    return "".join(c for c in value if c.isprintable())


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
